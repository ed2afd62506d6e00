"""The certification's exchange step: the SII's test envelope received in the DTE inbox, and its three answers.

The envelope is made by the engine's stand-in supplier (another company with
its own certificate and CAFs signed by the stand-in SII) and reaches the
company as any supplier's: a real MIME message through Odoo's mail gateway, or
uploaded. The answers are read back by the engine's readers: signatures and
schemas checked, not trusted.
"""

import base64

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..sii_engine.exchange import DECLARATION, read_answer, read_receipts
from .common import COMPANY_RUT, SIGNER_RUT
from .reception_common import TestReceptionCommon
from .test_certification import EXEMPT_SET


@tagged("post_install", "-at_install")
class TestCertificationExchange(TestReceptionCommon):

    def make_workspace(self):
        workspace = self.env["l10n_cl_dte.certification"].create({
            "company_id": self.company.id,
            "set_file": base64.b64encode(EXEMPT_SET.read_bytes()),
            "set_filename": "set.txt",
        })
        workspace.action_read_set()
        return workspace

    def test_the_envelope_in_the_inbox_is_answered_with_reception_result_and_receipt(self):
        file = self.receive([self.supplier_dte(33), self.supplier_dte(33)])
        documents = file.received_ids.sorted("folio")
        self.assertEqual(documents.mapped("state"), ["received", "received"], documents.mapped("reception_glosa"))
        workspace = self.make_workspace()
        self.assertIn("SII's test envelope", workspace.progress)
        workspace.write({"exchange_file_id": file.id, "exchange_place": "Bodega central, Teatinos 120"})
        workspace.action_exchange_answer()

        # 1. The reception of the envelope and of each document, made when the inbox received it.
        reception = read_answer(base64.b64decode(workspace.exchange_reception_file))
        self.assertTrue(reception.verified and not reception.schema_errors, reception.schema_errors)
        self.assertEqual((reception.cover.responder_rut, reception.cover.recipient_rut),
                         (COMPANY_RUT, self.supplier.rut))
        self.assertEqual([d.document.folio for d in reception.receptions[0].documents], documents.mapped("folio"))
        self.assertEqual(int(reception.receptions[0].status), 0)
        # 2. The commercial result of both documents, in one file.
        result = read_answer(base64.b64decode(workspace.exchange_result_file))
        self.assertTrue(result.verified and not result.schema_errors, result.schema_errors)
        self.assertEqual((result.cover.responder_rut, result.cover.recipient_rut), (COMPANY_RUT, self.supplier.rut))
        self.assertEqual([(r.document.folio, int(r.status), r.envelope_code) for r in result.results],
                         [(folio, 0, file.id) for folio in documents.mapped("folio")])
        self.assertEqual([r.document.total for r in result.results],
                         [int(round(total)) for total in documents.mapped("amount_total")])
        # 3. The receipt of the goods of both documents, each receipt signed by the company's signer.
        receipts = read_receipts(base64.b64decode(workspace.exchange_receipt_file))
        self.assertTrue(receipts.verified and not receipts.schema_errors, receipts.schema_errors)
        self.assertEqual([(r.document.folio, r.place, r.declaration, r.signer_rut, r.signature.ok)
                          for r in receipts.receipts],
                         [(folio, "Bodega central, Teatinos 120", DECLARATION, SIGNER_RUT, True)
                          for folio in documents.mapped("folio")])
        self.assertEqual((workspace.exchange_result_name, workspace.exchange_receipt_name),
                         (f"RespuestaDTE_Resultado_{file.id}.xml", f"EnvioRecibos_{file.id}.xml"))

        # The documents are answered as from their bills; the SII's site takes the files: nothing is
        # e-mailed to the issuer for them nor registered in the SII's registry.
        self.assertEqual(documents.mapped(lambda d: (d.state, d.result_status, d.receipt_sent)),
                         [("accepted", "accepted", True)] * 2)
        events = documents.event_ids.filtered(lambda e: e.kind in ("result", "receipt"))
        self.assertEqual(set(events.mapped("attachment_id")),
                         {workspace.exchange_result_attachment_id, workspace.exchange_receipt_attachment_id})
        self.assertFalse(self.env["mail.mail"].search([("model", "=", documents._name),
                                                       ("res_id", "in", documents.ids)]))
        self.assertFalse(self.sii.rcv_events(self.supplier.rut, 33, documents[0].folio))
        self.assertNotIn("SII's test envelope", workspace.progress)
        with self.assertRaisesRegex(UserError, "answered already"):
            workspace.action_exchange_answer()

    def test_an_uploaded_envelope_goes_through_the_inbox(self):
        workspace = self.make_workspace()
        envelope = self.supplier_envelope([self.supplier_dte(33)])
        workspace.write({"exchange_upload": base64.b64encode(envelope), "exchange_upload_name": "EnvioDTE_SII.xml"})
        workspace.action_exchange_answer()
        file = workspace.exchange_file_id
        self.assertEqual((file.name, file.source, file.kind, file.state),
                         ("EnvioDTE_SII.xml", "upload", "EnvioDTE", "done"))
        self.assertEqual(file.received_ids.result_status, "accepted")
        self.assertFalse(workspace.exchange_upload)
        result = read_answer(workspace.exchange_result_attachment_id.raw)
        self.assertEqual([r.document.folio for r in result.results], file.received_ids.mapped("folio"))

    def test_what_cannot_be_answered_is_refused_and_nothing_is_kept(self):
        workspace = self.make_workspace()
        with self.assertRaisesRegex(UserError, "Choose the SII's test envelope"):
            workspace.action_exchange_answer()
        workspace.write({"exchange_upload": base64.b64encode(b"<Factura/>"), "exchange_upload_name": "other.xml"})
        with self.assertRaises(UserError) as caught:  # Odoo's assertRaises rolls back, as the UI's error does
            workspace.action_exchange_answer()
        self.assertIn("other.xml is not an envelope of DTEs", str(caught.exception))
        self.assertFalse(self.File.search([("name", "=", "other.xml")]), "a refused upload leaves no file")
        file = self.receive([self.supplier_dte(33)])
        workspace.write({"exchange_file_id": file.id, "exchange_result": "rejected"})
        with self.assertRaisesRegex(UserError, "Reason of the Result"):
            workspace.action_exchange_answer()
        self.assertFalse(file.received_ids.result_status)
        self.assertFalse(workspace.exchange_result_attachment_id)
