"""From the lines an ERP keeps to the SII's detail lines: one formula for every document.

An ERP line (an invoice line, a POS order line, a picking's move) has a
quantity, a unit price, a discount percent, taxes that say whether the unit
price includes VAT, and the amounts its books hold after the discount, net and
gross. The SII's ``Detalle`` states ``PrcItem``, ``DescuentoPct``,
``DescuentoMonto`` and ``MontoItem``, and checks
``MontoItem = QtyItem × PrcItem − DescuentoMonto`` (rounded half up).

* ``MontoItem`` is the books' amount — net, or gross on a boleta that states
  gross amounts — so the DTE states exactly what the accounting entry holds.
* ``PrcItem`` is the unit price when it is already in that basis (a net price
  on a factura, a VAT-included price on a boleta, any price of an exempt line);
  otherwise it is derived from the amount: ``MontoItem / (1 − discount) / QtyItem``.
* ``DescuentoMonto`` is what makes the SII's check hold:
  ``round(QtyItem × PrcItem) − MontoItem``.
* A line of negative amount (a discount product, an item returned in an
  exchange) becomes a global discount (``DscRcgGlobal``); a line the ERP marks
  as a global surcharge (an export's freight, insurance or commissions abroad)
  becomes a global surcharge; a line with no quantity states nothing and is
  left out.
* A negative discount percent is a surcharge on the line (``RecargoPct``,
  ``RecargoMonto``): the commissions abroad an export adds to an item.

A boleta states gross amounts — what the customer pays — unless the prices of
its taxed lines exclude VAT: then the shop's VAT is computed on the sum of the
net amounts, as on a factura, and the boleta states net amounts
(``IndMntNeto`` 2), so that its total is still what the customer paid.
"""

from dataclasses import dataclass
from decimal import Decimal

from . import codes
from .document import GlobalAdjustment, Line
from .totals import round_amount

HUNDRED = Decimal(100)
PRICE_QUANTUM = Decimal("0.000001")  # PrcItem carries up to six decimals
GLOBAL_DISCOUNT_NAME_LENGTH = 45  # GlosaDR


@dataclass
class SaleLine:
    """A line as an ERP keeps it."""

    name: str
    quantity: Decimal
    price_unit: Decimal
    net: Decimal  # the line's amount after discount, without VAT, as the books hold it
    gross: Decimal  # the same with VAT
    discount: Decimal = Decimal(0)  # percent
    price_included: bool = False  # the unit price includes VAT
    exempt: bool = False  # no VAT on this line
    description: str = ""
    unit: str = ""
    item_code: tuple = None  # (TpoCodigo, VlrCodigo)
    additional_tax_code: int = None
    global_surcharge: bool = False  # stated as a global surcharge (DscRcgGlobal R), not as an item


@dataclass(frozen=True)
class ItemAmounts:
    price: Decimal  # PrcItem
    discount_percent: Decimal  # DescuentoPct, None without a discount
    discount_amount: Decimal  # DescuentoMonto, None without a discount
    amount: Decimal  # MontoItem
    surcharge_percent: Decimal = None  # RecargoPct, None without a surcharge
    surcharge_amount: Decimal = None  # RecargoMonto, None without a surcharge


def states_gross(document_type, sale_lines):
    """Whether a document of ``document_type`` made of ``sale_lines`` states gross amounts."""
    if not codes.is_boleta(document_type):
        return False
    taxed = [line for line in sale_lines if not line.exempt and line.net > 0]
    return not taxed or any(line.price_included for line in taxed)


def item_amounts(quantity, price_unit, discount, amount, *, price_in_basis, decimals=False):
    """``PrcItem``, ``DescuentoPct``, ``DescuentoMonto`` and ``MontoItem`` of one line.

    ``amount`` is the line's amount after discount in the document's basis (net or
    gross); ``price_in_basis`` says whether ``price_unit`` is in that basis too.
    """
    discount = Decimal(discount or 0)
    if price_in_basis:
        price = Decimal(price_unit)
    else:
        rate = discount / HUNDRED
        undiscounted = amount / (1 - rate) if rate < 1 else amount
        price = (undiscounted / quantity).quantize(PRICE_QUANTUM)
    if not discount:
        return ItemAmounts(price=price, discount_percent=None, discount_amount=None, amount=amount)
    if discount < 0:  # a surcharge: RecargoMonto makes MontoItem = QtyItem × PrcItem + RecargoMonto hold
        return ItemAmounts(price=price, discount_percent=None, discount_amount=None, amount=amount,
                           surcharge_percent=(-discount).quantize(Decimal("0.01")),
                           surcharge_amount=amount - round_amount(quantity * price, decimals))
    return ItemAmounts(
        price=price,
        discount_percent=discount.quantize(Decimal("0.01")),
        discount_amount=round_amount(quantity * price, decimals) - amount,
        amount=amount,
    )


def detail(sale_lines, *, gross, decimals=False):
    """``(lines, global_adjustments)``: the document's ``Detalle`` and ``DscRcgGlobal``.

    ``gross``: the document states gross amounts (see :func:`states_gross`);
    ``decimals``: amounts in a foreign currency keep cents.
    """
    lines, adjustments = [], []
    for sale_line in sale_lines:
        amount = sale_line.gross if gross else sale_line.net
        if amount < 0:
            adjustments.append(GlobalAdjustment(
                movement="D", value_type="$", value=-amount,
                description=(sale_line.name or "")[:GLOBAL_DISCOUNT_NAME_LENGTH], exempt=sale_line.exempt,
            ))
            continue
        if sale_line.global_surcharge:
            adjustments.append(GlobalAdjustment(
                movement="R", value_type="$", value=amount,
                description=(sale_line.name or "")[:GLOBAL_DISCOUNT_NAME_LENGTH], exempt=sale_line.exempt,
            ))
            continue
        if not sale_line.quantity:
            continue
        item = item_amounts(
            sale_line.quantity, sale_line.price_unit, sale_line.discount, amount,
            price_in_basis=sale_line.exempt or sale_line.price_included == gross, decimals=decimals,
        )
        lines.append(Line(
            name=sale_line.name,
            description=sale_line.description,
            quantity=sale_line.quantity,
            price=item.price,
            unit=sale_line.unit,
            exempt=sale_line.exempt,
            discount_percent=item.discount_percent,
            discount_amount=item.discount_amount,
            surcharge_percent=item.surcharge_percent,
            surcharge_amount=item.surcharge_amount,
            amount=item.amount,
            item_code=sale_line.item_code,
            additional_tax_code=sale_line.additional_tax_code,
        ))
    return lines, adjustments
