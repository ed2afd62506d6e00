"""The certification workspace's export sets (EXPORTACIÓN 1 and 2) issued as real Odoo export documents.

The set is the one a company received (the engine's fixture, see
``tests/test_certification.py``); the SII is the local simulator. Each case's
expected document is the engine's reading of the set alone
(:func:`sii_engine.certification.issue.case_document` with the foreign
receiver and the rates of the test), compared with what Odoo issued.
"""

import base64
import io
from datetime import timedelta
from decimal import Decimal

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools.pdf import PdfFileReader

from ..sii_engine import signature, xmlutil
from ..sii_engine.certification import issue as engine_issue
from ..sii_engine.certification import setfile
from ..sii_engine.totals import compute_totals
from .common import TestClDteCommon
from .common_export import DOLLAR_IN_PESOS, EURO_IN_PESOS, ExportMixin
from .test_certification import TestCertification


def body(move):
    """The issued DTE's Exportaciones (its Documento)."""
    return signature.dte_body(xmlutil.parse(move.l10n_cl_dte_file_id.raw))


RATES = {"DOLAR USA": Decimal(str(DOLLAR_IN_PESOS)), "EURO": Decimal(str(EURO_IN_PESOS))}
EXPORT_1, EXPORT_2 = "4352558", "4352559"


@tagged("post_install", "-at_install")
class TestCertificationExports(ExportMixin, TestClDteCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        TestCertification.setup_certification.__func__(cls)  # every set of the real file is issued

    def setUp(self):
        super().setUp()
        self.sii.reset()

    def make_workspace(self, **values):
        return self.env["l10n_cl_dte.certification"].create({
            "company_id": self.company.id,
            "set_file": base64.b64encode(self.set_data),
            "partner_id": self.customer.id,
            "journal_id": self.sale_journal.id,
            "export_partner_id": self.foreign_customer.id,
            **values,
        })

    def export_cases(self, workspace):
        return workspace.case_ids.filtered(lambda case: case.set_id.kind in (setfile.EXPORTACION_1,
                                                                             setfile.EXPORTACION_2))

    def engine_documents(self, workspace):
        """Each export case's document as the engine makes it from the set file alone, at the folios issued."""
        folios = {case.case_ref: case.folio for case in workspace.case_ids}
        issuer = self.company._l10n_cl_dte_engine_issuer()
        foreign = self.foreign_customer._l10n_cl_dte_receiver(foreign=True)
        documents = {}
        for test_set in setfile.parse_set_file(self.set_data):
            if test_set.kind not in (setfile.EXPORTACION_1, setfile.EXPORTACION_2):
                continue
            earlier = {}
            for case in test_set.cases:
                document = engine_issue.case_document(
                    case, folios[case.case_id], workspace.issue_date, issuer, self.customer._l10n_cl_dte_receiver(),
                    earlier, foreign_receiver=foreign, exchange_rates=RATES)
                earlier[case.case_id] = documents[case.case_id] = document
        return documents

    def test_export_sets_issued_sent_and_printed(self):
        self.assertEqual(self.env["l10n_cl_dte.certification"]._default_export_partner().l10n_cl_sii_taxpayer_type,
                         "4", "the default foreign customer is a foreign company")
        workspace = self.make_workspace()
        workspace.action_read_set()
        cases = self.export_cases(workspace)
        self.assertEqual(cases.mapped("case_ref"), [f"{EXPORT_1}-{n}" for n in (1, 2, 3)]
                         + [f"{EXPORT_2}-{n}" for n in (1, 2, 3)])
        workspace.action_issue()

        # Every case a posted export document of its type, folio and currency, to the foreign customer.
        moves = cases.move_id
        self.assertEqual(len(moves), 6)
        self.assertTrue(all(move.state == "posted" for move in moves))
        self.assertEqual(
            cases.mapped(lambda c: (c.document_type_id.code, c.folio, c.move_id.currency_id.name, c.move_id.move_type)),
            [("110", 1, "USD", "out_invoice"), ("112", 1, "USD", "out_refund"), ("111", 1, "USD", "out_invoice"),
             ("110", 2, "EUR", "out_invoice"), ("110", 3, "EUR", "out_invoice"), ("110", 4, "USD", "out_invoice")])
        self.assertEqual(moves.partner_id, self.foreign_customer)
        self.assertFalse(any(cases.mapped("mismatch")), cases.mapped("mismatch"))
        self.assertEqual(cases.currency_id, self.usd | self.eur, "each case's totals are in its document's currency")

        # The totals: what the engine computes from the set alone, also in pesos (OtraMoneda).
        engine = self.engine_documents(workspace)
        for case in cases:
            header = xmlutil.find(body(case.move_id), "Encabezado")
            expected = compute_totals(engine[case.case_ref])
            self.assertEqual(Decimal(xmlutil.findtext(header, "Totales/MntExe")), expected.exempt, case.case_ref)
            self.assertEqual(Decimal(xmlutil.findtext(header, "Totales/MntTotal")), expected.total, case.case_ref)
            self.assertEqual(Decimal(xmlutil.findtext(header, "OtraMoneda/MntTotOtrMnda")),
                             expected.other_currency_total, case.case_ref)
            self.assertEqual(xmlutil.findtext(header, "Totales/TpoMoneda"), engine[case.case_ref].currency)
            self.assertEqual(case.move_id.amount_total, float(expected.total), case.case_ref)
            self.assertEqual((case.amount_total, case.engine_total, case.difference),
                             (float(expected.total), float(expected.total), 0.0))
        # Known figures of the set: 261 × 116 with freight and insurance; the 87 returned at the same price;
        # 30 with its 10% commission; 402 × 130 − 5%, 180 × 77, freight, insurance, 11% of the clause 1 810.53.
        self.assertEqual(moves.mapped("amount_total"),
                         [30455.64, 10092.0, 10092.0, 33.0, 64417.36, 91.0])
        invoice_1 = cases[0].move_id
        header_1 = xmlutil.find(body(invoice_1), "Encabezado")
        self.assertEqual(xmlutil.findtext(header_1, "OtraMoneda/TpoCambio"), "950")
        self.assertEqual(xmlutil.findtext(header_1, "OtraMoneda/MntTotOtrMnda"), str(round(30455.64 * 950)))

        # The Export page: the Aduana's codes of the set's names, as the engine reads them.
        for case in cases.filtered(lambda c: c.document_type_id.code == "110"):
            customs = engine[case.case_ref].transport.customs
            move = case.move_id
            self.assertEqual(
                (move.l10n_cl_dte_sale_clause_id.code or None, move.l10n_cl_dte_sale_modality_id.code or None,
                 move.l10n_cl_dte_transport_way_id.code or None, move.l10n_cl_dte_loading_port_id.code or None,
                 move.l10n_cl_dte_unloading_port_id.code or None, move.l10n_cl_dte_receiver_country_id.code or None,
                 move.l10n_cl_dte_destination_country_id.code or None),
                (customs.sale_clause, customs.sale_modality, customs.transport_way, customs.loading_port,
                 customs.unloading_port, customs.receiver_country, customs.destination_country), case.case_ref)
            self.assertEqual(move.l10n_cl_dte_package_ids.mapped(lambda p: (p.type_id.code, p.quantity)),
                             [(package.type_code, package.quantity) for package in customs.packages])
            self.assertEqual(move.l10n_cl_dte_export_payment_form_id.code or None,
                             engine[case.case_ref].export_payment_form)
            self.assertEqual(move.l10n_cl_dte_export_service or False,
                             str(engine[case.case_ref].service_indicator or "") or False)
        self.assertEqual(
            (invoice_1.l10n_cl_dte_sale_clause_id.code, invoice_1.l10n_cl_dte_transport_way_id.code,
             invoice_1.l10n_cl_dte_loading_port_id.code, invoice_1.l10n_cl_dte_unloading_port_id.code,
             invoice_1.l10n_cl_dte_receiver_country_id.code, invoice_1.invoice_incoterm_id.code),
            (5, 4, 901, 262, 224, "FOB"))
        self.assertEqual((invoice_1.l10n_cl_dte_freight, invoice_1.l10n_cl_dte_insurance,
                          invoice_1.l10n_cl_dte_sale_clause_total), (154.78, 24.86, 963.69))
        aduana_1 = xmlutil.find(header_1, "Transporte/Aduana")
        self.assertEqual((xmlutil.findtext(aduana_1, "MntFlete"), xmlutil.findtext(aduana_1, "MntSeguro"),
                          xmlutil.findtext(aduana_1, "TotBultos")), ("154.78", "24.86", "26"))
        # Freight and insurance are also the two global surcharges; the commission of 2-1 a surcharge on its line.
        body_1 = body(invoice_1)
        self.assertEqual([(xmlutil.findtext(dr, "TpoMov"), xmlutil.findtext(dr, "GlosaDR"), xmlutil.findtext(dr, "ValorDR"))
                          for dr in xmlutil.children(body_1, "DscRcgGlobal")],
                         [("R", "Flete", "154.78"), ("R", "Seguro", "24.86")])
        services = body(cases[3].move_id)
        self.assertEqual((xmlutil.findtext(services, "Detalle/RecargoPct"), xmlutil.findtext(services, "Detalle/MontoItem"),
                          xmlutil.findtext(services, "Encabezado/IdDoc/IndServicio")), ("10", "33", "3"))
        hotel = cases[5].move_id
        self.assertEqual((hotel.l10n_cl_dte_export_service, hotel.l10n_cl_dte_receiver_country_id.code), ("4", 406))

        # References: the SET one first, then the documents the set cites, or the earlier case modified.
        for case in cases:
            reference = case.move_id.l10n_cl_dte_reference_ids[0]
            attention = case.set_id.attention
            self.assertEqual((reference.other_type, reference.folio, reference.reason),
                             ("SET", attention, f"CASO {case.case_ref}"))
        cited = [[(ref._l10n_cl_dte_type_code(), ref.code) for ref in case.move_id.l10n_cl_dte_reference_ids[1:]]
                 for case in cases]
        self.assertEqual(cited, [[("810", False)], [("110", "3")], [("112", "1")], [("812", False)],
                                 [("807", False), ("809", False)], []])
        self.assertEqual(cases[1].move_id.l10n_cl_dte_reference_ids[1].folio, str(cases[0].folio))
        self.assertEqual(cases[2].move_id.l10n_cl_dte_reference_ids[1].folio, str(cases[1].folio))
        self.assertEqual(cases[1].move_id.reversed_entry_id, cases[0].move_id, "the credit note reverses the export")

        # Sent with the workspace's Send: one envelope per set, accepted by the SII.
        workspace.action_send()
        envelopes = [test_set.envelope_id for test_set in workspace.set_ids
                     if test_set.case_ids.filtered(lambda case: case._l10n_cl_dte_issued())]
        self.assertEqual(len(set(envelopes)), len(envelopes), "one envelope per set")
        for kind in (setfile.EXPORTACION_1, setfile.EXPORTACION_2):
            test_set = workspace.set_ids.filtered(lambda s, kind=kind: s.kind == kind)
            self.assertEqual(test_set.case_ids.move_id.l10n_cl_dte_envelope_id, test_set.envelope_id)
        self.assertEqual(self.sii.upload_count(), len(envelopes))
        for _round in range(6):
            workspace.case_ids.move_id.l10n_cl_dte_envelope_id.write(
                {"next_poll_at": fields.Datetime.now() - timedelta(seconds=1)})
            workspace.action_check_status()
            if "sent" not in workspace.case_ids.mapped("dte_status"):
                break
        self.assertEqual(cases.mapped("dte_status"), ["accepted"] * 6, cases.mapped("sii_message"))
        self.assertNotIn(EXPORT_1, workspace.progress)
        self.assertNotIn(EXPORT_2, workspace.progress)

        # Printed in the samples with the export invoice report: one page each, in its currency.
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() not in ("ok", "upgrade", "workers"):
            self.skipTest("wkhtmltopdf is not installed: the samples cannot be printed")
        workspace.with_context(force_report_rendering=True).action_print_samples()
        reader = PdfFileReader(io.BytesIO(workspace.samples_attachment_id.raw))
        issued = workspace.case_ids.filtered(lambda case: case._l10n_cl_dte_issued())
        cedible = issued.move_id.filtered(
            lambda m: m.move_type == "out_invoice" and m.l10n_latam_document_type_id.code in ("33", "34"))
        self.assertEqual(len(reader.pages), len(issued) + len(cedible))
        # Each export case has its page: the export report of its case (its title and folio).
        texts = [" ".join(page.extract_text().split()).upper() for page in reader.pages]
        for case in cases:
            title = f"{case.document_type_id.name.upper()} {case.folio}"
            self.assertTrue([text for text in texts if title in text and "EXPORT" in text], case.case_ref)

    def test_export_sets_need_a_foreign_customer(self):
        workspace = self.make_workspace(export_partner_id=False)
        workspace.action_read_set()
        moves_before = self.env["account.move"].search_count([("company_id", "=", self.company.id)])
        with self.assertRaises(UserError) as caught:
            workspace.action_issue()
        self.assertIn("foreign customer of the export cases", str(caught.exception))
        self.assertFalse(workspace.case_ids.move_id, "no case of any set is issued")
        self.assertFalse(workspace.issue_date)
        self.assertEqual(self.env["account.move"].search_count([("company_id", "=", self.company.id)]), moves_before)
        # A Chilean customer is not a foreign one.
        workspace.export_partner_id = self.customer
        with self.assertRaises(UserError) as caught:
            workspace.action_issue()
        self.assertIn("must be a foreign company", str(caught.exception))
        self.assertFalse(workspace.case_ids.move_id)

    def test_export_sets_need_the_rate_of_their_currency(self):
        self.eur_rate.unlink()
        workspace = self.make_workspace()
        workspace.action_read_set()
        with self.assertRaises(UserError) as caught:
            workspace.action_issue()
        message = str(caught.exception)
        self.assertIn("exchange rate of EUR", message)
        self.assertIn("export cases", message, "refused by the workspace before any case is issued")
        self.assertNotIn("USD", message, "only the currency without a rate is named")
        self.assertFalse(workspace.case_ids.move_id, "no case of any set is issued")
        self.eur.active = False
        with self.assertRaises(UserError) as caught:
            workspace.action_issue()
        self.assertIn("Activate the currency EUR", str(caught.exception))
        self.assertFalse(workspace.case_ids.move_id)
