from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    l10n_cl_dte_email = fields.Char(
        string="DTE E-mail",
        help="Where this partner receives electronic tax documents (its exchange address registered at the SII); "
        "its e-mail when empty.",
    )
