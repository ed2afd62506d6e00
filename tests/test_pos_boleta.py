import base64
import io
import json

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..sii_engine import verify, xmlutil
from .common_pos import TestClDtePosCommon


@tagged("post_install", "-at_install")
class TestPosBoleta(TestClDtePosCommon):
    def setUp(self):
        super().setUp()
        self.session = self.open_session()

    def assert_receipt_stamp_decodes(self, png, order):
        """Printed on an 80 mm thermal receipt (576 dots, 575 px as a browser lays it out), the stamp
        reads back as the order's TED."""
        import zxingcpp  # test dependency (requirements-test.txt)
        from PIL import Image

        image = Image.open(io.BytesIO(png)).convert("L")
        self.assertLessEqual(image.width, 576, "the receipt's stamp is drawn at its own size, not squeezed")
        for width in (576, 575, 512):
            printed = image if image.width <= width else image.resize(
                (width, round(image.height * width / image.width)), Image.Resampling.BILINEAR
            )
            results = zxingcpp.read_barcodes(printed.point(lambda value: 255 if value > 127 else 0),
                                             formats=zxingcpp.BarcodeFormat.PDF417)
            self.assertEqual([bytes(result.bytes).decode("ISO-8859-1") for result in results],
                             [order.l10n_cl_dte_ted], f"the receipt's stamp does not read at {width} dots")

    def assert_valid_dte(self, record, document_type, folio):
        """The attached XML passes every check (schema, signature, TED against the CAF's SII key)."""
        raw = record.l10n_cl_dte_file_id.raw
        report = verify.verify_file(raw, self.authority.trusted_keys())
        self.assertTrue(report.ok, [f"{check.name}: {check.detail}" for check in report.failures])
        body = xmlutil.parse(raw)[0]
        self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/TipoDTE"), str(document_type))
        self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/Folio"), str(folio))
        self.assertEqual(record.l10n_cl_dte_ted.encode("ISO-8859-1"), xmlutil.flatten(xmlutil.find(body, "TED")))
        return body

    def test_paid_order_is_a_boleta_to_the_generic_receiver(self):
        order, answer = self.sync(self.order_data(self.session, [(self.product_taxed, 3), (self.product_exempt, 1)]))
        self.assertEqual(order.state, "paid")
        self.assertFalse(order.account_move, "a boleta is not an invoice")
        self.assertEqual(order.l10n_latam_document_type_id, self.doc_39)
        self.assertEqual((order.l10n_cl_dte_folio, order.l10n_cl_dte_status), (1, "to_send"))
        self.assertEqual(order.l10n_cl_dte_caf_id, self.caf_39)
        body = self.assert_valid_dte(order, 39, 1)
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Receptor/RUTRecep"), "66666666-6")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Totales/MntTotal"), "11500")
        self.assertEqual(order.amount_total, 11500)
        # The exempt book is marked exempt; the empanadas' VAT is inside their gross amount.
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Totales/MntExe"), "4000")
        self.assertEqual(self.caf_39.next_folio, 2)

        # What the POS receives prints the receipt: folio, document, stamp image; never a key.
        received = answer["pos.order"][0]
        self.assertEqual(received["l10n_cl_dte_receipt_folio"], 1)
        self.assertEqual(received["l10n_cl_dte_receipt_document"], "BOLETA ELECTRÓNICA")
        self.assertEqual(received["l10n_cl_dte_receipt_resolution"], "Res. N° 80 de 2014")
        self.assertEqual(received["l10n_cl_dte_receipt_sii_office"], "S.I.I. - SANTIAGO CENTRO")
        prefix = "data:image/png;base64,"
        self.assertTrue(received["l10n_cl_dte_receipt_barcode"].startswith(prefix))
        png = base64.b64decode(received["l10n_cl_dte_receipt_barcode"][len(prefix):])
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        self.assert_receipt_stamp_decodes(png, order)
        # The raw stamp and its image travel once, as the receipt's fields.
        self.assertNotIn("l10n_cl_dte_barcode", received)
        self.assertNotIn("l10n_cl_dte_ted", received)
        sent = json.dumps(answer, default=str)
        for secret in ("RSASK", "PRIVATE KEY", "CERTIFICATE_PASSWORD", self.pkcs12[:40].hex()):
            self.assertNotIn(secret, sent)

    def test_cashier_without_accounting_rights_issues_boletas_but_reads_no_secret(self):
        cashier = self.env["res.users"].create({
            "name": "Cajera", "login": "cajera", "company_id": self.company.id, "company_ids": [(6, 0, self.company.ids)],
            "groups_id": [(6, 0, [self.env.ref("base.group_user").id, self.env.ref("point_of_sale.group_pos_user").id])],
        })
        self.assertFalse(cashier.has_group("account.group_account_invoice"))
        data = self.order_data(self.session, [(self.product_taxed, 1)])
        answer = self.env["pos.order"].with_user(cashier).sync_from_ui([data])
        order = self.env["pos.order"].browse(answer["pos.order"][0]["id"])
        self.assert_valid_dte(order, 39, 1)
        self.assertEqual(answer["pos.order"][0]["l10n_cl_dte_receipt_folio"], 1)
        for model, field in (("l10n_cl_dte.caf", "file"), ("l10n_cl_dte.certificate", "file")):
            records = self.env[model].search([("company_id", "=", self.company.id)], limit=1)
            with self.assertRaises(AccessError):
                records.with_user(cashier).read([field])

    def test_shop_whose_prices_exclude_vat_sells_with_a_boleta_of_what_the_customer_pays(self):
        """Bagel $1 + Cinnamon Roll $2, 19% VAT on top: VAT is rounded on the sum (round globally), the
        customer pays $4, and the boleta states net amounts (IndMntNeto 2) so that it totals $4 too."""
        bagel, roll = (self.env["product.product"].create({
            "name": name, "available_in_pos": True, "lst_price": price, "taxes_id": [Command.set(self.vat_tax.ids)],
        }) for name, price in (("Bagel", 1.0), ("Cinnamon Roll", 2.0)))
        self.assertFalse(self.vat_tax.price_include)
        order, _answer = self.sync(self.order_data(self.session, [(bagel, 1), (roll, 1)], paid=4))
        self.assertEqual(order.amount_total, 4)
        self.assertEqual((order.l10n_cl_dte_folio, order.l10n_cl_dte_status), (1, "to_send"))
        body = self.assert_valid_dte(order, 39, 1)
        totals = {tag: xmlutil.findtext(body, f"Encabezado/Totales/{tag}") for tag in ("MntNeto", "IVA", "MntTotal")}
        self.assertEqual(totals, {"MntNeto": "3", "IVA": "1", "MntTotal": "4"})
        self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/IndMntNeto"), "2")

    def test_all_exempt_order_is_an_exempt_boleta_41(self):
        caf_41 = self.load_caf(self.doc_41, 1, 10)
        order, _answer = self.sync(self.order_data(self.session, [(self.product_exempt, 2)]))
        self.assertEqual(order.l10n_latam_document_type_id, self.doc_41)
        self.assertEqual(order.l10n_cl_dte_caf_id, caf_41)
        body = self.assert_valid_dte(order, 41, 1)
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Totales/MntTotal"), "8000")
        self.assertEqual(self.caf_39.next_folio, 1, "no boleta 39 folio is used by a 41")

    def test_customer_with_rut_is_the_boleta_receiver(self):
        order, _answer = self.sync(self.order_data(self.session, [(self.product_taxed, 1)], partner=self.customer))
        body = self.assert_valid_dte(order, 39, 1)
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Receptor/RUTRecep"), "60803000-K")

    def test_boleta_above_the_limit_needs_a_customer_with_rut(self):
        self.company.write({"l10n_cl_dte_boleta_limit_uf": 135, "l10n_cl_dte_uf_value": 40000})
        self.assertEqual(self.config.l10n_cl_dte_boleta_limit, 5_400_000)
        big = [(self.product_taxed, 2200)]  # 5,500,000 > 135 UF
        with self.assertRefused(UserError, "must name its buyer"):
            self.sync(self.order_data(self.session, big))
        with self.assertRefused(UserError, "must name its buyer"):
            self.sync(self.order_data(self.session, big, partner=self.final_consumer))
        self.assertEqual(self.caf_39.next_folio, 1, "a refused sale consumes no folio")
        self.customer.email = "compras@sii.example"  # paid in cash: the buyer's e-mail (test_boleta_identified_sale)
        order, _answer = self.sync(self.order_data(self.session, big, partner=self.customer))
        self.assertEqual(order.l10n_cl_dte_folio, 1)
        small, _answer = self.sync(self.order_data(self.session, [(self.product_taxed, 1)]))
        self.assertEqual(small.l10n_cl_dte_folio, 2, "below the limit a boleta needs no customer")

    def test_customer_asking_for_an_invoice_gets_a_factura(self):
        self.load_caf(self.doc_33, 1, 10)
        order, answer = self.sync(
            self.order_data(self.session, [(self.product_taxed, 2)], partner=self.customer, to_invoice=True)
        )
        invoice = order.account_move
        self.assertEqual(order.state, "invoiced")
        self.assertFalse(order.l10n_cl_dte_folio, "the factura replaces the boleta")
        self.assertEqual(invoice.l10n_latam_document_type_id, self.doc_33)
        self.assertEqual((invoice.l10n_cl_dte_folio, invoice.l10n_cl_dte_status), (1, "to_send"))
        body = self.assert_valid_dte(invoice, 33, 1)
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Totales/MntTotal"), "5000")
        received = answer["pos.order"][0]
        self.assertEqual(received["l10n_cl_dte_receipt_document"], "FACTURA ELECTRÓNICA")
        self.assertEqual(received["l10n_cl_dte_receipt_folio"], 1)
        self.assertTrue(received["l10n_cl_dte_receipt_barcode"])
        self.assertEqual(self.caf_39.next_folio, 1)

    def test_return_of_a_boleta_is_a_credit_note_citing_it(self):
        self.load_caf(self.doc_61, 1, 10)
        sale, _answer = self.sync(self.order_data(self.session, [(self.product_taxed, 2)]))
        refund, _answer = self.sync(self.order_data(
            self.session, [(self.product_taxed, -2)], refunded_lines=sale.lines,
        ))
        note = refund.account_move
        self.assertEqual(note.move_type, "out_refund")
        self.assertEqual(note.l10n_latam_document_type_id, self.doc_61)
        self.assertFalse(refund.l10n_cl_dte_folio, "a return is no boleta")
        body = self.assert_valid_dte(note, 61, 1)
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Receptor/RUTRecep"), "66666666-6")
        self.assertEqual(xmlutil.findtext(body, "Referencia/TpoDocRef"), "39")
        self.assertEqual(xmlutil.findtext(body, "Referencia/FolioRef"), str(sale.l10n_cl_dte_folio))
        self.assertEqual(xmlutil.findtext(body, "Referencia/CodRef"), "1", "returning everything annuls the boleta")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Totales/MntTotal"), "5000")

    def test_partial_return_of_a_factura_is_a_credit_note_correcting_amounts(self):
        self.load_caf(self.doc_33, 1, 10)
        self.load_caf(self.doc_61, 1, 10)
        sale, _answer = self.sync(
            self.order_data(self.session, [(self.product_taxed, 4)], partner=self.customer, to_invoice=True)
        )
        refund, _answer = self.sync(self.order_data(
            self.session, [(self.product_taxed, -1)], partner=self.customer, refunded_lines=sale.lines,
        ))
        body = self.assert_valid_dte(refund.account_move, 61, 1)
        self.assertEqual(xmlutil.findtext(body, "Referencia/TpoDocRef"), "33")
        self.assertEqual(xmlutil.findtext(body, "Referencia/FolioRef"), "1")
        self.assertEqual(xmlutil.findtext(body, "Referencia/CodRef"), "3")

    def test_a_sale_with_a_boleta_cannot_also_get_an_invoice(self):
        order, _answer = self.sync(self.order_data(self.session, [(self.product_taxed, 1)], partner=self.customer))
        with self.assertRefused(UserError, "already has a boleta"):
            order.action_pos_order_invoice()

    def test_no_boleta_folios_refuses_the_sale_and_keeps_nothing(self):
        self.caf_39.unlink()
        data = self.order_data(self.session, [(self.product_taxed, 1)])
        with self.assertRefused(UserError, "(?i)folio|CAF"):
            self.sync(data)
        self.assertFalse(self.env["pos.order"].search([("uuid", "=", data["uuid"])]))

    def test_session_closing_counts_documents_by_type_and_sii_state(self):
        self.load_caf(self.doc_33, 1, 10)
        for _index in range(2):
            self.sync(self.order_data(self.session, [(self.product_taxed, 1)]))
        last, _answer = self.sync(self.order_data(self.session, [(self.product_taxed, 1)]))
        last.l10n_cl_dte_status = "accepted"
        self.sync(self.order_data(self.session, [(self.product_taxed, 1)], partner=self.customer, to_invoice=True))
        summary = self.session.get_closing_control_data()["l10n_cl_dte_summary"]
        rows = {(row["code"], row["status"]): row["count"] for row in summary}
        self.assertEqual(rows, {("39", "To Send"): 2, ("39", "Accepted"): 1, ("33", "To Send"): 1})
        self.assertIn("Electronic Receipt", self.session.l10n_cl_dte_summary)
        # The session closes with its accounting entry as usual.
        self.session.post_closing_cash_details(sum(self.session.order_ids.mapped("amount_paid")))
        result = self.session.close_session_from_ui()
        self.assertTrue(result.get("successful"), result)
        self.assertEqual(self.session.state, "closed")
