"""The certification workspace's boleta set: boletas (39/41) and their credit notes, issued, sent, printed.

The set is LibreDTE's example of the SII's boleta set (the engine's fixture
``sii_engine/tests/fixtures/sets/007-boletas.csv``, see its README for the
origin), with one boleta exenta added by the test. The SII is the local
simulator over HTTP: the boletas go to its boleta service (EnvioBOLETA), the
notes to DTEUpload (EnvioDTE); everything else is the real Odoo and engine.
"""

import base64
from decimal import Decimal

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

from ..sii_engine import xmlutil
from ..sii_engine.certification import boletas as engine_boletas
from ..sii_engine.certification import setfile
from ..sii_engine.totals import compute_totals
from . import test_certification
from .common import TestClDteCommon

BOLETA_SET = test_certification.SETS / "007-boletas.csv"
EXEMPT_ROW = "11;1;entrada museo exenta;2;;4500;;\n"  # a boleta whose lines are all exempt: 41
ATTENTION = "4352600"
# What a customer paid for each boleta of the file: quantity times the shelf price (VAT included).
PAID = {1: 12 * 170 + 20 * 1050, 2: 29 * 2990, 3: 90 * 300 + 13 * 840, 4: 12 * 1500 + 2 * 2590 + 5000,
        5: 12 * 1690, 6: 5 * 25 + 20000, 7: 5 * 340, 8: 5 * 3178 + 38 * 150,
        9: 10 * 290 + 5 * 250 + 3 * 790 + 2 * 1190 + 3500, 10: round(Decimal("3.8") * 710), 11: 2 * 4500}


@tagged("post_install", "-at_install")
class TestCertificationBoletas(TestClDteCommon, HttpCase):

    poll = test_certification.TestCertification.poll
    assert_samples = test_certification.TestCertification.assert_samples

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_sii_simulator()
        cls.doc_39 = cls.env.ref("l10n_cl.dc_b_f_dte")
        cls.doc_41 = cls.env.ref("l10n_cl.dc_b_e_dte")
        cls.cafs = {code: cls.load_caf(document_type, 1, 50)
                    for code, document_type in (("39", cls.doc_39), ("41", cls.doc_41), ("61", cls.doc_61))}
        cls.company.write({"l10n_cl_dte_resolution_number": 80, "l10n_cl_dte_resolution_date": "2014-08-22"})
        # A shop's shelf prices include VAT: the tax its boletas are issued with.
        cls.vat_included = cls.vat_tax.copy({"price_include_override": "tax_included", "name": "IVA 19% incl."})
        cls.set_data = BOLETA_SET.read_bytes() + EXEMPT_ROW.encode()
        cls.env["ir.config_parameter"].sudo().set_param("report.url", cls.base_url())

    def setUp(self):
        super().setUp()
        self.sii.reset()

    def make_workspace(self, data=None, attention=ATTENTION):
        return self.env["l10n_cl_dte.certification"].create({
            "company_id": self.company.id,
            "boleta_set_file": base64.b64encode(data or self.set_data),
            "boleta_set_filename": "boletas.csv",
            "boleta_attention": attention,
            "partner_id": self.customer.id,
            "journal_id": self.sale_journal.id,
        })

    def engine_documents(self, workspace):
        """Each case's document as the engine makes it from the file alone, with the folios Odoo gave."""
        test_set = setfile.parse_boleta_set(self.set_data, attention=ATTENTION)
        folios = {case.case_ref: case.folio for case in workspace.case_ids}
        issuer = self.company._l10n_cl_dte_engine_issuer()
        receiver = self.env.ref("l10n_cl.par_cfa")._l10n_cl_dte_receiver()
        earlier, documents = {}, {}
        for case in engine_boletas.set_cases(test_set).cases:
            document = engine_boletas.case_document(case, folios[case.case_id], workspace.issue_date, issuer,
                                                    receiver, earlier, ATTENTION)
            earlier[case.case_id] = documents[case.case_id] = document
        return documents

    def test_boleta_set_end_to_end(self):
        workspace = self.make_workspace()
        workspace.action_read_set()
        boletas = workspace.set_ids
        self.assertEqual([(s.kind, s.attention) for s in boletas], [(setfile.BOLETA, ATTENTION)])
        cases = boletas.case_ids
        notes = ["1", "3", "5", "7", "10"]  # Anular on 1, 3, 5; Rebajar on 7 and 10
        self.assertEqual(cases.mapped("case_ref"), [f"{ATTENTION}-{n}" for n in range(1, 12)]
                         + [f"{ATTENTION}-{n}-NC" for n in notes])
        self.assertEqual([c.document_type_id.code for c in cases], ["39"] * 10 + ["41"] + ["61"] * 5)

        # Step 2: each case a posted invoice boleta (or credit note) with its folio, in the set's order.
        workspace.action_issue()
        self.assertTrue(all(case.move_id.state == "posted" for case in cases))
        self.assertEqual([(c.document_type_id.code, c.folio) for c in cases],
                         [("39", n) for n in range(1, 11)] + [("41", 1)] + [("61", n) for n in range(1, 6)])
        self.assertFalse(any(cases.mapped("mismatch")), cases.mapped("mismatch"))
        engine = self.engine_documents(workspace)
        for case in cases:
            move = case.move_id
            dte = xmlutil.parse(move.l10n_cl_dte_file_id.raw)
            totals = xmlutil.find(dte, "Documento/Encabezado/Totales")
            expected = compute_totals(engine[case.case_ref])
            for tag, attribute in (("MntTotal", "total"), ("MntNeto", "net"), ("MntExe", "exempt"), ("IVA", "vat")):
                self.assertEqual(Decimal(xmlutil.findtext(totals, tag) or 0), getattr(expected, attribute) or 0,
                                 f"{case.case_ref} {tag}")
            self.assertEqual(move.amount_total, float(expected.total), case.case_ref)
            self.assertEqual(move.partner_id, self.env.ref("l10n_cl.par_cfa"), "sold to the final consumer")
            # The SET reference the SII asks for boletas: the attention number, CASO-n.
            reference = move.l10n_cl_dte_reference_ids[0]
            number = case.case_ref.split("-")[1]
            self.assertEqual((reference.other_type, reference.folio, reference.reason),
                             ("SET", ATTENTION, f"CASO-{number}"))
            referencia = xmlutil.find(dte, "Documento/Referencia")
            self.assertEqual((xmlutil.findtext(referencia, "TpoDocRef"), xmlutil.findtext(referencia, "FolioRef"),
                              xmlutil.findtext(referencia, "RazonRef")), ("SET", ATTENTION, f"CASO-{number}"))
            if case.document_type_id.code != "61":
                # A boleta states what the customer paid: gross amounts, VAT included.
                self.assertEqual(move.amount_total, PAID[int(number)], case.case_ref)
                self.assertIsNone(xmlutil.findtext(dte, "Documento/Encabezado/IdDoc/IndMntNeto"))
        # The notes cite their boleta by the folio it took: annulled (1) or reduced (3) by its Rebajar percent.
        by_ref = {case.case_ref: case for case in cases}
        for number, code in (("1", "1"), ("3", "1"), ("5", "1"), ("7", "3"), ("10", "3")):
            note, boleta = by_ref[f"{ATTENTION}-{number}-NC"].move_id, by_ref[f"{ATTENTION}-{number}"].move_id
            cited = note.l10n_cl_dte_reference_ids[1]
            self.assertEqual((cited.document_type_id.code, cited.folio, cited.code),
                             ("39", str(boleta.l10n_cl_dte_folio), code), number)
            self.assertEqual(note.reversed_entry_id, boleta)
        # Annulled: the boleta's net back (within the peso a net note rounds); reduced: 40% of the line.
        self.assertEqual(by_ref[f"{ATTENTION}-1-NC"].move_id.amount_total, PAID[1])
        self.assertEqual(by_ref[f"{ATTENTION}-3-NC"].move_id.amount_total, PAID[3] - 1,
                         "a net note's VAT rounded on its sum: 31865 + 6054, a peso below the boleta")
        self.assertEqual(by_ref[f"{ATTENTION}-7-NC"].move_id.invoice_line_ids.quantity, 2.0)
        self.assertEqual(by_ref[f"{ATTENTION}-10-NC"].move_id.invoice_line_ids.quantity, 1.52)
        self.assertEqual(workspace.step, "send")

        # Step 3: the boletas in an EnvioBOLETA to the boleta service, the notes in an EnvioDTE; accepted.
        workspace.action_send()
        self.assertEqual(set(cases.mapped("dte_status")), {"sent"})
        envelopes = cases.move_id.l10n_cl_dte_envelope_id
        self.assertEqual(sorted(envelopes.mapped("kind")), ["EnvioBOLETA", "EnvioDTE"])
        boleta_envelope = envelopes.filtered(lambda e: e.kind == "EnvioBOLETA")
        self.assertEqual(boleta_envelope.move_ids, cases[:11].move_id)
        self.assertEqual(self.sii.upload_count("boleta.envio"), 1)
        self.assertEqual(self.sii.upload_count("DTEUpload"), 1)
        self.poll(workspace)
        self.assertEqual(set(cases.mapped("dte_status")), {"accepted"}, cases.mapped("sii_message"))
        self.assertEqual(workspace.step, "samples")

        # Step 5: every boleta and note printed, its stamp read back from the PDF.
        self.assert_samples(workspace, cases)

    def test_without_boleta_caf_nothing_is_issued(self):
        workspace = self.make_workspace()
        workspace.action_read_set()
        self.cafs["39"].unlink()
        with self.assertRefused(UserError, r"no folios left for \(39\)"):
            workspace.action_issue()
        self.assertFalse(workspace.case_ids.move_id, "a refused set issues nothing")
        self.assertFalse(self.env["account.move"].search([("l10n_cl_dte_folio", "!=", False),
                                                          ("company_id", "=", self.company.id)]))
        self.assertEqual((self.cafs["41"].next_folio, self.cafs["61"].next_folio), (1, 1), "no folio taken")

    def test_boletas_need_a_vat_included_in_price(self):
        workspace = self.make_workspace()
        workspace.action_read_set()
        self.vat_included.active = False
        with self.assertRefused(UserError, "included in the price"):
            workspace.action_issue()
        self.assertFalse(workspace.case_ids.move_id)

    def test_boleta_set_needs_its_attention_number(self):
        workspace = self.make_workspace(attention="")
        with self.assertRefused(UserError, "attention number"):
            workspace.action_read_set()
        self.assertFalse(workspace.set_ids)

    def test_malformed_boleta_set_is_refused_with_its_line(self):
        data = self.set_data.replace(b"5;;combo Italiano + bebida;12;", b"5;;combo Italiano + bebida;doce;")
        workspace = self.make_workspace(data)
        with self.assertRefused(UserError, "line 10"):
            workspace.action_read_set()
        self.assertFalse(workspace.set_ids, "nothing of a refused set is kept")

    def test_the_boleta_set_alone_needs_no_customer(self):
        """Its documents go to the final consumer: the customer of the other sets is not asked for."""
        workspace = self.make_workspace()
        workspace.partner_id = False
        workspace.action_read_set()
        workspace.action_issue()
        self.assertEqual(workspace.case_ids.move_id.partner_id, self.env.ref("l10n_cl.par_cfa"))
        self.assertTrue(all(workspace.case_ids.mapped("folio")))
        # With the main set as well, its cases need their customer: nothing is issued without it.
        workspace.unlink()
        both = self.make_workspace()
        both.write({"set_file": base64.b64encode(test_certification.EXEMPT_SET.read_bytes()), "partner_id": False})
        both.action_read_set()
        with self.assertRefused(UserError, "customer of the cases"):
            both.action_issue()
        self.assertFalse(both.case_ids.move_id)

    def test_main_set_and_boleta_set_together(self):
        workspace = self.make_workspace()
        workspace.set_file = base64.b64encode(test_certification.EXEMPT_SET.read_bytes())
        workspace.action_read_set()
        self.assertEqual(workspace.set_ids.mapped("kind"), [setfile.FACTURA_EXENTA, setfile.BOLETA])
