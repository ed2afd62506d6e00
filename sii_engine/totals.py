"""The SII's arithmetic: line amounts and document totals.

Integer pesos with half-up rounding, in :class:`~decimal.Decimal` — never
float, never Python's ``round`` (which rounds half to even). Export documents
in a foreign currency keep the 4 decimals their schema gives ``MontoItem``,
``MntExe`` and ``MntTotal``; their ``OtraMoneda`` converts the totals to whole
pesos at ``TpoCambio`` (4 decimals).

Facturas and notes carry net prices: ``IVA = round(MntNeto × TasaIVA / 100)``.
Boletas carry gross prices (unless ``IndMntNeto``): the total is the sum of the
lines and the net is derived from it, ``MntNeto = round(total / 1.19)``,
``IVA = total − MntNeto``, so the printed total is exactly what the customer paid.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .document import BOLETA_TYPES, EXEMPT_TYPES, EXPORT_TYPES, GUIA_DESPACHO
from .errors import DocumentError, FieldValueError

ONE = Decimal(1)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
# Exports in a foreign currency: MontoItem, MntExe, MntTotal and MNT are decimals with 4 places.
EXPORT_DECIMALS = 4
RATE = Decimal("0.0001")  # TpoCambio: the schema's Dec6_4Type
PESO_CL = "PESO CL"

# CodImpAdic → (rate %, retained by the receiver). Retained taxes reduce the
# total the receiver pays (IVA retenido); the others add to it.
ADDITIONAL_TAXES = {
    14: (Decimal(5), False),  # IVA margen de comercialización
    15: (Decimal(19), True),  # IVA retenido total
    17: (Decimal(5), False),  # IVA anticipado faenamiento carne
    18: (Decimal(5), False),  # IVA anticipado carne
    19: (Decimal(12), False),  # IVA anticipado harina
    23: (Decimal(15), False),  # Impuesto adicional art. 37 a, b, c
    24: (Decimal("31.5"), False),  # Licores, piscos, destilados
    25: (Decimal("20.5"), False),  # Vinos
    26: (Decimal("20.5"), False),  # Cervezas y bebidas alcohólicas
    27: (Decimal(10), False),  # Bebidas analcohólicas y minerales
    271: (Decimal(18), False),  # Bebidas analcohólicas con alto contenido de azúcar
    30: (Decimal(10), True),  # IVA retenido legumbres
    31: (Decimal(19), True),  # IVA retenido silvestres
    32: (Decimal(8), True),  # IVA retenido ganado
    33: (Decimal(8), True),  # IVA retenido madera
    34: (Decimal(4), True),  # IVA retenido trigo
    36: (Decimal(10), True),  # IVA retenido arroz
    37: (Decimal(10), True),  # IVA retenido hidrobiológicas
    38: (Decimal(19), True),  # IVA retenido chatarra
    39: (Decimal(19), True),  # IVA retenido PPA
    41: (Decimal(19), True),  # IVA retenido construcción
    47: (Decimal(19), True),  # IVA retenido cartones
    48: (Decimal(19), True),  # IVA retenido frambuesas y pasas
    49: (Decimal(19), True),  # Factura de compra sin retención (IVA retenido)
}


def round_amount(value, decimals=False):
    """Round half up to whole pesos, to cents when ``decimals`` is True, or to ``decimals`` places."""
    if decimals is True:
        return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    quantum = ONE.scaleb(-decimals) if decimals else ONE
    return Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)


@dataclass
class LineAmounts:
    discount: Decimal
    surcharge: Decimal
    amount: Decimal  # MontoItem


@dataclass
class Totals:
    net: Decimal = None  # MntNeto
    exempt: Decimal = None  # MntExe
    vat_rate: Decimal = None  # TasaIVA
    vat: Decimal = None  # IVA
    additional_taxes: list = field(default_factory=list)  # [(code, rate, amount)] → ImptoReten
    vat_not_retained: Decimal = None  # IVANoRet
    total: Decimal = Decimal(0)  # MntTotal
    lines: list = field(default_factory=list)  # LineAmounts per line
    adjustments: list = field(default_factory=list)  # signed amount per global adjustment
    other_currency_exempt: Decimal = None  # OtraMoneda/MntExeOtrMnda
    other_currency_total: Decimal = None  # OtraMoneda/MntTotOtrMnda


def line_amounts(line, decimals=False):
    gross = line.quantity * line.price
    discount = line.discount_amount
    if discount is None and line.discount_percent:
        discount = gross * line.discount_percent / HUNDRED
    surcharge = line.surcharge_amount
    if surcharge is None and line.surcharge_percent:
        surcharge = gross * line.surcharge_percent / HUNDRED
    # Given or computed, DescuentoMonto/RecargoMonto are whole pesos (cents abroad).
    discount = round_amount(discount or 0, decimals)
    surcharge = round_amount(surcharge or 0, decimals)
    amount = round_amount(gross - discount + surcharge, decimals)
    if line.amount is not None:
        # The caller's books are authoritative, within the SII's one-unit rounding tolerance.
        given = round_amount(line.amount, decimals)
        if abs(given - amount) > 1:
            raise DocumentError(
                reason=f"the line {line.name!r} states {given} but quantity × price − discount + surcharge is {amount}"
            )
        amount = given
    if amount < 0:
        raise DocumentError(reason=f"the line {line.name!r} has a negative amount")
    return LineAmounts(discount=discount, surcharge=surcharge, amount=amount)


def compute_totals(document):
    """Compute every amount of ``document`` by the SII's rules."""
    document_type = document.document_type
    decimals = EXPORT_DECIMALS if is_foreign_currency(document) else False
    all_exempt = document_type in EXEMPT_TYPES
    totals = Totals()
    taxable = exempt = Decimal(0)
    taxed_by_code = {}
    for line in document.lines:
        amounts = line_amounts(line, decimals)
        if decimals:
            _check_whole_adjustments(line, amounts)
        totals.lines.append(amounts)
        if line.exempt or all_exempt:
            exempt += amounts.amount
        else:
            taxable += amounts.amount
            if line.additional_tax_code:
                taxed_by_code[line.additional_tax_code] = taxed_by_code.get(line.additional_tax_code, 0) + amounts.amount
    for adjustment in document.global_adjustments:
        base = exempt if (adjustment.exempt or all_exempt) else taxable
        percent = adjustment.value_type == "%"
        value = round_amount(base * adjustment.value / HUNDRED if percent else adjustment.value, decimals)
        signed = -value if adjustment.movement == "D" else value
        totals.adjustments.append(signed)
        if adjustment.exempt or all_exempt:
            exempt += signed
        else:
            taxable += signed
    if taxable < 0 or exempt < 0:
        raise DocumentError(reason="the global discounts exceed the amounts they apply to")

    if document_type in BOLETA_TYPES and not document.net_prices:
        _boleta_totals(document, totals, taxable, exempt)
    elif document_type in EXPORT_TYPES:
        totals.exempt = exempt + taxable
        totals.total = totals.exempt
    else:
        _factura_totals(document, totals, taxable, exempt, taxed_by_code)
    if document.exchange_rate and other_currency(document):
        _other_currency_totals(document, totals)
    return totals


def is_foreign_currency(document):
    """Whether ``document`` is an export whose amounts are in a currency other than pesos."""
    return document.is_export and bool(document.currency) and document.currency != PESO_CL


def other_currency(document):
    """``OtraMoneda/TpoMoneda``: pesos on an export in a foreign currency unless the caller says otherwise."""
    if document.other_currency:
        return document.other_currency
    return PESO_CL if is_foreign_currency(document) else ""


def exchange_rate(document):
    """``TpoCambio`` as the document carries it: 4 decimals, half up."""
    return round_amount(document.exchange_rate, 4)


def _other_currency_totals(document, totals):
    """OtraMoneda: the totals in the other currency at ``TpoCambio``.

    On exports ``TpoCambio`` is pesos per unit of the document's currency (the
    Banco Central's rate of the issue date) and the other currency pesos, in
    whole pesos; a document in pesos divides by the rate instead.
    """
    rate = exchange_rate(document)
    if rate <= 0:
        raise FieldValueError(field="TpoCambio", value=str(document.exchange_rate), reason="the rate must be positive")
    in_pesos = other_currency(document) == PESO_CL
    decimals = False if in_pesos else EXPORT_DECIMALS
    divide = document.currency == PESO_CL and not in_pesos

    def convert(amount):
        return round_amount(amount / rate if divide else amount * rate, decimals)

    totals.other_currency_exempt = convert(totals.exempt or 0)
    totals.other_currency_total = convert(totals.total)


def _check_whole_adjustments(line, amounts):
    """An export's DescuentoMonto and RecargoMonto are whole units (the schema's MntImpType), even in dollars."""
    for tag, value in (("DescuentoMonto", amounts.discount), ("RecargoMonto", amounts.surcharge)):
        if value != value.to_integral_value():
            raise FieldValueError(
                field=tag, value=format(value.normalize(), "f"),
                reason=f"on an export the SII takes whole units for the line {line.name!r}; "
                       "state the discount or surcharge in the unit price instead",
            )


def _boleta_totals(document, totals, taxable, exempt):
    if taxable:
        divisor = ONE + document.vat_rate / HUNDRED
        totals.net = round_amount(taxable / divisor)
        totals.vat = taxable - totals.net
    if exempt or not taxable:
        totals.exempt = exempt
    totals.total = taxable + exempt


def _factura_totals(document, totals, taxable, exempt, taxed_by_code):
    # Every line of an exempt type (34) is exempt, whether flagged IndExe or not.
    has_taxable = document.document_type not in EXEMPT_TYPES and (
        bool(taxable) or any(not line.exempt for line in document.lines)
    )
    if document.document_type == GUIA_DESPACHO and not document.lines:
        totals.total = Decimal(0)
        return
    if has_taxable:
        totals.net = taxable
        totals.vat_rate = document.vat_rate
        totals.vat = round_amount(taxable * document.vat_rate / HUNDRED)
    if exempt:
        totals.exempt = exempt
    total = taxable + exempt + (totals.vat or 0)
    retained = Decimal(0)
    for code in sorted(taxed_by_code):
        rate, is_retained = ADDITIONAL_TAXES.get(code, (None, None))
        if rate is None:
            raise DocumentError(reason=f"the additional tax code {code} is not known")
        amount = round_amount(taxed_by_code[code] * rate / HUNDRED)
        totals.additional_taxes.append((code, rate, amount))
        if is_retained:
            retained += amount
        else:
            total += amount
    if retained:
        total -= retained
        if retained < (totals.vat or 0):
            totals.vat_not_retained = totals.vat - retained
    totals.total = total
