import datetime

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..sii_engine import document as engine_document
from ..sii_engine.exchange import DECLARATION, read_answer, read_receipts
from .common import COMPANY_RUT, SIGNER_RUT
from .reception_common import TestReceptionCommon


@tagged("post_install", "-at_install")
class TestReceptionAnswers(TestReceptionCommon):
    """From the bill: the SII's registry (RCV) and the signed answers to the supplier, each code."""

    def received_bill(self, document_type=33, **values):
        file = self.receive([self.supplier_dte(document_type, **values)])
        received = file.received_ids
        self.assertEqual(received.state, "received", received.reception_glosa)
        return received, received.move_id

    def answer(self, bill, answer, **values):
        action = bill.with_context(l10n_cl_dte_answer=answer).action_l10n_cl_dte_received_answer()
        wizard = self.env[action["res_model"]].with_context(action["context"]).create(values)
        self.assertEqual((wizard.answer, wizard.received_ids), (answer, bill.l10n_cl_dte_received_id))
        wizard.action_confirm()

    def registry_events(self, received):
        return [(event["code"], event["rut"]) for event in self.sii.rcv_events(self.supplier.rut, 33, received.folio)]

    def last_answer(self, received, prefix):
        attachments = self.env["ir.attachment"].search([
            ("res_model", "=", "account.move"), ("res_id", "=", received.move_id.id), ("name", "=like", prefix + "%")])
        self.assertEqual(len(attachments), 1)
        mail = self.env["mail.mail"].search([("model", "=", received._name), ("res_id", "=", received.id)])
        self.assertEqual((mail.email_to, mail.attachment_ids), (self.supplier.email, attachments))
        return attachments.raw

    def test_accept_registers_acd_and_sends_the_accepted_result(self):
        received, bill = self.received_bill()
        activity_type = self.env.ref("l10n_cl_dte.mail_activity_dte_deadline")
        self.assertEqual(bill.activity_ids.activity_type_id, activity_type)
        self.answer(bill, "accept")
        self.assertEqual(self.registry_events(received), [("ACD", SIGNER_RUT)])
        self.assertEqual((received.state, received.rcv_action, received.result_status),
                         ("accepted", "ACD", "accepted"))
        self.assertFalse(bill.activity_ids, "nothing left to watch")
        answer = read_answer(self.last_answer(received, "RespuestaDTE_Resultado"))
        self.assertTrue(answer.verified)
        self.assertEqual((answer.cover.responder_rut, answer.cover.recipient_rut), (COMPANY_RUT, self.supplier.rut))
        result = answer.results[0]
        self.assertEqual((int(result.status), result.document.folio, result.document.total, result.envelope_code),
                         (0, received.folio, 65688, received.file_id.id))
        self.assertEqual(received.event_ids.filtered(lambda e: e.kind == "rcv").code, "ACD")

    def test_accept_with_discrepancies_sends_its_reason_and_code(self):
        received, bill = self.received_bill()
        self.answer(bill, "discrepancies", glosa="Precio distinto al acordado", reason_code=-3)
        result = read_answer(self.last_answer(received, "RespuestaDTE_Resultado")).results[0]
        self.assertEqual((int(result.status), result.glosa, result.reason_code), (1, "Precio distinto al acordado", -3))
        self.assertEqual(self.registry_events(received), [("ACD", SIGNER_RUT)])
        self.assertEqual(received.state, "accepted")

    def test_claim_registers_rcd_and_sends_the_rejection(self):
        received, bill = self.received_bill()
        with self.assertRaisesRegex(UserError, "Reason"):
            self.answer(bill, "claim")
        self.answer(bill, "claim", glosa="Mercaderia no solicitada")
        self.assertEqual(self.registry_events(received), [("RCD", SIGNER_RUT)])
        self.assertEqual((received.state, received.result_status), ("claimed", "rejected"))
        result = read_answer(self.last_answer(received, "RespuestaDTE_Resultado")).results[0]
        self.assertEqual((int(result.status), result.glosa), (2, "Mercaderia no solicitada"))
        # A claimed document cannot be accepted any more: the SII's answer (12) is the user's message.
        received.state = "received"
        with self.assertRaisesRegex(UserError, "12"):
            received._l10n_cl_dte_rcv_register("ACD")

    def test_lack_of_goods_claims(self):
        partial, partial_bill = self.received_bill()
        self.answer(partial_bill, "partial_lack", glosa="Faltan 20 tornillos", send_to_supplier=False)
        total, total_bill = self.received_bill()
        self.answer(total_bill, "total_lack", glosa="No llego nada", send_to_supplier=False)
        self.assertEqual(self.registry_events(partial), [("RFP", SIGNER_RUT)])
        self.assertEqual(self.registry_events(total), [("RFT", SIGNER_RUT)])
        self.assertEqual((partial.state, total.state), ("claimed", "claimed"))
        self.assertFalse(self.env["mail.mail"].search([("model", "=", partial._name), ("res_id", "=", partial.id)]))

    def test_receipt_of_goods_registers_erm_and_sends_the_signed_receipt(self):
        received, bill = self.received_bill()
        self.answer(bill, "receipt", place="Bodega central, Teatinos 120")
        self.assertEqual(self.registry_events(received), [("ERM", SIGNER_RUT)])
        self.assertTrue(received.goods_received and received.receipt_sent)
        self.assertEqual(received.state, "received", "a receipt of goods does not accept the content")
        receipts = read_receipts(self.last_answer(received, "EnvioRecibos"))
        self.assertTrue(receipts.verified)
        receipt = receipts.receipts[0]
        self.assertEqual((receipt.document.folio, receipt.place, receipt.declaration, receipt.signer_rut),
                         (received.folio, "Bodega central, Teatinos 120", DECLARATION, SIGNER_RUT))

    def test_the_registry_takes_only_facturas(self):
        received, bill = self.received_bill(56, references=[
            engine_document.Reference("33", "5", self.today, 3, "Corrige montos")])
        self.assertFalse(received.l10n_cl_dte_in_registry)
        self.assertFalse(bill.activity_ids)
        with self.assertRaisesRegex(UserError, "registry"):
            received._l10n_cl_dte_rcv_register("ACD")
        # Its commercial result still goes to the supplier.
        self.answer(bill, "accept")
        self.assertEqual(read_answer(self.last_answer(received, "RespuestaDTE_Resultado")).results[0].document
                         .document_type, 56)

    def test_the_deadline_runs_from_the_sii_reception_and_ends_in_tacit_acceptance(self):
        received, bill = self.received_bill()
        self.assertTrue(received.deadline_estimated)
        self.assertEqual(received.deadline, self.today + datetime.timedelta(days=8))
        # The SII received it yesterday: the deadline is 8 days after that day, shown on the bill.
        yesterday = datetime.datetime.combine(self.today - datetime.timedelta(days=1), datetime.time(18, 30))
        self.sii.set_reception_date(self.supplier.rut, 33, received.folio, yesterday)
        bill.action_l10n_cl_dte_rcv_refresh()
        self.assertFalse(received.deadline_estimated)
        self.assertEqual(received.deadline, yesterday.date() + datetime.timedelta(days=8))
        self.assertEqual(bill.l10n_cl_dte_received_deadline, received.deadline)
        activity = bill.activity_ids
        self.assertEqual(activity.date_deadline, received.deadline - datetime.timedelta(days=1))
        found = self.env["account.move"].search([
            ("l10n_cl_dte_received_state", "=", "received"),
            ("l10n_cl_dte_received_deadline", "<=", self.today + datetime.timedelta(days=8)), ("id", "=", bill.id)])
        self.assertEqual(found, bill, "the bills' deadline filter finds it")
        # Ten days ago: past the 8 days, no claim: the SII holds it accepted, and refuses a claim (8).
        self.sii.set_reception_date(self.supplier.rut, 33, received.folio,
                                    datetime.datetime.now() - datetime.timedelta(days=10))
        with self.assertRaisesRegex(UserError, "8 days"):
            received._l10n_cl_dte_rcv_register("RCD")
        self.assertEqual(received.state, "tacit")
        self.assertFalse(bill.activity_ids)

    def test_the_scheduled_action_reads_the_reception_date_and_the_events(self):
        received, bill = self.received_bill()
        # Someone accepted it in the SII's site: the scheduled action finds the event.
        client = self.env.company._l10n_cl_dte_sii_client()
        client.register_action(self.supplier.rut, 33, received.folio, "ACD")
        self.env["account.move"]._cron_l10n_cl_dte_rcv()
        self.assertTrue(received.sii_received_at)
        self.assertFalse(received.deadline_estimated)
        self.assertEqual(received.state, "accepted")
        self.assertEqual(received.event_ids.filtered(lambda e: e.kind == "rcv" and e.direction == "in").code, "ACD")
        self.assertFalse(bill.activity_ids)

    def test_cedible_status(self):
        received, bill = self.received_bill()
        action = bill.action_l10n_cl_dte_cedible()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("22", action["params"]["message"])  # no claim nor receipt registered yet
        received._l10n_cl_dte_rcv_register("ERM")
        self.assertIn("23", bill.action_l10n_cl_dte_cedible()["params"]["message"])

    def test_the_received_document_prints_with_its_stamp(self):
        received, bill = self.received_bill()
        html = self.env["ir.actions.report"]._render_qweb_html("l10n_cl_dte.report_received_dte", received.ids)[0]
        self.assertIn(b"Timbre Electr", html)
        self.assertIn(b"data:image/png;base64,", html)
        self.assertIn(str(received.folio).encode(), html)
        self.assertIn(self.supplier.name.encode(), html)
        self.assertEqual(bill.action_l10n_cl_dte_received_pdf()["report_name"], "l10n_cl_dte.report_received_dte")

    def test_nothing_is_registered_when_the_answer_cannot_be_sent(self):
        received, bill = self.received_bill()
        received.partner_id.write({"l10n_cl_dte_email": False, "email": False})
        received.file_id.email_from = False
        with self.assertRaisesRegex(UserError, "DTE e-mail"):
            self.answer(bill, "accept")
        self.assertEqual(self.registry_events(received), [], "the SII's registry was not told")
        self.answer(bill, "accept", send_to_supplier=False)
        self.assertEqual(self.registry_events(received), [("ACD", SIGNER_RUT)])
