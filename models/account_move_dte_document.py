"""How an Odoo invoice becomes the engine's :class:`~sii_engine.document.Document`.

Amounts come from Odoo's own computation (``price_subtotal``/``price_total``
per line, in the document's currency), so the DTE states exactly what the
accounting entry holds; the engine's line formula (:mod:`sii_engine.lines`)
turns them into the SII's detail lines, and the issuer checks that both totals
agree before anything is stamped.
"""

from odoo import fields, models

from ..sii_engine import codes
from ..sii_engine import document as engine_document
from ..sii_engine import lines as engine_lines
from .l10n_cl_dte_identified_sale import BOLETA_MEDIO_PAGO
from .l10n_cl_dte_sii_document_issue import to_decimal


class AccountMove(models.Model):
    _inherit = "account.move"

    def _l10n_cl_dte_document(self, document_type, folio):
        self.ensure_one()
        code = int(document_type.code)
        export = codes.is_export(code)
        sale_lines = [self._l10n_cl_dte_invoice_sale_line(line) for line in self.invoice_line_ids
                      if line.display_type == "product"]
        gross = engine_lines.states_gross(code, sale_lines)
        lines, adjustments = engine_lines.detail(sale_lines, gross=gross, decimals=self.currency_id.decimal_places > 0)
        foreign_currency = self._l10n_cl_dte_foreign_currency()
        customs = self._l10n_cl_dte_customs() if export else None
        # Before posting (the refusals checked ahead of the folio) an invoice may have no date yet.
        issue_date = self.invoice_date or fields.Date.context_today(self)
        immediate = not self.invoice_payment_term_id or (self.invoice_date_due or issue_date) <= issue_date
        boleta = codes.is_boleta(code)
        # A boleta names the buyer the invoice is addressed to (its e-mail or phone, Ley 21.713).
        buyer = self.partner_id if boleta else self.commercial_partner_id
        return engine_document.Document(
            document_type=code,
            folio=folio,
            issue_date=issue_date,
            issuer=self.company_id._l10n_cl_dte_engine_issuer(),
            receiver=buyer._l10n_cl_dte_receiver(foreign=export),
            lines=lines,
            global_adjustments=adjustments,
            references=[reference._l10n_cl_dte_engine_reference() for reference in self.l10n_cl_dte_reference_ids],
            payment_form=None if export else (1 if immediate else 2),
            due_date=None if immediate else self.invoice_date_due,
            # A boleta carries no installments (MntPagos): its FchVenc is the due date.
            payments=[] if export or boleta or immediate else self._l10n_cl_dte_installments(),
            net_prices=boleta and not gross,
            # An unknown currency goes as it is named, for the engine to refuse naming TpoMoneda.
            currency=self._l10n_cl_normalize_currency_name(self.currency_id.name) if export else "",
            other_currency="PESO CL" if foreign_currency else "",
            exchange_rate=self._l10n_cl_dte_exchange_rate(),
            service_indicator=int(self.l10n_cl_dte_export_service) if export and self.l10n_cl_dte_export_service else None,
            export_payment_form=(self.l10n_cl_dte_export_payment_form_id.code or None) if export else None,
            transport=engine_document.Transport(customs=customs) if customs else None,
            **(self._l10n_cl_dte_boleta_values(issue_date) if boleta else {}),
        )

    def _l10n_cl_dte_boleta_values(self, issue_date):
        """What the SII's boleta format of 2024 adds: MedioPago, RUTProvSW, and the 135 UF rule's threshold."""
        return {
            "payment_method": BOLETA_MEDIO_PAGO.get(self.l10n_cl_dte_payment_method),
            "software_provider_rut": self.company_id._l10n_cl_dte_software_provider_rut(),
            "threshold_135_uf": self._l10n_cl_dte_boleta_threshold(issue_date),
        }

    def _l10n_cl_dte_installments(self):
        """MntPagos: the installments of a sale on credit, as its payment terms split the receivable.

        Only in whole pesos (the SII's MntPago); the receivable's lines add up to the invoice's total.
        """
        if self.move_type != "out_invoice" or self.currency_id.decimal_places:
            return []
        terms = self.line_ids.filtered(lambda line: line.display_type == "payment_term").sorted("date_maturity")
        return [engine_document.Payment(date=line.date_maturity, amount=to_decimal(abs(line.amount_currency), 0))
                for line in terms]

    def _l10n_cl_dte_invoice_sale_line(self, line):
        # The label's first line is the item's name unless the product names it; the rest describes it.
        name, _sep, description = (line.name or line.product_id.display_name or "").partition("\n")
        sale_line = self._l10n_cl_dte_sale_line(
            name=line.product_id.name or name,
            description=description if line.product_id.name else "",
            quantity=line.quantity,
            price_unit=line.price_unit,
            discount=line.discount,
            net=line.price_subtotal,
            gross=line.price_total,
            taxes=line.tax_ids,
            product=line.product_id,
            uom=line.product_uom_id,
        )
        sale_line.global_surcharge = line.l10n_cl_dte_global_surcharge
        return sale_line


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    l10n_cl_dte_global_surcharge = fields.Boolean(
        string="Global Surcharge",
        help="The DTE states this line as a surcharge on the whole document (DscRcgGlobal), not as an item: an "
             "export's freight, insurance or commissions abroad.",
    )
