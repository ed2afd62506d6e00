"""Facturas of delivered goods reference their guías (one or several) and move no stock again."""

import unittest

from odoo import Command
from odoo.tests import tagged

from ..sii_engine import verify, xmlutil
from .common import TestClDteCommon
from .common_stock import StockGuiaMixin


@tagged("post_install", "-at_install")
class TestInvoiceGuias(StockGuiaMixin, TestClDteCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_guias()
        cls.load_caf(cls.doc_52, 1, 50)
        cls.load_caf(cls.doc_33, 1, 50)

    def assert_references_guias(self, invoice, guias):
        """The posted factura cites each guía (TpoDocRef 52, its folio and date) and moved no stock."""
        self.assertEqual(invoice.l10n_cl_dte_status, "to_send")
        raw = invoice.l10n_cl_dte_file_id.raw
        report = verify.verify_file(raw, self.authority.trusted_keys())
        self.assertTrue(report.ok, [f"{check.name}: {check.detail}" for check in report.failures])
        references = [
            (xmlutil.findtext(ref, "TpoDocRef"), xmlutil.findtext(ref, "FolioRef"), xmlutil.findtext(ref, "FchRef"))
            for ref in xmlutil.parse(raw)[0].iter("{http://www.sii.cl/SiiDte}Referencia")
        ]
        expected = [("52", str(guia.l10n_cl_dte_folio), str(guia.l10n_cl_dte_date))
                    for guia in guias.sorted("l10n_cl_dte_folio")]
        self.assertEqual(references, expected)

    def test_one_invoice_groups_two_guias_and_moves_no_stock(self):
        first = self.validate(self.make_delivery([(self.goods, 2)]))
        second = self.validate(self.make_delivery([(self.goods, 3)]))
        self.assertEqual((first | second).mapped("l10n_cl_dte_folio"), [1, 2])
        stock_moves = self.env["stock.move"].search_count([])
        invoice = self.make_invoice(lines=[{"product_id": self.goods.id, "price_unit": 3500.0, "quantity": 5}],
                                    l10n_cl_dte_guia_ids=[Command.set((first | second).ids)])
        invoice.action_post()
        self.assert_references_guias(invoice, first | second)
        self.assertEqual(self.env["stock.move"].search_count([]), stock_moves, "the invoice moved stock again")
        # Posting again (after a reset to draft) does not cite them twice.
        invoice.button_draft()
        invoice.action_post()
        self.assert_references_guias(invoice, first | second)

    def test_an_invoice_without_guias_references_none(self):
        invoice = self.make_invoice()
        invoice.action_post()
        self.assertFalse(invoice.l10n_cl_dte_reference_ids)


@tagged("post_install", "-at_install")
class TestSaleInvoiceGuias(StockGuiaMixin, TestClDteCommon):
    """A sale delivered in two deliveries, two guías, one invoice citing both (needs sale_stock installed)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "sale.order" not in cls.env or "move_ids" not in cls.env["sale.order.line"]._fields:
            raise unittest.SkipTest("sale_stock is not installed")
        cls.setup_guias()
        cls.out_type.l10n_cl_dte_valuation = "sale_order"
        cls.load_caf(cls.doc_52, 1, 50)
        cls.load_caf(cls.doc_33, 1, 50)

    def test_sale_with_two_deliveries_is_invoiced_citing_both_guias(self):
        order = self.env["sale.order"].create({
            "partner_id": self.customer.id,
            "order_line": [Command.create({"product_id": self.goods.id, "product_uom_qty": 5, "price_unit": 3000.0,
                                           "tax_id": [Command.set(self.vat_tax.ids)]})],
        })
        order.action_confirm()
        first = order.picking_ids
        first.move_ids.quantity = 2
        first.move_ids.picked = True
        first.with_context(cancel_backorder=False)._action_done()
        second = order.picking_ids - first
        second.move_ids.quantity = 3
        second.move_ids.picked = True
        self.validate(second)
        guias = first | second
        self.assertEqual(sorted(guias.mapped("l10n_cl_dte_folio")), [1, 2])
        # Valued at the sale order's price, not the product's.
        self.assertIn(b"<PrcItem>3000</PrcItem>", first.l10n_cl_dte_file_id.raw)
        stock_moves = self.env["stock.move"].search_count([])
        invoice = order._create_invoices()
        invoice.write({"invoice_date": "2026-11-20", "l10n_latam_document_type_id": self.doc_33.id})
        invoice.action_post()
        self.assertEqual(invoice.l10n_cl_dte_guia_ids, guias)
        self.assertEqual(self.env["stock.move"].search_count([]), stock_moves, "the invoice moved stock again")
        references = invoice.l10n_cl_dte_reference_ids
        self.assertEqual(references.mapped("document_type_id"), self.doc_52)
        self.assertEqual(sorted(references.mapped("folio")), ["1", "2"])
