from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import COMPANY_RUT, TestClDteCommon


@tagged("post_install", "-at_install")
class TestSiiSubmission(TestClDteCommon):
    """Posted invoices go to the SII (the local simulator, over real HTTP) through the scheduled actions."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_sii_simulator()
        cls.caf_33 = cls.load_caf(cls.doc_33, 1, 100)
        cls.Move = cls.env["account.move"]

    def setUp(self):
        super().setUp()
        self.sii.reset()

    def post_invoices(self, count=3):
        moves = self.Move
        for index in range(count):
            move = self.make_invoice(lines=[{"price_unit": 1000.0 + index, "quantity": 1 + index}])
            move.action_post()
            moves |= move
        return moves

    def poll_until_final(self, moves, rounds=6):
        for _round in range(rounds):
            envelopes = moves.l10n_cl_dte_envelope_id
            envelopes.write({"next_poll_at": fields.Datetime.now() - timedelta(seconds=1)})
            self.Envelope._cron_l10n_cl_dte_poll()
            if not moves.filtered(lambda m: m.l10n_cl_dte_status == "sent"):
                return
        self.fail(f"still waiting for the SII after {rounds} polls: {moves.mapped('l10n_cl_dte_sii_message')}")

    def retry_now(self, moves):
        moves.write({"l10n_cl_dte_next_try": fields.Datetime.now() - timedelta(seconds=1)})

    def test_posted_invoices_are_sent_in_one_envelope_and_accepted(self):
        moves = self.post_invoices(3)
        self.Envelope._cron_l10n_cl_dte_send()
        envelope = moves.l10n_cl_dte_envelope_id
        self.assertEqual(len(envelope), 1)
        self.assertEqual(envelope.state, "sent")
        self.assertTrue(envelope.track_id)
        self.assertEqual(set(moves.mapped("l10n_cl_dte_status")), {"sent"})
        self.assertEqual(set(moves.mapped("l10n_cl_dte_track_id")), {envelope.track_id})
        self.assertEqual(self.sii.upload_count(), 1)
        self.poll_until_final(moves)
        self.assertEqual(envelope.state, "accepted")
        self.assertEqual(set(moves.mapped("l10n_cl_dte_status")), {"accepted"})
        self.assertGreaterEqual(len(envelope.answer_ids), 3, "upload and each status answer are recorded")
        self.assertIn("EPR", envelope.answer_ids.mapped("code"))
        self.assertEqual(set(moves.mapped("l10n_cl_dte_sii_message")), {"Accepted by the SII."})

    def test_rejected_document_in_an_envelope_with_accepted_ones(self):
        moves = self.post_invoices(3)
        rejected = moves[2]
        self.sii.force_outcome(COMPANY_RUT, 33, rejected.l10n_cl_dte_folio, "rejected", reason="Monto incorrecto")
        self.Envelope._cron_l10n_cl_dte_send()
        self.poll_until_final(moves)
        self.assertEqual(set((moves - rejected).mapped("l10n_cl_dte_status")), {"accepted"})
        self.assertEqual(rejected.l10n_cl_dte_status, "rejected")
        self.assertIn("issue a new document", rejected.l10n_cl_dte_sii_message)
        self.assertIn("Rejected by the SII", rejected.message_ids[0].body)
        self.assertEqual(moves.l10n_cl_dte_envelope_id.state, "mixed")

    def test_objected_document(self):
        moves = self.post_invoices(1)
        self.sii.force_outcome(COMPANY_RUT, 33, moves.l10n_cl_dte_folio, "objected", reason="Giro del receptor")
        self.Envelope._cron_l10n_cl_dte_send()
        self.poll_until_final(moves)
        self.assertEqual(moves.l10n_cl_dte_status, "objected")
        self.assertEqual(moves.l10n_cl_dte_envelope_id.state, "objected")

    def test_transport_faults_leave_documents_pending_then_they_go_through(self):
        # (Timeouts are covered by the engine's transport tests: Odoo's harness stretches them to 10 s.)
        for kind, params in (("reset", {}), ("html", {}), ("http_500", {}), ("error_text", {}), ("rate_limit", {})):
            with self.subTest(fault=kind):
                self.sii.reset()
                moves = self.post_invoices(1)
                for _attempt in range(4):  # more than the cron's retries
                    self.sii.inject_fault("getSeed", kind, **params)
                self.Envelope._cron_l10n_cl_dte_send()
                self.assertEqual(moves.l10n_cl_dte_status, "send_failed")
                self.assertGreater(moves.l10n_cl_dte_next_try, fields.Datetime.now())
                self.assertIn("next try", moves.l10n_cl_dte_sii_message)
                self.sii.reset()
                self.retry_now(moves)
                self.Envelope._cron_l10n_cl_dte_send()
                self.assertEqual(moves.l10n_cl_dte_status, "sent")
                self.poll_until_final(moves)
                self.assertEqual(moves.l10n_cl_dte_status, "accepted")

    def test_repeated_failures_alert_managers_and_wake_the_cron(self):
        self.company.l10n_cl_dte_failure_alert = 2
        manager = self.make_account_manager("sii_manager")
        moves = self.post_invoices(1)
        send_cron = self.env.ref("l10n_cl_dte.ir_cron_l10n_cl_dte_send")
        for attempt in (1, 2):
            for _fault in range(4):
                self.sii.inject_fault("getSeed", "http_500")
            self.retry_now(moves)
            self.Envelope._cron_l10n_cl_dte_send()
            self.assertEqual(moves.l10n_cl_dte_send_attempts, attempt)
        activity = moves.activity_ids.filtered(lambda a: a.user_id == manager)
        self.assertEqual(len(activity), 1)
        self.assertIn("500", activity.note)
        self.assertTrue(self.env["ir.cron.trigger"].search_count([
            ("cron_id", "=", send_cron.id), ("call_at", "=", moves.l10n_cl_dte_next_try),
        ]), "the send cron is woken up when the retry is due")

    def test_expired_token_is_renewed_and_tokens_are_reused_across_runs(self):
        self.post_invoices(1)
        self.Envelope._cron_l10n_cl_dte_send()
        self.assertEqual(self.sii.call_count("getToken"), 1)
        self.post_invoices(1)
        self.Envelope._cron_l10n_cl_dte_send()
        self.assertEqual(self.sii.call_count("getToken"), 1, "the token stored in the database is reused")
        self.sii.inject_fault("DTEUpload", "expired_token")
        moves = self.post_invoices(1)
        self.Envelope._cron_l10n_cl_dte_send()
        self.assertEqual(moves.l10n_cl_dte_status, "sent")
        self.assertEqual(self.sii.call_count("getToken"), 2)

    def test_unknown_upload_outcome_is_checked_not_resent(self):
        moves = self.post_invoices(2)
        # The SII receives the envelope, but its answer is lost: the client gives up waiting.
        self.sii.inject_fault("DTEUpload", "reset", process=True)
        self.Envelope._cron_l10n_cl_dte_send()
        envelope = moves.l10n_cl_dte_envelope_id
        self.assertEqual(envelope.state, "unknown")
        self.assertEqual(set(moves.mapped("l10n_cl_dte_status")), {"sent"})
        self.Envelope._cron_l10n_cl_dte_send()
        self.assertEqual(self.sii.upload_count(endpoint="DTEUpload"), 1, "never sent again blindly")
        self.poll_until_final(moves)
        self.assertEqual(set(moves.mapped("l10n_cl_dte_status")), {"accepted"})
        self.assertEqual(self.sii.upload_count(endpoint="DTEUpload"), 1)
        self.assertFalse(self.sii.duplicate_uploads())

    def test_unknown_upload_that_never_arrived_is_sent_again(self):
        moves = self.post_invoices(1)
        self.sii.inject_fault("DTEUpload", "reset")
        self.Envelope._cron_l10n_cl_dte_send()
        self.assertEqual(moves.l10n_cl_dte_envelope_id.state, "unknown")
        moves.l10n_cl_dte_envelope_id.next_poll_at = fields.Datetime.now() - timedelta(seconds=1)
        self.Envelope._cron_l10n_cl_dte_poll()
        self.assertEqual(moves.l10n_cl_dte_status, "to_send", "the SII says it never received it (FAU)")
        self.Envelope._cron_l10n_cl_dte_send()
        self.poll_until_final(moves)
        self.assertEqual(moves.l10n_cl_dte_status, "accepted")

    def test_one_invalid_document_does_not_stop_the_others(self):
        moves = self.post_invoices(3)
        broken = moves[1]
        # Signed XML cannot be altered: a broken one (as a stamping bug would make) takes its place before sending.
        broken.l10n_cl_dte_file_id = self.env["ir.attachment"].create({
            "name": "broken.xml", "res_model": broken._name, "res_id": broken.id,
            "raw": broken.l10n_cl_dte_file_id.raw.replace(b"<TipoDTE>33</TipoDTE>", b""),
        })
        self.Envelope._cron_l10n_cl_dte_send()
        self.assertEqual(broken.l10n_cl_dte_status, "send_failed")
        self.assertIn("schema", broken.l10n_cl_dte_sii_message)
        self.assertEqual(set((moves - broken).mapped("l10n_cl_dte_status")), {"sent"})
        self.poll_until_final(moves - broken)
        self.assertEqual(set((moves - broken).mapped("l10n_cl_dte_status")), {"accepted"})

    def test_send_now_and_check_status_buttons(self):
        moves = self.post_invoices(2)
        moves.action_l10n_cl_dte_send()
        self.assertEqual(set(moves.mapped("l10n_cl_dte_status")), {"sent"})
        for _round in range(3):
            moves.action_l10n_cl_dte_check_status()
        self.assertEqual(set(moves.mapped("l10n_cl_dte_status")), {"accepted"})

    def test_accepted_document_is_locked(self):
        moves = self.post_invoices(1)
        self.Envelope._cron_l10n_cl_dte_send()
        self.poll_until_final(moves)
        with self.assertRefused(Exception, "credit note"):
            moves.button_draft()

    def test_customer_receives_xml_and_pdf_after_acceptance(self):
        self.company.l10n_cl_dte_customer_exchange = "accepted"
        self.customer.l10n_cl_dte_email = "dte@sii.example"
        moves = self.post_invoices(1)
        self.Envelope._cron_l10n_cl_dte_send()
        self.poll_until_final(moves)
        mail = self.env["mail.mail"].search([("model", "=", "account.move"), ("res_id", "=", moves.id)])
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.email_to, "dte@sii.example")
        names = mail.attachment_ids.mapped("name")
        self.assertTrue(any(name.startswith("EnvioDTE_33_") and name.endswith(".xml") for name in names), names)
        # The invoice's own report (a PDF; Odoo's test mode renders it as HTML).
        self.assertTrue(any(name.startswith(moves.name) for name in names), names)
        exchange = mail.attachment_ids.filtered(lambda a: a.name.endswith(".xml"))
        self.assertIn(b"<RutReceptor>60803000-K</RutReceptor>", exchange.raw)
        self.assertTrue(moves.l10n_cl_dte_exchanged)
