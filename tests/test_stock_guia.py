"""Guías de despacho (52) from deliveries: issued on validation, refused with what to fix, sent by the crons."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..sii_engine import verify, xmlutil
from .common import TestClDteCommon
from .common_stock import StockGuiaMixin


@tagged("post_install", "-at_install")
class TestStockGuia(StockGuiaMixin, TestClDteCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_guias()
        cls.caf_52 = cls.load_caf(cls.doc_52, 1, 200)

    def assert_valid_guia(self, picking):
        raw = picking.l10n_cl_dte_file_id.raw
        report = verify.verify_file(raw, self.authority.trusted_keys())
        self.assertTrue(report.ok, [f"{check.name}: {check.detail}" for check in report.failures])
        body = xmlutil.parse(raw)[0]
        self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/TipoDTE"), "52")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/Folio"), str(picking.l10n_cl_dte_folio))
        self.assertEqual(picking.l10n_cl_dte_ted.encode("ISO-8859-1"), xmlutil.flatten(xmlutil.find(body, "TED")))
        return body

    def test_validating_a_delivery_issues_its_guia(self):
        picking = self.make_delivery(
            [(self.goods, 3)],
            l10n_cl_dte_vehicle_plate="ab-cd-12", l10n_cl_dte_carrier_vat="76.086.428-5",
            l10n_cl_dte_driver_name="Juan Perez", l10n_cl_dte_driver_vat="11111111-1",
        )
        self.assertFalse(picking.l10n_cl_dte_status)
        self.validate(picking)
        self.assertEqual(picking.l10n_cl_dte_status, "to_send")
        self.assertEqual(picking.l10n_latam_document_type_id, self.doc_52)
        self.assertEqual(picking.l10n_cl_dte_folio, 1)
        self.assertEqual(picking.l10n_cl_dte_caf_id, self.caf_52)
        body = self.assert_valid_guia(picking)
        self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/IndTraslado"), "1")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Transporte/Patente"), "ABCD12")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Transporte/RUTTrans"), "76086428-5")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Transporte/Chofer/NombreChofer"), "Juan Perez")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Transporte/CmnaDest"), "Santiago")
        self.assertEqual(xmlutil.findtext(body, "Detalle/QtyItem"), "3")
        # Valued at the product's price: 3 x 3500 net, IVA 19%.
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Totales/MntNeto"), "10500")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Totales/MntTotal"), "12495")
        # The next guía takes the next folio of the same CAF.
        second = self.validate(self.make_delivery())
        self.assertEqual(second.l10n_cl_dte_folio, 2)

    def test_every_transfer_indicator(self):
        for indicator in [str(code) for code in range(1, 10)]:
            with self.subTest(indicator=indicator):
                picking = self.make_delivery()
                picking.l10n_cl_dte_transfer_indicator = indicator
                self.validate(picking)
                body = self.assert_valid_guia(picking)
                self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/IndTraslado"), indicator)

    def test_internal_transfer_between_own_warehouses_has_no_valuation(self):
        other = self.env["stock.warehouse"].create({
            "name": "Bodega Norte", "code": "BNOR", "company_id": self.company.id,
        })
        other.partner_id.write({"street": "Av. Matta 500", "city": "Antofagasta"})
        internal = self.warehouse.int_type_id
        internal.write({"l10n_cl_dte_guia": True, "l10n_cl_dte_transfer_indicator": "5",
                        "l10n_cl_dte_valuation": "product"})
        picking = self.make_delivery(picking_type=internal, partner=self.env["res.partner"],
                                     location_dest_id=other.lot_stock_id.id)
        picking.move_ids.location_dest_id = other.lot_stock_id
        self.validate(picking)
        body = self.assert_valid_guia(picking)
        self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/IndTraslado"), "5")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Receptor/RUTRecep"), "76192083-9", "the company itself")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Transporte/CmnaDest"), "Antofagasta")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Totales/MntTotal"), "0")
        self.assertIsNone(xmlutil.find(body, "Detalle/PrcItem"))
        self.assertEqual(xmlutil.findtext(body, "Detalle/QtyItem"), "3")

    def test_other_pickings_issue_on_the_button(self):
        self.out_type.l10n_cl_dte_guia = False
        picking = self.validate(self.make_delivery())
        self.assertFalse(picking.l10n_cl_dte_status, "this type does not issue guías on validation")
        picking.action_l10n_cl_dte_issue_guia()
        self.assertEqual(picking.l10n_cl_dte_status, "to_send")
        self.assert_valid_guia(picking)
        with self.assertRefused(UserError, "already has a dispatch guide"):
            picking.action_l10n_cl_dte_issue_guia()

    # --- refusals: nothing validated, no folio taken ------------------------------------

    def assert_refused(self, picking, message):
        with self.assertRefused(UserError, message):
            picking.button_validate()
        self.assertNotEqual(picking.state, "done")
        self.assertFalse(picking.l10n_cl_dte_folio)

    def test_refuses_a_receiver_without_rut(self):
        partner = self.customer.copy({"vat": False})
        self.assert_refused(self.make_delivery(partner=partner), "Set the RUT of the receiver")

    def test_refuses_a_destination_without_address_or_comuna(self):
        partner = self.customer.copy({"city": False})
        self.assert_refused(self.make_delivery(partner=partner), r"Set the address and comuna \(city\)")

    def test_refuses_a_company_without_dte_settings(self):
        self.company.l10n_cl_dte_environment = False
        self.assert_refused(self.make_delivery(), "is not set up for electronic documents")

    def test_refuses_more_than_60_lines(self):
        products = self.env["product.product"].create([
            {"name": f"Item {index}", "is_storable": True, "lst_price": 10.0} for index in range(61)
        ])
        self.assert_refused(self.make_delivery([(product, 1) for product in products]),
                            "at most 60 lines on a dispatch guide; the transfer has 61")

    def test_a_refused_guia_consumes_no_folio(self):
        partner = self.customer.copy({"vat": False})
        self.assert_refused(self.make_delivery(partner=partner), "Set the RUT")
        self.assertEqual(self.validate(self.make_delivery()).l10n_cl_dte_folio, 1)


@tagged("post_install", "-at_install")
class TestStockGuiaSubmission(StockGuiaMixin, TestClDteCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_sii_simulator()
        cls.setup_guias()
        cls.load_caf(cls.doc_52, 1, 100)

    def test_guias_are_sent_by_the_crons_and_accepted(self):
        pickings = self.validate(self.make_delivery()) | self.validate(self.make_delivery([(self.goods, 1)]))
        self.Envelope._cron_l10n_cl_dte_send()
        envelope = pickings.l10n_cl_dte_envelope_id
        self.assertEqual(len(envelope), 1)
        self.assertEqual(envelope.kind, "EnvioDTE")
        self.assertEqual(set(pickings.mapped("l10n_cl_dte_status")), {"sent"})
        self.assertEqual(envelope._l10n_cl_dte_documents(), pickings)
        for _round in range(6):
            envelope.next_poll_at = envelope.create_date
            self.Envelope._cron_l10n_cl_dte_poll()
            if envelope.state == "accepted":
                break
        self.assertEqual(envelope.state, "accepted")
        self.assertEqual(set(pickings.mapped("l10n_cl_dte_status")), {"accepted"})


@tagged("post_install", "-at_install")
class TestStockGuiaWarehouseUser(StockGuiaMixin, TestClDteCommon):
    """A warehouse worker, who may not read CAFs or certificates, validates deliveries that issue guías."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_guias()
        cls.load_caf(cls.doc_52, 1, 10)
        cls.storekeeper = cls.env["res.users"].with_context(no_reset_password=True).create({
            "name": "Bodeguero", "login": "bodeguero", "email": "bodega@example.com", "company_id": cls.company.id,
            "company_ids": [(6, 0, cls.company.ids)],
            "groups_id": [(6, 0, [cls.env.ref("stock.group_stock_user").id])],
        })

    def test_warehouse_user_issues_the_guia(self):
        picking = self.make_delivery()
        picking = picking.with_user(self.storekeeper)
        self.assertFalse(self.env["l10n_cl_dte.caf"].with_user(self.storekeeper).has_access("read"))
        self.validate(picking)
        self.assertEqual(picking.l10n_cl_dte_status, "to_send")
        self.assertTrue(picking.sudo().l10n_cl_dte_file_id.raw)
