"""Nothing issued can vanish: what the SII requires to be kept six years resists every user, the administrator
and the superuser included (models/l10n_cl_dte_retention.py); archiving stays possible."""

import base64

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from ..sii_engine import identities
from .chilean_company import CERTIFICATE_PASSWORD, SIGNER_RUT
from .common_pos import TestClDtePosCommon

KEPT = "(?i)kept|cannot"


@tagged("post_install", "-at_install")
class TestDteRetention(TestClDtePosCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_sii_simulator()
        cls.caf_33 = cls.load_caf(cls.doc_33, 1, 20)
        cls.admin = new_test_user(
            cls.env, login="cl_admin",
            groups="base.group_system,account.group_account_manager,point_of_sale.group_pos_manager",
            company_id=cls.company.id, company_ids=[(6, 0, cls.company.ids)],
        )

    def everyone(self, records):
        """The records as the administrator and as the superuser."""
        return [records.with_user(self.admin), records.sudo()]

    def sent_invoice(self):
        move = self.make_invoice()
        move.action_post()
        self.Envelope._cron_l10n_cl_dte_send()
        self.assertEqual(move.l10n_cl_dte_status, "sent")
        return move

    def test_signed_xml_of_an_issued_invoice_cannot_be_deleted_or_changed(self):
        move = self.make_invoice()
        move.action_post()
        xml = move.l10n_cl_dte_file_id
        original = xml.raw
        for attachment in self.everyone(xml):
            with self.assertRefused(UserError, KEPT):
                attachment.unlink()
            with self.assertRefused(UserError, KEPT):
                attachment.write({"raw": original.replace(b"</DTE>", b"<!-- --></DTE>")})
            with self.assertRefused(UserError, KEPT):
                attachment.write({"datas": base64.b64encode(b"<DTE/>")})
            with self.assertRefused(UserError, KEPT):
                attachment.write({"res_id": self.customer.id, "res_model": "res.partner"})
        # A new name, or the same bytes moved to another storage, change nothing that is kept.
        xml.sudo().write({"name": "DTE renamed.xml"})
        xml.sudo().write({"raw": original})
        self.assertEqual(xml.raw, original)

    def test_reposting_a_draft_never_sent_replaces_its_xml(self):
        """Odoo's own flow still deletes what was never issued to the SII: the XML of a reset draft."""
        move = self.make_invoice()
        move.action_post()
        first = move.l10n_cl_dte_file_id
        move.button_draft()
        first.unlink()  # not issued any more: the user may delete it
        move.action_post()
        self.assertTrue(move.l10n_cl_dte_file_id.exists())
        self.assertEqual(move.l10n_cl_dte_folio, 1, "the same folio, stamped again")
        second = self.make_invoice()
        second.action_post()
        replaced = second.l10n_cl_dte_file_id
        second.button_draft()
        second.action_post()  # stamping again deletes the previous XML itself
        self.assertFalse(replaced.exists())
        self.assertTrue(second.l10n_cl_dte_file_id.exists())

    def test_an_invoice_sent_to_the_sii_keeps_its_xml_folio_stamp_and_status(self):
        move = self.sent_invoice()
        other = self.env["ir.attachment"].create({
            "name": "other.xml", "raw": b"<DTE/>", "res_model": move._name, "res_id": move.id,
        })
        for document in self.everyone(move):
            with self.assertRefused(UserError, "cannot change"):
                document.write({"l10n_cl_dte_file_id": other.id})
            with self.assertRefused(UserError, "cannot change"):
                document.write({"l10n_cl_dte_folio": 7})
            with self.assertRefused(UserError, "cannot change"):
                document.write({"l10n_cl_dte_ted": "<TED/>"})
            with self.assertRefused(UserError, "cannot change"):
                document.write({"l10n_cl_dte_status": False})
        with self.assertRefused(UserError, "attachment of that document"):
            self.make_invoice().write({"l10n_cl_dte_file_id": other.id})
        # The SII's final answer is final.
        move.l10n_cl_dte_envelope_id.write({"next_poll_at": False})
        for _round in range(2):
            self.Envelope._cron_l10n_cl_dte_poll()
            move.l10n_cl_dte_envelope_id.write({"next_poll_at": False})
        self.assertEqual(move.l10n_cl_dte_status, "accepted")
        with self.assertRefused(UserError, "final"):
            move.sudo().write({"l10n_cl_dte_status": "to_send"})

    def test_an_envelope_its_xml_and_the_sii_answers_cannot_be_deleted_or_altered(self):
        envelope = self.sent_invoice().l10n_cl_dte_envelope_id
        self.assertTrue(envelope.track_id)
        # The access rules give nobody the right to delete an envelope or an answer: not even an administrator.
        with self.assertRefused(AccessError, "delete"):
            envelope.with_user(self.admin).unlink()
        with self.assertRefused(AccessError, "delete"):
            envelope.answer_ids.with_user(self.admin).unlink()
        with self.assertRefused(UserError, KEPT):
            envelope.sudo().unlink()
        with self.assertRefused(UserError, KEPT):
            envelope.answer_ids.sudo().unlink()
        for record in self.everyone(envelope):
            with self.assertRefused(UserError, KEPT):
                record.attachment_id.unlink()
            with self.assertRefused(UserError, KEPT):
                record.attachment_id.write({"raw": b"<EnvioDTE/>"})
            with self.assertRefused(UserError, "set once"):
                record.write({"track_id": "1"})
            with self.assertRefused(UserError, "set once"):
                record.write({"attachment_id": False})
        for _round in range(2):
            envelope.write({"next_poll_at": False})
            self.Envelope._cron_l10n_cl_dte_poll()
        self.assertEqual(envelope.state, "accepted")
        with self.assertRefused(UserError, "final"):
            envelope.sudo().write({"state": "sent"})

    def test_a_boleta_keeps_its_xml_and_the_order_cannot_be_deleted(self):
        session = self.open_session()
        order, _answer = self.sync(self.order_data(session, [(self.product_taxed, 1)]))
        for record in self.everyone(order):
            with self.assertRefused(UserError, KEPT):
                record.l10n_cl_dte_file_id.unlink()
        with self.assertRefused(UserError, "(?i)cannot be deleted"):
            order.sudo()._unlink_except_l10n_cl_dte_issued()  # Odoo refuses a paid order first; the folio as well

    def test_a_caf_with_used_folios_is_archived_not_deleted_nor_altered(self):
        unused = self.load_caf(self.doc_33, 100, 110)
        self.make_invoice().action_post()
        for caf in self.everyone(self.caf_33):
            with self.assertRefused(UserError, "issued folios"):
                caf.unlink()
            for values in ({"next_folio": 1}, {"first_folio": 2}, {"last_folio": 30}, {"expires_on": "2099-01-01"},
                           {"company_id": self.company.id}):
                with self.assertRefused(UserError, "issued folios"):
                    caf.write(values)
        self.caf_33.with_user(self.admin).active = False
        self.assertFalse(self.caf_33.active)
        unused.with_user(self.admin).unlink()  # no folio of it was used: loaded by mistake, removed
        self.assertFalse(unused.exists())

    def test_a_certificate_that_signed_is_archived_not_deleted(self):
        fresh = self.env["l10n_cl_dte.certificate"].create({
            "company_id": self.company.id,
            "file": base64.b64encode(identities.make_pkcs12(SIGNER_RUT, "Spare Signer", CERTIFICATE_PASSWORD)),
            "password": CERTIFICATE_PASSWORD,
            "user_ids": [(6, 0, new_test_user(self.env, login="cl_spare_signer").ids)],  # not who posts here
        })
        self.assertFalse(self.certificate.has_signed)
        self.make_invoice().action_post()
        self.assertTrue(self.certificate.has_signed)
        for certificate in self.everyone(self.certificate):
            with self.assertRefused(UserError, "signed documents"):
                certificate.unlink()
        self.certificate.with_user(self.admin).active = False
        self.assertFalse(self.certificate.active)
        self.assertFalse(fresh.has_signed)
        fresh.with_user(self.admin).unlink()
        self.assertFalse(fresh.exists())
