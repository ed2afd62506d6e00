"""A Chilean company committed to the database, for tests whose workers need their own connections.

Tests of concurrency cannot use the test transaction: each worker has its own
connection and sees only committed rows. The company, its chart and its
identities are created and committed here; the caller deactivates them after.
"""

import base64
import uuid

from odoo import Command

from ..sii_engine import identities
from .common import CERTIFICATE_PASSWORD, COMPANY_RUT, CUSTOMER_RUT, SIGNER_RUT


def create_chilean_company(env, authority, prefix, caf_types=(33,), simulator_url=None):
    """Create, commit and return the ids of a company ready to issue ``caf_types`` (folios 1-200)."""
    cr = env.cr
    chile, clp = env.ref("base.cl"), env.ref("base.CLP")
    if not clp.active:
        clp.active = True
    name = f"{prefix} {uuid.uuid4().hex[:8]}"
    company = env["res.company"].create({"name": name, "country_id": chile.id, "currency_id": clp.id})
    cr.commit()
    env["account.chart.template"].try_loading("cl", company=company, install_demo=False)
    activity = env["l10n_cl_dte.activity"].search([("code", "=", "726000")], limit=1) or env[
        "l10n_cl_dte.activity"
    ].create({"code": "726000", "name": "Computer services"})
    company.partner_id.write({
        "l10n_latam_identification_type_id": env.ref("l10n_cl.it_RUT").id,
        "l10n_cl_sii_taxpayer_type": "1",
    })
    company.write({
        "vat": COMPANY_RUT,
        "l10n_cl_activity_description": "Servicios informaticos",
        "l10n_cl_dte_environment": "simulator",
        "l10n_cl_dte_simulator_url": simulator_url or False,
        "l10n_cl_dte_customer_exchange": "never",
        "l10n_cl_dte_activity_ids": [Command.set(activity.ids)],
        "l10n_cl_dte_resolution_number": 0,
        "street": "Teatinos 120",
        "city": "Santiago",
    })
    env["l10n_cl_dte.certificate"].create({
        "company_id": company.id,
        "file": base64.b64encode(identities.make_pkcs12(SIGNER_RUT, "Test Signer", CERTIFICATE_PASSWORD)),
        "password": CERTIFICATE_PASSWORD,
    })
    for document_type in caf_types:
        env["l10n_cl_dte.caf"].create({
            "company_id": company.id,
            "file": base64.b64encode(authority.issue_caf(COMPANY_RUT, name, document_type, 1, 200)),
        })
    customer = env["res.partner"].create({
        "name": f"Servicio de Impuestos Internos {name[-8:]}",
        "is_company": True,
        "country_id": chile.id,
        "l10n_latam_identification_type_id": env.ref("l10n_cl.it_RUT").id,
        "vat": CUSTOMER_RUT,
        "l10n_cl_sii_taxpayer_type": "1",
        "l10n_cl_activity_description": "Gobierno",
        "street": "Teatinos 120",
        "city": "Santiago",
    })
    vat_tax = env["account.tax"].search([
        ("company_id", "=", company.id), ("type_tax_use", "=", "sale"), ("l10n_cl_sii_code", "=", 14),
        ("amount", "=", 19), ("price_include", "=", False),
    ], limit=1)
    assert vat_tax, "no sale IVA 19% tax in the cl chart"
    product = env["product.product"].create({
        "name": f"Asesoria {name[-8:]}", "type": "service", "available_in_pos": True, "lst_price": 1000.0,
        "taxes_id": [Command.set(vat_tax.ids)],
    })
    journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "sale")], limit=1)
    journal.l10n_latam_use_documents = True
    cr.commit()
    return {
        "company": company.id, "name": name, "customer": customer.id, "product": product.id, "tax": vat_tax.id,
        "journal": journal.id, "doc_33": env.ref("l10n_cl.dc_a_f_dte").id,
    }
