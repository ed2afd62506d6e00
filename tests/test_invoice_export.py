"""Export invoices and notes (110, 111, 112) from Odoo: their customs data, currencies and refusals."""

from datetime import timedelta
from decimal import Decimal

from lxml import etree

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..sii_engine import aduana, verify, xmlutil
from .common import TestClDteCommon
from .common_export import DOLLAR_IN_PESOS, ExportMixin


@tagged("post_install", "-at_install")
class TestInvoiceExport(ExportMixin, TestClDteCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_exports()
        cls.start_sii_simulator()
        cls.caf_110 = cls.load_caf(cls.doc_110, 1, 50)
        cls.caf_111 = cls.load_caf(cls.doc_111, 1, 50)
        cls.caf_112 = cls.load_caf(cls.doc_112, 1, 50)

    def assert_valid(self, move, document_type):
        raw = move.l10n_cl_dte_file_id.raw
        report = verify.verify_file(raw, self.authority.trusted_keys())
        self.assertTrue(report.ok, [f"{check.name}: {check.detail}" for check in report.failures])
        body = xmlutil.parse(raw)[0]
        self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/TipoDTE"), str(document_type))
        return body

    def next_folio(self, caf):
        """The folio the CAF would give next (one past the highest issued, or its first)."""
        issued = self.env["account.move"].search([("l10n_cl_dte_caf_id", "=", caf.id)]).mapped("l10n_cl_dte_folio")
        return max(issued, default=caf.first_folio - 1) + 1

    # --- the code tables ------------------------------------------------------------------------

    def test_code_tables_are_the_engines(self):
        Code = self.env["l10n_cl_dte.aduana.code"].with_context(active_test=False)
        for table in aduana.TABLES:
            rows = aduana.rows(table)
            records = {record.code: record for record in Code.search([("aduana_table", "=", table)])}
            self.assertEqual(set(records), {row["code"] for row in rows}, table)
            for row in rows:
                record = records[row["code"]]
                self.assertEqual(record.name, row["name"], (table, row["code"]))
                if "incoterm" in row:
                    self.assertEqual(record.incoterm_id.code or "", row["incoterm"], (table, row["code"]))
                if "iso" in row and row["iso"] and self.env["res.country"].search([("code", "=", row["iso"])]):
                    self.assertEqual(record.country_id.code, row["iso"], (table, row["code"]))

    def test_loading_again_keeps_what_users_edited(self):
        Code = self.env["l10n_cl_dte.aduana.code"]
        port = self.aduana_code(aduana.PORTS, 906)
        port.name = "San Antonio (V Región)"
        Code.search([("aduana_table", "=", aduana.PORTS), ("code", "=", 905)]).unlink()
        Code._l10n_cl_dte_load_aduana_tables()
        self.assertEqual(port.name, "San Antonio (V Región)")
        self.assertEqual(self.aduana_code(aduana.PORTS, 905).name, "VALPARAISO")
        self.assertEqual(Code.search_count([("aduana_table", "=", aduana.PORTS), ("code", "=", 906)]), 1)

    def test_billing_users_read_the_tables_managers_edit_them(self):
        billing = self.env["res.users"].create({
            "name": "Billing", "login": "export_billing", "company_id": self.company.id,
            "company_ids": [Command.set(self.company.ids)],
            "groups_id": [Command.set([self.env.ref("account.group_account_invoice").id])],
        })
        port = self.aduana_code(aduana.PORTS, 906).with_user(billing)
        self.assertEqual(port.name, "SAN ANTONIO")
        with self.assertRaises(AccessError):
            port.name = "Edited"
        manager = self.make_account_manager("export_manager")
        port.with_user(manager).name = "San Antonio"
        self.assertEqual(port.name, "San Antonio")

    # --- defaults -----------------------------------------------------------------------------

    def test_defaults_from_the_incoterm_and_the_customers_country(self):
        move = self.make_export()
        self.assertTrue(move.l10n_cl_dte_export)
        self.assertEqual(move.l10n_cl_dte_sale_clause_id, self.aduana_code(aduana.SALE_CLAUSES, 5))  # FOB
        us = self.aduana_code(aduana.COUNTRIES, 225)
        self.assertEqual(move.l10n_cl_dte_receiver_country_id, us)
        self.assertEqual(move.l10n_cl_dte_destination_country_id, us)
        move.invoice_incoterm_id = self.env.ref("account.incoterm_CIF")
        self.assertEqual(move.l10n_cl_dte_sale_clause_id.code, 1)
        self.assertFalse(self.make_invoice().l10n_cl_dte_export)

    # --- issuing ------------------------------------------------------------------------------

    def test_export_in_dollars_carries_customs_and_pesos(self):
        move = self.make_export()
        move.action_post()
        self.assertEqual(move.l10n_cl_dte_status, "to_send")
        body = self.assert_valid(move, 110)
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Totales/TpoMoneda"), "DOLAR USA")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Totales/MntTotal"), "4309.35")
        self.assertEqual(Decimal(xmlutil.findtext(body, "Encabezado/Totales/MntTotal")),
                         Decimal(str(move.amount_total)))
        # The TED states the total as MntTotal does, decimals and all.
        self.assertEqual(xmlutil.findtext(body, "TED/DD/MNT"), "4309.35")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/OtraMoneda/TpoMoneda"), "PESO CL")
        self.assertEqual(Decimal(xmlutil.findtext(body, "Encabezado/OtraMoneda/TpoCambio")), Decimal(DOLLAR_IN_PESOS))
        self.assertEqual(xmlutil.findtext(body, "Encabezado/OtraMoneda/MntTotOtrMnda"), str(round(4309.35 * 950)))
        self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/FmaPagExp"), "11")
        self.assertIsNone(xmlutil.find(body, "Encabezado/IdDoc/IndServicio"))
        customs = "Encabezado/Transporte/Aduana/"
        expected = {
            "CodModVenta": "1", "CodClauVenta": "5", "TotClauVenta": "4309.35", "CodViaTransp": "1",
            "RUTCiaTransp": "76086428-5", "NomCiaTransp": "Naviera Austral",
            "CodPtoEmbarque": "906", "CodPtoDesemb": "141", "PesoBruto": "1250.5", "CodUnidPesoBruto": "6",
            "PesoNeto": "1100", "CodUnidPesoNeto": "6", "TotBultos": "16", "CodPaisRecep": "225",
            "CodPaisDestin": "225",
        }
        self.assertEqual({tag: xmlutil.findtext(body, customs + tag) for tag in expected}, expected)
        aduana_block = xmlutil.find(body, customs.rstrip("/"))
        packages = [child for child in aduana_block if xmlutil.local(child.tag) == "TipoBultos"]
        self.assertEqual([(xmlutil.findtext(p, "CodTpoBultos"), xmlutil.findtext(p, "CantBultos"),
                           xmlutil.findtext(p, "Marcas")) for p in packages],
                         [("80", "4", "PACIFIC MIA 1-4"), ("22", "12", None)])
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Receptor/RUTRecep"), "55555555-5")
        self.assertEqual(xmlutil.findtext(body, "Encabezado/Receptor/Extranjero/Nacionalidad"), "225")

    def test_export_of_services_needs_no_goods_data(self):
        move = self.make_export(l10n_cl_dte_export_service="3", l10n_cl_dte_sale_modality_id=False,
                                l10n_cl_dte_package_ids=[], l10n_cl_dte_gross_weight=0, l10n_cl_dte_net_weight=0,
                                l10n_cl_dte_destination_country_id=False)
        move.l10n_cl_dte_package_ids = [Command.clear()]
        move.action_post()
        body = self.assert_valid(move, 110)
        self.assertEqual(xmlutil.findtext(body, "Encabezado/IdDoc/IndServicio"), "3")

    def test_credit_note_112_reverses_the_export(self):
        invoice = self.make_export()
        invoice.action_post()
        wizard = self.env["account.move.reversal"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"reason": "Mercadería devuelta", "journal_id": invoice.journal_id.id})
        self.assertEqual(wizard.l10n_latam_document_type_id, self.doc_112)
        credit_note = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        self.assertEqual(credit_note.currency_id, self.usd)
        credit_note.action_post()
        body = self.assert_valid(credit_note, 112)
        reference = xmlutil.find(body, "Referencia")
        self.assertEqual(xmlutil.findtext(reference, "TpoDocRef"), "110")
        self.assertEqual(xmlutil.findtext(reference, "FolioRef"), str(invoice.l10n_cl_dte_folio))
        self.assertEqual(xmlutil.findtext(reference, "CodRef"), "1")
        self.assertEqual(xmlutil.findtext(body, "TED/DD/MNT"), "4309.35")

    def test_debit_note_111_references_the_export(self):
        invoice = self.make_export()
        invoice.action_post()
        note = self.make_export(self.doc_111, lines=[{"price_unit": 120.5, "quantity": 1, "tax_ids": []}],
                                l10n_cl_dte_reference_ids=[Command.create(
                                    invoice._l10n_cl_dte_reference_values(code="3", reason="Flete adicional"))])
        note.action_post()
        body = self.assert_valid(note, 111)
        self.assertEqual(xmlutil.findtext(body, "Referencia/TpoDocRef"), "110")
        self.assertEqual(xmlutil.findtext(body, "Referencia/CodRef"), "3")

    def test_export_and_its_credit_note_accepted_by_the_sii(self):
        self.sii.reset()
        invoice = self.make_export()
        invoice.action_post()
        wizard = self.env["account.move.reversal"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"reason": "Mercadería devuelta", "journal_id": invoice.journal_id.id})
        credit_note = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        credit_note.action_post()
        moves = invoice | credit_note
        self.Envelope._cron_l10n_cl_dte_send()
        self.assertEqual(set(moves.mapped("l10n_cl_dte_status")), {"sent"})
        for _round in range(6):
            moves.l10n_cl_dte_envelope_id.write({"next_poll_at": fields.Datetime.now() - timedelta(seconds=1)})
            self.Envelope._cron_l10n_cl_dte_poll()
            if "sent" not in moves.mapped("l10n_cl_dte_status"):
                break
        self.assertEqual(moves.mapped("l10n_cl_dte_status"), ["accepted", "accepted"], moves.mapped("l10n_cl_dte_sii_message"))

    def test_printed_export_shows_issuer_sii_box_and_dollars(self):
        self.company.l10n_cl_sii_regional_office = "Santiago Centro"
        move = self.make_export()
        move.action_post()
        report = self.env.ref("account.account_invoices")
        html, _kind = self.env["ir.actions.report"]._render_qweb_html("account.account_invoices", move.ids)
        bodies, _ids, header, _footer, _args = report._prepare_html(html.decode(), report_model="account.move")
        body = str(bodies[0])
        box = etree.HTML(body).xpath("//div[@name='l10n_cl_dte_issuer_and_sii_box']")
        self.assertEqual(len(box), 1, "the issuer and the SII box are in the page body")
        text = " ".join(" ".join(box[0].itertext()).split())
        for expected in ("76.192.083-9", f"Nº: {move.l10n_cl_dte_folio}", "S.I.I. - Santiago Centro",
                         "Servicios informaticos"):
            self.assertIn(expected, text)
        self.assertIn("export", text.lower())
        # Amounts in dollars, with their cents (in pesos the total would be 4.093.883).
        self.assertIn("4,309.35", body)
        self.assertIn("1,436.45", body)
        self.assertIn("Timbre Electrónico SII", body)
        export = etree.HTML(body).xpath("//div[@name='l10n_cl_dte_export']")
        self.assertEqual(len(export), 1, "the printed export states its currencies and customs data")
        text = " ".join(" ".join(export[0].itertext()).split())
        for expected in ("DOLAR USA", "950", "4,093,883", "5 - FOB", "906 - SAN ANTONIO", "141 - MIAMI",
                         "4 PALLETS", "12 CAJA DE CARTON", "Exchange Rate: 950 "):
            self.assertIn(expected, text)

    # --- refusals: naming the field, consuming no folio ---------------------------------------------

    def assert_export_refused(self, move, message):
        folio = self.next_folio(self.caf_110)
        with self.assertRefused(UserError, message):
            move.action_post()
        self.assertEqual(move.state, "draft")
        self.assertFalse(move.l10n_cl_dte_folio)
        self.assertEqual(self.next_folio(self.caf_110), folio)

    def test_refused_without_the_customs_data_the_sii_requires(self):
        required = {
            "l10n_cl_dte_sale_modality_id": "Sale Modality.*CodModVenta",
            "l10n_cl_dte_sale_clause_id": "Sale Clause.*CodClauVenta",
            "l10n_cl_dte_transport_way_id": "Transport Way.*CodViaTransp",
            "l10n_cl_dte_destination_country_id": "Destination Country.*CodPaisDestin",
            "l10n_cl_dte_weight_unit_id": "Weight Unit.*CodUnidPesoBruto",
        }
        for name, message in required.items():
            with self.subTest(field=name):
                move = self.make_export()
                move[name] = False
                self.assert_export_refused(move, message)
        move = self.make_export()
        move.l10n_cl_dte_package_ids = [Command.clear()]
        self.assert_export_refused(move, "Packages.*TotBultos")
        # The receiver's country defaults to the customer's nationality: refused only when neither is known.
        self.foreign_customer.country_id = False
        move = self.make_export()
        self.assertFalse(move.l10n_cl_dte_receiver_country_id)
        self.assert_export_refused(move, "Receiver's Country.*CodPaisRecep")

    def test_refused_with_a_wrong_carrier_rut(self):
        self.assert_export_refused(self.make_export(l10n_cl_dte_customs_carrier_vat="76086428-1"),
                                   "Carrier RUT.*RUTCiaTransp.*76086428-1")

    def test_refused_without_an_exchange_rate(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        self.env["res.currency.rate"].search([("currency_id", "=", eur.id)]).unlink()
        self.assert_export_refused(self.make_export(currency_id=eur.id), "exchange rate of EUR")

    def test_refused_with_a_taxed_line(self):
        move = self.make_export(lines=[{"price_unit": 100.0, "quantity": 1, "name": "Vino con IVA"}])
        self.assertTrue(move.invoice_line_ids.tax_ids)
        self.assert_export_refused(move, "remove the taxes of the lines Vino con IVA")

    def test_export_note_refused_without_its_reference(self):
        note = self.make_export(self.doc_111)
        with self.assertRefused(UserError, "must reference the document it modifies"):
            note.action_post()
        self.assertFalse(note.l10n_cl_dte_folio)

    def test_refusal_is_in_spanish_for_a_chilean_user(self):
        self.env["res.lang"]._activate_lang("es_CL")
        self.env["ir.module.module"].search([("name", "=", "l10n_cl_dte")])._update_translations(["es_CL"])
        move = self.make_export(l10n_cl_dte_transport_way_id=False).with_context(lang="es_CL")
        self.assert_export_refused(move, r"Exportación: indique Vía de transporte \(CodViaTransp")
