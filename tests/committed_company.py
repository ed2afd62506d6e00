"""A Chilean company committed to the database, for tests whose workers need their own connections.

Tests of concurrency cannot use the test transaction: each worker has its own
connection and sees only committed rows. The company, its chart and its
identities are created and committed here; the caller deactivates them after.
"""

import uuid

from odoo import SUPERUSER_ID, Command, api, fields, sql_db
from odoo.modules.registry import Registry
from odoo.tests import BaseCase
from odoo.tests.common import get_db_name

from ..models.l10n_cl_dte_caf import SIMULATOR_IDK_PARAMETER, SIMULATOR_KEY_PARAMETER
from .chilean_company import setup_chilean_company, trust_authority, vat_19
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

    @classmethod
    def trust_authority_committed(cls, authority):
        """Commit ``authority`` as the simulator environment's SII; the class's clean-up restores the previous one."""
        with cls.cursor() as cr:
            parameters = api.Environment(cr, SUPERUSER_ID, {})["ir.config_parameter"]
            previous = {key: parameters.get_param(key) for key in (SIMULATOR_KEY_PARAMETER, SIMULATOR_IDK_PARAMETER)}
            trust_authority(parameters.env, authority)
            cr.commit()
        cls.addClassCleanup(cls._restore_parameters, previous)

    @classmethod
    def _restore_parameters(cls, previous):
        with cls.cursor() as cr:
            parameters = api.Environment(cr, SUPERUSER_ID, {})["ir.config_parameter"]
            for key, value in previous.items():
                parameters.set_param(key, value or False)
            cr.commit()


def create_chilean_company(env, authority, prefix, caf_types=(33,), simulator_url=None, folios=200):
    """Create, commit and return the ids of a company ready to issue ``caf_types`` (folios 1 to ``folios``)."""
    cr = env.cr
    name = f"{prefix} {uuid.uuid4().hex[:8]}"
    company = setup_chilean_company(
        env, authority, name, cafs=dict.fromkeys(caf_types, folios), l10n_cl_dte_simulator_url=simulator_url or False
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


def open_tills(env, refs, names):
    """A POS per name, each with its cash method and an open session: [(session, pricelist, method) ids]."""
    env = env(context={**env.context, "allowed_company_ids": [refs["company"]]})
    company = env["res.company"].browse(refs["company"])
    tills = []
    for index, name in enumerate(names):
        # A cash payment method (and journal) serves one POS only.
        journal = env["account.journal"].create({
            "name": f"Efectivo {name}", "code": f"CJ{index + 1}", "type": "cash", "company_id": company.id,
        })
        method = env["pos.payment.method"].create({
            "name": f"Efectivo {name}", "journal_id": journal.id, "company_id": company.id,
        })
        config = env["pos.config"].create({
            "name": name, "company_id": company.id, "invoice_journal_id": refs["journal"],
            "payment_method_ids": [Command.set(method.ids)],
        })
        config.open_ui()
        config.current_session_id.set_opening_control(0, None)
        tills.append((config.current_session_id.id, config.pricelist_id.id, method.id))
    return tills


def paid_order_data(refs, till, index, user_id):
    """What a till sends for its paid order number ``index``: ``index + 1`` services at 1,000 + IVA."""
    session_id, pricelist_id, method_id = till
    total = 1190.0 * (index + 1)
    order_uuid = f"till{session_id}-{index}-{uuid.uuid4().hex[:12]}"
    now = fields.Datetime.now()
    return {
        "uuid": order_uuid, "name": f"Order {order_uuid}", "session_id": session_id, "user_id": user_id,
        "sequence_number": index + 1, "date_order": fields.Datetime.to_string(now),
        "pricelist_id": pricelist_id, "partner_id": False, "to_invoice": False,
        "lines": [Command.create({
            "product_id": refs["product"], "qty": index + 1, "price_unit": 1000.0,
            "price_subtotal": 1000.0 * (index + 1), "price_subtotal_incl": total,
            "tax_ids": [Command.set([refs["tax"]])], "full_product_name": "Asesoria",
        })],
        "payment_ids": [Command.create({"amount": total, "name": now, "payment_method_id": method_id})],
        "amount_paid": total, "amount_total": total, "amount_tax": total - 1000.0 * (index + 1),
        "amount_return": 0, "state": "paid", "last_order_preparation_change": "{}",
    }


def invoice_values(refs, count):
    """Values of ``count`` draft facturas (33) to the company's customer, of 1 to 3 lines each."""
    return [
        {
            "move_type": "out_invoice",
            "partner_id": refs["customer"],
            "journal_id": refs["journal"],
            "invoice_date": fields.Date.today(),
            "l10n_latam_document_type_id": refs["doc_33"],
            "invoice_line_ids": [
                Command.create({
                    "product_id": refs["product"],
                    "quantity": 1 + line,
                    "price_unit": 1000.0 + 10 * index + line,
                    "tax_ids": [Command.set([refs["tax"]])],
                })
                for line in range(1 + index % 3)
            ],
        }
        for index in range(count)
    ]


def archive_committed_company(env, company_id, user_ids=()):
    """Archive what a test committed: nothing issued can be deleted (models/l10n_cl_dte_retention.py).

    Envelopes a failed run left waiting are closed (in SQL: the product never does so) so that the
    poll cron of later tests does not ask a simulator gone by then about them.
    """
    env.cr.execute(
        "UPDATE l10n_cl_dte_envelope SET state = 'failed', next_poll_at = NULL"
        " WHERE company_id = %s AND state IN ('uploading', 'unknown', 'sent')",
        (company_id,),
    )
    env["pos.config"].with_context(active_test=False).search([("company_id", "=", company_id)]).write({"active": False})
    env["res.users"].browse(list(user_ids)).write({"active": False})
    env["res.company"].browse(company_id).write({"active": False, "l10n_cl_dte_environment": False})
