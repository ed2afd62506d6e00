"""The printed guía (52): the delivery slip with the issuer, the SII box and a stamp that reads back and verifies."""

import os
import shutil
import subprocess
import tempfile

from lxml import etree

from odoo import Command
from odoo.tests import HttpCase, tagged

from ..sii_engine import signature, xmlutil
from ..sii_engine import ted as engine_ted
from .common import COMPANY_RUT, TestClDteCommon
from .common_stock import StockGuiaMixin


@tagged("post_install", "-at_install")
class TestReportGuia(StockGuiaMixin, TestClDteCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # wkhtmltopdf fetches the report's CSS from this test's HTTP server.
        cls.env["ir.config_parameter"].sudo().set_param("report.url", cls.base_url())
        cls.company.write({"l10n_cl_dte_resolution_number": 80, "l10n_cl_dte_resolution_date": "2014-08-22",
                           "l10n_cl_sii_regional_office": "Santiago Centro"})
        cls.setup_guias()
        cls.load_caf(cls.doc_52, 1, 10)

    def guia(self):
        return self.validate(self.make_delivery(l10n_cl_dte_vehicle_plate="ABCD12", l10n_cl_dte_driver_name="Juan",
                                                   l10n_cl_dte_driver_vat="11111111-1"))

    def test_delivery_slip_shows_the_sii_box_and_the_stamp(self):
        picking = self.guia()
        html, _kind = self.env["ir.actions.report"]._render_qweb_html("stock.action_report_delivery", picking.ids)
        box = etree.HTML(html.decode()).xpath("//div[@name='l10n_cl_dte_issuer_and_sii_box']")
        self.assertEqual(len(box), 1)
        text = " ".join(" ".join(box[0].itertext()).split())
        for expected in ("GUÍA DE DESPACHO ELECTRÓNICA", f"Nº: {picking.l10n_cl_dte_folio}", "S.I.I. - Santiago Centro",
                         "Servicios informaticos", "Teatinos 120"):
            self.assertIn(expected, text)
        page = html.decode()
        for legend in ("Timbre Electrónico SII", "Res. N° 80 de 2014", "Verifique documento: www.sii.cl", "ABCD12"):
            self.assertIn(legend, page)
        # The receiver, as on every printed DTE: name, RUT and giro.
        receiver = picking.partner_id.commercial_partner_id
        row = etree.HTML(html.decode()).xpath("//table[@name='l10n_cl_dte_guia_data']")
        data = " ".join(" ".join(row[0].itertext()).split())
        for expected in (receiver.name, receiver.vat, receiver.l10n_cl_activity_description):
            self.assertTrue(expected)
            self.assertIn(expected, data)
        unstamped = self.make_delivery()
        html, _kind = self.env["ir.actions.report"]._render_qweb_html("stock.action_report_delivery", unstamped.ids)
        self.assertNotIn("Timbre Electrónico SII", html.decode())

    def test_valued_guia_prints_its_prices_totals_and_references(self):
        picking = self.make_delivery(lines=[(self.goods, 12)], l10n_cl_dte_reference_ids=[Command.create({
            "other_type": "801", "folio": "OC-4471", "reason": "Orden de compra del cliente"})])
        self.validate(picking)
        body = signature.dte_body(xmlutil.parse(picking.l10n_cl_dte_file_id.raw))
        html, _kind = self.env["ir.actions.report"]._render_qweb_html("stock.action_report_delivery", picking.ids)
        page = etree.HTML(html.decode())
        detail = page.xpath("//table[@name='l10n_cl_dte_guia_detail']")
        self.assertEqual(len(detail), 1, "a valued guía prints its prices")
        rows = [" ".join(" ".join(row.itertext()).split()) for row in detail[0].xpath(".//tbody/tr")]
        totals_table = page.xpath("//table[@name='l10n_cl_dte_guia_totals']")
        self.assertEqual(len(totals_table), 1, "beside the stamp")
        total_rows = [" ".join(" ".join(row.itertext()).split()) for row in totals_table[0].xpath(".//tr")]

        def digits(text):
            return "".join(character for character in text if character.isdigit())

        line = xmlutil.find(body, "Detalle")
        self.assertIn(xmlutil.findtext(line, "NmbItem"), rows[0])
        self.assertIn(digits(xmlutil.findtext(line, "MontoItem")), digits(rows[0]))
        # The totals as the DTE states them (net, VAT, total), with thousands separators.
        totals = xmlutil.find(body, "Encabezado/Totales")
        for tag in ("MntNeto", "IVA", "MntTotal"):
            amount = int(xmlutil.findtext(totals, tag))
            self.assertTrue([row for row in total_rows if digits(row).endswith(str(amount))], (tag, amount, total_rows))
        self.assertTrue([row for row in total_rows if f"{int(xmlutil.findtext(totals, 'MntTotal')):,}" in row
                         or f"{int(xmlutil.findtext(totals, 'MntTotal')):,}".replace(",", ".") in row], total_rows)
        references = page.xpath("//table[@name='l10n_cl_dte_guia_data']//tr[@name='l10n_cl_dte_reference']")
        self.assertEqual(len(references), 1, "one line per reference")
        text = " ".join(" ".join(references[0].itertext()).split())
        self.assertIn("OC-4471", text)
        self.assertIn("Orden de compra del cliente", text)

    def test_stamp_in_pdf_decodes_to_verified_ted(self):
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() not in ("ok", "upgrade", "workers"):
            self.skipTest("wkhtmltopdf is not installed: the PDF and its printed stamp cannot be rendered")
        import zxingcpp  # test dependency (requirements-test.txt)
        from PIL import Image

        picking = self.guia()
        pdf, _kind = self.env["ir.actions.report"].with_context(force_report_rendering=True)._render_qweb_pdf(
            "stock.action_report_delivery", picking.ids
        )
        workdir = tempfile.mkdtemp(prefix="l10n_cl_dte_guia_")
        self.addCleanup(shutil.rmtree, workdir, True)
        pdf_path = os.path.join(workdir, "guia.pdf")
        with open(pdf_path, "wb") as handle:
            handle.write(pdf)
        subprocess.run(["pdftoppm", "-r", "300", "-png", "-f", "1", "-l", "1", pdf_path,
                        os.path.join(workdir, "page")], check=True, timeout=120)
        page_path = os.path.join(workdir, next(n for n in sorted(os.listdir(workdir)) if n.endswith(".png")))
        with Image.open(page_path) as page:
            results = zxingcpp.read_barcodes(page.convert("L"), formats=zxingcpp.BarcodeFormat.PDF417)
        self.assertEqual(len(results), 1, "the page must carry exactly one stamp")
        decoded = bytes(results[0].bytes)
        self.assertEqual(decoded.decode("ISO-8859-1"), picking.l10n_cl_dte_ted)
        stamp = engine_ted.verify_ted(etree.fromstring(decoded, etree.XMLParser(encoding="iso-8859-1")),
                                      self.authority.trusted_keys())
        self.assertEqual(stamp.data.document_type, 52)
        self.assertEqual(stamp.data.folio, picking.l10n_cl_dte_folio)
        self.assertEqual(stamp.issuer_rut, COMPANY_RUT)
