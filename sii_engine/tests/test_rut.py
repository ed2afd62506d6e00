"""RUT normalization, formatting and validation (on top of python-stdnum)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sii_engine import rut
from sii_engine.errors import RutError, SiiEngineError


def check_digit(number):
    """The modulo-11 verifier, computed independently of stdnum."""
    total, factor = 0, 2
    for digit in reversed(str(number)):
        total += int(digit) * factor
        factor = 2 if factor == 7 else factor + 1
    value = 11 - total % 11
    return {11: "0", 10: "K"}.get(value, str(value))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("76192083-9", "76192083-9"),
        ("76.192.083-9", "76192083-9"),
        ("761920839", "76192083-9"),
        ("60803000-k", "60803000-K"),
        ("60.803.000-k", "60803000-K"),
        ("  60803000-K ", "60803000-K"),
        ("60 803 000 K", "60803000-K"),
        ("6.666.666-2", "6666666-2"),
        ("66.666.666-6", "66666666-6"),
        ("1.000.005-k", "1000005-K"),
    ],
)
def test_normalize_accepts_the_usual_spellings(raw, expected):
    assert rut.normalize(raw) == expected
    assert rut.is_valid(raw)


@pytest.mark.parametrize(
    "raw",
    ["76192083-8", "76192083-K", "60803000-0", "12345678-9", "", "   ", "abc", "76192083", "7619-2083-9x", None, "K-1"],
)
def test_normalize_refuses_invalid_ruts(raw):
    with pytest.raises(RutError) as info:
        rut.normalize(raw)
    assert isinstance(info.value, SiiEngineError)
    assert info.value.code == "rut_invalid"
    assert info.value.params == {"rut": raw}
    assert repr(raw) in str(info.value)
    assert not rut.is_valid(raw)


def test_wrong_check_digit_is_refused_for_every_other_digit():
    good = "76192083-9"
    for digit in "012345678K":
        with pytest.raises(RutError):
            rut.normalize(f"76192083-{digit}")
    assert rut.normalize(good) == good


def test_split_and_display():
    assert rut.split("76.192.083-9") == ("76192083", "9")
    assert rut.split("60803000-k") == ("60803000", "K")
    assert rut.display("76192083-9") == "76.192.083-9"
    assert rut.display("60803000k") == "60.803.000-K"
    with pytest.raises(RutError):
        rut.split("76192083-0")
    with pytest.raises(RutError):
        rut.display("1-1")


def test_well_known_ruts_are_valid():
    assert rut.normalize(rut.SII_RUT) == rut.SII_RUT
    assert rut.normalize(rut.GENERIC_RECEIVER_RUT) == rut.GENERIC_RECEIVER_RUT


# stdnum takes 7- and 8-digit numbers (every RUT in use; none is below 1.000.000).
NUMBERS = st.integers(min_value=1_000_000, max_value=99_999_999)


@given(NUMBERS)
def test_any_number_with_its_modulo_11_digit_round_trips(number):
    verifier = check_digit(number)
    canonical = f"{number}-{verifier}"
    dotted = f"{number:,}".replace(",", ".") + "-" + verifier.lower()
    assert rut.normalize(canonical) == canonical
    assert rut.normalize(dotted) == canonical
    assert rut.normalize(f"{number}{verifier}") == canonical
    assert rut.display(canonical) == f"{number:,}".replace(",", ".") + "-" + verifier


@given(NUMBERS, st.sampled_from("0123456789K"))
def test_any_wrong_digit_is_refused(number, verifier):
    if verifier == check_digit(number):
        assert rut.normalize(f"{number}-{verifier}") == f"{number}-{verifier}"
    else:
        with pytest.raises(RutError):
            rut.normalize(f"{number}-{verifier}")
