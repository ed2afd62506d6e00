import base64
import datetime

from odoo import Command
from odoo.tests import new_test_user, tagged

from ..sii_engine import identities
from .common import SIGNER_RUT, TestClDteCommon


@tagged("post_install", "-at_install")
class TestDteActivities(TestClDteCommon):
    """Accounting managers are warned before certificates expire and folios run out."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, login="cl_alert_manager", groups="account.group_account_manager",
            company_id=cls.company.id, company_ids=[Command.set(cls.company.ids)],
        )
        cls.warning = cls.env.ref("mail.mail_activity_data_warning")

    def activities_for(self, record, user):
        return record.activity_ids.filtered(lambda a: a.user_id == user and a.activity_type_id == self.warning)

    def test_certificate_expiring_within_thirty_days_warns_managers_once(self):
        soon = self.env["l10n_cl_dte.certificate"].create({
            "company_id": self.company.id,
            "file": base64.b64encode(identities.make_pkcs12(
                SIGNER_RUT, "Expiring Signer", "test",
                not_before=datetime.datetime.utcnow() - datetime.timedelta(days=300), valid_days=310,
            )),
            "password": "test",
        })
        certificates = self.env["l10n_cl_dte.certificate"]
        certificates._cron_l10n_cl_dte_warn_expiring()
        self.assertEqual(len(self.activities_for(soon, self.manager)), 1)
        self.assertFalse(self.activities_for(self.certificate, self.manager), "a certificate valid for a year is quiet")
        certificates._cron_l10n_cl_dte_warn_expiring()
        self.assertEqual(len(self.activities_for(soon, self.manager)), 1, "the warning is not repeated")

    def test_low_folios_warn_managers(self):
        self.company.l10n_cl_dte_folio_alert_default = 3
        caf = self.load_caf(self.doc_33, 1, 4)
        first = self.make_invoice()
        first.action_post()
        self.assertFalse(self.activities_for(caf, self.manager), "3 folios left is not below the threshold of 3")
        self.make_invoice().action_post()
        self.assertEqual(len(self.activities_for(caf, self.manager)), 1)
        self.make_invoice().action_post()
        self.assertEqual(len(self.activities_for(caf, self.manager)), 1, "one open warning at a time")

    def test_threshold_per_document_type(self):
        self.env["l10n_cl_dte.folio.threshold"].create({
            "company_id": self.company.id, "document_type_id": self.doc_33.id, "threshold": 100,
        })
        caf = self.load_caf(self.doc_33, 1, 50)
        self.make_invoice().action_post()
        self.assertEqual(len(self.activities_for(caf, self.manager)), 1)
