from odoo import fields, models


class L10nClDteExportPackage(models.Model):
    """One kind of package an export ships (``Transporte/Aduana/TipoBultos``)."""

    _name = "l10n_cl_dte.export.package"
    _description = "Export Package"
    _order = "sequence, id"

    move_id = fields.Many2one("account.move", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    type_id = fields.Many2one(
        "l10n_cl_dte.aduana.code", string="Package Type", required=True, ondelete="restrict",
        domain="[('aduana_table', '=', 'tipos_bulto')]",
    )
    quantity = fields.Integer(string="Packages", required=True, default=1)
    marks = fields.Char(size=255, help="The marks written on the packages.")
    container_id = fields.Char(string="Container", size=25)
    seal = fields.Char(size=20)
