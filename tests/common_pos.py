from random import randint

from odoo import Command, fields

from .common import TestClDteCommon


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
        cls.config = cls.make_config("Caja 1")
        cls.final_consumer = cls.env.ref("l10n_cl.par_cfa")

    @classmethod
    def make_config(cls, name):
        return cls.env["pos.config"].create({
            "name": name,
            "company_id": cls.company.id,
            "invoice_journal_id": cls.sale_journal.id,
            "payment_method_ids": [Command.set(cls.cash_method.ids)],
        })

    def open_session(self, config=None):
        config = config or self.config
        config.open_ui()
        session = config.current_session_id
        session.set_opening_control(0, None)
        return session

    def order_data(self, session, lines, partner=None, to_invoice=False, refunded_lines=None):
        """What the POS sends for a paid order: ``lines`` are (product, quantity) pairs."""
        line_commands, total = [], 0.0
        for index, (product, quantity) in enumerate(lines):
            taxes = product.taxes_id
            computed = taxes.compute_all(product.lst_price, session.currency_id, quantity, product=product)
            total += computed["total_included"]
            values = {
                "product_id": product.id,
                "qty": quantity,
                "price_unit": product.lst_price,
                "price_subtotal": computed["total_excluded"],
                "price_subtotal_incl": computed["total_included"],
                "tax_ids": [Command.set(taxes.ids)],
                "full_product_name": product.name,
            }
            if refunded_lines:
                values["refunded_orderline_id"] = refunded_lines[index].id
            line_commands.append(Command.create(values))
        uuid = f"{randint(1, 99999):05d}-{randint(1, 999):03d}-{randint(1, 9999):04d}"
        return {
            "uuid": uuid,
            "name": f"Order {uuid}",
            "session_id": session.id,
            "user_id": self.env.uid,
            "sequence_number": 1,
            "date_order": fields.Datetime.to_string(fields.Datetime.now()),
            "pricelist_id": session.config_id.pricelist_id.id,
            "partner_id": partner.id if partner else False,
            "to_invoice": to_invoice,
            "lines": line_commands,
            "payment_ids": [Command.create({
                "amount": total, "name": fields.Datetime.now(), "payment_method_id": self.cash_method.id,
            })],
            "amount_paid": total,
            "amount_total": total,
            "amount_tax": 0,
            "amount_return": 0,
            "state": "paid",
            "last_order_preparation_change": "{}",
        }

    def sync(self, data):
        """Synchronise one order as the POS does; returns (order, what the POS receives)."""
        answer = self.env["pos.order"].sync_from_ui([data])
        order = self.env["pos.order"].browse(answer["pos.order"][0]["id"])
        return order, answer
