"""A Chilean company committed to the database, for tests whose workers need their own connections.

Tests of concurrency cannot use the test transaction: each worker has its own
connection and sees only committed rows. The company, its chart and its
identities are created and committed here; the caller deactivates them after.
"""

import uuid

from odoo import Command, api, sql_db
from odoo.modules.registry import Registry
from odoo.tests import BaseCase
from odoo.tests.common import get_db_name

from .chilean_company import setup_chilean_company, vat_19
from .common import CUSTOMER_RUT


class CommittedRowsCase(BaseCase):
    """A test whose workers each use a connection of their own, as Odoo workers do."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dbname = get_db_name()
        cls.registry = Registry(cls.dbname)

    @classmethod
    def cursor(cls):
        """A connection of its own, bound to the already loaded registry.

        Tests run while the loading thread holds the registry lock: a worker
        thread looking the registry up by name would wait for it forever.
        """
        cr = sql_db.db_connect(cls.dbname).cursor()
        cr.transaction = api.Transaction(cls.registry)
        return cr


def create_chilean_company(env, authority, prefix, caf_types=(33,), simulator_url=None):
    """Create, commit and return the ids of a company ready to issue ``caf_types`` (folios 1-200)."""
    cr = env.cr
    name = f"{prefix} {uuid.uuid4().hex[:8]}"
    company = setup_chilean_company(
        env, authority, name, cafs=dict.fromkeys(caf_types, 200), l10n_cl_dte_simulator_url=simulator_url or False
    )
    chile = env.ref("base.cl")
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
    tax = vat_19(env, company)
    product = env["product.product"].create({
        "name": f"Asesoria {name[-8:]}", "type": "service", "available_in_pos": True, "lst_price": 1000.0,
        "taxes_id": [Command.set(tax.ids)],
    })
    journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "sale")], limit=1)
    journal.l10n_latam_use_documents = True
    cr.commit()
    return {
        "company": company.id, "name": name, "customer": customer.id, "product": product.id, "tax": tax.id,
        "journal": journal.id, "doc_33": env.ref("l10n_cl.dc_a_f_dte").id,
    }
