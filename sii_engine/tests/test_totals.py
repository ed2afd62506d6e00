"""The SII's arithmetic: expected LibreDTE amounts and properties of the rules."""

import datetime
import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sii_engine import document as document_module
from sii_engine import totals as totals_module
from sii_engine.errors import DocumentError, FieldValueError

INPUTS = Path(__file__).parent / "fixtures" / "libredte_inputs"
EXPECTED = json.loads((INPUTS / "montos_esperados.json").read_text(encoding="utf-8"))


def half_up(value):
    """Half-up rounding to an integer, computed exactly with fractions."""
    value = Fraction(value)
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    whole = int(magnitude)
    if magnitude - whole >= Fraction(1, 2):
        whole += 1
    return sign * whole


def is_whole_decimal(value):
    return isinstance(value, Decimal) and value.as_tuple().exponent == 0


def make_document(doc_type, lines, adjustments=(), **fields):
    return document_module.Document(
        document_type=doc_type,
        folio=1,
        issue_date=datetime.date(2024, 5, 15),
        issuer=document_module.Issuer("76192083-9", "Emisor", "Giro", (475201,)),
        receiver=document_module.Receiver("77777777-7", "Receptor"),
        lines=list(lines),
        global_adjustments=list(adjustments),
        **fields,
    )


# --- LibreDTE's expected amounts ------------------------------------------------------


FIELDS = {"MntNeto": "net", "MntExe": "exempt", "IVA": "vat", "MntTotal": "total", "IVANoRet": "vat_not_retained"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_libredte_expected_amounts(name):
    path = INPUTS / name.split("_", 1)[0] / f"{name}.json"
    document = document_module.document_from_dict(json.loads(path.read_text(encoding="utf-8")))
    totals = totals_module.compute_totals(document)
    expected = EXPECTED[name]
    for key, value in expected.items():
        if key == "ImptoReten":
            assert [(code, rate, amount) for code, rate, amount in totals.additional_taxes] == [
                (value["TipoImp"], Decimal(str(value["TasaImp"])), Decimal(str(value["MontoImp"])))
            ]
        else:
            assert getattr(totals, FIELDS[key]) == Decimal(str(value)), key
    # Nothing more than expected is claimed.
    for key, attribute in FIELDS.items():
        if key not in expected and key != "IVANoRet":
            assert getattr(totals, attribute) in (None, 0), key


def test_every_libredte_input_has_expected_amounts():
    names = {path.stem for path in INPUTS.glob("*/*.json")}
    assert names == set(EXPECTED)


# --- rounding ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.5", 1), ("1.5", 2), ("2.5", 3), ("3.5", 4), ("2.4999", 2), ("0.49", 0), ("1190.5", 1191), ("0", 0)],
)
def test_round_amount_is_half_up_not_bankers(value, expected):
    result = totals_module.round_amount(Decimal(value))
    assert result == expected
    assert is_whole_decimal(result)


def test_round_amount_to_cents():
    assert totals_module.round_amount(Decimal("2.675"), decimals=True) == Decimal("2.68")
    assert totals_module.round_amount(Decimal("2.665"), decimals=True) == Decimal("2.67")
    assert totals_module.round_amount(Decimal("2.5"), decimals=True).as_tuple().exponent == -2


def test_half_values_in_documents_round_up():
    # 2.5 and 0.5 would go to 2 and 0 with round() (banker's rounding).
    totals = totals_module.compute_totals(make_document(33, [document_module.Line("a", Decimal(1), Decimal("2.5"))]))
    assert totals.lines[0].amount == 3
    totals = totals_module.compute_totals(make_document(33, [document_module.Line("a", Decimal(1), Decimal("0.5"))]))
    assert totals.lines[0].amount == 1
    # IVA of 50 is 9.5 → 10.
    totals = totals_module.compute_totals(make_document(33, [document_module.Line("a", Decimal(1), Decimal(50))]))
    assert (totals.net, totals.vat, totals.total) == (50, 10, 60)
    assert round(9.5) == 10 and round(2.5) == 2  # what a naive round() would do to the line


# --- properties -------------------------------------------------------------------------


quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(1000), places=3)
prices = st.one_of(
    st.integers(min_value=0, max_value=5_000_000).map(Decimal),
    st.decimals(min_value=Decimal(0), max_value=Decimal(100000), places=2),
)
factura_lines = st.lists(
    st.builds(
        lambda quantity, price, exempt: document_module.Line("item", quantity, price, exempt=exempt),
        quantities,
        prices,
        st.booleans(),
    ),
    min_size=1,
    max_size=10,
)


def assert_all_decimal(totals):
    for value in (totals.net, totals.exempt, totals.vat, totals.total, totals.vat_rate):
        assert value is None or isinstance(value, Decimal), value
        assert not isinstance(value, float)
    for amounts in totals.lines:
        for value in (amounts.amount, amounts.discount, amounts.surcharge):
            assert isinstance(value, Decimal) and not isinstance(value, float)


@settings(max_examples=150, deadline=None)
@given(factura_lines, st.sampled_from([33, 46, 56, 61]))
def test_factura_arithmetic(lines, doc_type):
    totals = totals_module.compute_totals(make_document(doc_type, lines))
    assert_all_decimal(totals)
    line_amounts = [half_up(Fraction(line.quantity) * Fraction(line.price)) for line in lines]
    assert [amounts.amount for amounts in totals.lines] == line_amounts
    net = sum(amount for amount, line in zip(line_amounts, lines, strict=True) if not line.exempt)
    exempt = sum(amount for amount, line in zip(line_amounts, lines, strict=True) if line.exempt)
    if any(not line.exempt for line in lines):
        assert totals.net == net
        assert totals.vat == half_up(Fraction(net) * 19 / 100)
        assert totals.vat_rate == 19
    else:
        assert totals.net is None and totals.vat is None
    assert (totals.exempt or 0) == exempt
    assert totals.total == (totals.net or 0) + (totals.exempt or 0) + (totals.vat or 0)
    for value in (totals.net, totals.exempt, totals.vat, totals.total):
        assert value is None or is_whole_decimal(value)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.builds(
            lambda quantity, price: document_module.Line("item", quantity, price),
            st.integers(min_value=1, max_value=50).map(Decimal),
            st.integers(min_value=1, max_value=2_000_000).map(Decimal),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_boleta_arithmetic(lines):
    totals = totals_module.compute_totals(make_document(39, lines))
    assert_all_decimal(totals)
    gross = sum(line.quantity * line.price for line in lines)
    assert totals.total == gross
    assert totals.net + totals.vat == gross  # exactly what the customer paid
    assert abs(totals.net * Decimal("1.19") - gross) <= 1
    assert totals.net == half_up(Fraction(int(gross)) / Fraction(119, 100))
    assert is_whole_decimal(totals.net) and is_whole_decimal(totals.vat) and is_whole_decimal(totals.total)


@settings(max_examples=200, deadline=None)
@given(
    quantities,
    prices,
    st.one_of(st.none(), st.decimals(min_value=Decimal(0), max_value=Decimal(500), places=1)),
    st.one_of(st.none(), st.decimals(min_value=Decimal(0), max_value=Decimal(500), places=1)),
    st.booleans(),
)
def test_line_amount(quantity, price, discount, surcharge, use_percent):
    gross = quantity * price
    if use_percent:
        line = document_module.Line(
            "item",
            quantity,
            price,
            discount_percent=discount / 10 if discount is not None else None,
            surcharge_percent=surcharge / 10 if surcharge is not None else None,
        )
    else:
        if discount is not None and discount > gross:
            discount = None
        line = document_module.Line("item", quantity, price, discount_amount=discount, surcharge_amount=surcharge)
    amounts = totals_module.line_amounts(line)
    assert is_whole_decimal(amounts.amount)
    assert is_whole_decimal(amounts.discount) and is_whole_decimal(amounts.surcharge)
    if use_percent:
        expected_discount = half_up(Fraction(gross) * Fraction(line.discount_percent or 0) / 100)
        expected_surcharge = half_up(Fraction(gross) * Fraction(line.surcharge_percent or 0) / 100)
    else:
        expected_discount = half_up(discount or 0)
        expected_surcharge = half_up(surcharge or 0)
    assert amounts.discount == expected_discount
    assert amounts.surcharge == expected_surcharge
    assert amounts.amount == half_up(Fraction(gross) - Fraction(amounts.discount) + Fraction(amounts.surcharge))


def test_negative_line_is_refused():
    line = document_module.Line("item", Decimal(1), Decimal(100), discount_amount=Decimal(150))
    with pytest.raises(DocumentError):
        totals_module.line_amounts(line)


# --- global adjustments, additional taxes, other types ---------------------------------


def test_global_percent_discount_on_the_net():
    lines = [document_module.Line("a", Decimal(1), Decimal(104090))]
    adjustment = document_module.GlobalAdjustment("D", "%", Decimal(10))
    totals = totals_module.compute_totals(make_document(33, lines, [adjustment]))
    assert totals.adjustments == [Decimal(-10409)]
    assert (totals.net, totals.vat, totals.total) == (93681, 17799, 111480)


def test_global_amount_surcharge_and_exempt_discount():
    lines = [
        document_module.Line("a", Decimal(1), Decimal(1000)),
        document_module.Line("b", Decimal(1), Decimal(500), exempt=True),
    ]
    adjustments = [
        document_module.GlobalAdjustment("R", "$", Decimal(200)),
        document_module.GlobalAdjustment("D", "$", Decimal(100), exempt=True),
    ]
    totals = totals_module.compute_totals(make_document(33, lines, adjustments))
    assert (totals.net, totals.exempt, totals.vat, totals.total) == (1200, 400, 228, 1828)


def test_fractional_peso_amounts_are_rounded_to_whole_pesos():
    lines = [document_module.Line("a", Decimal(1), Decimal(1000), discount_amount=Decimal("10.5"))]
    adjustments = [document_module.GlobalAdjustment("D", "$", Decimal("100.4"))]
    totals = totals_module.compute_totals(make_document(33, lines, adjustments))
    assert totals.lines[0].discount == 11 and totals.lines[0].amount == 989
    assert totals.adjustments == [Decimal(-100)]
    for value in (totals.net, totals.vat, totals.total):
        assert is_whole_decimal(value)
    assert (totals.net, totals.vat, totals.total) == (889, 169, 1058)


def test_discount_larger_than_the_amounts_is_refused():
    lines = [document_module.Line("a", Decimal(1), Decimal(100))]
    with pytest.raises(DocumentError):
        totals_module.compute_totals(
            make_document(33, lines, [document_module.GlobalAdjustment("D", "$", Decimal(101))])
        )


def test_additional_and_retained_taxes():
    lines = [document_module.Line("vino", Decimal(1), Decimal(10000), additional_tax_code=25)]
    totals = totals_module.compute_totals(make_document(33, lines))
    assert totals.additional_taxes == [(25, Decimal("20.5"), Decimal(2050))]
    assert totals.total == 10000 + 1900 + 2050
    retained = [document_module.Line("trigo", Decimal(1), Decimal(10000), additional_tax_code=34)]
    totals = totals_module.compute_totals(make_document(46, retained))
    assert totals.additional_taxes == [(34, Decimal(4), Decimal(400))]
    assert totals.vat_not_retained == 1500
    assert totals.total == 10000 + 1900 - 400
    unknown = [document_module.Line("x", Decimal(1), Decimal(100), additional_tax_code=999)]
    with pytest.raises(DocumentError):
        totals_module.compute_totals(make_document(33, unknown))


def test_exempt_types_put_everything_in_mnt_exe():
    lines = [document_module.Line("a", Decimal(3), Decimal(333))]
    for doc_type in (34, 41):
        totals = totals_module.compute_totals(make_document(doc_type, lines))
        assert (totals.net, totals.vat, totals.exempt, totals.total) == (None, None, 999, 999)


def test_export_in_foreign_currency_keeps_four_decimals_and_converts():
    # 3 x 10.33355 = 31.00065: the schema's 4 decimals for MontoItem/MntTotal, half up.
    lines = [document_module.Line("a", Decimal(3), Decimal("10.33355"))]
    totals = totals_module.compute_totals(
        make_document(110, lines, currency="DOLAR USA", other_currency="PESO CL", exchange_rate=Decimal("940.25"))
    )
    assert totals.exempt == totals.total == Decimal("31.0007")
    assert totals.total.as_tuple().exponent == -4
    assert totals.other_currency_total == half_up(Fraction("31.0007") * Fraction("940.25"))
    assert is_whole_decimal(totals.other_currency_total)
    assert totals.other_currency_exempt == totals.other_currency_total


def test_export_exchange_rate_keeps_four_decimals():
    lines = [document_module.Line("a", Decimal(1), Decimal("100"))]
    document = make_document(110, lines, currency="DOLAR USA", other_currency="PESO CL",
                             exchange_rate=Decimal("940.123456"))
    totals = totals_module.compute_totals(document)
    assert totals_module.exchange_rate(document) == Decimal("940.1235")
    assert totals.other_currency_total == half_up(Fraction("940.1235") * 100)


def test_export_in_pesos_states_its_other_currency_at_the_rate():
    lines = [document_module.Line("a", Decimal(1), Decimal(94025))]
    totals = totals_module.compute_totals(
        make_document(110, lines, currency="PESO CL", other_currency="DOLAR USA", exchange_rate=Decimal("940.25"))
    )
    assert totals.total == 94025
    assert totals.other_currency_total == Decimal("100.0000")


def test_export_line_discount_in_dollars_must_be_whole():
    lines = [document_module.Line("a", Decimal(10), Decimal("45.50"), discount_percent=Decimal(5))]
    with pytest.raises(FieldValueError) as raised:
        totals_module.compute_totals(make_document(110, lines, currency="DOLAR USA"))
    assert raised.value.params["field"] == "DescuentoMonto"
    whole = [document_module.Line("a", Decimal(10), Decimal("45.50"), discount_percent=Decimal(20))]
    totals = totals_module.compute_totals(make_document(110, whole, currency="DOLAR USA"))
    assert totals.lines[0].discount == 91 and totals.total == Decimal(364)


def test_export_in_pesos_is_whole():
    lines = [document_module.Line("a", Decimal(3), Decimal("10.5"))]
    totals = totals_module.compute_totals(make_document(110, lines, currency="PESO CL"))
    assert totals.total == 32 and is_whole_decimal(totals.total)
