"""The certification's simulation step: drafts of the company's real operation, issued, sent, accepted.

The company's own customers (with RUT, giro and address) and products (saleable, with a price, with or
without VAT) are made here, with one recent sale; the SII is the local simulator reached over HTTP.
"""

from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..sii_engine import xmlutil
from ..sii_engine.certification import setfile
from .common import TestClDteCommon


@tagged("post_install", "-at_install")
class TestCertificationSimulation(TestClDteCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_sii_simulator()
        cls.load_invoice_cafs()
        rut_type = cls.env.ref("l10n_cl.it_RUT")

        def customer(name, vat, **values):
            return cls.env["res.partner"].create({
                "name": name, "is_company": True, "country_id": cls.env.ref("base.cl").id,
                "l10n_latam_identification_type_id": rut_type.id, "vat": vat, "l10n_cl_sii_taxpayer_type": "1",
                "l10n_cl_activity_description": "Comercio al por menor", "street": "Av. Providencia 1234",
                "city": "Providencia", **values,
            })

        cls.customers = (customer("Ferretería Los Andes SpA", "76354771-K")
                         | customer("Comercial Ñuble Ltda.", "77210543-6")
                         | customer("Constructora Pacífico S.A.", "96874030-K"))
        # Not customers a factura can go to: no RUT, no giro.
        cls.no_rut = cls.env["res.partner"].create({"name": "Cliente sin RUT", "is_company": True,
                                                    "street": "Calle 1", "city": "Santiago"})
        cls.no_giro = customer("Sin Giro SpA", "12345678-5", l10n_cl_activity_description=False)

        def product(name, price, taxes, **values):
            return cls.env["product.product"].create({
                "name": name, "list_price": price, "sale_ok": True, "taxes_id": [Command.set(taxes.ids)], **values,
            })

        # The company sells these only (the database's other products are Odoo's demo catalogue).
        cls.env["product.template"].search([]).write({"sale_ok": False})
        no_tax = cls.env["account.tax"]
        cls.taxed = (product("Taladro percutor 800W", 45990, cls.vat_tax)
                     | product("Caja de tornillos 100u", 3490, cls.vat_tax)
                     | product("Pintura látex 1 galón", 18990, cls.vat_tax))
        cls.exempt = product("Asesoría en importación (exenta)", 120000, no_tax)
        cls.unpriced = product("Producto sin precio", 0, cls.vat_tax)
        cls.not_sold = product("Insumo interno", 5000, cls.vat_tax, sale_ok=False)

    def setUp(self):
        super().setUp()
        self.sii.reset()

    def make_workspace(self):
        """A workspace whose other steps are done: what is left is the simulation's."""
        workspace = self.env["l10n_cl_dte.certification"].create({
            "company_id": self.company.id, "journal_id": self.sale_journal.id,
        })
        attachment = self.env["ir.attachment"].create({"name": "done.pdf", "raw": b"%PDF"})
        workspace.write({
            "set_ids": [Command.create({"kind": setfile.LIBRO_VENTAS, "attention": "1", "state": "accepted"})],
            "samples_attachment_id": attachment.id,
            "exchange_result_attachment_id": attachment.id,
        })
        return workspace

    def simulation_left(self, workspace):
        return [text for step, text in workspace._l10n_cl_dte_what_is_left() if step == "simulation"]

    def saleable(self):
        """The company's products a simulation may sell, found independently of the code under test."""
        return self.env["product.product"].search([
            *self.env["product.product"]._check_company_domain(self.company), ("sale_ok", "=", True),
        ]).filtered(lambda product: product.lst_price > 0)

    def poll(self, workspace, rounds=6):
        for _round in range(rounds):
            workspace.simulation_ids.move_id.l10n_cl_dte_envelope_id.write(
                {"next_poll_at": fields.Datetime.now() - timedelta(seconds=1)})
            workspace.action_check_status()
            if not workspace.simulation_ids.filtered(lambda line: line.dte_status == "sent"):
                return
        self.fail("still waiting for the SII")

    def test_prepare_from_the_company_data(self):
        # A recent sale: the first factura of the simulation is made as it was.
        sale = self.make_invoice(lines=[{"product_id": self.taxed[2].id, "quantity": 7, "price_unit": 17500,
                                         "discount": 10}],
                                 partner=self.customers[2], invoice_date=fields.Date.today() - timedelta(days=10))
        sale.action_post()
        workspace = self.make_workspace()
        self.assertEqual(workspace.step, "simulation")
        self.assertIn("Prepare the simulation", self.simulation_left(workspace)[0])
        workspace.action_simulation_prepare()

        lines = workspace.simulation_ids
        moves = lines.move_id
        self.assertEqual(len(lines), 10, "the SII's minimum")
        self.assertEqual(set(moves.mapped("state")), {"draft"})
        by_type = {code: lines.filtered(lambda line, code=code: line.document_type_id.code == code).move_id
                   for code in ("33", "34", "56", "61")}
        self.assertEqual({code: len(found) for code, found in by_type.items()},
                         {"33": 7, "34": 1, "56": 1, "61": 1})
        # The company's own customers with RUT; its own saleable, priced products at their prices.
        self.assertLessEqual(moves.partner_id, self.customers)
        self.assertEqual(moves.partner_id, self.customers, "the customers in turn")
        product_lines = moves.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        self.assertLessEqual(product_lines.product_id, self.saleable())
        self.assertFalse(product_lines.product_id & (self.unpriced | self.not_sold))
        self.assertLessEqual(self.taxed, product_lines.product_id)
        for invoice in by_type["33"]:
            self.assertGreaterEqual(len(invoice.invoice_line_ids), 1)
            for line in invoice.invoice_line_ids:
                self.assertEqual(line.tax_ids, line.product_id.taxes_id, invoice.name)
        self.assertTrue(all(len(invoice.invoice_line_ids) >= 2 for invoice in by_type["33"][1:]),
                        "the facturas made of the catalogue have several lines")
        first = by_type["33"][0]
        self.assertEqual(first, lines[0].move_id)
        self.assertEqual((first.partner_id, first.invoice_line_ids.product_id), (self.customers[2], self.taxed[2]))
        self.assertEqual(first.invoice_line_ids.mapped(lambda line: (line.quantity, line.price_unit, line.discount)),
                         [(7, 17500, 10)], "as the recent sale was")
        generated = by_type["33"][1:].invoice_line_ids
        self.assertTrue(all(line.price_unit == line.product_id.lst_price for line in generated))
        self.assertEqual(by_type["34"].invoice_line_ids.product_id, self.exempt)
        self.assertFalse(by_type["34"].invoice_line_ids.tax_ids, "an exenta carries no VAT")
        # The notes modify the first factura; they cite it once it has its folio.
        self.assertEqual(by_type["61"].move_type, "out_refund")
        self.assertEqual(by_type["61"].reversed_entry_id, first)
        self.assertEqual(by_type["56"].move_type, "out_invoice")
        self.assertEqual(lines.filtered("origin_move_id").origin_move_id, first)
        self.assertEqual(by_type["61"].invoice_line_ids.product_id, self.taxed[2])
        # Not test cases: no SET reference (nor any other before they are issued).
        self.assertFalse(moves.l10n_cl_dte_reference_ids)
        self.assertEqual(self.simulation_left(workspace), ["Review and issue 10 draft documents of the simulation."])

        with self.assertRaises(UserError) as caught:
            workspace.action_simulation_prepare()
        self.assertIn("already holds documents", str(caught.exception))

    def assert_refused(self, workspace, expected):
        moves_before = self.env["account.move"].search_count([])
        with self.assertRaises(UserError) as caught:
            workspace.action_simulation_prepare()
        self.assertIn(expected, str(caught.exception))
        self.assertFalse(workspace.simulation_ids, "nothing of a refused simulation is kept")
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)

    def test_refused_without_a_customer_with_rut(self):
        workspace = self.make_workspace()
        (self.customers | self.no_giro).write({"vat": False})
        self.assert_refused(workspace, "Add a customer with its RUT, giro (line of business), address and comuna")

    def test_refused_without_a_product_with_price(self):
        workspace = self.make_workspace()
        self.saleable().product_tmpl_id.write({"list_price": 0})
        self.assert_refused(workspace, "Add a product that can be sold with its sales price")

    def test_refused_without_an_invoice_caf(self):
        workspace = self.make_workspace()
        self.env["l10n_cl_dte.caf"].search([
            ("company_id", "=", self.company.id), ("document_type_id", "in", (self.doc_33 | self.doc_34).ids),
        ]).write({"active": False})
        self.assert_refused(workspace, "Load a CAF for facturas (33)")

    def test_refused_with_too_few_folios(self):
        workspace = self.make_workspace()
        self.env["l10n_cl_dte.caf"].search([
            ("company_id", "=", self.company.id), ("document_type_id", "=", self.doc_33.id),
        ]).write({"active": False})
        self.load_caf(self.doc_33, 101, 103)
        self.assert_refused(workspace, "The CAFs of type 33 have 3 folios left; the simulation needs 7")

    def test_a_product_priced_vat_included_is_stated_net(self):
        # A till's product (its price includes VAT) sold beside the others: a factura states it net, with the
        # VAT that excludes the price, or its VAT rounded per line misses the SII's total by a peso.
        included = self.vat_tax.copy({"name": "IVA 19% incluido", "price_include_override": "tax_included"})
        coffee = self.env["product.product"].create({"name": "Café de grano 250 g", "list_price": 6990,
                                                     "sale_ok": True, "taxes_id": [Command.set(included.ids)]})
        workspace = self.make_workspace()
        workspace.action_simulation_prepare()
        coffee_lines = workspace.simulation_ids.move_id.invoice_line_ids.filtered(
            lambda line: line.product_id == coffee)
        self.assertTrue(coffee_lines, "the product is sold in the simulation")
        for line in coffee_lines:
            self.assertEqual((line.price_unit, line.tax_ids.price_include), (5874, False), line.move_id.name)
            self.assertEqual(line.tax_ids.amount, 19)
        workspace.action_simulation_send()
        self.assertEqual(set(workspace.simulation_ids.move_id.mapped("state")), {"posted"})
        self.assertEqual(set(workspace.simulation_ids.mapped("dte_status")), {"sent"})

    def test_issue_send_accepted(self):
        workspace = self.make_workspace()
        workspace.action_simulation_prepare()
        # The accountant adds one of the company's own invoices.
        own = self.make_invoice(lines=[{"name": "Servicio de instalación", "quantity": 2, "price_unit": 35000}],
                                partner=self.customers[0], invoice_date=fields.Date.today())
        workspace.simulation_ids = [Command.create({"move_id": own.id})]
        self.assertEqual(len(workspace.simulation_ids), 11)
        self.assertTrue(workspace.simulation_can_send)

        workspace.action_simulation_send()
        lines = workspace.simulation_ids
        moves = lines.move_id
        self.assertEqual(set(moves.mapped("state")), {"posted"})
        self.assertTrue(all(moves.mapped("l10n_cl_dte_folio")))
        self.assertEqual(set(lines.mapped("dte_status")), {"sent"})
        self.assertEqual(len(moves.l10n_cl_dte_envelope_id), 1, "one envelope, as the SII asks")
        self.assertEqual(self.sii.upload_count(), 1)
        self.assertFalse(workspace.simulation_can_send, "nothing to send while the SII has not answered")
        self.assertEqual(self.simulation_left(workspace), ["11 documents of the simulation wait for the SII's answer."])
        # The notes cite the first factura by its folio; no document cites the SET.
        first = lines[0].move_id
        for note in lines.filtered("origin_move_id").move_id:
            reference = note.l10n_cl_dte_reference_ids
            self.assertEqual((reference.document_type_id, reference.folio, reference.code),
                             (self.doc_33, str(first.l10n_cl_dte_folio), "3"), note.name)
        for move in moves:
            dte = xmlutil.parse(move.l10n_cl_dte_file_id.raw)
            self.assertNotIn("SET", [xmlutil.findtext(reference, "TpoDocRef")
                                     for reference in dte.iter("{%s}Referencia" % xmlutil.SII_NS)], move.name)

        self.poll(workspace)
        self.assertEqual(set(lines.mapped("dte_status")), {"accepted"})
        self.assertEqual(self.simulation_left(workspace), [])
        self.assertEqual(workspace.step, "done")

    def test_rejected_document_is_left(self):
        workspace = self.make_workspace()
        workspace.action_simulation_prepare()
        workspace.simulation_ids[5:].unlink()
        self.assertIn("The SII asks for at least 10 documents in the simulation; it holds 5.",
                      self.simulation_left(workspace))
        # Issued from the invoices' own form, then sent from the workspace.
        workspace.simulation_ids.move_id.action_post()
        self.assertEqual(self.simulation_left(workspace)[-1], "Send 5 documents of the simulation to the SII.")
        line = workspace.simulation_ids[1]
        self.sii.force_outcome(self.company.vat, 33, line.folio, "rejected", reason="Monto incorrecto")
        workspace.action_simulation_send()
        self.poll(workspace)
        self.assertEqual(line.dte_status, "rejected")
        self.assertIn("1 documents of the simulation were rejected or accepted with objections",
                      "\n".join(self.simulation_left(workspace)))
        self.assertEqual(workspace.step, "simulation")
        # A document added once the simulation was sent goes in an envelope of its own: the SII asks for one.
        (workspace.simulation_ids - line).unlink()
        later = self.make_invoice(partner=self.customers[1], invoice_date=fields.Date.today())
        workspace.simulation_ids = [Command.create({"move_id": later.id})]
        workspace.action_simulation_send()
        tracks = workspace.simulation_ids.move_id.l10n_cl_dte_envelope_id.sorted("id").mapped("track_id")
        self.assertEqual(len(tracks), 2)
        self.assertIn(f"went to the SII in 2 envelopes (track IDs {tracks[0]}, {tracks[1]})",
                      "\n".join(self.simulation_left(workspace)))

    def test_set_reference_is_refused(self):
        """Simulation documents are not test cases: a SET reference stops the whole simulation."""
        workspace = self.make_workspace()
        workspace.action_simulation_prepare()
        draft = workspace.simulation_ids[3].move_id
        draft.l10n_cl_dte_reference_ids = [Command.create({"other_type": "SET", "folio": "4352553",
                                                           "reason": "CASO 4352553-1"})]
        with self.assertRaises(ValidationError) as caught:
            workspace.action_simulation_send()
        self.assertIn(draft.display_name, str(caught.exception))
        self.assertIn("cites the SET", str(caught.exception))
        self.assertEqual(set(workspace.simulation_ids.move_id.mapped("state")), {"draft"}, "nothing issued")
        self.assertEqual(self.sii.upload_count(), 0)
        # Nor can such a document be added.
        workspace.simulation_ids[3].unlink()
        with self.assertRaises(ValidationError):
            workspace.simulation_ids = [Command.create({"move_id": draft.id})]
