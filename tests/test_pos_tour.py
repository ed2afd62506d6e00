"""A boleta sold at the Point of Sale, in a real browser: the receipt prints the stamp the server signed."""


from odoo import Command
from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon
from odoo.tests import tagged

from ..sii_engine import identities, signature, ted, verify, xmlutil
from .chilean_company import load_caf, make_issuer, vat_19


@tagged("post_install", "-at_install")
class TestClDtePosTour(TestPointOfSaleHttpCommon):
    @classmethod
    @TestPointOfSaleHttpCommon.setup_country("cl")
    def setUpClass(cls):
        super().setUpClass()
        # The same identities as tests/common.py: a stand-in SII key signing the CAFs (trusted only
        # in the simulator environment) and a self-signed certificate carrying the signer's RUT.
        cls.authority = identities.TestAuthority()
        cls.company = cls.company_data["company"]
        make_issuer(
            cls.env, cls.company, cls.authority, l10n_cl_dte_resolution_number=80,
            l10n_cl_dte_resolution_date="2014-08-22", l10n_cl_sii_regional_office="Santiago Centro",
        )
        cls.doc_39 = cls.env.ref("l10n_cl.dc_b_f_dte")
        load_caf(cls.env, cls.company, cls.authority, cls.doc_39.code, 1, 50)

        vat_tax = vat_19(cls.env, cls.company)
        # Chilean shelf prices include VAT.
        cls.vat_included = vat_tax.copy({"price_include_override": "tax_included", "name": "IVA 19% incl."})
        cls.boleta_product = cls.env["product.product"].create({
            "name": "Boleta Product",
            "available_in_pos": True,
            "list_price": 2500,
            "taxes_id": [Command.set(cls.vat_included.ids)],
        })

    def test_boleta_receipt_carries_the_stamp(self):
        self.assertTrue(self.main_pos_config.l10n_cl_dte_enabled)
        self.assertEqual((self.vat_included.amount, self.vat_included.l10n_cl_sii_code), (19, 14))
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("l10n_cl_dte_pos_boleta_tour", login="pos_user")

        order = self.env["pos.order"].search([("config_id", "=", self.main_pos_config.id)], order="id desc", limit=1)
        self.assertEqual(order.l10n_latam_document_type_id.code, "39")
        self.assertEqual(order.l10n_cl_dte_folio, 1)
        self.assertEqual(order.l10n_cl_dte_status, "to_send")
        self.assertEqual(order.amount_total, 2500)
        self.assertEqual(order.l10n_cl_dte_receipt_folio, 1)
        self.assertTrue(order.l10n_cl_dte_receipt_barcode.startswith("data:image/png;base64,"))

        raw = order.l10n_cl_dte_file_id.raw
        report = verify.verify_file(raw, self.authority.trusted_keys())
        self.assertTrue(report.ok, report.format())
        root = xmlutil.parse(raw)
        signature.verify(root)
        body = root[0]
        stamp = ted.verify_ted(xmlutil.find(body, "TED"), self.authority.trusted_keys())
        self.assertEqual((stamp.data.document_type, stamp.data.folio), (39, 1))
        self.assertEqual(stamp.data.total, round(order.amount_total))
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Totales/MntTotal"), str(round(order.amount_total)))

    def test_sale_kept_offline_is_stamped_and_printed_when_back_online(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("l10n_cl_dte_pos_offline_tour", login="pos_user", timeout=120)

        orders = self.env["pos.order"].search([("config_id", "=", self.main_pos_config.id)], order="id")
        self.assertEqual(orders.mapped("l10n_cl_dte_folio"), [1, 2])
        self.assertEqual(set(orders.mapped("l10n_cl_dte_status")), {"to_send"})

    def test_boleta_above_the_limit_needs_a_customer_with_rut(self):
        self.company.write({"l10n_cl_dte_boleta_limit_uf": 0.05, "l10n_cl_dte_uf_value": 20000})
        limit = self.main_pos_config.l10n_cl_dte_boleta_limit
        self.assertTrue(0 < limit < 2500, limit)
        rut_type = self.env.ref("l10n_cl.it_RUT")
        customer = self.env["res.partner"].create({
            "name": "Cliente Con RUT", "vat": "60803000-K", "country_id": self.env.ref("base.cl").id,
            "l10n_latam_identification_type_id": rut_type.id,
        })
        self.env["res.partner"].create({"name": "Cliente Sin RUT", "country_id": self.env.ref("base.cl").id})
        # A cashier who completes customers at the till ("Contact Creation", which Odoo gives users by default).
        self.pos_user.groups_id += self.env.ref("base.group_partner_manager")
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("l10n_cl_dte_pos_boleta_limit_tour", login="pos_user")

        order = self.env["pos.order"].search([("config_id", "=", self.main_pos_config.id)])
        self.assertEqual((order.partner_id, order.l10n_cl_dte_folio), (customer, 1))
        # Paid in cash above the limit: the e-mail the cashier gave the customer at the till is on the boleta.
        self.assertEqual(customer.email, "cliente@example.cl")
        body = xmlutil.parse(order.l10n_cl_dte_file_id.raw)[0]
        self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/MedioPago"), "1")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Receptor/CorreoRecep"), "cliente@example.cl")
