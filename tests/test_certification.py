"""The certification workspace: the SII's real test set issued as Odoo records, sent, booked and printed.

The set is the one a company received (the engine's fixture
``sii_engine/tests/fixtures/sets/SIISetDePruebas762352915-05.txt``, see its
README for the origin). The SII is the local simulator, reached over HTTP by
the company's SII client; everything else is the real Odoo and engine.
"""

import base64
import os
import shutil
import subprocess
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, HttpCase, tagged

from ..sii_engine import ted as engine_ted
from ..sii_engine import xmlutil
from ..sii_engine.certification import issue as engine_issue
from ..sii_engine.certification import setfile
from ..sii_engine.totals import compute_totals
from .common import COMPANY_RUT, TestClDteCommon
from .common_export import ExportMixin

SETS = Path(__file__).parent.parent / "sii_engine" / "tests" / "fixtures" / "sets"
REAL_SET = SETS / "SIISetDePruebas762352915-05.txt"
EXEMPT_SET = SETS / "004-factura_exenta.txt"  # LibreDTE's example (see the folder's README)
BASIC_ATTENTION = "4352553"


@tagged("post_install", "-at_install")
class TestCertification(ExportMixin, TestClDteCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_certification()

    @classmethod
    def setup_certification(cls):
        """The simulator, the CAFs of every type the real set issues, its journals (also for other classes)."""
        cls.start_sii_simulator()
        # The factura de compra set is issued too (TestCertificationPurchase): its type and purchase journal.
        cls.doc_46 = cls.env.ref("l10n_cl.dc_fc_f_dte")
        cls.doc_46.active = True
        cls.purchase_journal = cls.company_data["default_journal_purchase"]
        cls.purchase_journal.l10n_latam_use_documents = True
        for document_type in (cls.doc_33, cls.doc_34, cls.doc_46, cls.doc_56, cls.doc_61,
                              cls.env.ref("l10n_cl.dc_gd_dte")):
            cls.load_caf(document_type, 1, 50)
        cls.setup_export_sets()  # the real set holds the export sets too (TestCertificationExports)
        cls.set_data = REAL_SET.read_bytes()
        # wkhtmltopdf fetches the report's CSS from this test's HTTP server.
        cls.env["ir.config_parameter"].sudo().set_param("report.url", cls.base_url())

    def setUp(self):
        super().setUp()
        self.sii.reset()

    def make_workspace(self, data=None):
        return self.env["l10n_cl_dte.certification"].create({
            "company_id": self.company.id,
            "set_file": base64.b64encode(data or self.set_data),
            "set_filename": "SIISetDePruebas.txt",
            "partner_id": self.customer.id,
            "journal_id": self.sale_journal.id,
            "export_partner_id": self.foreign_customer.id,
        })

    def poll(self, workspace, rounds=6):
        for _round in range(rounds):
            (workspace.case_ids.move_id.l10n_cl_dte_envelope_id | workspace.case_ids.picking_id.l10n_cl_dte_envelope_id
             ).write(
                {"next_poll_at": fields.Datetime.now() - timedelta(seconds=1)})
            workspace.action_check_status()
            waiting = workspace.case_ids.filtered(lambda case: case.dte_status == "sent")
            if not waiting and not workspace.book_ids.filtered(lambda book: book.state == "sent"):
                return
        self.fail("still waiting for the SII")

    def engine_totals(self, workspace):
        """Each basic case's totals as the engine computes them from the set file alone (folios as issued)."""
        test_set = next(s for s in setfile.parse_set_file(self.set_data) if s.kind == setfile.BASICO)
        issuer = self.company._l10n_cl_dte_engine_issuer()
        receiver = self.customer._l10n_cl_dte_receiver()
        folios = {case.case_ref: case.folio for case in workspace.case_ids}
        earlier, totals = {}, {}
        for case in test_set.cases:
            document = engine_issue.case_document(case, folios[case.case_id], workspace.issue_date, issuer,
                                                  receiver, earlier)
            earlier[case.case_id] = document
            totals[case.case_id] = compute_totals(document)
        return totals

    def test_real_set_end_to_end(self):
        workspace = self.make_workspace()
        self.assertEqual(workspace.step, "upload")
        workspace.action_read_set()
        self.assertEqual(
            [(s.kind, s.attention) for s in workspace.set_ids][:3],
            [(setfile.BASICO, BASIC_ATTENTION), (setfile.LIBRO_VENTAS, "4352554"), (setfile.LIBRO_COMPRAS, "4352555")],
        )
        basic = workspace.set_ids.filtered(lambda s: s.kind == setfile.BASICO)
        self.assertEqual(basic.case_ids.mapped("case_ref"), [f"{BASIC_ATTENTION}-{n}" for n in range(1, 9)])
        self.assertEqual(basic.case_ids.document_type_id.mapped("code"), ["33", "61", "56"])
        self.assertEqual(workspace.step, "issue")

        # Step 2: every case of the basic set is a posted Odoo document with its folio.
        workspace.action_issue()
        cases = basic.case_ids
        self.assertTrue(all(case.move_id.state == "posted" and case.folio for case in cases))
        self.assertEqual(cases.mapped(lambda c: (c.document_type_id.code, c.folio)),
                         [("33", 1), ("33", 2), ("33", 3), ("33", 4), ("61", 1), ("61", 2), ("61", 3), ("56", 1)])
        self.assertFalse(any(cases.mapped("mismatch")), cases.mapped("mismatch"))
        engine = self.engine_totals(workspace)
        for case in cases:
            dte = xmlutil.find(xmlutil.parse(case.move_id.l10n_cl_dte_file_id.raw), "Documento/Encabezado/Totales")
            expected = engine[case.case_ref]
            self.assertEqual(Decimal(xmlutil.findtext(dte, "MntTotal")), expected.total, case.case_ref)
            self.assertEqual(Decimal(xmlutil.findtext(dte, "MntNeto") or 0), expected.net or 0, case.case_ref)
            self.assertEqual(Decimal(xmlutil.findtext(dte, "MntExe") or 0), expected.exempt or 0, case.case_ref)
            self.assertEqual(case.move_id.amount_total, float(expected.total), case.case_ref)
        # The SII's rules, checked on known figures: global discount 22% on the taxed lines only,
        # the exempt service untouched; the credit note for returned goods at the invoice's discount.
        case_4 = cases.filtered(lambda c: c.case_ref.endswith("-4")).move_id
        self.assertEqual(case_4.amount_untaxed, 2894709 + 13666)
        self.assertEqual(case_4.amount_total, 2894709 + 13666 + 549995)
        case_6 = cases.filtered(lambda c: c.case_ref.endswith("-6")).move_id
        self.assertEqual(case_6.amount_untaxed, round(278 * 5874 * 0.9) + round(477 * 4925 * 0.77))
        # References: the SET one first, then the case the note modifies, by its Odoo folio.
        for case in cases:
            reference = case.move_id.l10n_cl_dte_reference_ids[0]
            self.assertEqual((reference.other_type, reference.folio, reference.reason),
                             ("SET", BASIC_ATTENTION, f"CASO {case.case_ref}"))
        note_8 = cases[7].move_id.l10n_cl_dte_reference_ids[1]
        self.assertEqual((note_8.document_type_id.code, note_8.folio, note_8.code), ("61", "1", "1"))
        note_6 = cases[5].move_id.l10n_cl_dte_reference_ids[1]
        self.assertEqual((note_6.document_type_id.code, note_6.folio, note_6.code), ("33", "2", "3"))
        self.assertEqual(workspace.step, "send")
        self.assertTrue(workspace.can_send)
        # The case's own form: its set, the record issued for it, the totals by Odoo and by the SII's rules.
        case_form = Form(cases[3], view="l10n_cl_dte.l10n_cl_dte_certification_case_view_form")
        self.assertEqual((case_form.set_id, case_form.move_id, case_form.folio), (basic, cases[3].move_id, 4))
        self.assertEqual((case_form.amount_total, case_form.engine_total, case_form.difference),
                         (case_4.amount_total, case_4.amount_total, 0))

        # Step 3: one envelope of the set, accepted.
        workspace.action_send()
        self.assertEqual(set(cases.mapped("dte_status")), {"sent"})
        self.assertEqual(workspace.step, "send")
        self.assertFalse(workspace.can_send, "nothing to send while the SII has not answered")
        envelope = cases.move_id.l10n_cl_dte_envelope_id
        self.assertEqual(len(envelope), 1)
        self.assertEqual(basic.envelope_id, envelope)
        self.assertEqual(self.sii.upload_count(), 5, "one envelope per set: the basic, the factura de compra, the "
                                                     "guías' (TestCertificationGuias) and the two export sets'")
        self.poll(workspace)
        self.assertEqual(envelope.state, "accepted")
        self.assertEqual(set(cases.mapped("dte_status")), {"accepted"})
        self.assertEqual(workspace.step, "books")

        # Step 4: the sales book (the basic set's documents) and the purchase book, accepted.
        workspace.action_send_books()
        sales = workspace.book_ids.filtered(lambda s: s.kind == setfile.LIBRO_VENTAS)
        purchases = workspace.book_ids.filtered(lambda s: s.kind == setfile.LIBRO_COMPRAS)
        self.assertEqual(set(workspace.book_ids.mapped("state")), {"sent"})
        self.poll(workspace)
        self.assertEqual(sales.state, "accepted", sales.sii_message)
        self.assertEqual(purchases.state, "accepted", purchases.sii_message)
        book = etree.fromstring(sales.book_attachment_id.raw)
        ns = {"sii": xmlutil.SII_NS}
        self.assertEqual(book.findtext(".//sii:FolioNotificacion", namespaces=ns), "4352554")
        self.assertEqual(book.findtext(".//sii:TipoOperacion", namespaces=ns), "VENTA")
        invoices = cases.filtered(lambda c: c.document_type_id.code == "33").move_id
        totals_33 = book.xpath(".//sii:TotalesPeriodo[sii:TpoDoc='33']", namespaces=ns)[0]
        self.assertEqual(float(totals_33.findtext("sii:TotMntTotal", namespaces=ns)),
                         sum(invoices.mapped("amount_total")))
        self.assertEqual(len(book.findall(".//sii:Detalle", namespaces=ns)), 8)
        self.assertIn("TotMntTotal", sales.book_totals)
        self.assertEqual(workspace.step, "samples")

        # Step 5: one PDF with every document, then the CEDIBLE copies of the facturas, then the guías.
        self.assert_samples(workspace, workspace.case_ids.filtered(lambda case: case._l10n_cl_dte_issued()))
        # Then the exchange (TestCertificationExchange): every set of the file is issued here, none is named.
        self.assertEqual(workspace.step, "exchange")
        for attention in workspace.set_ids.mapped("attention"):
            self.assertNotIn(attention, workspace.progress)

    def assert_samples(self, workspace, cases):
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() not in ("ok", "upgrade", "workers"):
            self.skipTest("wkhtmltopdf is not installed: the samples cannot be printed")
        import zxingcpp  # test dependency (requirements-test.txt)
        from PIL import Image

        action = workspace.with_context(force_report_rendering=True).action_print_samples()
        self.assertIn(str(workspace.samples_attachment_id.id), action["url"])
        pdf = workspace.samples_attachment_id.raw
        self.assertTrue(pdf.startswith(b"%PDF"))
        workdir = tempfile.mkdtemp(prefix="l10n_cl_dte_samples_")
        self.addCleanup(shutil.rmtree, workdir, True)
        path = os.path.join(workdir, "samples.pdf")
        Path(path).write_bytes(pdf)
        keep = os.environ.get("L10N_CL_DTE_REPORT_DIR")
        if keep:  # to look at the samples: L10N_CL_DTE_REPORT_DIR=shots/report
            os.makedirs(keep, exist_ok=True)
            shutil.copy(path, os.path.join(keep, "certification_samples.pdf"))
        # Each factura is followed by its CEDIBLE copy: page by page, the stamp read back with a
        # barcode reader is the TED of the expected document, and verifies with the CAF's key.
        expected = []
        for case in cases:
            expected += [case._l10n_cl_dte_issued()] * (2 if case.document_type_id.code == "33" else 1)
        subprocess.run(["pdftoppm", "-r", "300", "-png", path, os.path.join(workdir, "page")], check=True,
                       timeout=300)
        pages = sorted(name for name in os.listdir(workdir) if name.endswith(".png"))
        self.assertEqual(len(pages), len(expected), "one page per document and per CEDIBLE copy")
        for page, record in zip(pages, expected, strict=True):
            with Image.open(os.path.join(workdir, page)) as image:
                results = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.PDF417)
            self.assertEqual(len(results), 1, page)
            decoded = bytes(results[0].bytes)
            self.assertEqual(decoded.decode("ISO-8859-1"), record.l10n_cl_dte_ted, page)
            stamp = engine_ted.verify_ted(etree.fromstring(decoded, etree.XMLParser(encoding="iso-8859-1")),
                                          self.authority.trusted_keys())
            self.assertEqual((stamp.issuer_rut, stamp.data.folio), (COMPANY_RUT, record.l10n_cl_dte_folio))

    def test_exempt_invoice_set(self):
        """The set of facturas exentas: exempt lines only, notes correcting amounts and texts, the same rules."""
        data = EXEMPT_SET.read_bytes()
        workspace = self.make_workspace(data)
        workspace.action_read_set()
        self.assertEqual(workspace.set_ids.mapped("kind"), [setfile.FACTURA_EXENTA])
        workspace.action_issue()
        cases = workspace.case_ids
        self.assertTrue(cases and all(case.move_id.state == "posted" for case in cases))
        self.assertFalse(any(cases.mapped("mismatch")), cases.mapped("mismatch"))
        self.assertEqual(set(cases.move_id.invoice_line_ids.tax_ids.ids), set(), "exempt lines carry no VAT")
        test_set = setfile.parse_set_file(data)[0]
        issuer, receiver = self.company._l10n_cl_dte_engine_issuer(), self.customer._l10n_cl_dte_receiver()
        earlier = {}
        for case, engine_case in zip(cases, test_set.cases, strict=True):
            document = engine_issue.case_document(engine_case, case.folio, workspace.issue_date, issuer, receiver,
                                                  earlier)
            earlier[engine_case.case_id] = document
            self.assertEqual(case.move_id.amount_total, float(compute_totals(document).total), case.case_ref)
        self.assertEqual(cases[0].move_id.amount_total, 12 * 6991)
        workspace.action_send()
        self.poll(workspace)
        self.assertEqual(set(cases.mapped("dte_status")), {"accepted"})
        self.assertEqual(workspace.step, "samples")
        attachment = self.env["ir.attachment"].create({"name": "samples.pdf", "raw": b"%PDF"})
        workspace.write({"samples_attachment_id": attachment.id, "exchange_result_attachment_id": attachment.id})
        # The file holds only this set: what is left is the simulation (TestCertificationSimulation).
        self.assertEqual([step for step, _text in workspace._l10n_cl_dte_what_is_left()], ["simulation"])
        self.assertEqual(workspace.step, "simulation")

    def test_a_case_that_differs_from_the_rules_is_not_sent(self):
        workspace = self.make_workspace(EXEMPT_SET.read_bytes())
        workspace.action_read_set()
        workspace.action_issue()
        self.assertFalse(any(workspace.case_ids.mapped("mismatch")))
        case = workspace.case_ids[0]
        # What _l10n_cl_dte_compare records when the DTE and the SII's rules disagree.
        case._l10n_cl_dte_compare(compute_totals(engine_issue.case_document(
            setfile.parse_set_file(EXEMPT_SET.read_bytes())[0].cases[2], case.folio, workspace.issue_date,
            self.company._l10n_cl_dte_engine_issuer(), self.customer._l10n_cl_dte_receiver(), {})))
        self.assertIn("MntTotal", case.mismatch)
        self.assertEqual(case.difference, case.amount_total - case.engine_total)
        self.assertNotEqual(case.difference, 0)
        with self.assertRaises(UserError) as caught:
            workspace.action_send()
        self.assertIn(case.display_name, str(caught.exception))
        self.assertFalse(workspace.case_ids.move_id.l10n_cl_dte_envelope_id, "nothing of the set was sent")
        self.assertEqual(self.sii.upload_count(), 0)

    def test_only_account_managers_open_the_workspace(self):
        workspace = self.make_workspace()
        billing = self.env["res.users"].create({
            "name": "Billing", "login": "certification_billing", "company_id": self.company.id,
            "company_ids": [(6, 0, self.company.ids)],
            "groups_id": [(6, 0, [self.env.ref("account.group_account_invoice").id])],
        })
        with self.assertRaises(AccessError):
            workspace.with_user(billing).read(["set_filename"])
        manager = self.make_account_manager("certification_manager")
        self.assertEqual(workspace.with_user(manager).read(["set_filename"])[0]["set_filename"],
                         "SIISetDePruebas.txt")

    def test_malformed_set_is_refused_with_its_line(self):
        lines = self.set_data.decode("utf-8", "replace").splitlines()
        number = next(i for i, line in enumerate(lines, 1) if line.startswith("Relleno AFECTO"))
        lines[number - 1] = "Relleno AFECTO\t\t    setenta y uno\t\t   5813"
        workspace = self.make_workspace("\n".join(lines).encode())
        with self.assertRaises(UserError) as caught:
            workspace.action_read_set()
        self.assertIn(f"line {number}", str(caught.exception))
        self.assertFalse(workspace.set_ids, "nothing of a refused set is kept")

    def test_refused_in_production(self):
        self.company.l10n_cl_dte_environment = "production"
        with self.assertRaises(UserError) as caught:
            self.make_workspace()
        self.assertIn("certification environment", str(caught.exception))

    def test_issue_needs_the_customer(self):
        workspace = self.make_workspace()
        workspace.action_read_set()
        workspace.partner_id = False
        with self.assertRaises(UserError) as caught:
            workspace.action_issue()
        self.assertIn("customer of the cases", str(caught.exception))
        self.assertFalse(workspace.case_ids.move_id)
