"""The printed invoice: SII box, electronic stamp and CEDIBLE copy.

The PDF is rendered by wkhtmltopdf, rasterised at 300 dpi like a scan of the
paper, and the stamp read back with an ordinary barcode reader (zxing-cpp):
what it reads must be the TED Odoo stored, and that TED must verify with the
CAF's key, which the stand-in SII authority signed.
"""

import os
import shutil
import subprocess
import tempfile

from lxml import etree

from odoo import fields
from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.l10n_cl_dte.sii_engine import identities
from odoo.addons.l10n_cl_dte.sii_engine import ted as engine_ted
from odoo.addons.l10n_cl_dte.tests.chilean_company import COMPANY_RUT, load_caf, make_issuer, vat_19
from odoo.tests import HttpCase, tagged

CUSTOMER_RUT = "60803000-K"
ACKNOWLEDGEMENT = "El acuse de recibo que se declara en este acto"


@tagged("post_install", "-at_install")
class TestReport(AccountTestInvoicingCommon, HttpCase):

    @classmethod
    @AccountTestInvoicingCommon.setup_country("cl")
    def setUpClass(cls):
        super().setUpClass()
        chile = cls.env.ref("base.cl")
        rut = cls.env.ref("l10n_cl.it_RUT")
        cls.authority = identities.TestAuthority()
        # wkhtmltopdf fetches the report's CSS from this test's HTTP server.
        cls.env["ir.config_parameter"].sudo().set_param("report.url", cls.base_url())

        cls.company = cls.company_data["company"]
        cls.company.partner_id.write({"l10n_latam_identification_type_id": rut.id, "l10n_cl_sii_taxpayer_type": "1"})
        make_issuer(
            cls.env, cls.company, cls.authority, name="Servicios de Prueba SpA", street="Teatinos 120, Of. 3000",
            l10n_cl_activity_description="Servicios", l10n_cl_dte_resolution_number=80,
            l10n_cl_dte_resolution_date="2014-08-22", l10n_cl_sii_regional_office="Santiago Centro",
        )
        load_caf(cls.env, cls.company, cls.authority, "33", 1, 100)
        cls.customer = cls.env["res.partner"].create({
            "name": "Jardines Infantiles Limitada",
            "is_company": True,
            "country_id": chile.id,
            "l10n_latam_identification_type_id": rut.id,
            "vat": CUSTOMER_RUT,
            "l10n_cl_sii_taxpayer_type": "1",
            "street": "Gran Avenida José Miguel Carrera 5555",
            "city": "San Miguel",
            "l10n_cl_activity_description": "Administración de salas cuna",
        })
        cls.sale_journal = cls.company_data["default_journal_sale"]
        cls.sale_journal.l10n_latam_use_documents = True
        cls.vat_19 = vat_19(cls.env, cls.company)

    def _post_invoice(self):
        invoice = self.env["account.move"].create({
            "move_type": "out_invoice",
            "partner_id": self.customer.id,
            "journal_id": self.sale_journal.id,
            "invoice_date": fields.Date.context_today(self.env.user),
            "l10n_latam_document_type_id": self.env.ref("l10n_cl.dc_a_f_dte").id,
            "invoice_line_ids": [fields.Command.create({
                "product_id": self.product_a.id,
                "name": "Asesoría en sistemas",
                "quantity": 3,
                "price_unit": 25000,
                "tax_ids": [fields.Command.set(self.vat_19.ids)],
            })],
        })
        invoice.action_post()
        self.assertTrue(invoice.l10n_cl_dte_ted, "posting a type 33 must stamp it")
        return invoice

    def _draft_invoice(self):
        return self.env["account.move"].create({
            "move_type": "out_invoice",
            "partner_id": self.customer.id,
            "journal_id": self.sale_journal.id,
            "l10n_latam_document_type_id": self.env.ref("l10n_cl.dc_a_f_dte").id,
            "invoice_line_ids": [fields.Command.create({"name": "Borrador", "quantity": 1, "price_unit": 1000})],
        })

    def _render_pdf(self, report_ref, invoice):
        pdf, _kind = self.env["ir.actions.report"].with_context(force_report_rendering=True)._render_qweb_pdf(
            report_ref, invoice.ids
        )
        return pdf

    def _render_html(self, report_ref, invoice):
        html, _kind = self.env["ir.actions.report"]._render_qweb_html(report_ref, invoice.ids)
        return html.decode()

    def _read_stamps_from_pdf(self, invoice, barcode_format, keep_as=None):
        """Render the invoice PDF, rasterise its page at 300 dpi and read the barcodes on it."""
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() not in ("ok", "upgrade", "workers"):
            self.skipTest("wkhtmltopdf is not installed: the PDF and its printed stamp cannot be rendered")
        import zxingcpp  # test dependency (requirements-test.txt)
        from PIL import Image

        pdf = self._render_pdf("account.account_invoices", invoice)
        self.assertTrue(pdf.startswith(b"%PDF"), "wkhtmltopdf must have produced a PDF")
        workdir = tempfile.mkdtemp(prefix="l10n_cl_dte_report_")
        self.addCleanup(shutil.rmtree, workdir, True)
        pdf_path = os.path.join(workdir, "invoice.pdf")
        with open(pdf_path, "wb") as handle:
            handle.write(pdf)
        subprocess.run(
            ["pdftoppm", "-r", "300", "-png", "-f", "1", "-l", "1", pdf_path, os.path.join(workdir, "page")],
            check=True, timeout=120,
        )
        pages = sorted(name for name in os.listdir(workdir) if name.startswith("page") and name.endswith(".png"))
        self.assertTrue(pages, "pdftoppm produced no page")
        page_path = os.path.join(workdir, pages[0])
        keep = os.environ.get("L10N_CL_DTE_REPORT_DIR")
        if keep and keep_as:  # to look at the page: L10N_CL_DTE_REPORT_DIR=shots/report
            os.makedirs(keep, exist_ok=True)
            shutil.copy(pdf_path, os.path.join(keep, f"{keep_as}.pdf"))
            shutil.copy(page_path, os.path.join(keep, f"{keep_as}.png"))
        with Image.open(page_path) as page:
            return zxingcpp.read_barcodes(page.convert("L"), formats=barcode_format)

    def _assert_verified_stamp(self, results, invoice):
        self.assertEqual(len(results), 1, "the page must carry exactly one stamp")
        decoded = bytes(results[0].bytes)
        self.assertEqual(decoded.decode("ISO-8859-1"), invoice.l10n_cl_dte_ted)
        ted = etree.fromstring(decoded, etree.XMLParser(encoding="iso-8859-1"))
        stamp = engine_ted.verify_ted(ted, self.authority.trusted_keys())
        self.assertEqual(stamp.data.folio, invoice.l10n_cl_dte_folio)
        self.assertEqual(stamp.data.document_type, 33)
        self.assertEqual(stamp.issuer_rut, COMPANY_RUT)
        self.assertEqual(stamp.data.total, round(invoice.amount_total))

    def test_stamp_in_pdf_decodes_to_verified_ted(self):
        import zxingcpp

        invoice = self._post_invoice()
        results = self._read_stamps_from_pdf(invoice, zxingcpp.BarcodeFormat.PDF417, keep_as="invoice_33")
        self._assert_verified_stamp(results, invoice)
        # manual_upload §1.5: at least 2 cm from the left edge, between 5 and 9 cm wide (page read at 300 dpi).
        position = results[0].position
        xs = [point.x for point in (position.top_left, position.top_right, position.bottom_left, position.bottom_right)]
        left_cm, width_cm = min(xs) * 2.54 / 300, (max(xs) - min(xs)) * 2.54 / 300
        self.assertGreaterEqual(left_cm, 2.0)
        self.assertTrue(5.0 <= width_cm <= 9.0, f"the stamp is {width_cm:.1f} cm wide")
        keep = os.environ.get("L10N_CL_DTE_REPORT_DIR")
        if keep:
            with open(os.path.join(keep, "invoice_33_cedible.pdf"), "wb") as handle:
                handle.write(self._render_pdf("l10n_cl_dte.action_report_invoice_cedible", invoice))

    def test_qr_stamp_in_pdf_decodes_to_verified_ted(self):
        import zxingcpp

        self.company.l10n_cl_dte_barcode = "qr"
        invoice = self._post_invoice()
        results = self._read_stamps_from_pdf(invoice, zxingcpp.BarcodeFormat.QRCode, keep_as="invoice_33_qr")
        self._assert_verified_stamp(results, invoice)

    def test_invoice_html_shows_sii_box_and_stamp_legend(self):
        invoice = self._post_invoice()
        html = self._render_html("account.account_invoices", invoice)
        self.assertIn("S.I.I. - ", html)
        self.assertIn("Santiago Centro", html)
        self.assertIn("Timbre Electrónico SII", html)
        self.assertIn("Res. N° 80 de 2014", html)
        self.assertIn("Verifique documento: www.sii.cl", html)
        self.assertIn("data:image/png;base64,", html)
        self.assertIn("Servicios", html)  # the issuer's giro
        self.assertIn("Administración de salas cuna", html)  # the receiver's giro, as in the DTE
        self.assertNotIn("CEDIBLE", html)
        self.assertNotIn(ACKNOWLEDGEMENT, html)

    def _body_and_header(self, invoice):
        """What wkhtmltopdf gets: the page bodies, and the header that builds without Odoo's patched Qt drop."""
        report = self.env.ref("account.account_invoices")
        html = self._render_html("account.account_invoices", invoice)
        bodies, _ids, header, _footer, _args = report._prepare_html(html, report_model="account.move")
        self.assertEqual(len(bodies), 1)
        return str(bodies[0]), str(header)

    def test_issuer_and_sii_box_are_in_the_page_body(self):
        """Page 1 carries the issuer and the SII box whatever the wkhtmltopdf build: they are not in the header."""
        invoice = self._post_invoice()
        body, header = self._body_and_header(invoice)
        box = etree.HTML(body).xpath("//div[@name='l10n_cl_dte_issuer_and_sii_box']")
        self.assertEqual(len(box), 1, "one issuer block with the SII box, in the body")
        text = " ".join(" ".join(box[0].itertext()).split())
        for expected in (
            "Servicios de Prueba SpA",  # razón social
            "76.192.083-9",  # RUT, in the box
            "Servicios",  # giro
            "Teatinos 120, Of. 3000",  # address
            "Santiago",
            f"Nº: {invoice.l10n_cl_dte_folio}",
            "S.I.I. - Santiago Centro",
        ):
            self.assertIn(expected, text)
        self.assertIn("electronic invoice", text.lower())
        self.assertNotIn("76.192.083-9", header, "the SII box is printed once, in the body")

    def test_unstamped_document_keeps_the_header(self):
        draft = self._draft_invoice()
        body, header = self._body_and_header(draft)
        self.assertIn("76.192.083-9", header)
        self.assertNotIn("l10n_cl_dte_issuer_and_sii_box", body)

    def test_credit_note_prints_the_document_it_corrects(self):
        load_caf(self.env, self.company, self.authority, "61", 1, 10)
        invoice = self._post_invoice()
        wizard = self.env["account.move.reversal"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"reason": "Precio mal digitado", "journal_id": invoice.journal_id.id,
                  "l10n_cl_dte_reference_code": "3"})
        credit_note = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        credit_note.action_post()
        self.assertTrue(credit_note.l10n_cl_dte_ted)
        body, _header = self._body_and_header(credit_note)
        table = etree.HTML(body).xpath("//table[@name='l10n_cl_dte_references']")
        self.assertEqual(len(table), 1, "the printed credit note lists what it corrects")
        row = [" ".join("".join(cell.itertext()).split()) for cell in table[0].xpath(".//tbody/tr[1]/td")]
        self.assertEqual(row[0], invoice.l10n_latam_document_type_id.name)
        self.assertEqual(row[1], str(invoice.l10n_cl_dte_folio))
        self.assertEqual(row[2], invoice.invoice_date.strftime("%m/%d/%Y"))
        self.assertIn("Corrects amounts", row[3])
        self.assertIn("Precio mal digitado", row[3])
        self.assertNotIn("l10n_cl_dte_references", self._body_and_header(invoice)[0])

    def test_document_name_in_spanish(self):
        """The box names the document in Spanish (manual_upload §1.1.4) whatever the customer's language."""
        self.env["res.lang"]._activate_lang("es_419")
        self.env["ir.module.module"].search([("name", "=", "l10n_cl")])._update_translations(["es_419"])
        invoice = self._post_invoice()
        self.assertEqual(invoice.partner_id.lang, "en_US")
        html = self._render_html("account.account_invoices", invoice)
        self.assertIn("Factura Electrónica", html)
        self.assertNotIn("Electronic Invoice", html)

    def test_cedible_copy(self):
        invoice = self._post_invoice()
        cedible = self._render_html("l10n_cl_dte.action_report_invoice_cedible", invoice)
        self.assertIn("CEDIBLE", cedible)
        self.assertIn(ACKNOWLEDGEMENT, cedible)
        for label in ("Nombre", "RUT", "Fecha", "Recinto", "Firma"):
            self.assertIn(label, cedible)
        self.assertIn("Timbre Electrónico SII", cedible)
        normal = self._render_html("account.account_invoices", invoice)
        self.assertNotIn("CEDIBLE", normal)

        report = self.env.ref("l10n_cl_dte.action_report_invoice_cedible")
        self.assertEqual(report.get_valid_action_reports("account.move", invoice.ids), report.ids)
        draft = invoice.copy()
        self.assertFalse(report.get_valid_action_reports("account.move", draft.ids))
        self.assertNotIn("CEDIBLE", self._render_html("l10n_cl_dte.action_report_invoice_cedible", draft))

    def test_unstamped_invoice_prints_no_stamp(self):
        draft = self._draft_invoice()
        html = self._render_html("account.account_invoices", draft)
        self.assertNotIn("Timbre Electrónico SII", html)
