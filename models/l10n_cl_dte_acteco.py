from odoo import fields, models


class L10nClDteActeco(models.Model):
    """An SII economic activity code (Acteco) a company declares on its DTEs."""

    _name = "l10n_cl_dte.acteco"
    _description = "SII Economic Activity (Acteco)"
    _order = "code"
    _rec_names_search = ["code", "name"]

    code = fields.Char(required=True, size=6, help="The SII's six-digit economic activity code.")
    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_unique", "unique(code)", "An economic activity code can exist only once."),
        ("code_numeric", "CHECK(code ~ '^[0-9]{1,6}$')", "An economic activity code has up to six digits."),
    ]

    def _compute_display_name(self):
        for acteco in self:
            acteco.display_name = f"{acteco.code} {acteco.name}"
