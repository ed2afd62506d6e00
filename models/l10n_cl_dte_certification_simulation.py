"""The simulation step of the certification: documents of the company's real operation, accepted by the SII.

After the test set, the SII asks for a simulation (manual de certificación,
§6.2): one envelope, received without rejections nor objections, of the
documents the company would have issued in its last two months — at most
100, at least 10 — with representative data of its real operation. Later the
printed samples carry one of each type of the simulation.

Here the workspace prepares, from the company's own data (its customers with
RUT, giro and address, its saleable products with their prices and taxes, its
recent sales), a batch of DRAFT invoices and notes of the types it has CAFs
for; the accountant reviews and edits them, adds its own invoices, then
issues them through the normal posting path (folio, stamp, signature) and
sends them with the same "send now" path as any document: one EnvioDTE. They
are not test cases: they never carry the SET reference.
"""

from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..sii_engine import codes
from ..sii_engine import rut as engine_rut
from ..sii_engine.errors import RutError

# What the SII asks of the simulation's envelope (manual de certificación, §6.2).
MIN_DOCUMENTS = 10
MAX_DOCUMENTS = 100
RECENT_DAYS = 61  # "su facturación de los últimos 2 meses"
CUSTOMERS_USED = 5
PRODUCTS_CONSIDERED = 500
WAITING = ("sent",)
TO_SEND = ("to_send", "send_failed")
# The types issued from invoices (boletas have a certification of their own).
SIMULATION_TYPES = tuple(str(code) for code in sorted(codes.SUPPORTED_TYPES - codes.BOLETA_TYPES
                                                      - {codes.GUIA_DESPACHO, codes.FACTURA_COMPRA}))


class L10nClDteCertification(models.Model):
    _inherit = "l10n_cl_dte.certification"

    simulation_ids = fields.One2many("l10n_cl_dte.certification.simulation", "certification_id",
                                     string="Simulation Documents")
    simulation_can_send = fields.Boolean(
        compute="_compute_simulation_can_send",
        help="Documents of the simulation are to issue or to send, and none waits for the SII's answer.")

    @api.depends("simulation_ids.state", "simulation_ids.dte_status")
    def _compute_simulation_can_send(self):
        for workspace in self:
            lines = workspace.simulation_ids
            workspace.simulation_can_send = bool(
                lines.filtered(lambda line: line.state == "draft" or line.dte_status in TO_SEND)
            ) and not lines.filtered(lambda line: line.dte_status in WAITING)

    @api.depends("simulation_ids.move_id", "simulation_ids.state", "simulation_ids.dte_status")
    def _compute_step(self):
        return super()._compute_step()

    def _l10n_cl_dte_what_is_left(self):
        left = super()._l10n_cl_dte_what_is_left() + self._l10n_cl_dte_simulation_left()
        steps = [step for step, _label in self._fields["step"].selection]
        return sorted(left, key=lambda item: steps.index(item[0]))

    def _l10n_cl_dte_simulation_left(self):
        """What the simulation still needs: enough documents, issued, sent, all accepted."""
        lines = self.simulation_ids
        if not lines:
            return [("simulation", _("Prepare the simulation (documents of the company's real operation) or add "
                                     "its own invoices."))]
        left = []
        if len(lines) < MIN_DOCUMENTS:
            left.append(("simulation", _("The SII asks for at least %(minimum)s documents in the simulation; it "
                                         "holds %(count)s.", minimum=MIN_DOCUMENTS, count=len(lines))))
        if len(lines) > MAX_DOCUMENTS:
            left.append(("simulation", _("The SII accepts at most %(maximum)s documents in the simulation; it "
                                         "holds %(count)s.", maximum=MAX_DOCUMENTS, count=len(lines))))
        counts = [
            (lines.filtered(lambda line: line.state == "draft"),
             _("Review and issue %s draft documents of the simulation.")),
            (lines.filtered(lambda line: line.state == "cancel"),
             _("%s documents of the simulation are cancelled: remove them from the simulation.")),
            (lines.filtered(lambda line: line.state == "posted" and line.dte_status in TO_SEND),
             _("Send %s documents of the simulation to the SII.")),
            (lines.filtered(lambda line: line.dte_status in WAITING),
             _("%s documents of the simulation wait for the SII's answer.")),
            (lines.filtered(lambda line: line.dte_status in ("rejected", "objected")),
             _("%s documents of the simulation were rejected or accepted with objections: the SII accepts "
               "neither. Correct them with a note, or remove them and issue others.")),
        ]
        left += [("simulation", message % len(found)) for found, message in counts if found]
        envelopes = lines.move_id.l10n_cl_dte_envelope_id
        if len(envelopes) > 1:
            # The SII checks one envío of the simulation: documents sent later went apart.
            left.append(("simulation", _(
                "The simulation's documents went to the SII in %(count)s envelopes (track IDs %(tracks)s): the SII "
                "asks for one. Remove the documents sent apart, or prepare the simulation again.",
                count=len(envelopes), tracks=", ".join(envelopes.sorted("id").mapped(lambda e: e.track_id or "?")))))
        return left

    # --- preparing the drafts ------------------------------------------------------------

    def action_simulation_prepare(self):
        """Make the simulation's drafts from the company's own customers, products and recent sales."""
        self.ensure_one()
        self._l10n_cl_dte_check_environment()
        if self.simulation_ids:
            raise UserError(_("The simulation already holds documents: review them and add your own invoices, "
                              "or remove them all to prepare it again."))
        known_customers = self._l10n_cl_dte_simulation_customers()
        customers = known_customers[:CUSTOMERS_USED]
        products = self._l10n_cl_dte_simulation_products()
        types = self._l10n_cl_dte_simulation_types()
        problems = []
        if not self.journal_id:
            problems.append(_("Choose the sales journal (it uses documents) on the workspace."))
        if not customers:
            problems.append(_("Add a customer with its RUT, giro (line of business), address and comuna: the "
                              "simulation invoices the company's own customers."))
        if not products:
            problems.append(_("Add a product that can be sold with its sales price: the simulation sells the "
                              "company's own products."))
        taxed = products.filtered(lambda product: self._l10n_cl_dte_simulation_taxes(product))
        exempt = products - taxed
        can_33 = "33" in types and taxed
        can_34 = "34" in types and exempt
        if customers and products and not (can_33 or can_34):
            problems.append(_("Load a CAF for facturas (33), with a product that bears VAT, or for facturas "
                              "exentas (34), with a product without taxes: the simulation has no invoice to "
                              "issue."))
        if problems:
            raise UserError("\n".join(problems))

        notes = [code for code in ("61", "56") if code in types]
        exempt_count = (1 if can_33 else MIN_DOCUMENTS - len(notes)) if can_34 else 0
        invoice_count = MIN_DOCUMENTS - len(notes) - exempt_count if can_33 else 0
        needed = {"33": invoice_count, "34": exempt_count, **dict.fromkeys(notes, 1)}
        if short := [code for code, count in needed.items() if count > types.get(code, 0)]:
            raise UserError("\n".join(self.env._(
                "The CAFs of type %(type)s have %(left)s folios left; the simulation needs %(needed)s: load a CAF "
                "with more folios.", type=code, left=types.get(code, 0), needed=needed[code]) for code in short))
        plans = self._l10n_cl_dte_simulation_invoice_plans(invoice_count, known_customers, taxed)
        plans += self._l10n_cl_dte_simulation_generated_plans("34", exempt_count, customers, exempt, offset=len(plans))
        moves = self.env["account.move"]
        for plan in plans:
            moves |= self._l10n_cl_dte_simulation_create_move(plan)
        lines = [{"move_id": move.id} for move in moves]
        first = moves[:1]
        for code in notes:
            note = self._l10n_cl_dte_simulation_note(first, code)
            lines.append({"move_id": note.id, "origin_move_id": first.id})
        self.simulation_ids = [fields.Command.create({**values, "sequence": sequence})
                               for sequence, values in enumerate(lines)]
        return True

    def _l10n_cl_dte_simulation_types(self):
        """``{code: folios left}`` of the documents the company has CAF folios left for."""
        types = self.env["l10n_latam.document.type"].search([
            ("country_id.code", "=", "CL"), ("code", "in", SIMULATION_TYPES)])
        caf = self.env["l10n_cl_dte.caf"]
        left = {document_type.code: caf._l10n_cl_dte_remaining(self.company_id, document_type)
                for document_type in types}
        return {code: count for code, count in left.items() if count > 0}

    def _l10n_cl_dte_simulation_customers(self):
        """The company's Chilean customers a factura can go to (RUT, giro, address), most invoiced first."""
        partners = self.env["res.partner"].search([
            *self.env["res.partner"]._check_company_domain(self.company_id),
            ("parent_id", "=", False), ("vat", "!=", False), ("l10n_cl_activity_description", "!=", False),
            ("street", "!=", False), ("city", "!=", False), ("country_id.code", "=", "CL"),
            ("id", "!=", self.company_id.partner_id.id),
        ], order="customer_rank desc, id", limit=200)
        return partners.filtered(_is_customer_rut)

    def _l10n_cl_dte_simulation_products(self):
        """The company's saleable products that have a sales price, the most sold lately (then the newest) first."""
        products = self.env["product.product"].search([
            *self.env["product.product"]._check_company_domain(self.company_id),
            ("sale_ok", "=", True), ("list_price", ">", 0),
        ], order="id desc", limit=PRODUCTS_CONSIDERED).filtered(lambda product: self._l10n_cl_dte_simulation_price(product) > 0)
        sold = dict(self.env["account.move.line"]._read_group([
            ("company_id", "=", self.company_id.id), ("parent_state", "=", "posted"),
            ("move_id.move_type", "=", "out_invoice"), ("product_id", "in", products.ids),
            ("date", ">=", fields.Date.context_today(self) - timedelta(days=RECENT_DAYS)),
        ], ["product_id"], ["__count"]))
        return products.sorted(lambda product: (-sold.get(product, 0), -product.id))

    def _l10n_cl_dte_simulation_price(self, product):
        # In the company's currency as it counts (pesos have no cents): the SII computes each line's
        # amount from the price, and Odoo's amounts then agree with it.
        return self.company_id.currency_id.round(product.lst_price)

    def _l10n_cl_dte_simulation_taxes(self, product):
        return product.taxes_id.filtered(lambda tax: tax.company_id == self.company_id
                                         or tax.company_id in self.company_id.parent_ids)

    def _l10n_cl_dte_simulation_net_line(self, product, price):
        """``(taxes, price)`` of a factura's line: its price without VAT, with the VAT that excludes it.

        A factura states net amounts and the SII computes its VAT once on their sum: a product priced VAT
        included (a till's product) would round its VAT per line and miss the SII's total by a peso. Its price
        is stated net (rounded to the currency) with the same tax excluded from the price; a product whose
        included tax has no such twin in the chart keeps its own.
        """
        taxes = self._l10n_cl_dte_simulation_taxes(product)
        included = taxes.filtered("price_include")
        if not included:
            return taxes, price
        twins = self.env["account.tax"]
        for tax in included:
            twin = self.env["account.tax"].search([
                *self.env["account.tax"]._check_company_domain(self.company_id),
                ("type_tax_use", "=", tax.type_tax_use), ("amount_type", "=", tax.amount_type),
                ("amount", "=", tax.amount), ("l10n_cl_sii_code", "=", tax.l10n_cl_sii_code),
                ("price_include", "=", False),
            ], limit=1)
            if not twin:
                return taxes, price
            twins |= twin
        net = included.compute_all(price, self.company_id.currency_id, 1, product=product)["total_excluded"]
        return (taxes - included) | twins, self.company_id.currency_id.round(net)

    def _l10n_cl_dte_simulation_invoice_plans(self, count, customers, products):
        """``count`` facturas: first as the company's recent sales were, then made of its customers and products."""
        since = fields.Date.context_today(self) - timedelta(days=RECENT_DAYS)
        recent = self.env["account.move"].search([
            ("company_id", "=", self.company_id.id), ("move_type", "=", "out_invoice"), ("state", "=", "posted"),
            ("invoice_date", ">=", since), ("commercial_partner_id", "in", customers.ids),
            # Taxed invoices (what these plans are), not notes (a debit note is an out_invoice too) nor exempt
            # or export invoices; the set's cases are no sales.
            ("l10n_latam_document_type_id.code", "not in",
             [str(code) for code in codes.NOTE_TYPES | codes.EXEMPT_TYPES]),
            ("id", "not in", self.case_ids.move_id.ids),
        ], order="invoice_date desc, id desc", limit=count)
        plans = []
        for sale in recent:
            lines = [(line.product_id, line.quantity, line.price_unit, line.discount)
                     for line in sale.invoice_line_ids
                     if line.display_type == "product" and line.product_id in products and line.quantity > 0
                     and line.price_unit > 0]
            if lines:
                plans.append(("33", sale.commercial_partner_id, lines[:codes.MAX_LINES]))
        customers = customers[:CUSTOMERS_USED]
        return plans + self._l10n_cl_dte_simulation_generated_plans("33", count - len(plans), customers, products,
                                                                    offset=len(plans))

    def _l10n_cl_dte_simulation_generated_plans(self, code, count, customers, products, offset=0):
        """``count`` invoices of type ``code``: customers in turn, two to four of the products each."""
        plans = []
        for index in range(offset, offset + count):
            size = min(len(products), 2 + index % 3)
            lines = [(product, 1 + (index + position) % 5, self._l10n_cl_dte_simulation_price(product), 0.0)
                     for position, product in enumerate(products[(index + k) % len(products)] for k in range(size))]
            plans.append((code, customers[index % len(customers)], lines))
        return plans

    def _l10n_cl_dte_simulation_document_type(self, code):
        return self.env["l10n_latam.document.type"].search([("country_id.code", "=", "CL"), ("code", "=", code)],
                                                           limit=1)

    def _l10n_cl_dte_simulation_create_move(self, plan, move_type="out_invoice", values=None):
        code, partner, lines = plan
        exempt = code == str(codes.FACTURA_EXENTA)
        return self.env["account.move"].create({
            "move_type": move_type,
            "company_id": self.company_id.id,
            "journal_id": self.journal_id.id,
            "partner_id": partner.id,
            "invoice_date": fields.Date.context_today(self),
            "l10n_latam_document_type_id": self._l10n_cl_dte_simulation_document_type(code).id,
            "invoice_line_ids": [
                self._l10n_cl_dte_simulation_line_command(product, quantity, price, discount, exempt)
                for product, quantity, price, discount in lines
            ],
            **(values or {}),
        })

    def _l10n_cl_dte_simulation_line_command(self, product, quantity, price, discount, exempt):
        taxes, price = (self.env["account.tax"], price) if exempt else \
            self._l10n_cl_dte_simulation_net_line(product, price)
        return fields.Command.create({"product_id": product.id, "quantity": quantity, "price_unit": price,
                                      "discount": discount, "tax_ids": [fields.Command.set(taxes.ids)]})

    def _l10n_cl_dte_simulation_note(self, invoice, code):
        """A draft note on ``invoice``: a credit note for one unit returned, a debit note for one more charged.

        It cites the invoice when issued (the invoice has no folio before).
        """
        line = invoice.invoice_line_ids.filtered(lambda line: line.display_type == "product")[:1]
        plan = (code, invoice.partner_id,
                [(line.product_id, min(1, line.quantity), line.price_unit, line.discount)])
        credit = code == str(codes.NOTA_CREDITO)
        move = self._l10n_cl_dte_simulation_create_move(
            plan, move_type="out_refund" if credit else "out_invoice",
            values={"reversed_entry_id": invoice.id} if credit else None,
        )
        # The note keeps the invoice's taxes and price (already net), exempt or not, whatever its own type says.
        move.invoice_line_ids.write({"tax_ids": [fields.Command.set(line.tax_ids.ids)], "price_unit": line.price_unit})
        return move

    # --- issuing, sending, following -----------------------------------------------------

    def action_simulation_send(self):
        """Issue the simulation's drafts through the normal posting path, then send them in one envelope."""
        self.ensure_one()
        self._l10n_cl_dte_check_environment()
        lines = self.simulation_ids
        if not lines:
            raise UserError(_("The simulation holds no document: prepare it or add the company's own invoices."))
        lines._l10n_cl_dte_check_simulation_document()
        if waiting := lines.filtered(lambda line: line.dte_status in WAITING):
            raise UserError(_("%s documents of the simulation wait for the SII's answer: check their status first.",
                              len(waiting)))
        drafts = lines.filtered(lambda line: line.state == "draft")
        # Invoices first: a note cites the folio its invoice takes.
        invoices = drafts.filtered(lambda line: not codes.is_note(line.move_id.l10n_latam_document_type_id.code))
        invoices.move_id.action_post()
        for line in drafts - invoices:
            line._l10n_cl_dte_cite_origin()
        (drafts - invoices).move_id.action_post()
        moves = lines.move_id.filtered(lambda move: move.l10n_cl_dte_status in TO_SEND)
        if moves:
            moves.action_l10n_cl_dte_send()
        return True

    def action_check_status(self):
        """The simulation's documents are asked about with the sets' ones."""
        result = super().action_check_status()
        moves = self.simulation_ids.move_id.filtered(lambda move: move.l10n_cl_dte_status in WAITING)
        if moves:
            moves.action_l10n_cl_dte_check_status()
        return result


class L10nClDteCertificationSimulation(models.Model):
    """A document of the simulation: an invoice or note of the company's real operation."""

    _name = "l10n_cl_dte.certification.simulation"
    _description = "SII Certification Simulation Document"
    _order = "certification_id, sequence, id"
    _check_company_auto = True

    certification_id = fields.Many2one("l10n_cl_dte.certification", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="certification_id.company_id", store=True)
    sequence = fields.Integer(default=100)
    move_id = fields.Many2one(
        "account.move", string="Document", required=True, ondelete="cascade", index=True, check_company=True,
        domain=[("move_type", "in", ("out_invoice", "out_refund")), ("state", "!=", "cancel"),
                ("l10n_latam_document_type_id.code", "in", SIMULATION_TYPES)],
    )
    origin_move_id = fields.Many2one("account.move", string="Modifies", readonly=True,
                                     help="The invoice this prepared note cites once both are issued.")
    partner_id = fields.Many2one(related="move_id.partner_id", string="Customer")
    document_type_id = fields.Many2one(related="move_id.l10n_latam_document_type_id", string="Document Type")
    folio = fields.Integer(related="move_id.l10n_cl_dte_folio", string="Folio")
    currency_id = fields.Many2one(related="move_id.company_currency_id")
    # Signed: a credit note counts against the invoices in the simulation's total.
    amount_total = fields.Monetary(related="move_id.amount_total_signed", string="Total")
    state = fields.Selection(related="move_id.state", string="Status")
    dte_status = fields.Selection(related="move_id.l10n_cl_dte_status", string="SII Status")
    track_id = fields.Char(related="move_id.l10n_cl_dte_track_id", string="SII Track ID")
    sii_message = fields.Text(related="move_id.l10n_cl_dte_sii_message", string="SII Answer")

    _sql_constraints = [
        ("move_unique", "unique(certification_id, move_id)", "A document is in the simulation once."),
    ]

    @api.constrains("move_id")
    def _l10n_cl_dte_check_simulation_document(self):
        """Documents of the company's real operation: customer invoices and notes, not the set's cases."""
        for line in self:
            move = line.move_id
            if move.move_type not in ("out_invoice", "out_refund") or not move._l10n_cl_dte_required():
                raise ValidationError(_("%s is not an electronic customer invoice or note of the company: the "
                                        "simulation holds those only.", move.display_name))
            if move in line.certification_id.case_ids.move_id or move.l10n_cl_dte_reference_ids.filtered(
                    lambda reference: reference.other_type == "SET"):
                raise ValidationError(_("%s is a document of the set de pruebas (it cites the SET): the simulation "
                                        "holds documents of the company's real operation. Remove it, or remove "
                                        "its SET reference.", move.display_name))

    def action_open_document(self):
        """Open the document to review or edit it (a draft) or to follow it."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.move_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    def _l10n_cl_dte_cite_origin(self):
        """A prepared note cites the invoice it modifies, now that the invoice has its folio."""
        self.ensure_one()
        note, origin = self.move_id, self.origin_move_id
        if note.l10n_cl_dte_reference_ids or not origin:
            return
        if not origin.l10n_cl_dte_folio:
            raise UserError(_("%(note)s modifies %(origin)s, which is not issued: issue it first or add the "
                              "reference on the note.", note=note.display_name, origin=origin.display_name))
        credit = note.move_type == "out_refund"
        note.l10n_cl_dte_reference_ids = [fields.Command.create(origin._l10n_cl_dte_reference_values(
            code=None if credit else str(codes.CODREF_AMOUNTS), amount=note.amount_total))]


def _is_customer_rut(partner):
    """A customer's own RUT: valid, and neither the SII's nor the generic receiver's."""
    try:
        number = engine_rut.normalize(partner.vat)
    except RutError:
        return False
    return number not in (engine_rut.SII_RUT, engine_rut.GENERIC_RECEIVER_RUT)
