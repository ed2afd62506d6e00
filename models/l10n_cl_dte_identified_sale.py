"""Boletas above 135 UF (Ley 21.713, the SII's boleta format 4.1 of 2024-12-31).

Above the company's limit (135 UF in pesos of the issue date) a boleta names
its buyer (RUT and name), says how it was paid (``MedioPago``) and, paid in
cash, carries the buyer's e-mail or phone. The engine refuses such a boleta
(:func:`sii_engine.payments.check_identified_sale`); this is the same rule said
to the user before any folio is taken, for the till and for invoices typed as
boletas alike.

How a sale was paid is one of the kinds below, chosen on each POS payment
method and on an invoice; the boleta's ``MedioPago`` is its SII code.
"""

from decimal import Decimal

from odoo import _, models

# The kinds of payment users choose; their labels are translated.
PAYMENT_METHODS = [
    ("cash", "Cash"),
    ("debit_card", "Debit Card"),
    ("credit_card", "Credit Card"),
    ("transfer", "Bank Transfer"),
    ("cheque", "Cheque"),
    ("other", "Other"),
]
# Boleta MedioPago (format 4.1, field 10): 1 cash, 2 electronic payment (cards), 3 electronic
# transfer, 4 cheque, 5 other — the engine's payments.BOLETA_PAYMENT_METHODS.
BOLETA_MEDIO_PAGO = {"cash": 1, "debit_card": 2, "credit_card": 2, "transfer": 3, "cheque": 4, "other": 5}


class L10nClDteSiiDocument(models.AbstractModel):
    _inherit = "l10n_cl_dte.sii.document"

    def _l10n_cl_dte_boleta_threshold(self, date):
        """135 UF (the company's limit) in pesos on ``date``, as the engine's Decimal; None: no limit."""
        limit = self.company_id._l10n_cl_dte_boleta_limit(date)
        if not limit:
            return None
        # In the currency's precision: 5400000 pesos, not 5400000.0 (the engine's messages quote it).
        return Decimal(repr(limit)).quantize(Decimal(1).scaleb(-self.company_id.currency_id.decimal_places))

    def _l10n_cl_dte_identified_sale_problems(self, total, buyer, payment_method, date):
        """What a boleta of ``total`` lacks above the limit on ``date``, each saying what to fix.

        ``buyer`` is the partner the boleta names (or none), ``payment_method`` a key of
        PAYMENT_METHODS (or none).
        """
        company = self.company_id
        limit = company._l10n_cl_dte_boleta_limit(date)
        currency = company.currency_id
        if not limit or currency.compare_amounts(total, limit) <= 0:
            return []
        above = {"limit": currency.format(limit), "uf": company.l10n_cl_dte_boleta_limit_uf}
        commercial = buyer.commercial_partner_id
        if not (commercial and commercial._l10n_cl_dte_has_real_rut()):
            return [_("A boleta above %(limit)s (%(uf)s UF) must name its buyer: select a customer with a RUT, "
                      "or issue an invoice.", **above)]
        problems = []
        if not payment_method:
            problems.append(_("A boleta above %(limit)s (%(uf)s UF) must say how it was paid: set its payment "
                              "method.", **above))
        elif payment_method == "cash" and not any(buyer._l10n_cl_dte_contact()):
            problems.append(_("A boleta above %(limit)s (%(uf)s UF) paid in cash must carry the buyer's e-mail or "
                              "phone: add one to the customer %(customer)s.", customer=buyer.display_name, **above))
        return problems
