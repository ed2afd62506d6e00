"""How a paid POS order becomes the engine's boleta :class:`~sii_engine.document.Document`.

Boletas state gross amounts: each line's ``price_subtotal_incl`` as Odoo
computed it, so the boleta's total is the order's total; negative lines (a
discount product, a returned item in an exchange) become global discounts.
"""

from decimal import Decimal

from odoo import _, models
from odoo.exceptions import UserError
from odoo.tools import float_is_zero

from ..sii_engine import document as engine_document
from .account_move_dte_document import VAT_SII_CODE
from .res_partner import GENERIC_RECEIVER_RUT


def _decimal(value, digits=6):
    return Decimal(repr(round(value, digits)))


class PosOrder(models.Model):
    _inherit = "pos.order"

    def _l10n_cl_dte_line_is_exempt(self, line):
        return not line.tax_ids_after_fiscal_position.filtered(lambda tax: tax.l10n_cl_sii_code == VAT_SII_CODE)

    def _l10n_cl_dte_receiver(self):
        partner = self.partner_id.commercial_partner_id
        if not partner or not partner._l10n_cl_dte_has_real_rut():
            return engine_document.Receiver(rut=GENERIC_RECEIVER_RUT, name="Consumidor Final")
        return engine_document.Receiver(
            rut=partner._l10n_cl_dte_engine_rut(_("The customer")),
            name=partner.name or "",
            address=" ".join(filter(None, [partner.street, partner.street2])),
            commune=partner.city or "",
            city=partner.state_id.name or partner.city or "",
            email=partner.email or "",
        )

    def _l10n_cl_dte_lines(self):
        lines, adjustments = [], []
        digits = self.currency_id.decimal_places
        for line in self.lines:
            exempt = self._l10n_cl_dte_line_is_exempt(line)
            amount = _decimal(line.price_subtotal_incl, digits)
            if amount < 0:
                adjustments.append(engine_document.GlobalAdjustment(
                    movement="D", value_type="$", value=-amount,
                    description=(line.full_product_name or "")[:45], exempt=exempt,
                ))
                continue
            if float_is_zero(line.qty, precision_digits=6):
                continue
            quantity = _decimal(line.qty)
            discount_rate = Decimal(repr(line.discount or 0)) / 100
            undiscounted = amount / (1 - discount_rate) if discount_rate < 1 else amount
            price = (undiscounted / quantity).quantize(Decimal("0.000001"))
            product = line.product_id
            lines.append(engine_document.Line(
                name=(line.full_product_name or product.name or _("Item"))[:80],
                quantity=quantity,
                price=price,
                unit=(product.uom_id.name or "")[:4],
                exempt=exempt,
                discount_percent=_decimal(line.discount, 2) if line.discount else None,
                discount_amount=(undiscounted - amount).quantize(Decimal(1) if not digits else Decimal("0.01"))
                if line.discount else None,
                amount=amount,
                item_code=("INT1", product.default_code) if product.default_code else None,
            ))
        if not lines:
            raise UserError(_("The order %s has no line to put on a boleta.", self.display_name))
        return lines, adjustments

    def _l10n_cl_dte_document(self, document_type, folio, issue_date):
        """The engine boleta of ``document_type`` (39 or 41) for this paid order."""
        self.ensure_one()
        lines, adjustments = self._l10n_cl_dte_lines()
        return engine_document.Document(
            document_type=int(document_type.code),
            folio=folio,
            issue_date=issue_date,
            issuer=self.company_id._l10n_cl_dte_engine_issuer(),
            receiver=self._l10n_cl_dte_receiver(),
            lines=lines,
            global_adjustments=adjustments,
        )
