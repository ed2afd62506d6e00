"""The factura de compra set of the certification: the buyer's 46 and its notes, issued, sent and booked apart.

The set is the real one a company received (the engine's fixture, as in
``test_certification``); the SII is the local simulator over HTTP. The 46 is a
vendor bill the company issues to its supplier, retaining the whole VAT
(ImptoReten 15); the set's credit note (61) and debit note (56) on it are the
buyer's too, while a supplier's own notes stay received documents, never stamped.
"""

from dataclasses import replace
from decimal import Decimal

from lxml import etree

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

from ..sii_engine import xmlutil
from ..sii_engine.certification import issue as engine_issue
from ..sii_engine.certification import setfile
from ..sii_engine.totals import compute_totals
from .common import COMPANY_RUT, CUSTOMER_RUT, TestClDteCommon
from .common_export import ExportMixin
from .test_certification import TestCertification

PURCHASE_ATTENTION = "4352560"
SUPPLIER_RUT = "77654321-7"


@tagged("post_install", "-at_install")
class TestCertificationPurchase(ExportMixin, TestClDteCommon, HttpCase):

    make_workspace = TestCertification.make_workspace
    poll = TestCertification.poll

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        TestCertification.setup_certification.__func__(cls)
        cls.supplier = cls.customer.copy({
            "name": "Agrícola Los Boldos Ltda", "vat": SUPPLIER_RUT, "l10n_cl_activity_description": "Cultivo de cereales",
            "street": "Camino a Melipilla 4500", "city": "Padre Hurtado",
        })

    def setUp(self):
        super().setUp()
        self.sii.reset()

    def purchase_workspace(self):
        workspace = self.make_workspace()
        workspace.supplier_id = self.supplier
        workspace.action_read_set()
        return workspace

    def engine_documents(self, workspace):
        """Each case of the factura de compra set as the engine makes it from the set file (folios as issued)."""
        test_set = next(s for s in setfile.parse_set_file(self.set_data) if s.kind == setfile.FACTURA_COMPRA)
        issuer = self.company._l10n_cl_dte_engine_issuer()
        receiver = self.supplier._l10n_cl_dte_receiver()
        folios = {case.case_ref: case.folio for case in workspace.case_ids}
        earlier = {}
        for case in test_set.cases:
            earlier[case.case_id] = engine_issue.case_document(case, folios[case.case_id], workspace.issue_date,
                                                               issuer, receiver, earlier)
        return earlier

    def test_factura_de_compra_set_issued_sent_and_booked_apart(self):
        workspace = self.purchase_workspace()
        purchase = workspace.set_ids.filtered(lambda s: s.kind == setfile.FACTURA_COMPRA)
        self.assertEqual(purchase.attention, PURCHASE_ATTENTION)
        workspace.action_issue()
        cases = purchase.case_ids
        moves = cases.move_id
        self.assertEqual(len(moves), 3)
        # The buyer's documents: vendor bill 46, vendor refund 61, vendor bill 56, on the purchase journal,
        # to the supplier, each with its folio (the 61 and 56 after the basic set's, from the same CAFs).
        self.assertEqual([(m.move_type, m.l10n_latam_document_type_id.code, m.l10n_cl_dte_folio) for m in moves],
                         [("in_invoice", "46", 1), ("in_refund", "61", 4), ("in_invoice", "56", 2)])
        self.assertEqual(set(moves.mapped("state")), {"posted"})
        self.assertEqual((moves.journal_id, moves.partner_id), (self.purchase_journal, self.supplier))
        self.assertTrue(all(moves.mapped("l10n_cl_dte_electronic")))
        self.assertFalse(any(cases.mapped("mismatch")), cases.mapped("mismatch"))
        # References: the SET one first; the 61 corrects the amounts of the 46, the 56 annuls the 61.
        for case in cases:
            reference = case.move_id.l10n_cl_dte_reference_ids[0]
            self.assertEqual((reference.other_type, reference.folio, reference.reason),
                             ("SET", PURCHASE_ATTENTION, f"CASO {case.case_ref}"))
        cited = [m.l10n_cl_dte_reference_ids[1:].mapped(lambda r: (r.document_type_id.code, r.folio, r.code))
                 for m in moves]
        self.assertEqual(cited, [[], [("46", "1", "3")], [("61", "4", "1")]])

        # The signed DTEs: issued by the company to the supplier, VAT retained in full (ImptoReten 15),
        # every total as the engine computes the case from the set file alone.
        engine = self.engine_documents(workspace)
        figures = {}
        for case in cases:
            dte = xmlutil.find(xmlutil.parse(case.move_id.l10n_cl_dte_file_id.raw), "Documento")
            header = xmlutil.find(dte, "Encabezado")
            self.assertEqual((xmlutil.findtext(header, "Emisor/RUTEmisor"), xmlutil.findtext(header, "Receptor/RUTRecep")),
                             (COMPANY_RUT, SUPPLIER_RUT))
            self.assertEqual(xmlutil.findtext(header, "IdDoc/Folio"), str(case.folio))
            self.assertEqual({xmlutil.findtext(line, "CodImpAdic") for line in xmlutil.children(dte, "Detalle")}, {"15"})
            totals = xmlutil.find(header, "Totales")
            retained = xmlutil.children(totals, "ImptoReten")
            self.assertEqual(len(retained), 1, case.case_ref)
            expected = compute_totals(engine[case.case_ref])
            amount = Decimal(xmlutil.findtext(retained[0], "MontoImp"))
            self.assertEqual((xmlutil.findtext(retained[0], "TipoImp"), Decimal(xmlutil.findtext(retained[0], "TasaImp"))),
                             ("15", Decimal(19)))
            self.assertEqual(expected.additional_taxes, [(15, Decimal(19), amount)], case.case_ref)
            net, vat, total = (Decimal(xmlutil.findtext(totals, tag)) for tag in ("MntNeto", "IVA", "MntTotal"))
            self.assertEqual((net, vat, total), (expected.net, expected.vat, expected.total), case.case_ref)
            self.assertEqual(amount, vat, "the whole VAT is retained")
            self.assertEqual(total, net, "the supplier is paid the net: the buyer pays the VAT to the SII")
            self.assertEqual(case.move_id.amount_total, float(total), case.case_ref)
            self.assertEqual((case.amount_total, case.difference), (float(total), 0))
            # In the books of the company: the purchase VAT and its retention, each the DTE's amount.
            tax_lines = case.move_id.line_ids.filtered("tax_line_id")
            self.assertEqual(sorted((line.tax_line_id.l10n_cl_sii_code, abs(line.balance)) for line in tax_lines),
                             [(14, float(vat)), (15, float(vat))], case.case_ref)
            figures[case.case_ref] = (case.folio, net, vat, amount, total)
        # The SII's rules on known figures: 471 × 3950 + 26 × 2074; the 61 returns 157 and 9 at the same prices.
        self.assertEqual(figures, {
            "4352560-1": (1, 1914374, 363731, 363731, 1914374),
            "4352560-2": (4, 638816, 121375, 121375, 638816),
            "4352560-3": (2, 638816, 121375, 121375, 638816),
        })

        # Sent with the workspace's Send: one envelope for the set, apart from the basic set's; accepted.
        workspace.action_send()
        self.assertEqual(set(moves.mapped("l10n_cl_dte_status")), {"sent"})
        envelope = moves.l10n_cl_dte_envelope_id
        self.assertEqual(len(envelope), 1)
        self.assertEqual(purchase.envelope_id, envelope)
        basic = workspace.set_ids.filtered(lambda s: s.kind == setfile.BASICO)
        self.assertNotEqual(basic.envelope_id, envelope)
        self.assertEqual(self.sii.upload_count(), 5, "one envelope per set: the basic, factura de compra, guías, exports")
        self.poll(workspace)
        self.assertEqual(envelope.state, "accepted", envelope.display_name)
        self.assertEqual(set(cases.mapped("dte_status")), {"accepted"}, cases.mapped("sii_message"))
        self.assertEqual(workspace.step, "books")
        self.assertNotIn(PURCHASE_ATTENTION, workspace.progress)

        # The books are those of their sets: the sales book lists the basic set only, the purchase book the
        # LIBRO DE COMPRAS set's entries (the customer standing for their suppliers), none of these documents.
        workspace.action_send_books()
        self.poll(workspace)
        ns = {"sii": xmlutil.SII_NS}
        sales = workspace.book_ids.filtered(lambda s: s.kind == setfile.LIBRO_VENTAS)
        purchases = workspace.book_ids.filtered(lambda s: s.kind == setfile.LIBRO_COMPRAS)
        self.assertEqual((sales.state, purchases.state), ("accepted", "accepted"), purchases.sii_message)
        sales_book = etree.fromstring(sales.book_attachment_id.raw)
        self.assertEqual(sorted(sales_book.xpath(".//sii:Detalle/sii:TpoDoc/text()", namespaces=ns)),
                         ["33"] * 4 + ["56"] + ["61"] * 3)
        purchase_book = etree.fromstring(purchases.book_attachment_id.raw)
        details = purchase_book.xpath(".//sii:Detalle", namespaces=ns)
        book_set = next(s for s in setfile.parse_set_file(self.set_data) if s.kind == setfile.LIBRO_COMPRAS)
        self.assertEqual(
            [(d.findtext("sii:TpoDoc", namespaces=ns), d.findtext("sii:NroDoc", namespaces=ns),
              d.findtext("sii:RUTDoc", namespaces=ns)) for d in details],
            [(str(p.document_type), str(p.folio), CUSTOMER_RUT) for p in book_set.purchases],
        )
        self.assertNotIn(SUPPLIER_RUT, purchases.book_attachment_id.raw.decode("iso-8859-1"))

        # Printed: each of the set's documents is a page of the samples, with its stamp.
        self.assertEqual(workspace.step, "samples")
        workspace.with_context(force_report_rendering=True).action_print_samples()
        self.assertTrue(workspace.samples_attachment_id.raw.startswith(b"%PDF"))
        self.assertTrue(all(moves.mapped("l10n_cl_dte_ted")))

    def test_a_suppliers_own_note_is_not_issued(self):
        """Only the buyer's notes on its own factura de compra are stamped; a supplier's notes are received."""
        workspace = self.purchase_workspace()
        workspace.action_issue()
        own_46 = workspace.case_ids.filtered(lambda c: c.document_type_id.code == "46").move_id

        def vendor_note(document_type, reference_type, folio, number):
            return self.env["account.move"].create({
                "move_type": "in_refund" if document_type == self.doc_61 else "in_invoice",
                "partner_id": self.supplier.id,
                "journal_id": self.purchase_journal.id,
                "invoice_date": "2026-11-20",
                "l10n_latam_document_type_id": document_type.id,
                "l10n_latam_document_number": number,
                "invoice_line_ids": [Command.create({"name": "Devolución", "quantity": 1, "price_unit": 1000.0})],
                "l10n_cl_dte_reference_ids": [Command.create({
                    "document_type_id": reference_type.id, "folio": folio, "date": "2026-11-19", "code": "1",
                })],
            })

        next_folios = self.env["l10n_cl_dte.caf"].search([("company_id", "=", self.company.id)]).mapped(
            lambda caf: (caf.document_type_id.code, caf.next_folio))
        # The supplier's credit note on the invoice it sold us (same number as our 46), and on a 46
        # this company never issued.
        on_its_invoice = vendor_note(self.doc_61, self.doc_33, str(own_46.l10n_cl_dte_folio), "5012")
        on_a_stranger_46 = vendor_note(self.doc_61, self.doc_46, "99", "5013")
        its_debit_note = vendor_note(self.doc_56, self.doc_33, "4410", "880")
        notes = on_its_invoice | on_a_stranger_46 | its_debit_note
        self.assertFalse(any(notes.mapped("l10n_cl_dte_electronic")))
        notes.action_post()
        self.assertEqual(set(notes.mapped("state")), {"posted"})
        self.assertFalse(any(notes.mapped("l10n_cl_dte_folio")), "a supplier's note takes no folio of ours")
        self.assertFalse(any(notes.mapped("l10n_cl_dte_status")))
        self.assertFalse(notes.l10n_cl_dte_file_id)
        self.assertEqual(self.env["l10n_cl_dte.caf"].search([("company_id", "=", self.company.id)]).mapped(
            lambda caf: (caf.document_type_id.code, caf.next_folio)), next_folios)
        # The control: the same kind of note on the 46 the company issued is the buyer's, stamped.
        own_note = vendor_note(self.doc_61, self.doc_46, str(own_46.l10n_cl_dte_folio), False)
        self.assertTrue(own_note.l10n_cl_dte_electronic)

    def test_issue_needs_the_supplier_and_purchase_journal(self):
        workspace = self.purchase_workspace()
        workspace.write({"supplier_id": False, "purchase_journal_id": False})
        next_folios = self.env["l10n_cl_dte.caf"].search([("company_id", "=", self.company.id)]).mapped("next_folio")
        with self.assertRaises(UserError) as caught:
            workspace.action_issue()
        message = str(caught.exception)
        self.assertIn("Choose the supplier of the factura de compra set.", message)
        self.assertIn("Choose the purchase journal of the factura de compra set", message)
        self.assertFalse(workspace.case_ids.move_id, "no set is issued, the basic one neither")
        self.assertFalse(workspace.issue_date)
        self.assertEqual(self.env["l10n_cl_dte.caf"].search([("company_id", "=", self.company.id)]).mapped(
            "next_folio"), next_folios, "no folio is taken")
        # The supplier by default: the customer of the cases.
        self.assertEqual(self.env["l10n_cl_dte.certification"].new({"partner_id": self.customer.id}).supplier_id,
                         self.customer)

    def test_a_retention_that_differs_from_the_rules_is_shown(self):
        workspace = self.purchase_workspace()
        workspace.action_issue()
        case = workspace.case_ids.filtered(lambda c: c.document_type_id.code == "46")
        self.assertFalse(case.mismatch)
        # The engine's 46 without its retention: what the DTE retains is no longer what the rules give.
        document = self.engine_documents(workspace)[case.case_ref]
        document = replace(document, lines=[replace(line, additional_tax_code=None) for line in document.lines])
        case._l10n_cl_dte_compare(compute_totals(document))
        self.assertIn("ImptoReten 15: 363731 in the document, 0 by the SII's rules", case.mismatch)
        self.assertIn("MntTotal", case.mismatch)
        with self.assertRaises(UserError):
            workspace.action_send()
        self.assertFalse(workspace.case_ids.move_id.l10n_cl_dte_envelope_id)
