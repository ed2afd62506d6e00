import base64
import datetime

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..sii_engine import identities
from .common import COMPANY_RUT, TestClDteCommon


@tagged("post_install", "-at_install")
class TestDteRefusals(TestClDteCommon):
    """Each defect is refused with a message naming what to fix, and nothing is consumed or saved."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.caf_33 = cls.load_caf(cls.doc_33, 1, 10)

    def assert_refused_without_trace(self, move, message):
        with self.assertRefused(UserError, message):
            move.action_post()
        self.env.invalidate_all()
        self.assertEqual(move.state, "draft")
        self.assertFalse(move.l10n_cl_dte_folio)
        self.assertFalse(move.l10n_cl_dte_file_id)
        self.assertEqual(self.caf_33.next_folio, 1, "a refused posting must not consume a folio")

    def test_customer_without_rut(self):
        self.customer.vat = False
        self.assert_refused_without_trace(self.make_invoice(), "Set the RUT of the customer")

    def test_customer_without_line_of_business(self):
        self.customer.l10n_cl_activity_description = False
        self.assert_refused_without_trace(self.make_invoice(), "line of business")

    def test_customer_without_address(self):
        self.customer.city = False
        self.assert_refused_without_trace(self.make_invoice(), "address and comuna")

    def test_company_without_acteco(self):
        self.company.l10n_cl_dte_acteco_ids = [Command.clear()]
        self.assert_refused_without_trace(self.make_invoice(), "Acteco")

    def test_more_than_sixty_lines(self):
        move = self.make_invoice(lines=[{"price_unit": 10.0, "quantity": 1}] * 61)
        self.assert_refused_without_trace(move, "at most 60 lines")

    def test_no_valid_certificate(self):
        self.certificate.active = False
        self.assert_refused_without_trace(self.make_invoice(), "no valid digital certificate")

    def test_certificate_restricted_to_other_users(self):
        someone_else = self.env["res.users"].create({"name": "Other Signer", "login": "other_signer"})
        self.certificate.user_ids = [Command.set(someone_else.ids)]
        self.assert_refused_without_trace(self.make_invoice(), "no valid digital certificate")

    def test_no_folios_left(self):
        self.caf_33.sudo().write({"next_folio": 11})
        with self.assertRefused(UserError, "no folios left"):
            self.make_invoice().action_post()

    def test_expired_caf_is_not_used(self):
        self.caf_33.sudo().write({"expires_on": datetime.date(2020, 1, 1)})
        with self.assertRefused(UserError, "no folios left"):
            self.make_invoice().action_post()
        self.assertEqual(self.caf_33.state, "expired")

    def test_test_caf_is_not_used_after_switching_to_a_real_environment(self):
        self.make_invoice().action_post()  # the CAF is now parsed and cached by this worker
        self.company.l10n_cl_dte_environment = "certification"
        with self.assertRefused(UserError, "IDK 9999"):
            self.make_invoice().action_post()

    def test_credit_note_without_reference(self):
        self.load_caf(self.doc_61, 1, 5)
        move = self.make_invoice(self.doc_61, move_type="out_refund")
        self.assert_refused_without_trace(move, "must reference the document")

    # --- CAF uploads ------------------------------------------------------------------

    def caf_count(self):
        return self.env["l10n_cl_dte.caf"].with_context(active_test=False).search_count([])

    def assert_caf_refused(self, caf_bytes, message, exception=UserError):
        before = self.caf_count()
        with self.assertRefused(exception, message):
            self.env["l10n_cl_dte.caf"].create({"company_id": self.company.id, "file": base64.b64encode(caf_bytes)})
        self.assertEqual(self.caf_count(), before, "a refused CAF must not be saved")

    def test_caf_of_another_rut(self):
        self.assert_caf_refused(self.authority.issue_caf("96670340-7", "Otra SA", 33, 100, 200), "not to")

    def test_caf_of_a_type_the_company_does_not_use(self):
        self.assert_caf_refused(self.authority.issue_caf(COMPANY_RUT, "X", 29, 1, 10), "does not use")

    def test_caf_signed_by_another_key(self):
        impostor = identities.TestAuthority()
        self.assert_caf_refused(impostor.issue_caf(COMPANY_RUT, "X", 33, 100, 110), "altered or not issued by the SII")

    def test_test_caf_refused_in_production_environment(self):
        self.company.l10n_cl_dte_environment = "production"
        self.assert_caf_refused(self.authority.issue_caf(COMPANY_RUT, "X", 33, 100, 110), "IDK 9999")

    def test_overlapping_caf(self):
        self.assert_caf_refused(self.authority.issue_caf(COMPANY_RUT, "X", 33, 10, 20), "overlap", ValidationError)

    def test_malformed_caf(self):
        self.assert_caf_refused(b"<AUTORIZACION><CAF>", "malformed")

    def test_tampered_caf(self):
        genuine = self.authority.issue_caf(COMPANY_RUT, "X", 33, 100, 110)
        self.assert_caf_refused(genuine.replace(b"<H>110</H>", b"<H>999</H>"), "altered")

    def test_not_a_caf(self):
        self.assert_caf_refused(b"<?xml version='1.0'?><factura/>", "not a CAF")

    # --- certificate uploads ------------------------------------------------------------

    def assert_certificate_refused(self, pkcs12, password, message):
        model = self.env["l10n_cl_dte.certificate"].with_context(active_test=False)
        before = model.search_count([])
        with self.assertRefused(UserError, message):
            self.env["l10n_cl_dte.certificate.upload"].create({
                "file": base64.b64encode(pkcs12), "password": password,
            }).action_upload()
        self.assertEqual(model.search_count([]), before, "a refused certificate must not be saved")

    def test_certificate_wrong_password(self):
        self.assert_certificate_refused(self.pkcs12, "wrong", "password is wrong")

    def test_certificate_not_pkcs12(self):
        self.assert_certificate_refused(b"-----BEGIN CERTIFICATE-----\nMIIB\n", "test", "not a PKCS#12")

    def test_certificate_expired(self):
        expired = identities.make_pkcs12(
            "11111111-1", "Old Signer", "test", not_before=datetime.datetime(2020, 1, 1), valid_days=30
        )
        self.assert_certificate_refused(expired, "test", "expired")

    def test_certificate_without_rut(self):
        self.assert_certificate_refused(identities.make_pkcs12("11111111-1", "No Rut", "test", with_rut=False),
                                        "test", "RUT")

    def test_certificate_upload_wizard_keeps_no_secret(self):
        wizard = self.env["l10n_cl_dte.certificate.upload"].create({
            "file": base64.b64encode(self.pkcs12), "password": "test",
        })
        action = wizard.action_upload()
        certificate = self.env["l10n_cl_dte.certificate"].browse(action["res_id"])
        self.assertEqual(certificate.holder_rut, "11111111-1")
        self.assertEqual(certificate.state, "valid")
        self.assertFalse(wizard.exists(), "the wizard holding the file and password is deleted")
