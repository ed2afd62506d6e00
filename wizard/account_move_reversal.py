from odoo import api, fields, models

from ..models.l10n_cl_dte_reference import REFERENCE_CODES
from ..sii_engine import codes


class AccountMoveReversal(models.TransientModel):
    _inherit = "account.move.reversal"

    l10n_cl_dte_reference_code = fields.Selection(
        REFERENCE_CODES,
        string="SII Reference Code",
        help="How the credit note modifies the electronic document it reverses, as the SII records it.",
    )
    l10n_cl_dte_applies = fields.Boolean(string="Reverses a DTE", compute="_compute_l10n_cl_dte_applies")

    @api.depends("move_ids")
    def _compute_l10n_cl_dte_applies(self):
        for wizard in self:
            wizard.l10n_cl_dte_applies = any(move.l10n_cl_dte_folio for move in wizard.move_ids)

    @api.depends("l10n_latam_available_document_type_ids", "journal_id")
    def _compute_document_type(self):
        # An export is credited by an export credit note (112), not by a domestic one (61).
        super()._compute_document_type()
        for wizard in self.filtered(lambda w: len(w.move_ids) == 1 and w.move_ids.l10n_cl_dte_export):
            export_note = wizard.l10n_latam_available_document_type_ids._origin.filtered(
                lambda document_type: document_type.code == str(codes.NOTA_CREDITO_EXPORTACION))
            if export_note:
                wizard.l10n_latam_document_type_id = export_note[0]

    def _prepare_default_reversal(self, move):
        values = super()._prepare_default_reversal(move)
        if move.l10n_cl_dte_folio and self.l10n_cl_dte_reference_code:
            values["l10n_cl_dte_reference_ids"] = [fields.Command.create(
                move._l10n_cl_dte_reference_values(code=self.l10n_cl_dte_reference_code, reason=self.reason)
            )]
        return values
