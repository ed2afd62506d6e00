import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..sii_engine import dte as engine_dte
from ..sii_engine.errors import SiiEngineError
from .engine_errors import engine_error_message
from .l10n_cl_dte_reference import SII_REFERENCE_REASONS
from .l10n_cl_dte_sii_document import BOLETA_CODES, SENT_STATES

_logger = logging.getLogger(__name__)

# Documents this addon stamps on posting; boletas (39/41) mostly come from the POS.
ELECTRONIC_CODES = frozenset({"33", "34", "39", "41", "46", "56", "61", "110", "111", "112"})
NOTE_CODES = frozenset({"56", "61", "111", "112"})
EXPORT_CODES = frozenset({"110", "111", "112"})
MAX_LINES = 60


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "l10n_cl_dte.sii.document"]

    l10n_cl_dte_reference_ids = fields.One2many(
        "l10n_cl_dte.reference", "move_id", string="SII References", copy=True
    )
    l10n_cl_dte_electronic = fields.Boolean(string="Electronic Document", compute="_compute_l10n_cl_dte_electronic")

    _sql_constraints = [
        (
            "l10n_cl_dte_folio_unique",
            "unique(company_id, l10n_latam_document_type_id, l10n_cl_dte_folio)",
            "This folio was already issued for this document type.",
        ),
    ]

    @api.depends("l10n_latam_document_type_id", "journal_id", "company_id", "move_type")
    def _compute_l10n_cl_dte_electronic(self):
        for move in self:
            move.l10n_cl_dte_electronic = move._l10n_cl_dte_required()

    _l10n_cl_dte_issued_sql = "rec.state = 'posted'"

    def _l10n_cl_dte_issue_date(self):
        return self.invoice_date

    def _l10n_cl_dte_total(self):
        return self.amount_total

    def _l10n_cl_dte_required(self):
        """Whether posting this move must stamp and sign an electronic document."""
        self.ensure_one()
        code = self.l10n_latam_document_type_id.code
        if not (self.company_id.account_fiscal_country_id.code == "CL" and self.l10n_latam_use_documents):
            return False
        if not self.company_id.l10n_cl_dte_environment or code not in ELECTRONIC_CODES:
            return False
        if code == "46":
            return self.move_type in ("in_invoice", "in_refund")
        return self.move_type in ("out_invoice", "out_refund")

    # --- posting ---------------------------------------------------------------------

    def _post(self, soft=True):
        today = fields.Date.context_today(self)
        to_stamp = self.filtered(
            lambda m: m.state == "draft" and m._l10n_cl_dte_required() and not (soft and m.date > today)
        )
        for move in to_stamp:
            move._l10n_cl_dte_check_before_posting()
            move._l10n_cl_dte_add_reversal_reference()
            move._l10n_cl_dte_reserve_folio()
        posted = super()._post(soft)
        for move in to_stamp & posted:
            move._l10n_cl_dte_stamp_and_sign()
        return posted

    def _l10n_cl_dte_check_before_posting(self):
        """Refuse, naming what to fix, anything the SII would refuse; consume nothing."""
        self.ensure_one()
        company = self.company_id
        code = self.l10n_latam_document_type_id.code
        problems = []
        if not company.vat:
            problems.append(_("Set the RUT of the company %s.", company.display_name))
        if not company.l10n_cl_activity_description:
            problems.append(_("Set the line of business (giro) of the company %s.", company.display_name))
        if code not in BOLETA_CODES and not company.l10n_cl_dte_activity_ids:
            problems.append(
                _("Set the economic activities (Acteco) of the company in the Invoicing settings "
                  "(Chile: electronic documents).")
            )
        if company.l10n_cl_dte_environment == "production" and not company.l10n_cl_dte_resolution_date:
            problems.append(_("Set the SII resolution number and date in the Invoicing settings (Chile: electronic documents)."))
        partner = self.commercial_partner_id
        # A note on a boleta may go to the SII's generic receiver, who has no giro or address.
        generic_note = code in NOTE_CODES and partner.vat and not partner._l10n_cl_dte_has_real_rut()
        if code not in BOLETA_CODES | EXPORT_CODES and not generic_note:
            if not partner.vat:
                problems.append(_("Set the RUT of the customer %s.", partner.display_name))
            if not partner.l10n_cl_activity_description:
                problems.append(_("Set the line of business (giro) of the customer %s.", partner.display_name))
            if not partner.street or not partner.city:
                problems.append(_("Set the address and comuna (city) of the customer %s.", partner.display_name))
        product_lines = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        limit = 1000 if code in BOLETA_CODES else MAX_LINES
        if len(product_lines) > limit:
            problems.append(
                _("The SII accepts at most %(limit)s lines on this document; it has %(count)s. Split the invoice.",
                  limit=limit, count=len(product_lines))
            )
        if code in NOTE_CODES and not self.l10n_cl_dte_reference_ids and not self.reversed_entry_id:
            problems.append(_("A credit or debit note must reference the document it modifies (References tab)."))
        if any(line.price_unit < 0 and line.quantity < 0 for line in product_lines):
            problems.append(_("A line cannot have both a negative quantity and a negative price."))
        if problems:
            raise UserError(
                _("%(document)s cannot be issued to the SII yet:\n%(problems)s",
                  document=self.display_name, problems="\n".join(f"- {problem}" for problem in problems))
            )
        self.env["l10n_cl_dte.certificate"]._l10n_cl_dte_signing_certificate(company)

    def _l10n_cl_dte_add_reversal_reference(self):
        """A credit note made by reversing a DTE cites it: CodRef 1 when it annuls all of it, else 3."""
        original = self.reversed_entry_id
        if self.l10n_cl_dte_reference_ids or not original or not original.l10n_cl_dte_folio:
            return
        annuls = self.currency_id.compare_amounts(self.amount_total, original.amount_total) == 0
        self.l10n_cl_dte_reference_ids = [fields.Command.create({
            "document_type_id": original.l10n_latam_document_type_id.id,
            "folio": str(original.l10n_cl_dte_folio),
            "date": original.invoice_date,
            "code": "1" if annuls else "3",
            "reason": SII_REFERENCE_REASONS["1" if annuls else "3"],
        })]

    def _l10n_cl_dte_reserve_folio(self):
        """Take the next CAF folio (or keep the one already given) and number the move with it."""
        self.ensure_one()
        values = {}
        if not self.l10n_cl_dte_folio:
            caf, folio = self.env["l10n_cl_dte.caf"].sudo()._l10n_cl_dte_take_folio(
                self.company_id, self.l10n_latam_document_type_id
            )
            values = {"l10n_cl_dte_folio": folio, "l10n_cl_dte_caf_id": caf.id}
        values["name"] = self._l10n_cl_get_formatted_sequence(values.get("l10n_cl_dte_folio") or self.l10n_cl_dte_folio)
        # None of these fields touches the lines: spare write() the re-synchronisation of every line.
        self.with_context(skip_invoice_sync=True).write(values)

    def _l10n_cl_dte_stamp_and_sign(self):
        """Build, stamp, sign and validate the DTE; attach it; mark it to be sent."""
        self.ensure_one()
        company = self.company_id
        certificate = self.env["l10n_cl_dte.certificate"]._l10n_cl_dte_signing_certificate(company)
        caf = self.l10n_cl_dte_caf_id._l10n_cl_dte_engine_caf()
        try:
            document = self._l10n_cl_dte_document(self.l10n_cl_dte_folio)
            issued = engine_dte.issue(document, caf, certificate._l10n_cl_dte_engine_certificate())
        except SiiEngineError as error:
            raise UserError(
                _("%(document)s cannot be issued: %(reason)s",
                  document=self.display_name, reason=engine_error_message(self.env, error))
            ) from None
        self._l10n_cl_dte_check_amounts(issued)
        attachment = self.env["ir.attachment"].create({
            "name": f"DTE_{self.l10n_latam_document_type_id.code}_{self.l10n_cl_dte_folio}.xml",
            "res_model": self._name,
            "res_id": self.id,
            "raw": issued.xml,
            "mimetype": "application/xml",
        })
        old_attachment = self.l10n_cl_dte_file_id
        self.with_context(skip_invoice_sync=True).write({
            "l10n_cl_dte_file_id": attachment.id,
            "l10n_cl_dte_ted": issued.ted.decode("ISO-8859-1"),
            "l10n_cl_dte_status": "to_send",
            "l10n_cl_sii_message": False,
        })
        old_attachment.unlink()
        if company.l10n_cl_dte_customer_exchange == "issued":
            self._l10n_cl_dte_send_to_customer()
        self.env["l10n_cl_dte.caf"].sudo()._l10n_cl_dte_warn_low_folios(company, self.l10n_latam_document_type_id)

    def _l10n_cl_dte_check_amounts(self, issued):
        """The DTE must state the same total as the accounting entry."""
        total = float(issued.total)
        if self.currency_id.compare_amounts(total, self.amount_total) != 0:
            raise UserError(
                _("%(document)s totals %(odoo)s in Odoo but %(dte)s by the SII's rules (the SII rounds VAT on the "
                  "sum of net amounts). Adjust the lines or the tax rounding so both agree.",
                  document=self.display_name, odoo=self.amount_total, dte=total)
            )

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
