import base64

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import TestClDteCommon


@tagged("post_install", "-at_install")
class TestDteSecurity(TestClDteCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.caf_33 = cls.load_caf(cls.doc_33, 1, 10)
        cls.billing_user = new_test_user(
            cls.env, login="cl_billing", groups="account.group_account_invoice",
            company_id=cls.company.id, company_ids=[Command.set(cls.company.ids)],
        )
        cls.manager = new_test_user(
            cls.env, login="cl_manager", groups="account.group_account_manager",
            company_id=cls.company.id, company_ids=[Command.set(cls.company.ids)],
        )

    def test_billing_user_cannot_read_certificate_secrets(self):
        certificate = self.certificate.with_user(self.billing_user)
        self.assertEqual(certificate.holder_rut, "11111111-1")
        for secret in ("file", "password"):
            with self.assertRaises(AccessError):
                certificate.read([secret])
        self.assertNotIn("file", certificate.read()[0])
        self.assertNotIn("password", certificate.read()[0])

    def test_billing_user_cannot_read_caf_private_key(self):
        caf = self.caf_33.with_user(self.billing_user)
        self.assertEqual(caf.remaining_folios, 10)
        with self.assertRaises(AccessError):
            caf.read(["file"])
        self.assertNotIn("file", caf.read()[0])

    def test_billing_user_cannot_upload_certificate_or_caf(self):
        with self.assertRaises(AccessError):
            self.env["l10n_cl_dte.certificate.upload"].with_user(self.billing_user).create({
                "file": base64.b64encode(self.pkcs12), "password": "test",
            })
        with self.assertRaises(AccessError):
            self.env["l10n_cl_dte.caf"].with_user(self.billing_user).create({
                "file": base64.b64encode(self.authority.issue_caf("76192083-9", "X", 33, 100, 110)),
            })

    def test_billing_user_posts_and_signs_through_the_server(self):
        move = self.make_invoice().with_user(self.billing_user)
        move.action_post()
        self.assertEqual(move.l10n_cl_dte_status, "to_send")
        self.assertEqual(move.l10n_cl_dte_folio, 1)

    def test_manager_reads_secrets(self):
        certificate = self.certificate.with_user(self.manager)
        self.assertEqual(certificate.password, "test")
        self.assertTrue(certificate.file)

    def test_companies_are_isolated(self):
        other = self.setup_other_company(name="Other Chilean Co")["company"]
        other.write({
            "vat": "96670340-7", "country_id": self.env.ref("base.cl").id, "l10n_cl_dte_environment": "simulator",
        })
        self.load_caf(self.doc_33, 1, 10, company=other, rut="96670340-7")
        user = new_test_user(
            self.env, login="cl_other_manager", groups="account.group_account_manager",
            company_id=other.id, company_ids=[Command.set(other.ids)],
        )
        cafs = self.env["l10n_cl_dte.caf"].with_user(user).search([])
        self.assertEqual(cafs.company_id, other)
        self.assertFalse(self.env["l10n_cl_dte.certificate"].with_user(user).search([]))
        with self.assertRaises(AccessError):
            self.caf_33.with_user(user).read(["remaining_folios"])
        # Posting in the first company takes that company's folios only.
        move = self.make_invoice()
        move.action_post()
        self.assertEqual(move.l10n_cl_dte_caf_id, self.caf_33)
