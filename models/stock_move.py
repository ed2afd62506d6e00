from odoo import fields, models


class StockMove(models.Model):
    _inherit = "stock.move"

    l10n_cl_dte_price_unit = fields.Float(
        string="Guide Unit Price", digits="Product Price", copy=False,
        help="The net unit price the dispatch guide states for this line, when it is valued; empty: the sale "
        "order's price, or the product's.",
    )
