from odoo import Command

from .common import TestClDteCommon
from .pos_order_data import pos_order_data


class TestClDtePosCommon(TestClDteCommon):
    """A Chilean shop: a POS of the company set up for electronic documents, with boleta CAFs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.doc_39 = cls.env.ref("l10n_cl.dc_b_f_dte")
        cls.doc_41 = cls.env.ref("l10n_cl.dc_b_e_dte")
        cls.caf_39 = cls.load_caf(cls.doc_39, 1, 100)
        cls.company.write({"l10n_cl_dte_resolution_number": 80, "l10n_cl_dte_resolution_date": "2014-08-22",
                           "l10n_cl_sii_regional_office": "Santiago Centro"})
        # Chilean shelf prices include VAT.
        cls.vat_included = cls.vat_tax.copy({"price_include_override": "tax_included", "name": "IVA 19% incl."})
        cls.product_taxed = cls.env["product.product"].create({
            "name": "Empanada de pino", "available_in_pos": True, "lst_price": 2500.0, "default_code": "EMP01",
            "taxes_id": [Command.set(cls.vat_included.ids)],
        })
        cls.product_exempt = cls.env["product.product"].create({
            "name": "Libro usado", "available_in_pos": True, "lst_price": 4000.0,
            "taxes_id": [Command.clear()],  # exempt: no VAT
        })
        cls.cash_method = cls.env["pos.payment.method"].create({
            "name": "Efectivo", "journal_id": cls.company_data["default_journal_cash"].id, "company_id": cls.company.id,
        })
        cls.card_method = cls.env["pos.payment.method"].create({
            "name": "Tarjeta", "journal_id": cls.company_data["default_journal_bank"].id, "company_id": cls.company.id,
            "l10n_cl_dte_payment_method": "credit_card",
        })
        cls.config = cls.make_config("Caja 1")
        cls.final_consumer = cls.env.ref("l10n_cl.par_cfa")

    @classmethod
    def make_config(cls, name):
        return cls.env["pos.config"].create({
            "name": name,
            "company_id": cls.company.id,
            "invoice_journal_id": cls.sale_journal.id,
            "payment_method_ids": [Command.set((cls.cash_method | cls.card_method).ids)],
        })

    def open_session(self, config=None):
        config = config or self.config
        config.open_ui()
        session = config.current_session_id
        session.set_opening_control(0, None)
        return session

    def order_data(self, session, lines, partner=None, to_invoice=False, refunded_lines=None, paid=None,
                   payments=None):
        """What the POS sends for a paid order: ``lines`` are (product, quantity) pairs (see pos_order_data)."""
        return pos_order_data(session, lines, self.cash_method, self.env.user, partner=partner, to_invoice=to_invoice,
                              refunded_lines=refunded_lines, paid=paid, payments=payments)

    def sync(self, data):
        """Synchronise one order as the POS does; returns (order, what the POS receives)."""
        answer = self.env["pos.order"].sync_from_ui([data])
        order = self.env["pos.order"].browse(answer["pos.order"][0]["id"])
        return order, answer
