from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    l10n_cl_dte_environment = fields.Selection(related="company_id.l10n_cl_dte_environment", readonly=False)
    l10n_cl_dte_simulator_url = fields.Char(related="company_id.l10n_cl_dte_simulator_url", readonly=False)
    l10n_cl_dte_resolution_number = fields.Integer(
        related="company_id.l10n_cl_dte_resolution_number", readonly=False
    )
    l10n_cl_dte_resolution_date = fields.Date(related="company_id.l10n_cl_dte_resolution_date", readonly=False)
    l10n_cl_sii_regional_office = fields.Selection(related="company_id.l10n_cl_sii_regional_office", readonly=False)
    l10n_cl_dte_acteco_ids = fields.Many2many(related="company_id.l10n_cl_dte_acteco_ids", readonly=False)
    l10n_cl_dte_email = fields.Char(related="company_id.l10n_cl_dte_email", readonly=False)
    l10n_cl_dte_folio_alert_default = fields.Integer(
        related="company_id.l10n_cl_dte_folio_alert_default", readonly=False
    )
    l10n_cl_dte_barcode = fields.Selection(related="company_id.l10n_cl_dte_barcode", readonly=False)
    l10n_cl_dte_failure_alert = fields.Integer(related="company_id.l10n_cl_dte_failure_alert", readonly=False)
    l10n_cl_dte_customer_exchange = fields.Selection(
        related="company_id.l10n_cl_dte_customer_exchange", readonly=False
    )
    l10n_cl_dte_boleta_limit_uf = fields.Float(related="company_id.l10n_cl_dte_boleta_limit_uf", readonly=False)
    l10n_cl_dte_uf_value = fields.Float(related="company_id.l10n_cl_dte_uf_value", readonly=False)
    l10n_cl_dte_software_provider_vat = fields.Char(
        related="company_id.l10n_cl_dte_software_provider_vat", readonly=False
    )
