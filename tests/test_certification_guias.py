"""The certification's GUIA DE DESPACHO set issued from real deliveries, sent, and its LIBRO DE GUIAS.

The set is the one a company received (the engine's fixture, see
``sii_engine/tests/fixtures/sets/README.md``); the SII is the local simulator,
reached over HTTP by the company's SII client; the stock, the guías' issuing
path and the engine are the real ones.
"""

import base64
from datetime import timedelta
from decimal import Decimal

from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from ..sii_engine import schema, signature, xmlutil
from ..sii_engine.certification import guide_book, setfile
from ..sii_engine.certification import issue as engine_issue
from ..sii_engine.totals import compute_totals
from .common import COMPANY_RUT, CUSTOMER_RUT, TestClDteCommon
from .common_export import ExportMixin
from .test_certification import TestCertification

GUIA_ATTENTION = "4352556"
BOOK_ATTENTION = "4352557"


@tagged("post_install", "-at_install")
class TestCertificationGuias(ExportMixin, TestClDteCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        TestCertification.setup_certification.__func__(cls)  # every set of the file is issued: their CAFs
        cls.doc_52 = cls.env.ref("l10n_cl.dc_gd_dte")
        cls.warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.company.id)], limit=1)

    def setUp(self):
        super().setUp()
        self.sii.reset()

    def make_workspace(self):
        workspace = self.env["l10n_cl_dte.certification"].create({
            "company_id": self.company.id,
            "set_file": base64.b64encode(self.set_data),
            "set_filename": "SIISetDePruebas.txt",
            "partner_id": self.customer.id,
            "journal_id": self.sale_journal.id,
            "export_partner_id": self.foreign_customer.id,
        })
        workspace.action_read_set()
        return workspace

    def guide_cases(self, workspace):
        return workspace.case_ids.filtered(lambda case: case.set_id.kind == setfile.GUIA_DESPACHO)

    def poll(self, workspace, rounds=6):
        for _round in range(rounds):
            (workspace.case_ids.move_id.l10n_cl_dte_envelope_id | workspace.case_ids.picking_id.l10n_cl_dte_envelope_id
             ).write({"next_poll_at": fields.Datetime.now() - timedelta(seconds=1)})
            workspace.action_check_status()
            if not workspace.case_ids.filtered(lambda case: case.dte_status == "sent") \
                    and not workspace.book_ids.filtered(lambda book: book.state == "sent"):
                return
        self.fail("still waiting for the SII")

    def test_guia_set_from_deliveries_and_its_book(self):
        workspace = self.make_workspace()
        self.assertEqual(workspace.warehouse_id, self.warehouse, "the company's warehouse by default")
        cases = self.guide_cases(workspace)
        self.assertEqual(cases.mapped("case_ref"), [f"{GUIA_ATTENTION}-{n}" for n in (1, 2, 3)])
        self.assertEqual(set(cases.document_type_id.mapped("code")), {"52"})

        # Step 2: each guía case is a validated delivery of the warehouse with its guía, folio of the CAF 52.
        workspace.action_issue()
        pickings = cases.picking_id
        self.assertEqual(len(pickings), 3)
        self.assertFalse(cases.move_id, "a guía is a transfer's, not an invoice's")
        self.assertEqual(set(pickings.mapped("state")), {"done"})
        self.assertEqual(pickings.picking_type_id, self.warehouse.out_type_id)
        self.assertEqual(cases.mapped("folio"), [1, 2, 3])
        self.assertEqual(pickings.mapped("l10n_latam_document_type_id"), self.doc_52)
        self.assertEqual(set(cases.mapped("dte_status")), {"to_send"})
        self.assertFalse(any(cases.mapped("mismatch")), cases.mapped("mismatch"))
        # The case's items, quantities and transfer data as the set gives them.
        test_set = next(s for s in setfile.parse_set_file(self.set_data) if s.kind == setfile.GUIA_DESPACHO)
        issuer, receiver = self.company._l10n_cl_dte_engine_issuer(), self.customer._l10n_cl_dte_receiver()
        for case, engine_case in zip(cases, test_set.cases, strict=True):
            picking = case.picking_id
            self.assertEqual(picking.origin, f"CASO {case.case_ref}")
            self.assertEqual([(move.product_id.name, move.quantity) for move in picking.move_ids],
                             [(item.name, float(item.quantity)) for item in engine_case.lines])
            self.assertEqual(picking.l10n_cl_dte_transfer_indicator, str(engine_case.transfer.transfer_indicator))
            body = xmlutil.parse(picking.l10n_cl_dte_file_id.raw)[0]
            id_doc = xmlutil.find(body, "Encabezado/IdDoc")
            self.assertEqual((xmlutil.findtext(id_doc, "TipoDTE"), xmlutil.findtext(id_doc, "Folio")),
                             ("52", str(case.folio)))
            self.assertEqual(xmlutil.findtext(id_doc, "IndTraslado"), str(engine_case.transfer.transfer_indicator))
            self.assertEqual(xmlutil.findtext(id_doc, "TipoDespacho") or None,
                             str(engine_case.transfer.dispatch_type) if engine_case.transfer.dispatch_type else None)
            # The SET reference, on the transfer and in its DTE.
            reference = picking.l10n_cl_dte_reference_ids
            self.assertEqual((reference.other_type, reference.folio, reference.reason),
                             ("SET", GUIA_ATTENTION, f"CASO {case.case_ref}"))
            dte_reference = xmlutil.find(body, "Referencia")
            self.assertEqual([xmlutil.findtext(dte_reference, tag) for tag in ("TpoDocRef", "FolioRef", "RazonRef")],
                             ["SET", GUIA_ATTENTION, f"CASO {case.case_ref}"])
            # The totals: the SII's rules on the case (computed by the engine from the set alone).
            expected = compute_totals(engine_issue.case_document(engine_case, case.folio, workspace.issue_date,
                                                                 issuer, receiver, {}))
            self.assertEqual(Decimal(xmlutil.findtext(body, "Encabezado/Totales/MntTotal")), expected.total)
            self.assertEqual(case.amount_total, float(expected.total))
        transfer, sale, cancelled = cases
        # Case 1 moves goods between the company's premises: unvalued, the company as receiver.
        body = xmlutil.parse(transfer.picking_id.l10n_cl_dte_file_id.raw)[0]
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Receptor/RUTRecep"), COMPANY_RUT)
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Totales/MntTotal"), "0")
        self.assertFalse(xmlutil.findtext(body, "Detalle/PrcItem"))
        # Cases 2 and 3 are sales at the case's prices (ITEM 1 at 4794, then at 1569), plus VAT.
        self.assertEqual(sale.picking_id.partner_id, self.customer)
        body = xmlutil.parse(sale.picking_id.l10n_cl_dte_file_id.raw)[0]
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Receptor/RUTRecep"), CUSTOMER_RUT)
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Totales/MntNeto"), str(222 * 4794 + 424 * 1314))
        self.assertEqual(sale.amount_total, 1929471)
        self.assertEqual(cancelled.amount_total, round((131 * 1569 + 272 * 3772) * 1.19))
        self.assertEqual([xmlutil.findtext(line, "PrcItem") for line in xmlutil.children(body, "Detalle")],
                         ["4794", "1314"])

        # Step 3: the guías in one envelope of their own, accepted, as any transfer's guía is sent.
        workspace.action_send()
        self.assertEqual(set(cases.mapped("dte_status")), {"sent"})
        envelope = pickings.l10n_cl_dte_envelope_id
        self.assertEqual(len(envelope), 1)
        self.assertEqual(cases.set_id.envelope_id, envelope)
        self.assertEqual(self.sii.upload_count(), 5, "one envelope per set: the basic, factura de compra, guías, exports")
        self.poll(workspace)
        self.assertEqual(envelope.state, "accepted")
        self.assertEqual(set(cases.mapped("dte_status")), {"accepted"})

        # Step 4: the LibroGuia of those guías, built from their signed DTEs, uploaded and accepted.
        workspace.action_send_books()
        guides_book = workspace.book_ids.filtered(lambda book: book.kind == setfile.LIBRO_GUIAS)
        self.assertEqual(guides_book.state, "sent")
        self.poll(workspace)
        self.assertEqual(guides_book.state, "accepted", guides_book.sii_message)
        book = xmlutil.parse(guides_book.book_attachment_id.raw)
        self.assertEqual(xmlutil.local(book.tag), "LibroGuia")
        self.assertEqual(schema.validation_errors(book, guide_book.SCHEMA), [])
        signature.verify(book)
        self.assertEqual(xmlutil.findtext(book, "EnvioLibro/Caratula/FolioNotificacion"), BOOK_ATTENTION)
        summary = xmlutil.find(book, "EnvioLibro/ResumenPeriodo")
        self.assertEqual([xmlutil.findtext(summary, tag) for tag in ("TotGuiaAnulada", "TotGuiaVenta",
                                                                      "TotMntGuiaVta")], ["1", "1", "1929471"])
        self.assertEqual([(xmlutil.findtext(node, "TpoTraslado"), xmlutil.findtext(node, "CantGuia"),
                           xmlutil.findtext(node, "MntGuia")) for node in xmlutil.children(summary, "TotTraslado")],
                         [("5", "1", "0")])
        details = {xmlutil.findtext(detail, "Folio"): detail
                   for detail in xmlutil.children(xmlutil.find(book, "EnvioLibro"), "Detalle")}
        self.assertEqual(sorted(details), ["1", "2", "3"])
        # The guía invoiced in the period names the basic set's first factura; the annulled one is marked.
        invoice = workspace.case_ids.filtered(lambda case: case.document_type_id.code == "33")[:1].move_id
        self.assertEqual([xmlutil.findtext(details["2"], tag) for tag in ("TpoDocRef", "FolioDocRef")],
                         ["33", str(invoice.l10n_cl_dte_folio)])
        self.assertEqual(xmlutil.findtext(details["3"], "Anulado"), "2")
        self.assertIsNone(xmlutil.findtext(details["2"], "Anulado"))
        self.assertIn("TotGuiaVenta 1", guides_book.book_totals)
        # Nothing of the guías is left: with every set of the file issued and booked, the samples are next.
        self.assertNotIn(GUIA_ATTENTION, workspace.progress)
        self.assertNotIn(BOOK_ATTENTION, workspace.progress)
        self.assertEqual(workspace.step, "samples", workspace.progress)

    def test_refused_without_a_warehouse(self):
        workspace = self.make_workspace()
        workspace.warehouse_id = False
        with self.assertRaises(UserError) as caught:
            workspace.action_issue()
        self.assertIn("warehouse the set's dispatch guides leave from", str(caught.exception))
        self.assertFalse(workspace.case_ids.move_id, "nothing of the sets issued")
        self.assertFalse(workspace.case_ids.picking_id)
        self.assertFalse(self.env["stock.picking"].search([("origin", "=like", "CASO %")]))
        self.assertFalse(workspace.issue_date)

    def test_a_refused_guia_issues_nothing(self):
        """The customer has no address: the guía of a sale is refused naming it, and nothing of the sets stays."""
        workspace = self.make_workspace()
        # Only the guías to issue: the basic set's invoices would be refused first.
        workspace.set_ids.filtered(lambda s: s.kind == setfile.BASICO).unlink()
        self.customer.city = False
        with self.assertRaises(UserError) as caught:
            workspace.action_issue()
        self.assertIn("comuna", str(caught.exception))
        self.assertFalse(workspace.case_ids.picking_id, "no case keeps a transfer")
        self.assertFalse(self.env["stock.picking"].search([("origin", "=like", "CASO %")]), "no transfer stays")
        self.assertFalse(self.env["stock.picking"].search([("l10n_latam_document_type_id", "=", self.doc_52.id),
                                                           ("l10n_cl_dte_folio", "!=", 0)]), "no folio taken")

    def test_a_delivery_type_that_issues_guias_on_validation(self):
        """Where validating a delivery issues its guía, the set's guías are issued there, once each."""
        self.warehouse.out_type_id.l10n_cl_dte_guia = True
        workspace = self.make_workspace()
        workspace.set_ids.filtered(lambda s: s.kind == setfile.BASICO).unlink()
        workspace.action_issue()
        cases = self.guide_cases(workspace)
        self.assertEqual(cases.mapped("folio"), [1, 2, 3])
        self.assertEqual(set(cases.mapped("dte_status")), {"to_send"})
        self.assertEqual(cases.picking_id.l10n_cl_dte_reference_ids.mapped("reason"),
                         [f"CASO {case.case_ref}" for case in cases])
        self.assertFalse(any(cases.mapped("mismatch")), cases.mapped("mismatch"))
        workspace.action_issue()  # again: nothing more is issued
        self.assertEqual(self.env["stock.picking"].search_count([("origin", "=like", "CASO %")]), 3)

    def test_a_reference_belongs_to_an_invoice_or_a_transfer(self):
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            self.env["l10n_cl_dte.reference"].create({"other_type": "SET", "folio": "1", "reason": "CASO 1-1"})
