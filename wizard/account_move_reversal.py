from odoo import api, fields, models

from ..models.l10n_cl_dte_reference import REFERENCE_CODES


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

    def _prepare_default_reversal(self, move):
        values = super()._prepare_default_reversal(move)
        if move.l10n_cl_dte_folio and self.l10n_cl_dte_reference_code:
            values["l10n_cl_dte_reference_ids"] = [fields.Command.create(
                move._l10n_cl_dte_reference_values(code=self.l10n_cl_dte_reference_code, reason=self.reason)
            )]
        return values
