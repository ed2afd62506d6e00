from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import COMPANY_RUT
from .common_pos import TestClDtePosCommon


@tagged("post_install", "-at_install")
class TestPosSubmission(TestClDtePosCommon):
    """POS boletas reach the SII (the simulator, over HTTP) by the invoices' scheduled actions, in EnvioBOLETA."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_sii_simulator()

    def setUp(self):
        super().setUp()
        self.sii.reset()
        self.session = self.open_session()

    def sell(self, count):
        orders = self.env["pos.order"]
        for index in range(count):
            order, _answer = self.sync(self.order_data(self.session, [(self.product_taxed, 1 + index)]))
            orders |= order
        return orders

    def poll_until_final(self, records, rounds=6):
        for _round in range(rounds):
            records.l10n_cl_dte_envelope_id.write({"next_poll_at": fields.Datetime.now() - timedelta(seconds=1)})
            self.Envelope._cron_l10n_cl_dte_poll()
            if not records.filtered(lambda r: r.l10n_cl_dte_status == "sent"):
                return
        self.fail(f"still waiting for the SII after {rounds} polls: {records.mapped('l10n_cl_dte_sii_message')}")

    def test_boletas_go_in_one_envelope_boleta_and_are_accepted(self):
        orders = self.sell(3)
        self.Envelope._cron_l10n_cl_dte_send()
        envelope = orders.l10n_cl_dte_envelope_id
        self.assertEqual(len(envelope), 1)
        self.assertEqual((envelope.kind, envelope.state), ("EnvioBOLETA", "sent"))
        self.assertEqual(envelope.pos_order_ids, orders)
        self.assertEqual(envelope.document_count, 3)
        self.assertEqual(self.sii.upload_count(), 1)
        self.assertEqual(set(orders.mapped("l10n_cl_dte_status")), {"sent"})
        self.assertTrue(all(orders.mapped("l10n_cl_dte_track_id")))
        self.poll_until_final(orders)
        self.assertEqual(set(orders.mapped("l10n_cl_dte_status")), {"accepted"})
        self.assertEqual(envelope.state, "accepted")
        # Nothing is sent twice: another round finds nothing pending.
        self.Envelope._cron_l10n_cl_dte_send()
        self.assertEqual(self.sii.upload_count(), 1)
        summary = self.session.get_closing_control_data()["l10n_cl_dte_summary"]
        self.assertEqual([(row["code"], row["status"], row["count"]) for row in summary], [("39", "Accepted", 3)])

    def test_invoice_and_boletas_of_a_session_go_in_their_own_envelopes(self):
        self.load_caf(self.doc_33, 1, 10)
        boletas = self.sell(2)
        factura, _answer = self.sync(
            self.order_data(self.session, [(self.product_taxed, 1)], partner=self.customer, to_invoice=True)
        )
        self.Envelope._cron_l10n_cl_dte_send()
        kinds = {boletas.l10n_cl_dte_envelope_id.kind, factura.account_move.l10n_cl_dte_envelope_id.kind}
        self.assertEqual(kinds, {"EnvioBOLETA", "EnvioDTE"})
        self.poll_until_final(boletas)
        self.poll_until_final(factura.account_move)
        self.assertEqual(set(boletas.mapped("l10n_cl_dte_status")), {"accepted"})
        self.assertEqual(factura.account_move.l10n_cl_dte_status, "accepted")

    def test_rejected_boleta_shows_the_reason_on_the_order(self):
        orders = self.sell(2)
        self.sii.force_outcome(COMPANY_RUT, 39, orders[1].l10n_cl_dte_folio, "rejected")
        self.Envelope._cron_l10n_cl_dte_send()
        self.poll_until_final(orders)
        self.assertEqual(orders[0].l10n_cl_dte_status, "accepted")
        self.assertEqual(orders[1].l10n_cl_dte_status, "rejected")
        self.assertIn("Rejected by the SII", orders[1].l10n_cl_dte_sii_message)
        self.assertIn("Rejected by the SII", orders[1].message_ids[:1].body)

    def test_send_button_on_the_order_sends_it_now(self):
        order = self.sell(1)
        order.action_l10n_cl_dte_send()
        self.assertEqual(order.l10n_cl_dte_status, "sent")
        order.l10n_cl_dte_envelope_id.next_poll_at = fields.Datetime.now() - timedelta(seconds=1)
        order.action_l10n_cl_dte_check_status()
        self.poll_until_final(order)
        self.assertEqual(order.l10n_cl_dte_status, "accepted")

    def test_repeated_send_failures_of_a_boleta_alert_the_managers(self):
        """The alert after repeated failures is an activity on the order, as on an invoice."""
        self.company.l10n_cl_dte_failure_alert = 2
        manager = self.make_account_manager("pos_sii_manager")
        order = self.sell(1)
        for attempt in (1, 2):
            for _fault in range(4):
                self.sii.inject_fault("*", "http_500")
            order.l10n_cl_dte_next_try = fields.Datetime.now() - timedelta(seconds=1)
            self.Envelope._cron_l10n_cl_dte_send()
            self.assertEqual((order.l10n_cl_dte_status, order.l10n_cl_dte_send_attempts), ("send_failed", attempt))
        activity = order.activity_ids.filtered(lambda a: a.user_id == manager)
        self.assertEqual(len(activity), 1)
        self.assertIn("500", activity.note)
        # The faults are gone: the next round sends it.
        order.l10n_cl_dte_next_try = fields.Datetime.now() - timedelta(seconds=1)
        self.Envelope._cron_l10n_cl_dte_send()
        self.assertEqual(order.l10n_cl_dte_status, "sent")
