from odoo import fields, models

# IndTraslado: why the goods travel (Formato DTE, IdDoc). The SII's codes; labels translated.
TRANSFER_INDICATORS = [
    ("1", "1 - Sale"),
    ("2", "2 - Sale to Be Made"),
    ("3", "3 - Consignment"),
    ("4", "4 - Free Delivery"),
    ("5", "5 - Internal Transfer"),
    ("6", "6 - Other Non-Sale Transfers"),
    ("7", "7 - Return Guide"),
    ("8", "8 - Transfer for Export"),
    ("9", "9 - Sale for Export"),
]
# TipoDespacho: who carries the goods.
DISPATCH_TYPES = [
    ("1", "1 - By the Receiver"),
    ("2", "2 - By the Issuer to the Receiver's Premises"),
    ("3", "3 - By the Issuer to Other Premises"),
]
VALUATIONS = [
    ("sale_order", "Prices of the Sale Order"),
    ("product", "Prices of the Products"),
    ("none", "No Valuation"),
]


class StockPickingType(models.Model):
    _inherit = "stock.picking.type"

    l10n_cl_dte_guia = fields.Boolean(
        string="Issue Dispatch Guides (52)",
        help="Validating a transfer of this type issues an electronic dispatch guide (guía de despacho) to the SII.",
    )
    l10n_cl_dte_transfer_indicator = fields.Selection(
        TRANSFER_INDICATORS, string="Transfer Indicator", default="1",
        help="Why the goods travel (IndTraslado); each transfer may change it.",
    )
    l10n_cl_dte_dispatch_type = fields.Selection(
        DISPATCH_TYPES, string="Dispatch Type", help="Who carries the goods (TipoDespacho); optional."
    )
    l10n_cl_dte_valuation = fields.Selection(
        VALUATIONS, string="Guide Prices", default="sale_order",
        help="The prices the guide states: its sale order's (the products' when there is none), the products' "
        "sale prices, or none (internal transfers).",
    )
