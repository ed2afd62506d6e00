from odoo.tests import tagged

from ..models.l10n_cl_dte_caf import SIMULATOR_KEY_PARAMETER
from ..models.l10n_cl_dte_received_file import MAX_BYTES_PARAMETER
from .imap_server import PASSWORD, USER, DovecotServer
from .reception_common import TestReceptionCommon

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<EnvioDTE>&lol3;</EnvioDTE>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><RespuestaDTE>&x;</RespuestaDTE>"""


@tagged("post_install", "-at_install")
class TestReceptionInbox(TestReceptionCommon):
    """The DTE inbox: a real IMAP mailbox fetched by Odoo, the mail gateway with real MIME messages, uploads.
    A bad file is kept with its reason and never stops the next one."""

    def test_a_mailbox_on_a_real_imap_server_is_fetched_into_the_inbox(self):
        server = DovecotServer().start()
        self.addCleanup(server.stop)
        # A hostile message first, then a supplier's envelope: both are fetched, the second is received.
        server.append(self.mime_message([("malo.xml", BILLION_LAUGHS)], subject="Factura urgente"))
        server.append(self.mime_message([("EnvioDTE_96874030.xml", self.supplier_envelope([self.supplier_dte(33)]))]))
        inbox = self.env["fetchmail.server"].create({
            "name": "Casilla DTE", "server_type": "imap", "server": "127.0.0.1", "port": server.port,
            "is_ssl": False, "user": USER, "password": PASSWORD, "l10n_cl_dte_company_id": self.company.id,
        })
        self.assertEqual((inbox.object_id.model, inbox.attach), ("l10n_cl_dte.received.file", True))
        inbox.button_confirm_login()
        self.assertEqual(inbox.state, "done")
        # fetch_mail commits after each message, as the scheduled action it is meant for; inside the test's
        # transaction that commit does nothing (everything else is real: IMAP, parsing, routing, processing).
        self.patch(self.env.cr, "commit", lambda: None)
        before = self.File.search([]).ids
        inbox.fetch_mail()
        files = self.File.search([("id", "not in", before)], order="id")
        self.assertEqual(files.mapped("state"), ["unrecognised", "done"], files.mapped("reason"))
        self.assertIn("DOCTYPE", files[0].reason)
        self.assertEqual((files[0].email_subject, files[0].fetchmail_server_id), ("Factura urgente", inbox))
        self.assertEqual(files.company_id, self.company)
        self.assertEqual(files[1].received_ids.move_id.state, "draft")
        self.assertEqual(server.unseen(), 0)

    def test_an_iso_8859_1_xml_sent_as_text_without_charset_keeps_its_bytes(self):
        # Odoo's gateway would decode this part as UTF-8 (no charset named) and break the signatures.
        dte = self.supplier_dte(33, lines=[self.line("Cañería de cobre ½ pulgada", 2, 12500)])
        envelope = self.supplier_envelope([dte])
        self.assertIn("Cañería".encode("ISO-8859-1"), envelope)
        files = self.deliver(self.mime_message([("EnvioDTE.xml", envelope)], content_type=("text", "xml")))
        self.assertEqual(files.state, "done", files.reason)
        self.assertEqual(files.received_ids.state, "received", files.received_ids.reception_glosa)
        self.assertEqual(files.attachment_id.raw, envelope)
        self.assertIn("Cañería de cobre", files.received_ids.move_id.invoice_line_ids.name)

    def test_each_xml_of_a_message_is_a_file_and_the_pdf_stays_on_the_message(self):
        first = self.supplier_envelope([self.supplier_dte(33)])
        second = self.supplier_envelope([self.supplier_dte(34, lines=[self.line("Exento", 1, 1000, exempt=True)])])
        message = self.mime_message([("uno.xml", first), ("dos.xml", second), ("factura.pdf", b"%PDF-1.4 demo")])
        files = self.deliver(message)
        self.assertEqual(files.mapped("name"), ["uno.xml", "dos.xml"])
        self.assertEqual(files.mapped("state"), ["done", "done"])
        self.assertEqual(sorted(files.received_ids.mapped("document_type_code")), [33, 34])
        posted = files[0].message_ids.filtered(lambda message: message.message_type == "email")
        self.assertEqual(posted.attachment_ids.mapped("name"), ["factura.pdf"])

    def test_bad_files_are_kept_with_their_reason_and_never_stop_the_next(self):
        good = self.supplier_envelope([self.supplier_dte(33)])
        message = self.mime_message([
            ("entidades.xml", BILLION_LAUGHS),
            ("externa.xml", EXTERNAL_ENTITY),
            ("no_xml.xml", b"%PDF-1.4 this is no XML"),
            ("roto.xml", good[: len(good) // 2]),
            ("otro.xml", b"<?xml version='1.0'?><LibroCompraVenta/>"),
            ("bueno.xml", good),
        ])
        files = self.deliver(message)
        self.assertEqual(files.mapped("state"), ["unrecognised"] * 5 + ["done"], files.mapped("reason"))
        self.assertIn("DOCTYPE", files[0].reason)
        self.assertIn("DOCTYPE", files[1].reason)
        self.assertNotIn("root:", files[1].reason)  # /etc/passwd was never read
        self.assertIn("<LibroCompraVenta>", files[4].reason)
        self.assertTrue(all(file.attachment_id for file in files), "every file is kept as it came")
        self.assertEqual(files[5].received_ids.state, "received")

    def test_an_oversized_file_is_refused_unread_and_not_kept(self):
        self.env["ir.config_parameter"].sudo().set_param(MAX_BYTES_PARAMETER, "2000")
        envelope = self.supplier_envelope([self.supplier_dte(33)], to_sii=False)
        files = self.deliver(self.mime_message([("grande.xml", envelope)]))
        self.assertEqual((files.state, files.size, files.attachment_id.id), ("refused", len(envelope), False))
        self.assertIn("2000", files.reason)
        self.assertFalse(files.received_ids)
        posted = files.message_ids.filtered(lambda message: message.message_type == "email")
        self.assertFalse(posted.attachment_ids, "not kept on the message either")

    def test_a_message_without_xml_is_kept_unrecognised(self):
        files = self.deliver(self.mime_message([("factura.pdf", b"%PDF-1.4")], subject="Solo PDF"))
        self.assertEqual((files.state, files.name), ("unrecognised", "Solo PDF"))
        self.assertIn("no XML", files.reason)

    def test_a_file_that_fails_is_kept_and_processed_again_once_fixed(self):
        parameters = self.env["ir.config_parameter"].sudo()
        key = parameters.get_param(SIMULATOR_KEY_PARAMETER)
        parameters.set_param(SIMULATOR_KEY_PARAMETER, False)
        message = self.mime_message([("EnvioDTE.xml", self.supplier_envelope([self.supplier_dte(33)])),
                                     ("respuesta.xml", b"<RespuestaDTE/>")])
        with self.assertLogs("odoo.addons.l10n_cl_dte.models.l10n_cl_dte_received_file", "ERROR"):
            files = self.deliver(message)
        self.assertEqual(files[0].state, "failed")
        self.assertIn("simulator key", files[0].reason)
        self.assertFalse(files[0].received_ids)
        self.assertNotEqual(files[1].state, "new")
        parameters.set_param(SIMULATOR_KEY_PARAMETER, key)
        files[0].action_l10n_cl_dte_process_again()
        self.assertEqual(files[0].state, "done", files[0].reason)
        self.assertEqual(files[0].received_ids.state, "received")

    def test_the_company_is_the_one_the_file_is_addressed_to(self):
        envelope = self.supplier_envelope([self.supplier_dte(33)])
        before = self.File.search([]).ids
        self.env["mail.thread"].sudo().message_process(
            "l10n_cl_dte.received.file", self.mime_message([("EnvioDTE.xml", envelope)]))
        file = self.File.search([("id", "not in", before)])
        self.assertEqual((file.company_id, file.state), (self.company, "done"), file.reason)
        other = self.supplier.envelope([self.supplier.issue(self.supplier.document(
            33, self.folio(), self.receiver().__class__("96790240-3", "Otra SA", "Comercio", "X 1", "Santiago",
                                                        "Santiago"), issue_date=self.today))], "96790240-3")
        self.env["mail.thread"].sudo().message_process(
            "l10n_cl_dte.received.file", self.mime_message([("otra.xml", other)]))
        stranger = self.File.search([("id", "not in", before + file.ids)])
        self.assertEqual((stranger.state, stranger.company_id.id), ("refused", False))
        self.assertIn("96790240-3", stranger.reason)
        # Addressed to another RUT, in this company's inbox: answered "RUT Receptor No Corresponde" (3).
        refused = self.deliver(self.mime_message([("otra.xml", other)]))
        self.assertEqual((refused.state, refused.reception_code), ("refused", "3"))

    def test_upload_by_hand(self):
        import base64

        envelope = self.supplier_envelope([self.supplier_dte(33)])
        wizard = self.env["l10n_cl_dte.received.upload"].create({
            "file": base64.b64encode(envelope), "file_name": "EnvioDTE_manual.xml"})
        action = wizard.action_upload()
        file = self.File.browse(action["res_id"])
        self.assertEqual((file.source, file.state, file.name), ("upload", "done", "EnvioDTE_manual.xml"))
        self.assertEqual(file.received_ids.move_id.amount_total, 65688)
