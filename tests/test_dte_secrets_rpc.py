"""Secrets over RPC: certificate files and passwords, CAF files (the folio private key) and SII tokens reach
no one without the accounting manager right, through any door of the web server.

Each test is one door, tried over real HTTP with a real session of a billing user, a POS cashier and a portal
user; an accounting manager opening the same door gets the secret (the door is real, and it is the rights that
close it).
"""

import base64
import json

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException

from ..sii_engine import identities
from .chilean_company import SIGNER_RUT
from .common_pos import TestClDtePosCommon

SECRET_MODELS = {
    "l10n_cl_dte.certificate": ["file", "password"],
    "l10n_cl_dte.caf": ["file"],
}
TOKEN = "ABCDEFGHIJKLM"
PASSWORD = "clave-del-certificado-7f3c1a"  # distinctive: found anywhere, it leaked
REFUSED = ("odoo.exceptions.AccessError",)
# Exporting needs its own right as well: a user without it is refused before the fields are looked at.
EXPORT_REFUSED = ("odoo.exceptions.AccessError", "odoo.exceptions.UserError")


@tagged("post_install", "-at_install")
class TestDteSecretsRpc(TestClDtePosCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.caf_33 = cls.load_caf(cls.doc_33, 1, 10)
        company = [(6, 0, cls.company.ids)]
        cls.users = {
            "billing": new_test_user(cls.env, login="cl_secret_billing", company_id=cls.company.id, company_ids=company,
                                     groups="base.group_user,base.group_allow_export,account.group_account_invoice"),
            "cashier": new_test_user(cls.env, login="cl_secret_cashier", company_id=cls.company.id, company_ids=company,
                                     groups="base.group_user,base.group_allow_export,point_of_sale.group_pos_user"),
            "portal": new_test_user(cls.env, login="cl_secret_portal", groups="base.group_portal",
                                    company_id=cls.company.id, company_ids=company),
        }
        cls.manager = new_test_user(cls.env, login="cl_secret_manager",
                                    groups="base.group_user,base.group_allow_export,account.group_account_manager",
                                    company_id=cls.company.id, company_ids=company)
        certificate = cls.env["l10n_cl_dte.certificate"].create({
            "company_id": cls.company.id,
            "file": base64.b64encode(identities.make_pkcs12(SIGNER_RUT, "Secret Holder", PASSWORD)),
            "password": PASSWORD,
        })
        cls.records = {"l10n_cl_dte.certificate": certificate, "l10n_cl_dte.caf": cls.caf_33}
        cls.secrets = {
            "l10n_cl_dte.certificate": [certificate.sudo().file, PASSWORD],
            "l10n_cl_dte.caf": [cls.caf_33.sudo().file],
        }
        cls.token = cls.env["l10n_cl_dte.token"].sudo().create(
            {"key": "simulator|soap|76192083-9|fingerprint", "token": TOKEN, "issued_at": 0, "expires_at": 9e9}
        )

    # --- helpers ---------------------------------------------------------------------------------

    def rpc(self, model, method, *args, **kwargs):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw", {"model": model, "method": method, "args": list(args), "kwargs": kwargs}
        )

    def as_each_user(self, check):
        """``check(user name)`` in a session of each user without the manager right."""
        for name, user in self.users.items():
            with self.subTest(user=name):
                self.authenticate(user.login, user.login)
                check(name)

    def as_manager(self):
        self.authenticate(self.manager.login, self.manager.login)

    def assert_refused(self, model, method, *args, refusals=REFUSED, **kwargs):
        with self.assertRaises(JsonRpcException) as caught:
            self.rpc(model, method, *args, **kwargs)
        self.assertIn(str(caught.exception), refusals)

    def read_or_refused(self, model, method, *args, **kwargs):
        """The answer, or None when the user may not call it at all."""
        try:
            return self.rpc(model, method, *args, **kwargs)
        except JsonRpcException as refused:
            self.assertIn(str(refused), REFUSED)
            return None

    def assert_no_secret(self, answer):
        text = json.dumps(answer, default=str)
        self.assertIn(PASSWORD, self.secrets["l10n_cl_dte.certificate"])  # what is looked for is the secret indeed
        for secrets in self.secrets.values():
            for secret in secrets:
                value = secret.decode() if isinstance(secret, bytes) else secret
                self.assertFalse(value in text, "a secret is in the answer")  # (not quoted: it is a secret)
        self.assertNotIn(TOKEN, text)
        for marker in ("PRIVATE KEY", "RSASK"):
            self.assertNotIn(marker, text)

    # --- the doors -------------------------------------------------------------------------------

    def test_read(self):
        def check(user):
            for model, names in SECRET_MODELS.items():
                record_id = self.records[model].id
                for name in names:
                    self.assert_refused(model, "read", [record_id], [name])
                # The billing user sees the record without its secrets; the others not even the record.
                self.assert_no_secret(self.read_or_refused(model, "read", [record_id]))
            self.assert_refused("l10n_cl_dte.token", "read", [self.token.id], ["token"])

        self.as_each_user(check)
        self.as_manager()
        certificate = self.records["l10n_cl_dte.certificate"]
        self.assertEqual(self.rpc(certificate._name, "read", [certificate.id], ["password"])[0]["password"], PASSWORD)

    def test_search_read(self):
        def check(user):
            for model, names in SECRET_MODELS.items():
                for name in names:
                    self.assert_refused(model, "search_read", [], [name])
                    # Nor may a domain on the secret tell it letter by letter.
                    self.assert_refused(model, "search_read", [(name, "=like", "c%")], ["id"])
                self.assert_no_secret(self.read_or_refused(model, "search_read", []))
            self.assert_refused("l10n_cl_dte.token", "search_read", [], ["token"])
            self.assert_refused("l10n_cl_dte.token", "search_read", [("token", "=like", "A%")], ["id"])

        self.as_each_user(check)
        self.as_manager()
        self.assertTrue(self.rpc("l10n_cl_dte.certificate", "search_read", [("password", "=like", "c%")], ["id"]))

    def test_export_data(self):
        def check(user):
            for model, names in SECRET_MODELS.items():
                for name in names:
                    self.assert_refused(model, "export_data", [self.records[model].id], [name],
                                        refusals=REFUSED if user != "portal" else EXPORT_REFUSED)
            self.assert_refused("l10n_cl_dte.token", "export_data", [self.token.id], ["token"], refusals=EXPORT_REFUSED)

        self.as_each_user(check)
        self.as_manager()
        certificate = self.records["l10n_cl_dte.certificate"]
        self.assertEqual(self.rpc(certificate._name, "export_data", [certificate.id], ["password"])["datas"],
                         [[PASSWORD]])

    def test_read_group(self):
        def check(user):
            for model, names in SECRET_MODELS.items():
                for name in names:
                    self.assert_refused(model, "read_group", [], [name], [name])
                    self.assert_refused(model, "web_read_group", [], ["id:count"], [name])
            self.assert_refused("l10n_cl_dte.token", "read_group", [], ["token"], ["token"])

        self.as_each_user(check)

    def binary_urls(self, route):
        for model, names in SECRET_MODELS.items():
            for name in names:
                yield model, f"{route}/{model}/{self.records[model].id}/{name}"
                yield model, f"{route}?model={model}&id={self.records[model].id}&field={name}"

    def assert_binary_door_closed(self, route, placeholder=False):
        def check(user):
            for model, url in self.binary_urls(route):
                response = self.url_open(url)
                if not placeholder:  # /web/image answers a refusal with its placeholder picture
                    self.assertIn(response.status_code, (403, 404), url)
                for secret in self.secrets[model]:
                    raw = base64.b64decode(secret) if isinstance(secret, bytes) else secret.encode()
                    self.assertFalse(raw in response.content, f"{url} answered the secret")

        self.as_each_user(check)

    def test_web_content(self):
        self.assert_binary_door_closed("/web/content")
        self.as_manager()
        response = self.url_open(f"/web/content/l10n_cl_dte.caf/{self.caf_33.id}/file")
        self.assertEqual(response.content, base64.b64decode(self.secrets["l10n_cl_dte.caf"][0]))

    def test_web_image(self):
        self.assert_binary_door_closed("/web/image", placeholder=True)

    def test_ir_attachment(self):
        # Uploading a certificate and a CAF through their wizards leaves no attachment of their files.
        upload = self.env["l10n_cl_dte.certificate.upload"].with_user(self.manager).create({
            "file": self.secrets["l10n_cl_dte.certificate"][0], "password": "wrong",
        })
        caf_upload = self.env["l10n_cl_dte.caf.upload"].with_user(self.manager).create({
            "file": base64.b64encode(self.authority.issue_caf("76192083-9", "X", 33, 50, 60)),
        })
        upload.flush_recordset()
        caf_upload.flush_recordset()
        Attachment = self.env["ir.attachment"].sudo()
        any_field = ["|", ("res_field", "=", False), ("res_field", "!=", False)]  # a field's attachments too
        holders = Attachment.search([
            *any_field,
            ("res_model", "in", [*SECRET_MODELS, "l10n_cl_dte.token", "l10n_cl_dte.certificate.upload",
                                 "l10n_cl_dte.caf.upload"]),
        ])
        checksums = {Attachment._compute_checksum(base64.b64decode(secret)) for secret in (
            self.secrets["l10n_cl_dte.certificate"][0], self.secrets["l10n_cl_dte.caf"][0], caf_upload.file)}
        holders |= Attachment.search([*any_field, ("checksum", "in", list(checksums))])
        self.assertFalse(holders, "no attachment holds a key")

        def check(user):
            for model in (*SECRET_MODELS, "l10n_cl_dte.token"):
                domain = [("res_model", "=", model)]
                self.assertFalse(self.read_or_refused("ir.attachment", "search_read", domain, ["datas"]))
                for field in ("file", "password", "token"):
                    domain = [("res_model", "=", model), ("res_field", "=", field)]
                    self.assertFalse(self.read_or_refused("ir.attachment", "search_read", domain, ["datas"]))

        self.as_each_user(check)

    def test_the_data_the_pos_loads_holds_no_key_material(self):
        session = self.open_session()
        self.sync(self.order_data(session, [(self.product_taxed, 1)]))
        self.authenticate(self.users["cashier"].login, self.users["cashier"].login)
        data = self.rpc("pos.session", "load_data", [session.id], models_to_load=[])
        self.assertIn("pos.order", data)
        self.assertIn("res.company", data)
        self.assert_no_secret(data)
        self.assert_no_secret(self.rpc("pos.order", "read", session.order_ids.ids))
