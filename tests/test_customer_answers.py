import datetime
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..sii_engine import certificate as engine_certificate
from ..sii_engine import identities
from ..sii_engine.exchange import (
    CommercialResult,
    CommercialStatus,
    DocumentReception,
    DocumentRef,
    DocumentStatus,
    EnvelopeReception,
    Receipt,
    build_receipts,
    build_reception_answer,
    build_result_answer,
)
from ..sii_engine.transport import SiiClient
from .common import COMPANY_RUT, CUSTOMER_RUT
from .reception_common import CUSTOMER_SIGNER_RUT, TestReceptionCommon


@tagged("post_install", "-at_install")
class TestCustomerAnswers(TestReceptionCommon):
    """Our customers' answers land on our invoices: reception, commercial result, receipt of goods, the RCV."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_certificate = engine_certificate.load_pkcs12(
            identities.make_pkcs12(CUSTOMER_SIGNER_RUT, "Firmante Cliente", "cliente", key_size=1024), "cliente")
        cls.customer_client = SiiClient("certification", cls.customer_certificate, CUSTOMER_RUT,
                                        base_url=cls.simulator.base_url)
        cls.addClassCleanup(cls.customer_client.close)
        cls.load_caf(cls.doc_33, 1, 50)

    def accepted_invoice(self):
        """One of our facturas, issued, sent and accepted by the SII (the simulator)."""
        # On credit (30 days): the SII's registry takes no event of a factura paid in cash (its code 27).
        invoice = self.make_invoice(invoice_date=fields.Date.context_today(self.env.user),
                                    invoice_payment_term_id=self.env.ref("account.account_payment_term_30days").id)
        invoice.action_post()
        Envelope = self.env["l10n_cl_dte.envelope"]
        Envelope._cron_l10n_cl_dte_send()
        invoice.l10n_cl_dte_envelope_id.next_poll_at = fields.Datetime.now() - timedelta(seconds=1)
        Envelope._cron_l10n_cl_dte_poll()
        self.assertEqual(invoice.l10n_cl_dte_status, "accepted", invoice.l10n_cl_dte_sii_message)
        return invoice

    def reference(self, invoice, receiver=CUSTOMER_RUT):
        return DocumentRef(33, invoice.l10n_cl_dte_folio, invoice.invoice_date, COMPANY_RUT, receiver,
                           int(invoice.amount_total))

    def from_customer(self, data, name="respuesta.xml"):
        return self.deliver(self.mime_message([(name, data)], sender="dte@sii.example"))

    def customer_common(self):
        return {"responder_rut": CUSTOMER_RUT, "recipient_rut": COMPANY_RUT, "certificate": self.customer_certificate}

    def test_the_customers_reception_result_and_receipt_are_recorded_on_the_invoice(self):
        invoice = self.accepted_invoice()
        reception = EnvelopeReception("EnvioDTE_76192083.xml", datetime.datetime.now().replace(microsecond=0), 41,
                                      "SetDoc", documents=(DocumentReception(self.reference(invoice)),))
        file = self.from_customer(build_reception_answer([reception], response_id=7, **self.customer_common()))
        self.assertEqual(file.state, "done", file.reason)
        self.assertEqual(invoice.l10n_cl_dte_customer_reception, "received")
        result = CommercialResult(self.reference(invoice), 41, CommercialStatus.ACCEPTED)
        self.from_customer(build_result_answer([result], response_id=8, **self.customer_common()))
        self.assertEqual(invoice.l10n_cl_dte_customer_result, "accepted")
        receipt = Receipt(self.reference(invoice), "Bodega Teatinos")
        self.from_customer(build_receipts([receipt], **self.customer_common()))
        self.assertTrue(invoice.l10n_cl_dte_goods_received_at)
        events = invoice.l10n_cl_dte_event_ids.sorted("id")
        self.assertEqual(events.mapped("kind"), ["reception", "result", "receipt"])
        self.assertEqual(events.mapped("direction"), ["in"] * 3)

    def test_a_rejection_schedules_the_credit_note(self):
        invoice = self.accepted_invoice()
        result = CommercialResult(self.reference(invoice), 41, CommercialStatus.REJECTED, "Precio no acordado", -2)
        file = self.from_customer(build_result_answer([result], response_id=9, **self.customer_common()))
        self.assertEqual(file.state, "done", file.reason)
        self.assertEqual(invoice.l10n_cl_dte_customer_result, "rejected")
        self.assertEqual(invoice.activity_ids.activity_type_id, self.env.ref("l10n_cl_dte.mail_activity_dte_claimed"))
        self.assertIn("Precio no acordado", invoice.activity_ids.note)

    def test_a_refused_reception_of_one_document(self):
        invoice = self.accepted_invoice()
        reception = EnvelopeReception("EnvioDTE.xml", datetime.datetime.now().replace(microsecond=0), 42, "SetDoc",
                                      documents=(DocumentReception(self.reference(invoice),
                                                                   DocumentStatus.SIGNATURE_ERROR),))
        self.from_customer(build_reception_answer([reception], response_id=10, **self.customer_common()))
        self.assertEqual(invoice.l10n_cl_dte_customer_reception, "refused")
        self.assertEqual(invoice.l10n_cl_dte_event_ids.code, "1")

    def test_an_answer_that_is_not_validly_signed_or_not_from_the_customer_records_nothing(self):
        invoice = self.accepted_invoice()
        result = CommercialResult(self.reference(invoice), 41, CommercialStatus.REJECTED, "Rechazo falso")
        signed = build_result_answer([result], response_id=11, **self.customer_common())
        changed = signed.replace(b"Rechazo falso", b"Rechazo otro!")
        file = self.from_customer(changed)
        self.assertEqual(file.state, "refused")
        self.assertIn("signature", file.reason)
        # Validly signed, but by a company that is not the invoice's customer.
        stranger = DocumentRef(33, invoice.l10n_cl_dte_folio, invoice.invoice_date, COMPANY_RUT, "96790240-3",
                               int(invoice.amount_total))
        other = build_result_answer([CommercialResult(stranger, 41, CommercialStatus.REJECTED, "No")],
                                    responder_rut="96790240-3", recipient_rut=COMPANY_RUT,
                                    certificate=self.customer_certificate, response_id=12)
        file = self.from_customer(other)
        self.assertEqual(file.state, "refused")
        self.assertIn("96790240-3", file.reason)
        self.assertFalse(invoice.l10n_cl_dte_customer_result)
        self.assertFalse(invoice.activity_ids)

    def test_the_registry_is_read_for_our_facturas(self):
        claimed, accepted, silent = self.accepted_invoice(), self.accepted_invoice(), self.accepted_invoice()
        self.customer_client.register_action(COMPANY_RUT, 33, claimed.l10n_cl_dte_folio, "RCD")
        self.customer_client.register_action(COMPANY_RUT, 33, accepted.l10n_cl_dte_folio, "ACD")
        self.sii.set_reception_date(COMPANY_RUT, 33, silent.l10n_cl_dte_folio,
                                    datetime.datetime.now() - datetime.timedelta(days=9))
        self.env["account.move"]._cron_l10n_cl_dte_rcv()
        self.assertEqual((claimed.l10n_cl_dte_rcv_state, accepted.l10n_cl_dte_rcv_state, silent.l10n_cl_dte_rcv_state),
                         ("claimed", "accepted", "tacit"))
        self.assertEqual(claimed.activity_ids.activity_type_id, self.env.ref("l10n_cl_dte.mail_activity_dte_claimed"))
        self.assertEqual(claimed.l10n_cl_dte_event_ids.responsible, CUSTOMER_SIGNER_RUT)
        self.assertFalse(accepted.activity_ids)
        self.assertTrue(claimed.l10n_cl_dte_sii_received_at)
        # Read within the hour: not asked again; a claimed invoice is not asked again at all.
        calls = self.sii.calls.get("registroreclamodte", 0)
        self.env["account.move"]._cron_l10n_cl_dte_rcv()
        self.assertEqual(self.sii.calls.get("registroreclamodte", 0), calls)
