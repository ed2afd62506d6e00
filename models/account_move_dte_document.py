"""How an Odoo invoice becomes the engine's :class:`~sii_engine.document.Document`.

Amounts come from Odoo's own computation (``price_subtotal`` per line, in the
document's currency), so the DTE states exactly what the accounting entry
holds; the engine then applies the SII's arithmetic and the issuer checks that
both agree before anything is stamped.
"""

from decimal import Decimal

from odoo import _, models
from odoo.exceptions import UserError
from odoo.tools import float_is_zero, html2plaintext

from ..sii_engine import document as engine_document
from ..sii_engine.totals import round_amount

VAT_SII_CODE = 14
EXPORT_CODES = {"110", "111", "112"}
FOREIGN_RECEIVER_RUT = "55555555-5"


def _decimal(value, digits=6):
    return Decimal(repr(round(value, digits)))


class AccountMove(models.Model):
    _inherit = "account.move"

    def _l10n_cl_dte_issuer(self):
        return self.company_id._l10n_cl_dte_engine_issuer()

    def _l10n_cl_dte_receiver(self):
        partner = self.commercial_partner_id
        export = self.l10n_latam_document_type_id.code in EXPORT_CODES
        rut = FOREIGN_RECEIVER_RUT if export else partner._l10n_cl_dte_engine_rut(_("The customer"))
        return engine_document.Receiver(
            rut=rut,
            name=partner.name or "",
            activity=partner.l10n_cl_activity_description or "",
            address=" ".join(filter(None, [partner.street, partner.street2])),
            commune=partner.city or "",
            city=partner.state_id.name or partner.city or "",
            email=partner.email or "",
            nationality=(partner.country_id.l10n_cl_customs_code or "") if export else "",
            foreign_id=(partner.vat or "") if export else "",
        )

    def _l10n_cl_dte_line_is_exempt(self, line):
        return not line.tax_ids.filtered(lambda tax: tax.l10n_cl_sii_code == VAT_SII_CODE)

    def _l10n_cl_dte_lines(self):
        """Product lines as engine lines; negative lines become global discounts."""
        lines, adjustments = [], []
        digits = self.currency_id.decimal_places
        boleta = self.l10n_latam_document_type_id.code in ("39", "41")
        for line in self.invoice_line_ids.filtered(lambda move_line: move_line.display_type == "product"):
            exempt = self._l10n_cl_dte_line_is_exempt(line)
            if line.price_subtotal < 0:
                adjustments.append(engine_document.GlobalAdjustment(
                    movement="D", value_type="$",
                    value=_decimal(-(line.price_total if boleta else line.price_subtotal), digits),
                    description=(line.name or "")[:45], exempt=exempt,
                ))
                continue
            if float_is_zero(line.quantity, precision_digits=6):
                raise UserError(_("The line %s has no quantity.", line.name))
            # Boletas state gross amounts, every other DTE net ones.
            amount = _decimal(line.price_total if boleta else line.price_subtotal, digits)
            quantity = _decimal(line.quantity)
            if not boleta and not line.tax_ids.filtered("price_include"):
                price = _decimal(line.price_unit)
            else:
                discount_rate = Decimal(repr(line.discount or 0)) / 100
                undiscounted = amount / (1 - discount_rate) if discount_rate < 1 else amount
                price = (undiscounted / quantity).quantize(Decimal("0.000001"))
            discount = round_amount(quantity * price, digits > 0) - amount if line.discount else None
            name, _sep, description = (line.name or line.product_id.display_name or "").partition("\n")
            additional = line.tax_ids.filtered(lambda tax: tax.l10n_cl_sii_code not in (False, 0, VAT_SII_CODE))
            lines.append(engine_document.Line(
                name=line.product_id.name or name or _("Item"),
                description=description if line.product_id.name else "",
                quantity=quantity,
                price=price,
                unit=(line.product_uom_id.name or "")[:4],
                exempt=exempt,
                discount_percent=_decimal(line.discount, 2) if line.discount else None,
                discount_amount=discount,
                amount=amount,
                item_code=("INT1", line.product_id.default_code) if line.product_id.default_code else None,
                additional_tax_code=additional[:1].l10n_cl_sii_code or None,
            ))
        return lines, adjustments

    def _l10n_cl_dte_references(self):
        references = [
            engine_document.Reference(
                document_type=reference._l10n_cl_dte_type_code(),
                folio=reference.folio,
                date=reference.date,
                code=int(reference.code) if reference.code else None,
                reason=reference.reason or "",
            )
            for reference in self.l10n_cl_dte_reference_ids
        ]
        return references

    def _l10n_cl_dte_document(self, folio):
        """The engine document for this invoice with ``folio``."""
        self.ensure_one()
        code = self.l10n_latam_document_type_id.code
        lines, adjustments = self._l10n_cl_dte_lines()
        export = code in EXPORT_CODES
        payment_term = self.invoice_payment_term_id
        immediate = not payment_term or (self.invoice_date_due or self.invoice_date) <= self.invoice_date
        return engine_document.Document(
            document_type=int(code),
            folio=folio,
            issue_date=self.invoice_date,
            issuer=self._l10n_cl_dte_issuer(),
            receiver=self._l10n_cl_dte_receiver(),
            lines=lines,
            global_adjustments=adjustments,
            references=self._l10n_cl_dte_references(),
            payment_form=None if export else (1 if immediate else 2),
            due_date=None if immediate else self.invoice_date_due,
            currency=self._l10n_cl_normalize_currency_name(self.currency_id.name) if export else "",
            other_currency="PESO CL" if export and self.currency_id != self.company_id.currency_id else "",
            exchange_rate=(_decimal(1 / self.invoice_currency_rate, 4)
                           if export and self.invoice_currency_rate and self.currency_id != self.company_id.currency_id
                           else None),
            service_indicator=3 if export else None,
        )

    def _l10n_cl_dte_notes_text(self):
        return html2plaintext(self.narration or "") if self.narration else ""
