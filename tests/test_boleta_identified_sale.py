"""Boletas above 135 UF (Ley 21.713, the SII's boleta format of 2024-12-31), at the till and from invoices.

Above the limit a boleta names its buyer (RUT, name), says how it was paid
(MedioPago, from the POS payment method or the invoice) and, paid in cash,
carries the buyer's e-mail or phone. Each refusal names what to fix, takes no
folio and keeps nothing on the server: the till keeps the paid order and sends
it again once completed.
"""

import copy

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..sii_engine import verify, xmlutil
from .common_pos import TestClDtePosCommon

UF = 40000  # pesos per UF: 135 UF = 5,400,000
BIG = 2200  # empanadas at 2,500: 5,500,000, above 135 UF


@tagged("post_install", "-at_install")
class TestBoletaIdentifiedSale(TestClDtePosCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"l10n_cl_dte_boleta_limit_uf": 135, "l10n_cl_dte_uf_value": UF})
        cls.customer.email = False
        cls.buyer = cls.env["res.partner"].create({
            "name": "Juana Pérez", "vat": "11111111-1", "country_id": cls.env.ref("base.cl").id,
            "l10n_latam_identification_type_id": cls.env.ref("l10n_cl.it_RUT").id,
            "email": "juana@example.cl",
        })

    def setUp(self):
        super().setUp()
        self.session = self.open_session()

    def boleta(self, order):
        raw = order.l10n_cl_dte_file_id.raw
        report = verify.verify_file(raw, self.authority.trusted_keys())
        self.assertTrue(report.ok, report.format())
        return xmlutil.parse(raw)[0]

    def assert_refused_and_kept_nothing(self, data, message):
        with self.assertRefused(UserError, message):
            self.sync(copy.deepcopy(data))  # sync_from_ui consumes what it is given; the till keeps the order
        self.assertFalse(self.env["pos.order"].search([("uuid", "=", data["uuid"])]), "nothing half-made is kept")
        self.assertEqual(self.caf_39.next_folio, 1, "a refused sale takes no folio")

    # --- at the till ---------------------------------------------------------------------

    def test_cash_boleta_above_135_uf_names_the_buyer_the_payment_and_the_contact(self):
        order, answer = self.sync(self.order_data(self.session, [(self.product_taxed, BIG)], partner=self.buyer))
        body = self.boleta(order)
        # The receipt prints the buyer the boleta names, as the format asks above 135 UF.
        self.assertEqual(answer["pos.order"][0]["l10n_cl_dte_receipt_buyer"],
                         "R.U.T.: 11.111.111-1\nJuana Pérez\njuana@example.cl")
        header = {tag: xmlutil.findtext(body, f"Encabezado/{tag}") for tag in (
            "IdDoc/MedioPago", "Receptor/RUTRecep", "Receptor/RznSocRecep", "Receptor/CorreoRecep",
            "RUTProvSW", "Totales/MntTotal")}
        self.assertEqual(header, {
            "IdDoc/MedioPago": "1", "Receptor/RUTRecep": "11111111-1", "Receptor/RznSocRecep": "Juana Pérez",
            "Receptor/CorreoRecep": "juana@example.cl", "RUTProvSW": "76192083-9", "Totales/MntTotal": "5500000",
        })

    def test_card_boleta_above_135_uf_needs_no_contact(self):
        total = 2500 * BIG
        order, _answer = self.sync(self.order_data(
            self.session, [(self.product_taxed, BIG)], partner=self.customer, payments=[(self.card_method, total)],
        ))
        body = self.boleta(order)
        self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/MedioPago"), "2")
        self.assertIsNone(xmlutil.find(body, "Encabezado/Receptor/CorreoRecep"))

    def test_anonymous_boleta_above_135_uf_is_refused(self):
        self.assert_refused_and_kept_nothing(
            self.order_data(self.session, [(self.product_taxed, BIG)]), "must name its buyer: select a customer",
        )
        self.assert_refused_and_kept_nothing(
            self.order_data(self.session, [(self.product_taxed, BIG)], partner=self.final_consumer),
            "must name its buyer",
        )

    def test_cash_boleta_above_135_uf_without_contact_is_refused_then_issued_once_completed(self):
        data = self.order_data(self.session, [(self.product_taxed, BIG)], partner=self.customer)
        self.assert_refused_and_kept_nothing(
            data, r"paid in cash must carry the buyer's e-mail or phone: add one to the customer Servicio",
        )
        # The cashier adds the customer's phone; the till sends the same order again.
        self.customer.phone = "+56 2 2395 1000"
        order, _answer = self.sync(data)
        body = self.boleta(order)
        self.assertEqual(order.l10n_cl_dte_folio, 1)
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Receptor/TelefonoRecep"), "+56 2 2395 1000")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/MedioPago"), "1")

    def test_a_contact_reached_through_its_company(self):
        """The till and the server agree: a contact without e-mail is reached at its company's."""
        contact = self.env["res.partner"].create({"name": "Compras", "parent_id": self.customer.id})
        self.assertFalse(contact.l10n_cl_dte_has_contact)
        self.customer.email = "compras@sii.example"
        self.assertTrue(contact.l10n_cl_dte_has_contact)
        order, _answer = self.sync(self.order_data(self.session, [(self.product_taxed, BIG)], partner=contact))
        self.assertEqual(xmlutil.findtext(self.boleta(order), "Encabezado/Receptor/CorreoRecep"), "compras@sii.example")

    def test_the_largest_share_of_the_payment_is_the_payment_method(self):
        total = 2500 * BIG
        # Mostly by card: no contact needed.
        card, _answer = self.sync(self.order_data(
            self.session, [(self.product_taxed, BIG)], partner=self.customer,
            payments=[(self.cash_method, 500000), (self.card_method, total - 500000)],
        ))
        self.assertEqual(xmlutil.findtext(self.boleta(card), "Encabezado/IdDoc/MedioPago"), "2")
        # Mostly in cash: the cash rule applies.
        with self.assertRefused(UserError, "paid in cash"):
            self.sync(self.order_data(
                self.session, [(self.product_taxed, BIG)], partner=self.customer,
                payments=[(self.cash_method, total - 500000), (self.card_method, 500000)],
            ))

    def test_below_135_uf_a_boleta_needs_no_buyer_but_says_how_it_was_paid(self):
        order, answer = self.sync(self.order_data(self.session, [(self.product_taxed, 2)]))
        self.assertFalse(answer["pos.order"][0]["l10n_cl_dte_receipt_buyer"], "66666666-6 is not printed")
        body = self.boleta(order)
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Receptor/RUTRecep"), "66666666-6")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/MedioPago"), "1")

    def test_the_limit_is_135_uf_of_the_issue_date(self):
        """With CLF rates in Odoo, the limit is converted with the UF of the day the boleta is issued."""
        clf = self.env.ref("base.CLF")
        clf.active = True
        self.env["res.currency.rate"].create([
            # Odoo's rate: UF per peso.
            {"currency_id": clf.id, "company_id": self.company.id, "name": "2026-01-01", "rate": 1 / 39000},
            {"currency_id": clf.id, "company_id": self.company.id, "name": "2026-11-01", "rate": 1 / 41000},
        ])
        self.assertEqual(self.company._l10n_cl_dte_boleta_limit(fields.Date.to_date("2026-06-30")), 135 * 39000)
        self.assertEqual(self.company._l10n_cl_dte_boleta_limit(fields.Date.to_date("2026-11-20")), 135 * 41000)
        # 5,500,000: above 135 UF of June (5,265,000), not of November (5,535,000).
        move = self.make_boleta_invoice(invoice_date="2026-06-30")
        with self.assertRefused(UserError, r"above \$\s?5[.,]265[.,]000 \(135"):
            move.action_post()
        move.invoice_date = "2026-11-20"
        move.action_post()
        self.assertEqual(move.l10n_cl_dte_status, "to_send")

    # --- from invoices typed as boletas ----------------------------------------------------

    def make_boleta_invoice(self, partner=None, **values):
        return self.make_invoice(
            self.doc_39, partner=partner or self.customer, lines=[{
                "price_unit": 2500.0, "quantity": BIG, "tax_ids": [Command.set(self.vat_included.ids)],
            }], **values,
        )

    def test_invoice_boleta_above_135_uf_says_how_it_is_paid(self):
        move = self.make_boleta_invoice()
        with self.assertRefused(UserError, "must say how it was paid: set its payment method"):
            move.action_post()
        move.l10n_cl_dte_payment_method = "cash"
        with self.assertRefused(UserError, "paid in cash must carry the buyer's e-mail or phone"):
            move.action_post()
        self.assertFalse(move.l10n_cl_dte_folio, "a refused boleta takes no folio")
        self.customer.mobile = "+56 9 8765 4321"
        move.action_post()
        body = self.boleta(move)
        self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/MedioPago"), "1")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Receptor/TelefonoRecep"), "+56 9 8765 4321")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Totales/MntTotal"), "5500000")

    def test_invoice_boleta_on_credit_carries_no_installments(self):
        terms = self.env["account.payment.term"].create({
            "name": "Mitad a 30, mitad a 60",
            "line_ids": [Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 30}),
                         Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 60})],
        })
        move = self.make_boleta_invoice(invoice_payment_term_id=terms.id, l10n_cl_dte_payment_method="transfer")
        move.action_post()
        body = self.boleta(move)
        self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/MedioPago"), "3")
        self.assertIsNone(xmlutil.find(body, "Encabezado/IdDoc/MntPagos"))
        self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/FchVenc"), str(move.invoice_date_due))

    # --- the software provider -------------------------------------------------------------

    def test_boletas_name_the_software_provider(self):
        self.company.l10n_cl_dte_software_provider_vat = "76086428-5"
        order, _answer = self.sync(self.order_data(self.session, [(self.product_taxed, 1)]))
        self.assertEqual(xmlutil.findtext(self.boleta(order), "Encabezado/RUTProvSW"), "76086428-5")
        with self.assertRefused(ValidationError, "not a valid RUT for the boleta software provider"):
            self.company.l10n_cl_dte_software_provider_vat = "76086428-4"

