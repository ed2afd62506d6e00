"""Rights, not superuser: every public method checks the caller's rights before it elevates, and what a user may
see opens (what they may not is hidden, never an error), over real HTTP with real sessions.

The views are loaded as the web client loads them (``get_views`` for the user, then ``web_search_read`` /
``web_read`` with the fields the user's arch holds), so a field or page the user may not read shows up as the
"Access Error" the user would get.
"""

from lxml import etree

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException

from .common_pos import TestClDtePosCommon


def specification(arch, fields):
    """The web client's read specification for the fields of ``arch`` (x2many lists with their columns)."""
    spec = {}
    for node in etree.fromstring(arch).iter("field"):
        if any(parent.tag == "field" for parent in node.iterancestors()):
            continue
        name, field = node.get("name"), fields[node.get("name")]
        if field["type"] in ("one2many", "many2many"):
            columns = node.find(".//list")
            spec[name] = {"fields": {column.get("name"): {} for column in columns.iter("field")} if columns is not None
                          else {"display_name": {}}}
        elif field["type"] == "many2one":
            spec[name] = {"fields": {"display_name": {}}}
        else:
            spec[name] = {}
    return spec


@tagged("post_install", "-at_install")
class TestDteRights(TestClDtePosCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_sii_simulator()
        cls.load_caf(cls.doc_33, 1, 10)
        company = {"company_id": cls.company.id, "company_ids": [(6, 0, cls.company.ids)]}
        cls.billing = new_test_user(cls.env, login="cl_rights_billing",
                                    groups="base.group_user,account.group_account_invoice", **company)
        cls.cashier = new_test_user(cls.env, login="cl_rights_cashier",
                                    groups="base.group_user,point_of_sale.group_pos_user", **company)
        cls.both = new_test_user(cls.env, login="cl_rights_both",
                                 groups="base.group_user,account.group_account_invoice,point_of_sale.group_pos_user",
                                 **company)
        cls.portal = new_test_user(cls.env, login="cl_rights_portal", groups="base.group_portal", **company)

    def setUp(self):
        super().setUp()
        self.invoice = self.make_invoice()
        self.invoice.action_post()
        self.order, _answer = self.sync(self.order_data(self.open_session(), [(self.product_taxed, 1)]))
        self.Envelope._cron_l10n_cl_dte_send()
        self.invoice_envelope = self.invoice.l10n_cl_dte_envelope_id
        self.pos_envelope = self.order.l10n_cl_dte_envelope_id
        self.assertTrue(self.invoice_envelope and self.pos_envelope and self.invoice_envelope != self.pos_envelope)

    def rpc(self, model, method, *args, **kwargs):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw", {"model": model, "method": method, "args": list(args), "kwargs": kwargs}
        )

    def login(self, user):
        self.authenticate(user.login, user.login)

    def views(self, model, *types):
        answer = self.rpc(model, "get_views", views=[[False, view_type] for view_type in types])
        return {view_type: answer["views"][view_type]["arch"] for view_type in types}, answer["models"]

    def open_form(self, model, record_id):
        """What the web client reads to show ``model``'s form of ``record_id``: (arch, values)."""
        archs, models = self.views(model, "form")
        values = self.rpc(model, "web_read", [record_id], specification(archs["form"], models[model]["fields"]))
        return etree.fromstring(archs["form"]), values[0]

    def assert_refused(self, model, method, *args, **kwargs):
        with self.assertRaises(JsonRpcException) as caught:
            self.rpc(model, method, *args, **kwargs)
        self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")

    # --- public methods check before they elevate -------------------------------------------------

    def test_users_who_may_not_read_an_envelope_cannot_make_it_work_as_superuser(self):
        envelope = self.invoice_envelope
        before = (envelope.poll_count, len(envelope.answer_ids), self.sii.calls)
        for user in (self.cashier, self.portal):
            self.login(user)
            for method in ("action_l10n_cl_dte_check_status", "action_l10n_cl_dte_retry",
                           "action_l10n_cl_dte_download_xml"):
                with self.subTest(user=user.login, method=method):
                    self.assert_refused("l10n_cl_dte.envelope", method, [envelope.id])
            for method in ("action_l10n_cl_dte_check_status", "action_l10n_cl_dte_send"):
                with self.subTest(user=user.login, method=method):
                    self.assert_refused("account.move", method, [self.invoice.id])
        self.login(self.portal)
        for method in ("action_l10n_cl_dte_check_status", "action_l10n_cl_dte_send", "action_l10n_cl_dte_download_xml"):
            self.assert_refused("pos.order", method, [self.order.id])
        envelope.invalidate_recordset()
        self.assertEqual((envelope.poll_count, len(envelope.answer_ids), self.sii.calls), before, "nothing ran")
        self.assertNotIn(self.cashier, self.invoice.write_uid | envelope.write_uid)

    def test_who_may_see_an_envelope_may_ask_the_sii_about_it(self):
        self.login(self.billing)
        self.rpc("l10n_cl_dte.envelope", "action_l10n_cl_dte_check_status", [self.invoice_envelope.id])
        self.invoice_envelope.invalidate_recordset()
        self.assertEqual(self.invoice_envelope.poll_count, 1)
        self.login(self.cashier)
        self.rpc("pos.order", "action_l10n_cl_dte_check_status", [self.order.id])
        self.pos_envelope.invalidate_recordset()
        self.assertEqual(self.pos_envelope.poll_count, 1)

    # --- what may be seen opens ----------------------------------------------------------------

    def test_a_billing_user_opens_sii_submissions_and_the_envelope_of_an_invoice(self):
        self.login(self.billing)
        archs, models = self.views("l10n_cl_dte.envelope", "list", "form", "search")
        listed = self.rpc("l10n_cl_dte.envelope", "web_search_read", [],
                          specification(archs["list"], models["l10n_cl_dte.envelope"]["fields"]))
        counts = {record["id"]: record["document_count"] for record in listed["records"]}
        self.assertEqual(counts[self.invoice_envelope.id], 1)
        self.assertEqual(counts[self.pos_envelope.id], 1, "an envelope of boletas is listed, its orders hidden")
        form, values = self.open_form("l10n_cl_dte.envelope", self.invoice_envelope.id)
        self.assertEqual([move["id"] for move in values["move_ids"]], self.invoice.ids)
        self.assertFalse(form.xpath("//field[@name='pos_order_ids']"), "no POS rights: no POS page")
        _form, values = self.open_form("l10n_cl_dte.envelope", self.pos_envelope.id)
        self.assertEqual(values["document_model"], "pos.order")
        self.assertNotIn("pos_order_ids", values)
        # The invoice's link to its envelope opens the same form.
        _form, invoice = self.open_form("account.move", self.invoice.id)
        self.assertEqual(invoice["l10n_cl_dte_envelope_id"]["id"], self.invoice_envelope.id)

    def test_a_user_of_both_sees_the_boletas_of_an_envelope(self):
        self.login(self.both)
        form, values = self.open_form("l10n_cl_dte.envelope", self.pos_envelope.id)
        self.assertTrue(form.xpath("//field[@name='pos_order_ids']"))
        self.assertEqual([order["id"] for order in values["pos_order_ids"]], self.order.ids)

    def test_a_cashier_opens_a_boleta_without_a_link_to_an_envelope_it_may_not_open(self):
        self.login(self.cashier)
        form, values = self.open_form("pos.order", self.order.id)
        self.assertFalse(form.xpath("//field[@name='l10n_cl_dte_envelope_id']"))
        self.assertEqual(values["l10n_cl_dte_folio"], self.order.l10n_cl_dte_folio)

    def test_the_signed_envelope_is_downloaded_not_opened_as_an_editable_attachment(self):
        self.login(self.billing)
        form, _values = self.open_form("l10n_cl_dte.envelope", self.invoice_envelope.id)
        (field,) = form.xpath("//field[@name='attachment_id']")
        self.assertIn("no_open", field.get("options", ""))
        self.assertTrue(form.xpath("//button[@name='action_l10n_cl_dte_download_xml']"))
        action = self.rpc("l10n_cl_dte.envelope", "action_l10n_cl_dte_download_xml", [self.invoice_envelope.id])
        response = self.url_open(action["url"])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, self.invoice_envelope.attachment_id.raw)

    def test_in_a_browser_a_billing_user_opens_sii_submissions_without_an_access_error(self):
        self.start_tour(
            "/odoo/action-l10n_cl_dte.action_l10n_cl_dte_envelope", "l10n_cl_dte_envelope_billing_tour",
            login=self.billing.login,
        )
