import base64

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .reception_common import TestReceptionCommon


@tagged("post_install", "-at_install")
class TestReceptionSecurity(TestReceptionCommon):
    """What a company received is its own: billing users work with it, other companies' users never see it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing_user = new_test_user(
            cls.env, login="cl_reception_billing", groups="account.group_account_invoice",
            company_id=cls.company.id, company_ids=[Command.set(cls.company.ids)],
        )

    def test_a_billing_user_uploads_books_and_answers(self):
        envelope = self.supplier_envelope([self.supplier_dte(33)])
        wizard = self.env["l10n_cl_dte.received.upload"].with_user(self.billing_user).create({
            "file": base64.b64encode(envelope), "file_name": "EnvioDTE.xml"})
        file = self.File.with_user(self.billing_user).browse(wizard.action_upload()["res_id"])
        received = file.received_ids
        self.assertEqual((file.state, received.state), ("done", "received"))
        bill = received.move_id.with_user(self.billing_user)
        self.assertEqual(bill.amount_total, 65688)
        action = bill.with_context(l10n_cl_dte_answer="accept").action_l10n_cl_dte_received_answer()
        self.env[action["res_model"]].with_user(self.billing_user).with_context(action["context"]).create(
            {}).action_confirm()
        self.assertEqual(received.state, "accepted")
        self.assertTrue(received.event_ids.with_user(self.billing_user).read(["kind", "code"]))
        with self.assertRaises(AccessError):
            received.with_user(self.billing_user).unlink()
        with self.assertRaises(AccessError):
            file.with_user(self.billing_user).unlink()

    def test_another_companys_users_see_nothing(self):
        received = self.receive([self.supplier_dte(33)]).received_ids
        other = self.setup_other_company(name="Otra Empresa Chilena")["company"]
        stranger = new_test_user(
            self.env, login="cl_reception_stranger", groups="account.group_account_manager",
            company_id=other.id, company_ids=[Command.set(other.ids)],
        )
        for model in ("l10n_cl_dte.received", "l10n_cl_dte.received.file", "l10n_cl_dte.exchange.event"):
            self.assertFalse(self.env[model].with_user(stranger).search([]), model)
        with self.assertRaises(AccessError):
            received.with_user(stranger).read(["folio"])
        with self.assertRaises(AccessError):
            received.file_id.with_user(stranger).read(["name"])
