from odoo import api, fields, models

from .l10n_cl_dte_identified_sale import PAYMENT_METHODS


class PosPaymentMethod(models.Model):
    _inherit = "pos.payment.method"

    # The boleta's MedioPago (l10n_cl_dte_identified_sale.BOLETA_MEDIO_PAGO); the till needs it to know,
    # before a sale above 135 UF is sent, whether it is paid in cash.
    l10n_cl_dte_payment_method = fields.Selection(
        PAYMENT_METHODS, string="SII Payment Method", compute="_compute_l10n_cl_dte_payment_method",
        store=True, readonly=False, precompute=True, required=True,
        help="How the SII's boletas name this way of paying (MedioPago): required on boletas above 135 UF, "
        "and paid in cash such a boleta must carry the customer's e-mail or phone.",
    )

    @api.depends("journal_id.type")
    def _compute_l10n_cl_dte_payment_method(self):
        # A cash journal is cash; others keep what the user chose (cards, transfers… look alike to Odoo).
        for method in self:
            if method.type == "cash":
                method.l10n_cl_dte_payment_method = "cash"
            elif method.l10n_cl_dte_payment_method in (False, "cash"):
                method.l10n_cl_dte_payment_method = "other"

    @api.model
    def _load_pos_data_fields(self, config_id):
        return [*super()._load_pos_data_fields(config_id), "l10n_cl_dte_payment_method"]
