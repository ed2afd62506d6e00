"""From ERP lines to the SII's detail lines: one formula, checked by the SII's own rule."""

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from sii_engine import codes, lines, totals


def sale_line(quantity, price, discount=0, vat_included=False, exempt=False, rate=Decimal("0.19")):
    """An ERP line whose books round each amount to whole pesos, as Odoo does in CLP."""
    quantity, price, discount = Decimal(quantity), Decimal(price), Decimal(discount)
    base = quantity * price * (1 - discount / 100)
    if exempt:
        net = gross = base
    elif vat_included:
        gross, net = base, base / (1 + rate)
    else:
        net, gross = base, base * (1 + rate)
    whole = Decimal(1)
    return lines.SaleLine(
        name="item", quantity=quantity, price_unit=price, discount=discount, price_included=vat_included,
        exempt=exempt, net=net.quantize(whole, ROUND_HALF_UP), gross=gross.quantize(whole, ROUND_HALF_UP),
    )


def test_factura_with_net_prices_states_the_unit_price_and_the_discount_that_makes_the_amount():
    (line,), adjustments = lines.detail([sale_line(3, "1234.5", 10)], gross=False)
    assert adjustments == []
    assert (line.price, line.discount_percent, line.amount) == (Decimal("1234.5"), Decimal("10.00"), Decimal(3333))
    assert line.discount_amount == 371  # round(3 × 1234.5) = 3704; 3704 − 371 = 3333
    assert totals.line_amounts(line).amount == line.amount


def test_factura_with_vat_included_prices_derives_the_net_price():
    (line,), _adjustments = lines.detail([sale_line(2, 2500, vat_included=True)], gross=False)
    assert line.amount == 4202  # 5000 / 1.19
    assert line.price == Decimal("2101")
    assert line.discount_amount is None


def test_boleta_with_vat_included_prices_states_gross_amounts():
    sold = [sale_line(3, 2500, vat_included=True), sale_line(1, 4000, exempt=True)]
    assert lines.states_gross(codes.BOLETA, sold)
    detail, _adjustments = lines.detail(sold, gross=True)
    assert [(line.price, line.amount, line.exempt) for line in detail] == [
        (Decimal(2500), Decimal(7500), False), (Decimal(4000), Decimal(4000), True),
    ]


def test_boleta_of_a_shop_whose_prices_exclude_vat_states_net_amounts():
    """Bagel $1 + Cinnamon Roll $2 with 19% VAT on top: the customer pays 4 (VAT on the sum), not 1 + 2."""
    sold = [sale_line(1, 1), sale_line(1, 2)]
    assert not lines.states_gross(codes.BOLETA, sold)
    detail, _adjustments = lines.detail(sold, gross=False)
    assert [line.amount for line in detail] == [1, 2]
    assert not lines.states_gross(codes.FACTURA, [sale_line(1, 1, vat_included=True)]), "only boletas state gross"
    assert lines.states_gross(codes.BOLETA, [sale_line(1, 1, exempt=True)]), "an exempt boleta is gross and net"


def test_negative_line_is_a_global_discount_and_an_empty_line_states_nothing():
    promotion = sale_line(1, -500, vat_included=True)
    promotion.name = "Descuento de bienvenida para clientes nuevos de la tienda"
    detail, (adjustment,) = lines.detail([sale_line(2, 2500, vat_included=True), promotion, sale_line(0, 900)],
                                         gross=True)
    assert len(detail) == 1
    assert (adjustment.movement, adjustment.value_type, adjustment.value) == ("D", "$", Decimal(500))
    assert adjustment.description == promotion.name[:45]


quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(500), places=3)
prices = st.decimals(min_value=Decimal(1), max_value=Decimal(100000), places=2)
discounts = st.one_of(st.just(Decimal(0)), st.decimals(min_value=Decimal(0), max_value=Decimal(99), places=2))


@settings(max_examples=300, deadline=None)
@given(quantities, prices, discounts, st.booleans(), st.booleans(), st.booleans())
def test_every_line_passes_the_sii_check_and_states_the_books_amount(
    quantity, price, discount, vat_included, gross, exempt
):
    line = sale_line(quantity, price, discount, vat_included=vat_included, exempt=exempt)
    detail, _adjustments = lines.detail([line], gross=gross)
    if (line.gross if gross else line.net) < 1:
        return
    (item,) = detail
    assert item.amount == (line.gross if gross else line.net)
    stated = quantity * item.price - (item.discount_amount or 0)
    assert stated.quantize(Decimal(1), ROUND_HALF_UP) == item.amount
    assert item.discount_amount is None or item.discount_amount >= 0
    totals.line_amounts(item)  # the engine's own check: within the SII's one-peso tolerance


def test_a_negative_discount_is_a_surcharge_on_the_line():
    """An export's commissions abroad added to an item: RecargoPct and RecargoMonto, never a negative discount."""
    item = lines.SaleLine(name="Asesorias", quantity=Decimal(1), price_unit=Decimal(30), discount=Decimal(-10),
                          exempt=True, net=Decimal("33.00"), gross=Decimal("33.00"))
    (line,), adjustments = lines.detail([item], gross=False, decimals=True)
    assert adjustments == []
    assert (line.price, line.discount_percent, line.discount_amount) == (Decimal(30), None, None)
    assert (line.surcharge_percent, line.surcharge_amount, line.amount) == (Decimal("10.00"), Decimal("3.00"),
                                                                            Decimal("33.00"))
    assert totals.line_amounts(line, decimals=True).amount == line.amount


def test_a_line_marked_as_global_surcharge_is_a_global_surcharge():
    """An export's freight: in the DscRcgGlobal as a surcharge (R) of its amount, not among the items."""
    freight = lines.SaleLine(name="Flete", quantity=Decimal(1), price_unit=Decimal("154.78"), exempt=True,
                             net=Decimal("154.78"), gross=Decimal("154.78"), global_surcharge=True)
    detail, adjustments = lines.detail([sale_line(2, 100, exempt=True), freight], gross=False, decimals=True)
    assert [line.name for line in detail] == ["item"]
    assert [(a.movement, a.value_type, a.value, a.description, a.exempt) for a in adjustments] == [
        ("R", "$", Decimal("154.78"), "Flete", True)]
