"""A Chilean company set up for electronic documents against the simulator's stand-in SII.

Shared by the tests that need a company of their own outside the test
transaction (tests/committed_company.py) and by the Odoo benchmarks (bench/):
the chart, the RUT, the Acteco, a self-signed certificate and CAFs signed by
``authority``. It commits nothing; the caller decides.
"""

import base64

from odoo import Command

from ..sii_engine import identities

COMPANY_RUT = "76192083-9"
SIGNER_RUT = "11111111-1"
CERTIFICATE_PASSWORD = "test"


def setup_chilean_company(env, authority, name, cafs=None, **company_values):
    """Create ``name`` with the cl chart, trust ``authority`` and load a CAF per ``{type code: last folio}``.

    ``company_values`` override the company's DTE settings (resolution, simulator URL, ...).
    """
    chile, clp = env.ref("base.cl"), env.ref("base.CLP")
    if not clp.active:
        clp.active = True
    company = env["res.company"].create({"name": name, "country_id": chile.id, "currency_id": clp.id})
    env["account.chart.template"].try_loading("cl", company=company, install_demo=False)
    parameters = env["ir.config_parameter"].sudo()
    parameters.set_param("l10n_cl_dte.simulator_sii_public_key", authority.public_key_pem.decode())
    parameters.set_param("l10n_cl_dte.simulator_sii_idk", str(authority.idk))
    activity = env["l10n_cl_dte.activity"].search([("code", "=", "726000")], limit=1) or env[
        "l10n_cl_dte.activity"
    ].create({"code": "726000", "name": "Actividades de consultoria de informatica"})
    company.partner_id.write({
        "l10n_latam_identification_type_id": env.ref("l10n_cl.it_RUT").id,
        "l10n_cl_sii_taxpayer_type": "1",
    })
    company.write({
        "vat": COMPANY_RUT,
        "l10n_cl_activity_description": "Servicios informaticos",
        "l10n_cl_dte_environment": "simulator",
        "l10n_cl_dte_customer_exchange": "never",
        "l10n_cl_dte_activity_ids": [Command.set(activity.ids)],
        "l10n_cl_dte_resolution_number": 0,
        "street": "Teatinos 120",
        "city": "Santiago",
        **company_values,
    })
    env["l10n_cl_dte.certificate"].create({
        "company_id": company.id,
        "file": base64.b64encode(identities.make_pkcs12(SIGNER_RUT, "Test Signer", CERTIFICATE_PASSWORD)),
        "password": CERTIFICATE_PASSWORD,
    })
    for code, last_folio in (cafs or {}).items():
        env["l10n_cl_dte.caf"].create({
            "company_id": company.id,
            "file": base64.b64encode(authority.issue_caf(COMPANY_RUT, name, int(code), 1, last_folio)),
        })
    return company


def vat_19(env, company):
    """The chart's sale IVA 19% (price excluded)."""
    tax = env["account.tax"].search([
        ("company_id", "=", company.id), ("type_tax_use", "=", "sale"), ("l10n_cl_sii_code", "=", 14),
        ("amount", "=", 19), ("price_include", "=", False),
    ], limit=1)
    assert tax, "no sale IVA 19% tax in the cl chart"
    return tax
