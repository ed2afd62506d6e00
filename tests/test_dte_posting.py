from lxml import etree

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from ..sii_engine import schema, signature, ted, xmlutil
from .common import TestClDteCommon


@tagged("post_install", "-at_install")
class TestDtePosting(TestClDteCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.caf_33 = cls.load_caf(cls.doc_33, 1, 50)

    def assert_valid_dte(self, move, document_type, folio):
        """The attached XML is schema-valid, its signature and TED verify, for this type and folio."""
        self.assertEqual(move.l10n_cl_dte_status, "to_send")
        self.assertEqual(move.l10n_cl_dte_folio, folio)
        self.assertEqual(move.l10n_latam_document_number, f"{folio:06d}")
        root = xmlutil.parse(move.l10n_cl_dte_file_id.raw)
        schema.validate(root)
        signature.verify(root)
        body = root[0]
        stamp = ted.verify_ted(xmlutil.find(body, "TED"), self.authority.trusted_keys())
        self.assertEqual((stamp.data.document_type, stamp.data.folio), (document_type, folio))
        self.assertEqual(stamp.data.total, round(move.amount_total))
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Totales/MntTotal"), str(round(move.amount_total)))
        self.assertEqual(move.l10n_cl_dte_ted.encode("ISO-8859-1"), xmlutil.flatten(xmlutil.find(body, "TED")))
        return root

    def test_invoice_33_gets_folio_signed_xml_and_stamp(self):
        move = self.make_invoice(lines=[
            {"price_unit": 1234.5, "quantity": 3, "discount": 10},
            {"price_unit": 990.0, "quantity": 1},
        ])
        move.action_post()
        root = self.assert_valid_dte(move, 33, 1)
        self.assertEqual(xmlutil.findtext(root, "Documento/Encabezado/Receptor/RUTRecep"), "60803000-K")
        self.assertEqual(xmlutil.findtext(root, "Documento/Encabezado/Emisor/Acteco"), "726000")
        self.assertEqual(self.caf_33.next_folio, 2)
        self.assertEqual(move.name, "FAC 000001")

    def test_exempt_invoice_34(self):
        self.load_caf(self.doc_34, 1, 10)
        move = self.make_invoice(self.doc_34, lines=[{"price_unit": 5000.0, "quantity": 2, "tax_ids": []}])
        move.action_post()
        root = self.assert_valid_dte(move, 34, 1)
        self.assertEqual(xmlutil.findtext(root, "Documento/Encabezado/Totales/MntExe"), "10000")
        self.assertIsNone(xmlutil.find(root, "Documento/Encabezado/Totales/IVA"))

    def test_credit_note_61_from_reversal_wizard_references_the_invoice(self):
        self.load_caf(self.doc_61, 1, 10)
        invoice = self.make_invoice()
        invoice.action_post()
        wizard = self.env["account.move.reversal"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({
            "reason": "Wrong customer",
            "journal_id": invoice.journal_id.id,
            "l10n_cl_dte_reference_code": "1",
        })
        credit_note = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        self.assertEqual(credit_note.l10n_latam_document_type_id, self.doc_61)
        credit_note.action_post()
        root = self.assert_valid_dte(credit_note, 61, 1)
        reference = xmlutil.find(root, "Documento/Referencia")
        self.assertEqual(xmlutil.findtext(reference, "TpoDocRef"), "33")
        self.assertEqual(xmlutil.findtext(reference, "FolioRef"), "1")
        self.assertEqual(xmlutil.findtext(reference, "CodRef"), "1")
        self.assertEqual(xmlutil.findtext(reference, "RazonRef"), "Wrong customer")

    def test_partial_credit_note_without_wizard_code_cites_amount_correction(self):
        self.load_caf(self.doc_61, 1, 10)
        invoice = self.make_invoice()
        invoice.action_post()
        credit_note = invoice._reverse_moves([
            {"invoice_date": invoice.invoice_date, "l10n_latam_document_type_id": self.doc_61.id},
        ])
        credit_note.invoice_line_ids[0].price_unit = 100.0
        credit_note.action_post()
        root = self.assert_valid_dte(credit_note, 61, 1)
        self.assertEqual(xmlutil.findtext(root, "Documento/Referencia/CodRef"), "3")

    def test_debit_note_56_with_references_tab(self):
        self.load_caf(self.doc_56, 1, 10)
        move = self.make_invoice(self.doc_56, l10n_cl_dte_reference_ids=[
            Command.create({"document_type_id": self.doc_33.id, "folio": "7", "date": "2026-11-01",
                            "code": "3", "reason": "Interest"}),
            Command.create({"other_type": "801", "folio": "OC-4512", "date": "2026-10-30"}),
        ])
        move.action_post()
        root = self.assert_valid_dte(move, 56, 1)
        references = [el for el in root[0] if etree.QName(el).localname == "Referencia"]
        self.assertEqual([xmlutil.findtext(r, "TpoDocRef") for r in references], ["33", "801"])
        self.assertEqual(xmlutil.findtext(references[1], "FolioRef"), "OC-4512")

    def test_folios_are_taken_in_order_across_two_cafs(self):
        second = self.load_caf(self.doc_33, 51, 52)
        self.caf_33.sudo().write({"next_folio": 50})
        folios = []
        for _index in range(3):
            move = self.make_invoice()
            move.action_post()
            folios.append((move.l10n_cl_dte_folio, move.l10n_cl_dte_caf_id))
        self.assertEqual(folios, [(50, self.caf_33), (51, second), (52, second)])
        self.assertEqual(second.state, "exhausted")
        with self.assertRefused(UserError, "no folios left"):
            self.make_invoice().action_post()

    def test_rolled_back_posting_gives_its_folio_back(self):
        move = self.make_invoice()
        self.env.flush_all()
        with self.assertRaises(UserError), self.env.cr.savepoint():
            move.action_post()
            self.assertEqual(move.l10n_cl_dte_folio, 1)
            raise UserError("later step of the same transaction fails")
        self.env.invalidate_all()
        self.assertEqual(self.caf_33.next_folio, 1)
        self.assertEqual(move.state, "draft")
        move.action_post()
        self.assertEqual(move.l10n_cl_dte_folio, 1)

    def test_reposting_a_stamped_but_unsent_move_keeps_its_folio(self):
        move = self.make_invoice()
        move.action_post()
        move.button_draft()
        move.invoice_line_ids[0].price_unit = 1500.0
        move.action_post()
        self.assert_valid_dte(move, 33, 1)
        self.assertEqual(self.caf_33.next_folio, 2)
        self.assertEqual(self.env["ir.attachment"].search_count(
            [("res_model", "=", "account.move"), ("res_id", "=", move.id), ("mimetype", "=", "application/xml")]), 1)

    def test_sent_document_cannot_return_to_draft_nor_be_cancelled(self):
        move = self.make_invoice()
        move.action_post()
        move.l10n_cl_dte_status = "sent"
        with self.assertRefused(UserError, "credit note"):
            move.button_draft()
        with self.assertRefused(UserError, "credit note"):
            move.button_cancel()

    def test_invoice_form_posting_as_a_user_would(self):
        with Form(self.env["account.move"].with_context(default_move_type="out_invoice")) as form:
            form.partner_id = self.customer
            form.journal_id = self.sale_journal
            form.l10n_latam_document_type_id = self.doc_33
            with form.invoice_line_ids.new() as line:
                line.product_id = self.product_a
                line.price_unit = 2500.0
                line.tax_ids.clear()
                line.tax_ids.add(self.vat_tax)
        move = form.save()
        move.action_post()
        self.assert_valid_dte(move, 33, 1)
        self.assertTrue(move.l10n_cl_dte_barcode)
