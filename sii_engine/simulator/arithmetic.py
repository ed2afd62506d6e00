"""The SII's amount checks on a received DTE, recomputed from its own lines.

Lines: ``MontoItem = QtyItem × PrcItem − DescuentoMonto + RecargoMonto``
(half up); a wrong line is an objection (the boleta API's "Valor Detalle
Distinto a Precio * Cantidad", nivel 1). Totals: MntNeto and MntExe are the
sums of the taxable and exempt lines after global discounts/surcharges,
IVA = MntNeto × TasaIVA (±1 peso), additional taxes by their rate, and
MntTotal the sum of it all; a wrong total rejects the document. Amounts the
simulator cannot recompute (a foreign currency outside exports, unknown
taxes, commissions) are left unchecked rather than guessed. Exports in a
foreign currency are recomputed with their 4 decimals, a line within a cent.
"""

from decimal import Decimal, InvalidOperation

from ..totals import ADDITIONAL_TAXES, EXPORT_DECIMALS, round_amount
from ..xmlutil import find, findtext, local
from .issues import issue

BOLETAS = frozenset({39, 41})
EXPORTS = frozenset({110, 111, 112})
ALL_EXEMPT = frozenset({34, 41}) | EXPORTS
HUNDRED = Decimal(100)
VAT_TOLERANCE = Decimal(1)
CENT = Decimal("0.01")
# Totales elements whose effect on MntTotal the simulator does not model.
_UNMODELLED = frozenset({"Comisiones", "MontoNF", "MontoPeriodo", "SaldoAnterior", "VlrPagar", "IVAProp", "IVATerc"})


def _amount(element, path):
    text = findtext(element, path)
    if text is None or not text.strip():
        return None
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        return None


def _children(element, name):
    return [child for child in element if isinstance(child.tag, str) and local(child.tag) == name]


def check_amounts(body, document_type):
    """Return the issues found in ``body`` (``<Documento>``/``<Exportaciones>``)."""
    lines = _children(body, "Detalle")
    decimals = _export_decimals(body, document_type)
    if not decimals and any("." in (findtext(line, "MontoItem") or "") for line in lines):
        return []  # foreign-currency amounts outside exports: not recomputed
    found = [problem for number, line in enumerate(lines, 1) if (problem := _check_line(line, number, decimals))]
    totals = find(body, "Encabezado/Totales")
    if totals is None or _amount(totals, "MntTotal") is None:
        return found
    taxable, exempt, taxed_by_code = _line_sums(lines, document_type)
    taxable, exempt = _apply_global_adjustments(body, taxable, exempt, document_type, decimals)
    net_prices = findtext(body, "Encabezado/IdDoc/IndMntNeto") == "2"
    if document_type in BOLETAS and not net_prices:
        found += _check_boleta(totals, taxable, exempt)
    elif document_type in EXPORTS:
        found += _check_export(totals, taxable + exempt)
    else:
        found += _check_factura(totals, taxable, exempt, taxed_by_code, document_type)
    return found


def _export_decimals(body, document_type):
    """4 on an export in a foreign currency (its amounts' decimals), else False (whole pesos)."""
    currency = (findtext(body, "Encabezado/Totales/TpoMoneda") or "").strip()
    return EXPORT_DECIMALS if document_type in EXPORTS and currency not in ("", "PESO CL") else False


def _check_line(line, number, decimals=False):
    price = _amount(line, "PrcItem")
    amount = _amount(line, "MontoItem")
    if price is None or amount is None:
        return None
    quantity = _amount(line, "QtyItem")
    quantity = Decimal(1) if quantity is None else quantity
    expected = round_amount(
        quantity * price - (_amount(line, "DescuentoMonto") or 0) + (_amount(line, "RecargoMonto") or 0), decimals
    )
    if abs(expected - amount) > (CENT if decimals else 0):
        return issue("line_amount", f"[{amount} <> {expected}]", line=number)
    return None


def _line_sums(lines, document_type):
    taxable = exempt = Decimal(0)
    taxed_by_code = {}
    for line in lines:
        amount = _amount(line, "MontoItem") or Decimal(0)
        indicator = findtext(line, "IndExe")
        if indicator and indicator != "1":
            continue  # not billable (IndExe 2-6): outside MntNeto and MntExe
        if document_type in ALL_EXEMPT or indicator == "1":
            exempt += amount
        else:
            taxable += amount
            code = findtext(line, "CodImpAdic")
            if code:
                taxed_by_code[int(code)] = taxed_by_code.get(int(code), Decimal(0)) + amount
    return taxable, exempt, taxed_by_code


def _apply_global_adjustments(body, taxable, exempt, document_type, decimals=False):
    for adjustment in _children(body, "DscRcgGlobal"):
        value = _amount(adjustment, "ValorDR") or Decimal(0)
        on_exempt = document_type in ALL_EXEMPT or findtext(adjustment, "IndExeDR") == "1"
        base = exempt if on_exempt else taxable
        if findtext(adjustment, "TpoValor") == "%":
            value = round_amount(base * value / HUNDRED, decimals)
        signed = -value if findtext(adjustment, "TpoMov") == "D" else value
        if on_exempt:
            exempt += signed
        else:
            taxable += signed
    return taxable, exempt


def _compare(kind, declared, expected, tolerance=Decimal(0)):
    if declared is None and expected == 0:
        return []
    if declared is None or abs(declared - expected) > tolerance:
        return [issue(kind, f"[{declared} <> {expected}]")]
    return []


def _check_boleta(totals, taxable, exempt):
    found = _compare("total_amount", _amount(totals, "MntTotal"), taxable + exempt)
    net, vat = _amount(totals, "MntNeto"), _amount(totals, "IVA")
    if net is not None and vat is not None:
        found += _compare("total_amount", _amount(totals, "MntTotal"), net + vat + (_amount(totals, "MntExe") or 0))
        found += _compare("vat_amount", vat, round_amount(net * Decimal("0.19")), VAT_TOLERANCE)
    return found


def _check_export(totals, exempt):
    found = _compare("exempt_amount", _amount(totals, "MntExe"), exempt)
    return found + _compare("total_amount", _amount(totals, "MntTotal"), exempt)


def _check_factura(totals, taxable, exempt, taxed_by_code, document_type):
    net, declared_exempt = _amount(totals, "MntNeto"), _amount(totals, "MntExe")
    vat, total = _amount(totals, "IVA") or Decimal(0), _amount(totals, "MntTotal")
    found = _compare("net_amount", net, taxable) + _compare("exempt_amount", declared_exempt, exempt)
    rate = _amount(totals, "TasaIVA")
    if rate is None and document_type in BOLETAS:
        rate = Decimal(19)  # a boleta with net prices (IndMntNeto 2) carries no TasaIVA
    if net is not None and rate is not None:
        found += _compare("vat_amount", vat, round_amount(net * rate / HUNDRED), VAT_TOLERANCE)
    expected_total = (net or 0) + (declared_exempt or 0) + vat
    for tax in _children(totals, "ImptoReten"):
        code, amount = findtext(tax, "TipoImp"), _amount(tax, "MontoImp") or Decimal(0)
        known = ADDITIONAL_TAXES.get(int(code)) if code and code.isdigit() else None
        if known is None:
            return found  # an unknown tax: the total cannot be recomputed
        rate_percent, retained = known
        if int(code) in taxed_by_code:
            found += _compare("additional_tax", amount, round_amount(taxed_by_code[int(code)] * rate_percent / HUNDRED),
                              VAT_TOLERANCE)
        expected_total += -amount if retained else amount
    if any(local(child.tag) in _UNMODELLED for child in totals if isinstance(child.tag, str)):
        return found
    expected_total += -(_amount(totals, "CredEC") or 0) + (_amount(totals, "GrntDep") or 0)
    return found + _compare("total_amount", total, expected_total)
