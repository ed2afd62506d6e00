from odoo import Command


class StockGuiaMixin:
    """Deliveries of the test company that issue guías (52) when validated."""

    @classmethod
    def setup_guias(cls):
        cls.doc_52 = cls.env.ref("l10n_cl.dc_gd_dte")
        cls.warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.company.id)], limit=1)
        cls.out_type = cls.warehouse.out_type_id
        cls.out_type.write({"l10n_cl_dte_guia": True, "l10n_cl_dte_transfer_indicator": "1",
                            "l10n_cl_dte_valuation": "product"})
        cls.goods = cls.env["product.product"].create({
            "name": "Resma de papel", "is_storable": True, "lst_price": 3500.0, "default_code": "RES01",
            "taxes_id": [Command.set(cls.vat_tax.ids)],
        })

    def make_delivery(self, lines=None, partner=None, picking_type=None, **values):
        picking_type = picking_type or self.out_type
        picking = self.env["stock.picking"].create({
            "picking_type_id": picking_type.id,
            "partner_id": (partner or self.customer).id,
            "location_id": picking_type.default_location_src_id.id,
            "location_dest_id": (picking_type.default_location_dest_id
                                 or self.env.ref("stock.stock_location_customers")).id,
            "move_ids": [
                Command.create({
                    "name": product.name, "product_id": product.id, "product_uom_qty": quantity,
                    "product_uom": product.uom_id.id,
                    "location_id": picking_type.default_location_src_id.id,
                    "location_dest_id": (picking_type.default_location_dest_id
                                         or self.env.ref("stock.stock_location_customers")).id,
                })
                for product, quantity in (lines or [(self.goods, 3)])
            ],
            **values,
        })
        picking.action_confirm()
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.move_ids.picked = True
        return picking

    def validate(self, picking):
        result = picking.button_validate()
        self.assertIs(result, True, "validated without a wizard")
        self.assertEqual(picking.state, "done")
        return picking
