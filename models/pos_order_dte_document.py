"""How a paid POS order becomes the engine's boleta :class:`~sii_engine.document.Document`.

The lines are the order's as Odoo computed them (``price_subtotal`` and
``price_subtotal_incl``), turned into the SII's by the engine's line formula
(:mod:`sii_engine.lines`): a boleta states what the customer paid — gross
amounts, or net ones when the shop's prices exclude VAT — and negative lines
(a discount product, an item returned in an exchange) become global discounts.
"""

from odoo import fields, models

from ..sii_engine import document as engine_document
from ..sii_engine import lines as engine_lines
from .l10n_cl_dte_identified_sale import BOLETA_MEDIO_PAGO
from .l10n_cl_dte_sii_document_issue import VAT_SII_CODE


class PosOrder(models.Model):
    _inherit = "pos.order"

    def _l10n_cl_dte_line_is_exempt(self, line):
        return not line.tax_ids_after_fiscal_position.filtered(lambda tax: tax.l10n_cl_sii_code == VAT_SII_CODE)

    def _l10n_cl_dte_document(self, document_type, folio):
        self.ensure_one()
        code = int(document_type.code)
        sale_lines = [
            self._l10n_cl_dte_sale_line(
                name=line.full_product_name or line.product_id.name,
                quantity=line.qty,
                price_unit=line.price_unit,
                discount=line.discount,
                net=line.price_subtotal,
                gross=line.price_subtotal_incl,
                taxes=line.tax_ids_after_fiscal_position,
                product=line.product_id,
                uom=line.product_id.uom_id,
            )
            for line in self.lines
        ]
        gross = engine_lines.states_gross(code, sale_lines)
        lines, adjustments = engine_lines.detail(sale_lines, gross=gross, decimals=self.currency_id.decimal_places > 0)
        issue_date = self._l10n_cl_dte_issue_date()
        payment_method = self._l10n_cl_dte_payment_method()
        return engine_document.Document(
            document_type=code,
            folio=folio,
            issue_date=issue_date,
            issuer=self.company_id._l10n_cl_dte_engine_issuer(),
            receiver=self.partner_id._l10n_cl_dte_receiver(anonymous=True),
            lines=lines,
            global_adjustments=adjustments,
            net_prices=not gross,
            payment_method=BOLETA_MEDIO_PAGO.get(payment_method),
            software_provider_rut=self.company_id._l10n_cl_dte_software_provider_rut(),
            threshold_135_uf=self._l10n_cl_dte_boleta_threshold(issue_date),
        )

    def _l10n_cl_dte_issue_date(self):
        # The SII dates a boleta in Chile's time, whatever the cashier's browser says.
        return fields.Datetime.context_timestamp(
            self.with_context(tz=self.env.user.tz or "America/Santiago"), self.date_order
        ).date()
