from decimal import Decimal

from lxml import etree

from odoo.tests import tagged

from ..sii_engine import document as engine_document
from ..sii_engine.exchange import read_answer
from ..sii_engine.totals import compute_totals
from .common import COMPANY_RUT
from .reception_common import TestReceptionCommon


@tagged("post_install", "-at_install")
class TestReceptionBills(TestReceptionCommon):
    """A supplier's DTEs of every type become draft vendor bills (or refunds) whose totals are the DTE's."""

    def bill_of(self, received):
        bill = received.move_id
        self.assertTrue(bill, received.booking_message)
        self.assertEqual(bill.state, "draft")
        return bill

    def test_a_factura_becomes_a_verified_draft_bill_with_the_dte_totals(self):
        file = self.receive([self.supplier_dte(33, lines=[
            self.line("Tornillo hexagonal 3/8", 120, 85, unit="UN", item_code=("INT1", "TOR-38")),
            self.line("Servicio de instalacion", 1, 45000),
        ])])
        self.assertEqual((file.state, file.kind, file.reception_code), ("done", "EnvioDTE", "0"), file.reason)
        received = file.received_ids
        self.assertEqual(len(received), 1)
        self.assertEqual((received.state, received.reception_code, received.document_type_code),
                         ("received", "0", 33))
        bill = self.bill_of(received)
        self.assertEqual((bill.move_type, bill.l10n_latam_document_type_id, int(bill.l10n_latam_document_number)),
                         ("in_invoice", self.doc_33, received.folio))
        self.assertEqual((bill.amount_untaxed, bill.amount_tax, bill.amount_total), (55200, 10488, 65688))
        self.assertEqual(bill.l10n_cl_dte_received_id, received)
        self.assertFalse(received.booking_message)
        # The supplier did not exist: made from the DTE's RznSoc, giro, address and e-mail.
        partner = bill.partner_id
        self.assertEqual((partner.vat, partner.name, partner.l10n_cl_dte_email, partner.street, partner.city),
                         (self.supplier.rut, self.supplier.name, self.supplier.email, "Av. Matta 1234", "Santiago"))
        self.assertEqual(partner.l10n_cl_activity_description, "Venta al por mayor de articulos de ferreteria")
        # The XML is kept on the received document and on the bill.
        self.assertIn(b"<Folio>%d</Folio>" % received.folio, received.attachment_id.raw)
        kept = self.env["ir.attachment"].search([("res_model", "=", "account.move"), ("res_id", "=", bill.id)])
        self.assertEqual(kept.raw, received.attachment_id.raw)
        # Posting the bill of a received DTE issues nothing (the supplier stamped it).
        bill.invoice_date = self.today
        bill.action_post()
        self.assertFalse(bill.l10n_cl_dte_status)

    def test_the_reception_answer_goes_to_the_supplier(self):
        file = self.receive([self.supplier_dte(33), self.supplier_dte(33)])
        self.assertEqual(file.answer_state, "sent", file.answer_message)
        mail = self.sent_mails(file._name, file)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.email_to, self.supplier.email)
        answer = read_answer(mail.attachment_ids.raw)
        self.assertTrue(answer.verified)
        self.assertEqual((answer.cover.responder_rut, answer.cover.recipient_rut), (COMPANY_RUT, self.supplier.rut))
        reception = answer.receptions[0]
        self.assertEqual((int(reception.status), reception.envelope_code), (0, file.id))
        self.assertEqual(sorted(item.document.folio for item in reception.documents),
                         sorted(file.received_ids.mapped("folio")))
        self.assertEqual({int(item.status) for item in reception.documents}, {0})
        # Each bill's history starts with that acknowledgement.
        for received in file.received_ids:
            self.assertEqual(received.move_id.l10n_cl_dte_event_ids.mapped("kind"), ["reception"])

    def test_every_type_is_booked(self):
        reference = [engine_document.Reference("33", "77", self.today, 1, "Anula factura")]
        dtes = {
            33: self.supplier_dte(33),
            34: self.supplier_dte(34, lines=[self.line("Asesoria", 2, 30000, exempt=True)]),
            43: self.supplier_dte(43),
            46: self.supplier_dte(46, lines=[self.line("Trigo", 10, 500, additional_tax_code=15, retention="R")]),
            56: self.supplier_dte(56, references=reference),
            61: self.supplier_dte(61, references=reference),
        }
        file = self.receive(list(dtes.values()))
        by_type = {received.document_type_code: received for received in file.received_ids}
        self.assertEqual(set(by_type), set(dtes))
        expected = {
            33: ("in_invoice", 65688), 34: ("in_invoice", 60000), 43: ("in_invoice", 55200 + 10488 - 5520 - 1049),
            46: ("in_invoice", 5000), 56: ("in_invoice", 65688), 61: ("in_refund", 65688),
        }
        for code, (move_type, total) in expected.items():
            bill = self.bill_of(by_type[code])
            self.assertEqual((bill.move_type, bill.amount_total, bill.l10n_latam_document_type_id.code),
                             (move_type, total, str(code)), f"type {code}: {by_type[code].booking_message}")
            if code in (56, 61):  # they cite factura 77, which this company never received: said, not linked
                self.assertIn("77", by_type[code].booking_message)
            else:
                self.assertFalse(by_type[code].booking_message, f"type {code}")
        self.assertEqual(by_type[34].move_id.amount_tax, 0)
        retained = by_type[46].move_id.line_ids.filtered("tax_line_id")
        self.assertEqual(sorted(retained.mapped("tax_line_id.l10n_cl_sii_code")), [14, 15])
        self.assertEqual(by_type[43].move_id.invoice_line_ids.filtered(lambda line: line.price_unit < 0).name,
                         "Comision por venta")
        refund = by_type[61].move_id
        self.assertEqual(refund.l10n_cl_dte_reference_ids.mapped("folio"), ["77"])
        self.assertFalse(refund.reversed_entry_id)

    def test_a_credit_note_is_linked_to_the_bill_it_corrects(self):
        invoice_folio = self.folio()
        self.receive([self.supplier_dte(33, folio=invoice_folio)])
        invoice = self.Received.search([("folio", "=", invoice_folio)]).move_id
        note = self.supplier_dte(61, references=[
            engine_document.Reference("33", str(invoice_folio), self.today, 3, "Corrige montos")],
            lines=[self.line("Descuento comercial", 1, 10000)])
        refund = self.bill_of(self.receive([note]).received_ids)
        self.assertEqual((refund.move_type, refund.reversed_entry_id), ("in_refund", invoice))
        self.assertEqual(refund.amount_total, 11900)
        self.assertEqual(refund.l10n_cl_dte_reference_ids.code, "3")

    def test_products_are_matched_supplier_code_name_barcode_internal_code_then_name(self):
        by_supplier_code = self.make_product("Perno A")
        self.supplierinfo(by_supplier_code, product_code="PROV-1")
        by_supplier_name = self.make_product("Perno B")
        self.supplierinfo(by_supplier_name, product_name="Perno del proveedor")
        by_barcode = self.make_product("Perno C", barcode="7801234567890")
        by_code = self.make_product("Perno D", default_code="INT-D")
        by_name = self.make_product("Arandela plana 1/2")
        file = self.receive([self.supplier_dte(33, lines=[
            self.line("Perno segun proveedor", 1, 100, item_code=("INT1", "PROV-1")),
            self.line("Perno del proveedor", 1, 100),
            self.line("Perno con barras", 1, 100, item_code=("EAN13", "7801234567890")),
            self.line("Perno interno", 1, 100, item_code=("INT1", "INT-D")),
            self.line("Arandela plana 1/2", 1, 100),
            self.line("Algo que nadie vende", 1, 100),
        ])])
        lines = self.bill_of(file.received_ids).invoice_line_ids.sorted("sequence")
        self.assertEqual(lines.product_id.ids[:5], [by_supplier_code.id, by_supplier_name.id, by_barcode.id,
                                                    by_code.id, by_name.id])
        self.assertFalse(lines[5].product_id)
        self.assertEqual(lines[5].name, "Algo que nadie vende")

    def test_additional_taxes_discounts_and_surcharges_keep_the_dte_totals(self):
        wine = self.line("Vino tinto reserva", 6, 4000, discount_percent=Decimal(10), additional_tax_code=25)
        freight = self.line("Flete", 1, 5000, exempt=True)
        dte = self.supplier_dte(33, lines=[wine, freight, self.line("Copas", 3, 1990)], global_adjustments=[
            engine_document.GlobalAdjustment("D", "%", Decimal(5), "Descuento cliente"),
            engine_document.GlobalAdjustment("R", "$", Decimal(1000), "Recargo despacho", exempt=True),
        ])
        received = self.receive([dte]).received_ids
        bill = self.bill_of(received)
        content = received._l10n_cl_dte_content()
        self.assertEqual(bill.amount_total, content.totals.total, received.booking_message)
        self.assertEqual(bill.amount_untaxed, content.totals.net + content.totals.exempt)
        ila = self.purchase_tax(25, 20.5)
        wine_line = bill.invoice_line_ids.filtered(lambda line: line.name.startswith("Vino"))
        self.assertEqual(set(wine_line.tax_ids.ids), {ila.id, received._l10n_cl_dte_purchase_taxes(
            self.company, {})["vat"].id})
        self.assertEqual((wine_line.discount, wine_line.price_subtotal), (10, 21600))
        self.assertTrue(bill.invoice_line_ids.filtered(lambda line: line.name == "Descuento cliente"))

    def test_a_supplier_that_rounds_iva_line_by_line_gets_its_iva_adjusted_visibly(self):
        lines = [self.line("Clavo %d" % number, 1, 1003) for number in range(5)]
        document = self.supplier.document(33, self.folio(), self.receiver(), lines=lines, issue_date=self.today)
        totals = compute_totals(document)
        self.assertEqual(totals.vat, 953)  # round(5015 x 19 %)
        totals.vat = Decimal(955)  # round(1003 x 19 %) = 191, five times
        totals.total = totals.net + totals.vat
        received = self.receive([self.supplier.issue(document, totals=totals)]).received_ids
        bill = self.bill_of(received)
        self.assertEqual((bill.amount_tax, bill.amount_total), (955, 5970))
        self.assertIn("955", received.booking_message)
        self.assertIn("953", received.booking_message)

    def test_a_document_received_twice_is_not_booked_again(self):
        dte = self.supplier_dte(33)
        first = self.receive([dte])
        again = self.receive([dte, self.supplier_dte(33)], to_sii=False)
        self.assertEqual(len(again.received_ids), 1)
        self.assertIn("already received", again.reason)
        self.assertEqual(self.Received.search_count([("folio", "=", first.received_ids.folio)]), 1)
        answer = read_answer(again.answer_attachment_id.raw)
        self.assertEqual(sorted(int(item.status) for item in answer.receptions[0].documents), [0, 4])
        # The very same file again: answered "Archivo Repetido" (90), nothing recorded.
        envelope = first.attachment_id.raw
        repeated = self.deliver(self.mime_message([("EnvioDTE.xml", envelope)]))
        self.assertEqual((repeated.state, repeated.reception_code, repeated.received_ids.ids), ("refused", "90", []))

    def test_a_journal_without_default_account_is_passed_over_or_named(self):
        """A line without an expense account of its own takes the journal's; a journal without one is named."""
        journals = self.env["account.journal"].search(
            [("company_id", "=", self.company.id), ("type", "=", "purchase")])
        bare = journals[0].copy({"name": "Received DTEs without account", "code": "DTEX",
                                 "default_account_id": False, "sequence": 0, "l10n_latam_use_documents": True})
        line = self.line("Articulo sin producto ni cuenta", 2, 1000)
        # Another purchase journal has an account: the bill is made there.
        received = self.receive([self.supplier_dte(33, lines=[line])]).received_ids
        self.assertNotEqual(self.bill_of(received).journal_id, bare)
        # None has one: the document says which journal to fix, and is booked once it is fixed.
        accounts = {journal: journal.default_account_id for journal in journals}
        journals.default_account_id = False
        received = self.receive([self.supplier_dte(33, lines=[line])]).received_ids
        self.assertFalse(received.move_id)
        self.assertIn(bare.display_name, received.booking_message)
        self.assertIn("default expense account", received.booking_message)
        bare.default_account_id = accounts[journals[0]]
        received.action_l10n_cl_dte_book()
        self.assertEqual(self.bill_of(received).journal_id, bare)

    def test_a_guia_is_linked_to_the_incoming_receipt_it_matches(self):
        bolt = self.make_product("Perno guia", default_code="GUIA-1", is_storable=True)
        picking_type = self.env["stock.picking.type"].search(
            [("code", "=", "incoming"), ("company_id", "=", self.company.id)], limit=1)
        partner = self.supplier_partner()

        def receipt(origin, quantity):
            return self.env["stock.picking"].create({
                "picking_type_id": picking_type.id, "partner_id": partner.id, "origin": origin,
                "company_id": self.company.id,
                "move_ids": [(0, 0, {"name": bolt.name, "product_id": bolt.id, "product_uom_qty": quantity,
                                     "product_uom": bolt.uom_id.id,
                                     "location_id": picking_type.default_location_src_id.id,
                                     "location_dest_id": picking_type.default_location_dest_id.id})],
            })

        by_order, by_products = receipt("OC-4411", 40), receipt("OC-4412", 25)
        guia = self.supplier_dte(52, lines=[self.line("Perno guia", 40, 100, item_code=("INT1", "GUIA-1"))],
                                 dispatch_type=2, transfer_indicator=1,
                                 references=[engine_document.Reference("801", "OC-4411", self.today)])
        received = self.receive([guia]).received_ids
        self.assertEqual((received.picking_id, received.move_id.id), (by_order, False))
        self.assertIn(str(received.folio), by_order.message_ids[0].body)
        unreferenced = self.supplier_dte(52, lines=[self.line("Perno guia", 25, 100, item_code=("INT1", "GUIA-1"))],
                                         dispatch_type=2, transfer_indicator=1)
        self.assertEqual(self.receive([unreferenced]).received_ids.picking_id, by_products)
        nothing = self.supplier_dte(52, lines=[self.line("Perno guia", 7, 100, item_code=("INT1", "GUIA-1"))],
                                    dispatch_type=2, transfer_indicator=1)
        unmatched = self.receive([nothing]).received_ids
        self.assertFalse(unmatched.picking_id)
        self.assertIn("No incoming receipt", unmatched.booking_message)

    def test_a_factura_also_stated_in_another_currency_stays_in_pesos_and_says_so(self):
        def in_dollars(dte):
            namespace = "{http://www.sii.cl/SiiDte}"
            header = dte[0].find(f"{namespace}Encabezado")
            other = etree.SubElement(header, f"{namespace}OtraMoneda")
            for name, value in (("TpoMoneda", "DOLAR USA"), ("TpoCambio", "950.25"), ("MntTotOtrMnda", "69.13")):
                etree.SubElement(other, f"{namespace}{name}").text = value

        received = self.receive([self.supplier_dte(33, edit=in_dollars)]).received_ids
        bill = self.bill_of(received)
        self.assertEqual((bill.currency_id, bill.amount_total), (self.company.currency_id, 65688))
        self.assertIn("DOLAR USA", str(bill.narration))
        self.assertIn("950.25", str(bill.narration))
        self.assertIn("69.13", str(bill.narration))
