"""Amounts read from text that comes from outside (received XML, the CLI's JSON), bounded.

``Decimal`` takes ``"1E+999999999"``, ``"NaN"`` and ``"Infinity"``: arithmetic on
them raises deep inside a check, and formatting the first one writes a billion
digits. The SII writes amounts as ``xs:decimal`` of at most 18 digits (6 after the
point for quantities and prices), so an amount is read here only when it is a
finite number with at most :data:`MAX_INTEGER_DIGITS` digits before the point and
:data:`MAX_FRACTION_DIGITS` after it, written in at most :data:`MAX_TEXT_LENGTH`
characters (an exponent, as a JSON number may carry, has at most 4 digits).
Anything else is an :class:`~.errors.AmountError` naming the field, before any
arithmetic.
"""

import math
import re
from decimal import Decimal

from .errors import AmountError

MAX_INTEGER_DIGITS = 18
MAX_FRACTION_DIGITS = 10
MAX_TEXT_LENGTH = 64

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?")
_ANY_EXPONENT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)[eE][+-]?\d+")


def parse_amount(value, field):
    """``value`` (text, int, float or Decimal) as a bounded :class:`~decimal.Decimal`.

    ``field`` names where the value came from (``Detalle[2]/PrcItem``) in the error.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise AmountError(field=field, value=value, reason="it is not a number")
    if isinstance(value, int) and value.bit_length() > 64:
        raise AmountError(field=field, value=_shortened(value), reason=_TOO_LARGE)
    if isinstance(value, float) and not math.isfinite(value):
        raise AmountError(field=field, value=value, reason="it is not a finite number")
    text = (value if isinstance(value, str) else str(value)).strip()
    if text.isdigit() and len(text) <= MAX_INTEGER_DIGITS and text.isascii():  # most amounts: whole pesos
        return Decimal(text)
    if len(text) > MAX_TEXT_LENGTH:
        raise AmountError(field=field, value=_shortened(text), reason=f"it is longer than {MAX_TEXT_LENGTH} characters")
    if not _NUMBER.fullmatch(text):
        if text.lower().lstrip("+-") in _SPECIAL:
            reason = "it is not a finite number"
        elif _ANY_EXPONENT.fullmatch(text):
            reason = "its exponent has more than 4 digits"
        else:
            reason = "it is not a plain number"
        raise AmountError(field=field, value=text, reason=reason)
    number = Decimal(text)
    if number.is_zero():
        return Decimal(0) if number.as_tuple().exponent > 0 else number
    if number.adjusted() >= MAX_INTEGER_DIGITS:
        raise AmountError(field=field, value=text, reason=_TOO_LARGE)
    if number.as_tuple().exponent < -MAX_FRACTION_DIGITS:
        raise AmountError(field=field, value=text, reason=f"it has more than {MAX_FRACTION_DIGITS} decimals")
    return number


_TOO_LARGE = f"it has more than {MAX_INTEGER_DIGITS} digits before the decimal point"
_SPECIAL = {"nan", "snan", "inf", "infinity"}


def _shortened(value):
    if isinstance(value, int):  # str() of a huge int is refused by Python itself
        return f"<an integer of {value.bit_length()} bits>"
    return value if len(value) <= 40 else value[:20] + "..." + value[-10:]
