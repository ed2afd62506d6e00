"""Every DTE the addon issues, compared whole with an expected file (tests/golden/).

Each test issues one document type (or one Point of Sale path) at a fixed
moment with identities derived from fixed seeds (tests/fixed_identities.py),
then compares the signed XML element by element with its golden file, as
Odoo's own EDI modules do (``assertXmlTreeEqual``). Only what changes from
run to run is masked in the files (``___ignore___``): the signature values
(SignatureValue, DigestValue, the TED's FRMT, the certificate, whose serial
number is random) and the signing timestamps. A change to any other element
fails here and shows in review as a change of the golden file.

To accept an intended change, run the tests with ``L10N_CL_DTE_GOLDEN_UPDATE=1``:
they rewrite the files, and the diff is the change.
"""

import base64
import copy
import datetime
import os
from pathlib import Path

from freezegun import freeze_time
from lxml import etree

from odoo import Command
from odoo.tests import tagged

from ..sii_engine import xmlutil
from .chilean_company import COMPANY_RUT, SIGNER_RUT, trust_authority
from .common_export import ExportMixin
from .common_pos import TestClDtePosCommon
from .common_stock import StockGuiaMixin
from .fixed_identities import fixed_authority, fixed_caf, fixed_pkcs12

GOLDEN = Path(__file__).parent / "golden"
ISSUED_AT = "2026-11-20 15:00:00"  # UTC: noon in Santiago
CAF_DATE = datetime.date(2026, 11, 2)
MASKED = frozenset({"SignatureValue", "DigestValue", "X509Certificate", "FRMT", "TSTED", "TmstFirma"})
IGNORE = "___ignore___"


@tagged("post_install", "-at_install")
class TestDteGolden(ExportMixin, StockGuiaMixin, TestClDtePosCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The random identities of the common setup give way to fixed ones.
        cls.authority = fixed_authority()
        trust_authority(cls.env, cls.authority)
        cls.env["l10n_cl_dte.caf"].sudo().search([("company_id", "=", cls.company.id)]).unlink()
        cls.certificate.active = False
        cls.certificate = cls.env["l10n_cl_dte.certificate"].create({
            "company_id": cls.company.id,
            "file": base64.b64encode(fixed_pkcs12(SIGNER_RUT, "Test Signer", "test")),
            "password": "test",
        })
        region = cls.env.ref("base.state_cl_13")
        cls.company.partner_id.state_id = region
        cls.customer.write({"state_id": region.id, "email": "dte@sii.example"})
        for document_type in (cls.doc_33, cls.doc_34, cls.doc_39, cls.doc_41, cls.doc_56, cls.doc_61):
            cls.load_fixed_caf(document_type)
        cls.setup_guias()
        cls.load_fixed_caf(cls.doc_52)
        cls.setup_exports()
        for document_type in (cls.doc_110, cls.doc_111, cls.doc_112):
            cls.load_fixed_caf(document_type)

    @classmethod
    def load_fixed_caf(cls, document_type):
        caf_file = fixed_caf(cls.authority, COMPANY_RUT, cls.company.name, int(document_type.code), 1, 50,
                             authorized_on=CAF_DATE)
        return cls.env["l10n_cl_dte.caf"].create({
            "company_id": cls.company.id, "file": base64.b64encode(caf_file),
        })

    def setUp(self):
        super().setUp()
        frozen = freeze_time(ISSUED_AT)
        frozen.start()
        self.addCleanup(frozen.stop)

    def assert_golden(self, record, name):
        produced = xmlutil.parse(record.l10n_cl_dte_file_id.raw)
        path = GOLDEN / f"{name}.xml"
        if os.environ.get("L10N_CL_DTE_GOLDEN_UPDATE"):
            path.write_bytes(self._masked(produced))
        expected = etree.fromstring(path.read_bytes())
        self.assertXmlTreeEqual(produced, expected)

    @staticmethod
    def _masked(root):
        masked = copy.deepcopy(root)
        for element in masked.iter():
            if isinstance(element.tag, str) and etree.QName(element).localname in MASKED:
                element.text = IGNORE
        etree.indent(masked, space="  ")
        return etree.tostring(masked, encoding="ISO-8859-1", xml_declaration=True) + b"\n"

    # --- invoices ----------------------------------------------------------------------

    def post(self, move):
        move.action_post()
        self.assertEqual(move.l10n_cl_dte_status, "to_send")
        return move

    def test_factura_33(self):
        move = self.post(self.make_invoice(lines=[
            {"price_unit": 1234.5, "quantity": 3, "discount": 10},
            {"price_unit": 990.0, "quantity": 1, "name": "Soporte\nHoras de soporte en noviembre"},
        ]))
        self.assert_golden(move, "dte_33_factura")

    def test_factura_33_on_credit_with_installments(self):
        terms = self.env["account.payment.term"].create({
            "name": "30% a 30 días, saldo a 60",
            "line_ids": [
                Command.create({"value": "percent", "value_amount": 30.0, "nb_days": 30}),
                Command.create({"value": "percent", "value_amount": 70.0, "nb_days": 60}),
            ],
        })
        move = self.post(self.make_invoice(lines=[{"price_unit": 10000.0, "quantity": 3}],
                                           invoice_payment_term_id=terms.id))
        self.assert_golden(move, "dte_33_factura_credito_cuotas")

    def test_factura_exenta_34(self):
        move = self.post(self.make_invoice(self.doc_34, lines=[{"price_unit": 5000.0, "quantity": 2, "tax_ids": []}]))
        self.assert_golden(move, "dte_34_factura_exenta")

    def test_factura_de_compra_46(self):
        doc_46 = self.env.ref("l10n_cl.dc_fc_f_dte")
        doc_46.active = True
        self.load_fixed_caf(doc_46)
        journal = self.company_data["default_journal_purchase"]
        journal.l10n_latam_use_documents = True
        purchase_vat = self.env["account.tax"].search([
            ("company_id", "=", self.company.id), ("type_tax_use", "=", "purchase"), ("l10n_cl_sii_code", "=", 14),
            ("amount", "=", 19), ("price_include", "=", False),
        ], limit=1)
        move = self.post(self.env["account.move"].create({
            "move_type": "in_invoice",
            "partner_id": self.customer.id,
            "journal_id": journal.id,
            "invoice_date": "2026-11-20",
            "l10n_latam_document_type_id": doc_46.id,
            "invoice_line_ids": [Command.create({
                "product_id": self.product_a.id, "price_unit": 15000.0, "quantity": 4,
                "tax_ids": [Command.set(purchase_vat.ids)],
            })],
        }))
        self.assert_golden(move, "dte_46_factura_compra")

    def test_nota_debito_56(self):
        move = self.post(self.make_invoice(self.doc_56, l10n_cl_dte_reference_ids=[
            Command.create({"document_type_id": self.doc_33.id, "folio": "7", "date": "2026-11-01",
                            "code": "3", "reason": "Intereses por mora"}),
            Command.create({"other_type": "801", "folio": "OC-4512", "date": "2026-10-30"}),
        ]))
        self.assert_golden(move, "dte_56_nota_debito")

    def test_nota_credito_61(self):
        invoice = self.post(self.make_invoice())
        wizard = self.env["account.move.reversal"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"reason": "Cliente equivocado", "journal_id": invoice.journal_id.id,
                  "l10n_cl_dte_reference_code": "1"})
        credit_note = self.post(self.env["account.move"].browse(wizard.refund_moves()["res_id"]))
        self.assert_golden(credit_note, "dte_61_nota_credito")

    # --- exports ------------------------------------------------------------------------------

    def test_factura_exportacion_110_in_dollars(self):
        self.assert_golden(self.post(self.make_export()), "dte_110_factura_exportacion_usd")

    def test_nota_debito_exportacion_111(self):
        invoice = self.post(self.make_export())
        note = self.post(self.make_export(
            self.doc_111, lines=[{"price_unit": 120.5, "quantity": 1, "tax_ids": []}],
            l10n_cl_dte_reference_ids=[Command.create(
                invoice._l10n_cl_dte_reference_values(code="3", reason="Flete adicional"))],
        ))
        self.assert_golden(note, "dte_111_nota_debito_exportacion")

    def test_nota_credito_exportacion_112(self):
        invoice = self.post(self.make_export())
        wizard = self.env["account.move.reversal"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"reason": "Mercadería devuelta", "journal_id": invoice.journal_id.id})
        credit_note = self.post(self.env["account.move"].browse(wizard.refund_moves()["res_id"]))
        self.assert_golden(credit_note, "dte_112_nota_credito_exportacion")

    # --- Point of Sale ------------------------------------------------------------------

    def test_pos_boleta_39(self):
        session = self.open_session()
        order, _answer = self.sync(self.order_data(session, [(self.product_taxed, 3), (self.product_exempt, 1)]))
        self.assert_golden(order, "pos_39_boleta")

    def test_pos_boleta_39_of_prices_without_vat(self):
        session = self.open_session()
        bagel = self.env["product.product"].create({
            "name": "Bagel", "available_in_pos": True, "lst_price": 1.0, "taxes_id": [Command.set(self.vat_tax.ids)],
        })
        order, _answer = self.sync(self.order_data(session, [(bagel, 1), (bagel, 2)], paid=4))
        self.assert_golden(order, "pos_39_boleta_precios_netos")

    def test_pos_boleta_exenta_41(self):
        session = self.open_session()
        order, _answer = self.sync(self.order_data(session, [(self.product_exempt, 2)], partner=self.customer))
        self.assert_golden(order, "pos_41_boleta_exenta")

    def test_pos_boleta_39_above_135_uf_in_cash(self):
        """Ley 21.713: the buyer named, MedioPago 1 (cash) and the buyer's e-mail."""
        self.company.write({"l10n_cl_dte_boleta_limit_uf": 135, "l10n_cl_dte_uf_value": 40000})
        session = self.open_session()
        order, _answer = self.sync(self.order_data(session, [(self.product_taxed, 2200)], partner=self.customer))
        self.assertGreater(order.amount_total, 135 * 40000)
        self.assert_golden(order, "pos_39_boleta_135uf_efectivo")

    def test_pos_boleta_39_above_135_uf_by_card(self):
        """Ley 21.713: the buyer named and MedioPago 2 (electronic payment); no contact needed."""
        self.company.write({"l10n_cl_dte_boleta_limit_uf": 135, "l10n_cl_dte_uf_value": 40000})
        self.customer.email = False
        session = self.open_session()
        order, _answer = self.sync(self.order_data(
            session, [(self.product_taxed, 2200)], partner=self.customer, payments=[(self.card_method, 5_500_000)],
        ))
        self.assert_golden(order, "pos_39_boleta_135uf_tarjeta")

    def test_pos_factura_33(self):
        session = self.open_session()
        order, _answer = self.sync(
            self.order_data(session, [(self.product_taxed, 2)], partner=self.customer, to_invoice=True)
        )
        self.assert_golden(order.account_move, "pos_33_factura")

    def test_pos_return_of_a_boleta_61(self):
        session = self.open_session()
        sale, _answer = self.sync(self.order_data(session, [(self.product_taxed, 2)]))
        refund, _answer = self.sync(self.order_data(session, [(self.product_taxed, -1)], refunded_lines=sale.lines))
        self.assert_golden(refund.account_move, "pos_61_devolucion_boleta")

    # --- guías de despacho (stock) --------------------------------------------------------

    def test_guia_52_valued(self):
        picking = self.validate(self.make_delivery(
            [(self.goods, 3), (self.product_a, 2)],
            l10n_cl_dte_dispatch_type="2", l10n_cl_dte_vehicle_plate="ABCD12", l10n_cl_dte_carrier_vat="76086428-5",
            l10n_cl_dte_driver_name="Juan Perez", l10n_cl_dte_driver_vat="11111111-1",
        ))
        self.assert_golden(picking, "dte_52_guia_valorizada")

    def test_guia_52_without_valuation(self):
        self.out_type.l10n_cl_dte_valuation = "none"
        picking = self.make_delivery([(self.goods, 3)])
        picking.l10n_cl_dte_transfer_indicator = "6"
        self.assert_golden(self.validate(picking), "dte_52_guia_sin_valorizar")
