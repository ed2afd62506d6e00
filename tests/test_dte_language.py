import base64
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..sii_engine.certification import setfile
from .common import TestClDteCommon
from .test_certification import REAL_SET


@tagged("post_install", "-at_install")
class TestDteLanguage(TestClDteCommon):
    """What the scheduled actions store, and what the customer receives, speak their reader's language.

    The crons run as a user whose language is English; the company and its customer speak Spanish.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("es_CL")
        cls.env["ir.module.module"].search([("name", "=", "l10n_cl_dte")])._update_translations(["es_CL"])
        cls.start_sii_simulator()
        cls.load_caf(cls.doc_33, 1, 10)
        cls.company.partner_id.lang = "es_CL"
        cls.customer.write({"lang": "es_CL", "email": "dte@cliente.example"})

    def setUp(self):
        super().setUp()
        self.sii.reset()

    def test_sii_answers_are_stored_in_the_company_language(self):
        move = self.make_invoice()
        move.action_post()
        cron_env = self.Envelope.with_context(lang="en_US")
        cron_env._cron_l10n_cl_dte_send()
        self.assertIn("Recibido por el SII", move.l10n_cl_dte_sii_message)
        for _round in range(6):
            move.l10n_cl_dte_envelope_id.next_poll_at = fields.Datetime.now() - timedelta(seconds=1)
            cron_env._cron_l10n_cl_dte_poll()
            if move.l10n_cl_dte_status != "sent":
                break
        self.assertEqual(move.l10n_cl_dte_status, "accepted")
        self.assertEqual(move.l10n_cl_dte_sii_message, "Aceptado por el SII.")
        self.assertIn("Recibido por el SII", " ".join(move.l10n_cl_dte_envelope_id.answer_ids.mapped("message")))

    def test_certification_book_answers_are_stored_in_the_company_language(self):
        # The purchase book of the SII's real set (built from the set's entries alone), uploaded and polled
        # as the envelopes' cron does it: in English, the user's language.
        workspace = self.env["l10n_cl_dte.certification"].create({
            "company_id": self.company.id, "set_file": base64.b64encode(REAL_SET.read_bytes()),
            "partner_id": self.customer.id,
        })
        workspace.action_read_set()
        book = workspace.set_ids.filtered(lambda s: s.kind == setfile.LIBRO_COMPRAS)
        engine_set = next(s for s in workspace._l10n_cl_dte_parsed_sets() if s.kind == setfile.LIBRO_COMPRAS)
        book = book.with_context(lang="en_US")
        book._l10n_cl_dte_build_book(engine_set)
        book._l10n_cl_dte_upload_book()
        self.assertIn("Recibido por el SII", book.sii_message)
        for _round in range(6):
            book._l10n_cl_dte_book_status()
            if book.state != "sent":
                break
        self.assertEqual(book.state, "accepted", book.sii_message)
        self.assertTrue(book.sii_message.startswith("Aceptado por el SII: EPR"), book.sii_message)

    def test_customer_copy_is_written_in_the_customer_language(self):
        self.company.l10n_cl_dte_customer_exchange = "issued"
        move = self.make_invoice()
        move.with_context(lang="en_US").action_post()
        mail = self.env["mail.mail"].search([("model", "=", "account.move"), ("res_id", "=", move.id)])
        self.assertEqual(len(mail), 1)
        self.assertIn("Estimado", mail.body_html)
        self.assertNotIn("Dear", mail.body_html)
        self.assertIn(self.customer.name, mail.body_html)
