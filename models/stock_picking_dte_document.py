"""How a done transfer becomes the engine's guía de despacho :class:`~sii_engine.document.Document`.

Each move is a detail line with the quantity done. Valued guías take their
prices from the price stated on the move, the move's sale order line (when
``sale_stock`` links them) or the product's sale price, with its taxes, turned into the SII's lines by the
engine's line formula like an invoice's; unvalued ones state quantities only.
"""

from odoo import fields, models

from ..sii_engine import document as engine_document
from ..sii_engine import lines as engine_lines
from .l10n_cl_dte_sii_document_issue import to_decimal


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _l10n_cl_dte_document(self, document_type, folio):
        self.ensure_one()
        code = int(document_type.code)
        moves = self._l10n_cl_dte_guia_moves()
        valuation = self._l10n_cl_dte_valuation()
        if valuation == "none":
            lines, adjustments = [self._l10n_cl_dte_unvalued_line(move) for move in moves], []
        else:
            sale_lines = [self._l10n_cl_dte_valued_line(move, valuation) for move in moves]
            gross = engine_lines.states_gross(code, sale_lines)
            lines, adjustments = engine_lines.detail(sale_lines, gross=gross,
                                                     decimals=self.currency_id.decimal_places > 0)
        destination = self._l10n_cl_dte_destination()
        return engine_document.Document(
            document_type=code,
            folio=folio,
            issue_date=fields.Date.context_today(self),
            issuer=self.company_id._l10n_cl_dte_engine_issuer(),
            receiver=self._l10n_cl_dte_guia_receiver()._l10n_cl_dte_receiver(),
            lines=lines,
            global_adjustments=adjustments,
            # sudo: the warehouse worker who validates issues the references set on the transfer.
            references=[reference._l10n_cl_dte_engine_reference()
                        for reference in self.sudo().l10n_cl_dte_reference_ids],
            transfer_indicator=int(self.l10n_cl_dte_transfer_indicator),
            dispatch_type=int(self.l10n_cl_dte_dispatch_type) if self.l10n_cl_dte_dispatch_type else None,
            transport=engine_document.Transport(
                plate=(self.l10n_cl_dte_vehicle_plate or "").replace("-", "").replace(" ", "").upper(),
                carrier_rut=self.l10n_cl_dte_carrier_vat or "",
                driver_rut=self.l10n_cl_dte_driver_vat or "",
                driver_name=self.l10n_cl_dte_driver_name or "",
                destination_address=" ".join(filter(None, [destination.street, destination.street2])),
                destination_commune=destination.city or "",
                destination_city=destination.city or "",
            ),
        )

    def _l10n_cl_dte_unvalued_line(self, move):
        return engine_document.Line(
            name=move.product_id.name,
            quantity=to_decimal(move.quantity),
            unit=(move.product_uom.name or "")[:4],
            item_code=("INT1", move.product_id.default_code) if move.product_id.default_code else None,
            amount=to_decimal(0),
        )

    def _l10n_cl_dte_valued_line(self, move, valuation):
        sale_line = move.sale_line_id if valuation == "sale_order" and "sale_line_id" in move._fields else None
        if move.l10n_cl_dte_price_unit:
            price_unit, discount, uom, quantity = move.l10n_cl_dte_price_unit, 0.0, move.product_uom, move.quantity
            taxes = move.product_id.taxes_id.filtered(lambda tax: tax.company_id == self.company_id)
        elif sale_line:
            price_unit, discount, taxes = sale_line.price_unit, sale_line.discount, sale_line.tax_id
            quantity = move.product_uom._compute_quantity(move.quantity, sale_line.product_uom)
            uom = sale_line.product_uom
        else:
            price_unit, discount, uom, quantity = move.product_id.lst_price, 0.0, move.product_uom, move.quantity
            taxes = move.product_id.taxes_id.filtered(lambda tax: tax.company_id == self.company_id)
        amounts = taxes.compute_all(price_unit * (1 - discount / 100), self.currency_id, quantity,
                                    product=move.product_id, partner=self.partner_id)
        return self._l10n_cl_dte_sale_line(
            name=move.product_id.name, quantity=quantity, price_unit=price_unit, discount=discount,
            net=amounts["total_excluded"], gross=amounts["total_included"], taxes=taxes,
            product=move.product_id, uom=uom,
        )
