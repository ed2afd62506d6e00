from odoo import api, fields, models


class PosConfig(models.Model):
    _inherit = "pos.config"

    l10n_cl_dte_enabled = fields.Boolean(
        string="Chilean Electronic Documents", compute="_compute_l10n_cl_dte",
        help="Every paid order is a boleta (or an invoice) stamped with the SII's folios.",
    )
    l10n_cl_dte_boleta_limit = fields.Float(
        string="Anonymous Boleta Limit", compute="_compute_l10n_cl_dte",
        help="Above this amount a Point of Sale boleta must name a customer with a RUT. 0: no limit.",
    )

    @api.depends("company_id.l10n_cl_dte_environment", "company_id.l10n_cl_dte_boleta_limit_uf",
                 "company_id.l10n_cl_dte_uf_value")
    def _compute_l10n_cl_dte(self):
        for config in self:
            company = config.company_id
            config.l10n_cl_dte_enabled = company._l10n_cl_dte_uses_electronic_documents()
            config.l10n_cl_dte_boleta_limit = company._l10n_cl_dte_boleta_limit() if config.l10n_cl_dte_enabled else 0
