from odoo import fields, models


class L10nClDteFolioThreshold(models.Model):
    """Below how many remaining folios of one document type the accountants are warned."""

    _name = "l10n_cl_dte.folio.threshold"
    _description = "DTE Folio Alert Threshold"

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", index=True)
    document_type_id = fields.Many2one(
        "l10n_latam.document.type",
        required=True,
        domain="[('country_id.code', '=', 'CL')]",
    )
    threshold = fields.Integer(required=True, default=20)

    _sql_constraints = [
        ("type_unique", "unique(company_id, document_type_id)", "One threshold per document type and company."),
        ("threshold_positive", "CHECK(threshold >= 0)", "The threshold cannot be negative."),
    ]
