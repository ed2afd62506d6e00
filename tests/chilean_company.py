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


def trust_authority(env, authority):
    """Make the simulator environment trust ``authority``'s stand-in SII key (CAFs it signs load)."""
    parameters = env["ir.config_parameter"].sudo()
    parameters.set_param("l10n_cl_dte.simulator_sii_public_key", authority.public_key_pem.decode())
    parameters.set_param("l10n_cl_dte.simulator_sii_idk", str(authority.idk))


def make_issuer(env, company, authority, **company_values):
    """Set ``company`` up to issue DTEs on the simulator; return its (self-signed) certificate.

    ``company_values`` override the company's DTE settings (resolution, simulator URL, ...).
    """
    trust_authority(env, authority)
    # The code is unique: a concurrency test's committed company may have created it already.
    acteco = env["l10n_cl_dte.acteco"].search([("code", "=", "726000")], limit=1) or env[
        "l10n_cl_dte.acteco"
    ].create({"code": "726000", "name": "Actividades de consultoria de informatica"})
    company.write({
        "vat": COMPANY_RUT,
        "l10n_cl_activity_description": "Servicios informaticos",
        "l10n_cl_dte_environment": "simulator",
        "l10n_cl_dte_acteco_ids": [Command.set(acteco.ids)],
        "l10n_cl_dte_resolution_number": 0,
        "street": "Teatinos 120",
        "city": "Santiago",
        **company_values,
    })
    return env["l10n_cl_dte.certificate"].create({
        "company_id": company.id,
        "file": base64.b64encode(identities.make_pkcs12(SIGNER_RUT, "Test Signer", CERTIFICATE_PASSWORD)),
        "password": CERTIFICATE_PASSWORD,
    })


def load_caf(env, company, authority, document_type_code, first, last, rut=COMPANY_RUT):
    """A CAF of folios ``first``..``last`` signed by ``authority`` for ``company`` (issued to ``rut``)."""
    caf_file = authority.issue_caf(rut, company.name, int(document_type_code), first, last)
    return env["l10n_cl_dte.caf"].create({"company_id": company.id, "file": base64.b64encode(caf_file)})


def setup_chilean_company(env, authority, name, cafs=None, **company_values):
    """Create ``name`` with the cl chart, ready to issue DTEs, with a CAF per ``{type code: last folio}``."""
    chile, clp = env.ref("base.cl"), env.ref("base.CLP")
    if not clp.active:
        clp.active = True
    company = env["res.company"].create({"name": name, "country_id": chile.id, "currency_id": clp.id})
    env["account.chart.template"].try_loading("cl", company=company, install_demo=False)
    company.partner_id.write({
        "l10n_latam_identification_type_id": env.ref("l10n_cl.it_RUT").id,
        "l10n_cl_sii_taxpayer_type": "1",
    })
    make_issuer(env, company, authority, l10n_cl_dte_customer_exchange="never", **company_values)
    for code, last_folio in (cafs or {}).items():
        load_caf(env, company, authority, code, 1, last_folio)
    return company


def vat_19(env, company):
    """The chart's sale IVA 19% (price excluded)."""
    tax = env["account.tax"].search([
        ("company_id", "=", company.id), ("type_tax_use", "=", "sale"), ("l10n_cl_sii_code", "=", 14),
        ("amount", "=", 19), ("price_include", "=", False),
    ], limit=1)
    assert tax, "no sale IVA 19% tax in the cl chart"
    return tax
