from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..sii_engine import codes
from .l10n_cl_dte_identified_sale import PAYMENT_METHODS
from .l10n_cl_dte_sii_document import SENT_STATES

# What posting stamps: every DTE but the guía (52), which comes from a picking.
MOVE_TYPES = frozenset(str(code) for code in codes.SUPPORTED_TYPES - {codes.GUIA_DESPACHO})
# The notes the buyer issues on its own factura de compra (46): on the purchase side, as the 46.
PURCHASE_NOTE_TYPES = (str(codes.NOTA_DEBITO), str(codes.NOTA_CREDITO))
PURCHASE_ISSUED_TYPES = (str(codes.FACTURA_COMPRA), *PURCHASE_NOTE_TYPES)


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "l10n_cl_dte.sii.document"]
    # Recording the DTE touches none of the lines: spare write() their re-synchronisation.
    _l10n_cl_dte_issue_context = {"skip_invoice_sync": True}

    l10n_cl_dte_reference_ids = fields.One2many(
        "l10n_cl_dte.reference", "move_id", string="SII References", copy=True
    )
    l10n_cl_dte_electronic = fields.Boolean(string="Electronic Document", compute="_compute_l10n_cl_dte_electronic")
    l10n_cl_dte_payment_method = fields.Selection(
        PAYMENT_METHODS, string="SII Payment Method", copy=False,
        help="How the customer pays this boleta (MedioPago): required above 135 UF, when a boleta paid in cash "
        "must also carry the customer's e-mail or phone (Ley 21.713).",
    )

    _sql_constraints = [
        (
            "l10n_cl_dte_folio_unique",
            "unique(company_id, l10n_latam_document_type_id, l10n_cl_dte_folio)",
            "This folio was already issued for this document type.",
        ),
    ]

    @api.depends("l10n_latam_document_type_id", "journal_id", "company_id", "move_type",
                 "l10n_cl_dte_reference_ids.document_type_id", "l10n_cl_dte_reference_ids.folio", "reversed_entry_id")
    def _compute_l10n_cl_dte_electronic(self):
        for move in self:
            move.l10n_cl_dte_electronic = move._l10n_cl_dte_required()

    @api.model
    def _l10n_cl_dte_issued_condition(self, alias):
        return SQL("%s = 'posted'", SQL.identifier(alias, "state"))

    def _l10n_cl_dte_required(self):
        """Whether posting this move must stamp and sign an electronic document."""
        self.ensure_one()
        code = self.l10n_latam_document_type_id.code
        if not (self.company_id.account_fiscal_country_id.code == "CL" and self.l10n_latam_use_documents):
            return False
        if not self.company_id.l10n_cl_dte_environment or code not in MOVE_TYPES:
            return False
        if code == str(codes.FACTURA_COMPRA):
            return self.move_type in ("in_invoice", "in_refund")
        if self.move_type in ("in_invoice", "in_refund") and code in PURCHASE_NOTE_TYPES:
            return self._l10n_cl_dte_modifies_own_purchase()
        return self.move_type in ("out_invoice", "out_refund")

    def _l10n_cl_dte_modifies_own_purchase(self):
        """Whether this purchase-side note modifies a factura de compra the company issued (or its note on one).

        The SII's rule: the notes on a factura de compra (46) are issued by its issuer, the buyer.
        A supplier's own notes on what it sold are received documents: they cite its invoices, which
        the company never stamped (a received bill has no folio of ours).
        """
        self.ensure_one()
        cited = self.reversed_entry_id.filtered(lambda move: move.l10n_cl_dte_folio)
        for reference in self.l10n_cl_dte_reference_ids:
            if reference.document_type_id.code in PURCHASE_ISSUED_TYPES and (reference.folio or "").isdigit():
                cited |= self.search([
                    ("company_id", "=", self.company_id.id), ("move_type", "in", ("in_invoice", "in_refund")),
                    ("l10n_latam_document_type_id", "=", reference.document_type_id.id),
                    ("l10n_cl_dte_folio", "=", int(reference.folio)),
                ], limit=1)
        return bool(cited.filtered(lambda move: move != self and move.move_type in ("in_invoice", "in_refund")
                                   and move.l10n_latam_document_type_id.code in PURCHASE_ISSUED_TYPES))

    def _get_name_invoice_report(self):
        # l10n_cl prints the purchase side as a DTE for the 46 only: the buyer's notes on it are DTEs too.
        self.ensure_one()
        if self.move_type in ("in_invoice", "in_refund") and self.l10n_cl_dte_ted:
            return "l10n_cl.report_invoice_document"
        return super()._get_name_invoice_report()

    # --- posting ---------------------------------------------------------------------

    def _post(self, soft=True):
        today = fields.Date.context_today(self)
        to_stamp = self.filtered(
            lambda m: m.state == "draft" and m._l10n_cl_dte_required() and not (soft and m.date > today)
        )
        for move in to_stamp:
            move._l10n_cl_dte_check_before_posting()
            move._l10n_cl_dte_add_reversal_reference()
            move._l10n_cl_dte_add_guia_references()
            if move.l10n_cl_dte_export:
                # With its references in place (a reversed export cites it), before any folio is taken.
                move._l10n_cl_dte_refuse(move._l10n_cl_dte_export_problems())
            move._l10n_cl_dte_reserve_folio()
        posted = super()._post(soft)
        for move in to_stamp & posted:
            move._l10n_cl_dte_issue()
        return posted

    def _l10n_cl_dte_check_before_posting(self):
        """Refuse, naming what to fix, anything the SII would refuse; consume nothing."""
        self.ensure_one()
        document_type = self.l10n_latam_document_type_id
        code = int(document_type.code)
        problems = self._l10n_cl_dte_issuer_problems(document_type)
        partner = self.commercial_partner_id
        # A note on a boleta may go to the SII's generic receiver, who has no giro or address.
        generic_note = codes.is_note(code) and partner.vat and not partner._l10n_cl_dte_has_real_rut()
        if not (codes.is_boleta(code) or codes.is_export(code) or generic_note):
            if not partner.vat:
                problems.append(_("Set the RUT of the customer %s.", partner.display_name))
            if not partner.l10n_cl_activity_description:
                problems.append(_("Set the line of business (giro) of the customer %s.", partner.display_name))
            if not partner.street or not partner.city:
                problems.append(_("Set the address and comuna (city) of the customer %s.", partner.display_name))
        product_lines = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        if len(product_lines) > codes.max_lines(code):
            problems.append(
                _("The SII accepts at most %(limit)s lines on this document; it has %(count)s. Split the invoice.",
                  limit=codes.max_lines(code), count=len(product_lines))
            )
        if codes.is_note(code) and not self.l10n_cl_dte_reference_ids and not self.reversed_entry_id:
            problems.append(_("A credit or debit note must reference the document it modifies (References tab)."))
        if any(line.price_unit < 0 and line.quantity < 0 for line in product_lines):
            problems.append(_("A line cannot have both a negative quantity and a negative price."))
        if codes.is_boleta(code):
            problems += self._l10n_cl_dte_identified_sale_problems(
                self.amount_total, self.partner_id, self.l10n_cl_dte_payment_method,
                self.invoice_date or fields.Date.context_today(self),
            )
        self._l10n_cl_dte_refuse(problems)
        self.env["l10n_cl_dte.certificate"]._l10n_cl_dte_signing_certificate(self.company_id)

    def _l10n_cl_dte_add_reversal_reference(self):
        """A credit note made by reversing a DTE cites it: CodRef 1 when it annuls all of it, else 3."""
        original = self.reversed_entry_id
        if self.l10n_cl_dte_reference_ids or not original or not original.l10n_cl_dte_folio:
            return
        self.l10n_cl_dte_reference_ids = [
            fields.Command.create(original._l10n_cl_dte_reference_values(amount=self.amount_total))
        ]

    def _l10n_cl_dte_reserve_folio(self):
        """Take the next CAF folio (or keep the one already given) and number the move with it."""
        self.ensure_one()
        values = {} if self.l10n_cl_dte_folio else self._l10n_cl_dte_take_folio(self.l10n_latam_document_type_id)
        values["name"] = self._l10n_cl_get_formatted_sequence(values.get("l10n_cl_dte_folio") or self.l10n_cl_dte_folio)
        self.with_context(**self._l10n_cl_dte_issue_context).write(values)

    def _l10n_cl_dte_after_issue(self):
        if self.company_id.l10n_cl_dte_customer_exchange == "issued":
            self._l10n_cl_dte_send_to_customer()

    # --- guards --------------------------------------------------------------------------

    def button_draft(self):
        sent = self.filtered(lambda m: m.l10n_cl_dte_status in SENT_STATES)
        if sent:
            raise UserError(
                _("%s was sent to the SII and cannot return to draft: issue a credit note to correct or annul it.",
                  ", ".join(sent.mapped("display_name")))
            )
        stamped = self.filtered("l10n_cl_dte_status")
        result = super().button_draft()
        # The folio stays with the move: posting again stamps the same folio with the new content.
        stamped.write({"l10n_cl_dte_status": False, "l10n_cl_dte_ted": False})
        return result

    def button_cancel(self):
        issued = self.filtered(lambda m: m.l10n_cl_dte_status in SENT_STATES)
        if issued:
            raise UserError(
                _("%s was sent to the SII: the SII only annuls a document through a credit note (type 61) that "
                  "references it.", ", ".join(issued.mapped("display_name")))
            )
        return super().button_cancel()
