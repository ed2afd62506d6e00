from odoo import api, fields, models

from ..sii_engine import codes
from ..sii_engine import rut as engine_rut


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

    # The legends the receipt prints under the stamp: the SII's wording, from the engine, in no other language.
    l10n_cl_dte_stamp_legend = fields.Char(string="Stamp Legend", compute="_compute_l10n_cl_dte_legends")
    l10n_cl_dte_verify_legend = fields.Char(string="Verification Legend", compute="_compute_l10n_cl_dte_legends")
    l10n_cl_dte_company_rut = fields.Char(string="Company RUT as Printed", compute="_compute_l10n_cl_dte_legends")

    @api.depends("company_id.vat")
    def _compute_l10n_cl_dte_legends(self):
        for config in self:
            config.l10n_cl_dte_stamp_legend = codes.STAMP_LEGEND
            config.l10n_cl_dte_verify_legend = codes.VERIFY_LEGEND
            vat = config.company_id.vat
            config.l10n_cl_dte_company_rut = engine_rut.display(vat) if engine_rut.is_valid(vat) else (vat or "")

    @api.depends("company_id.l10n_cl_dte_environment", "company_id.l10n_cl_dte_boleta_limit_uf",
                 "company_id.l10n_cl_dte_uf_value")
    def _compute_l10n_cl_dte(self):
        for config in self:
            company = config.company_id
            config.l10n_cl_dte_enabled = company._l10n_cl_dte_uses_electronic_documents()
            config.l10n_cl_dte_boleta_limit = company._l10n_cl_dte_boleta_limit() if config.l10n_cl_dte_enabled else 0
