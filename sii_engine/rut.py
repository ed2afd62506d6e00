"""Chilean RUT handling on top of python-stdnum.

The SII writes a RUT without dots, with a dash and an upper-case verifier
(``76192083-9``, ``60803000-K``); that is the canonical form returned here.
"""

import functools

from stdnum.cl import rut as stdnum_rut
from stdnum.exceptions import ValidationError

from .errors import RutError

SII_RUT = "60803000-K"
GENERIC_RECEIVER_RUT = "66666666-6"  # the receiver of a boleta to nobody in particular
FOREIGN_RECEIVER_RUT = "55555555-5"  # the receiver of an export document


def normalize(value):
    """Return the RUT in SII form (``12345678-5``) or raise :class:`RutError`.

    Remembered for strings: python-stdnum takes microseconds per call and the same few
    RUTs (the issuer, regular customers, 66666666-6) recur on every document. Errors are
    raised each time (``lru_cache`` keeps no exceptions).
    """
    return _normalize_text(value) if type(value) is str else _normalize(value)


@functools.lru_cache(maxsize=4096)
def _normalize_text(value):
    return _normalize(value)


def _normalize(value):
    if value is None:
        raise RutError(rut=value)
    try:
        compact = stdnum_rut.validate(str(value).strip())
    except ValidationError:
        raise RutError(rut=value) from None
    return f"{compact[:-1]}-{compact[-1]}"


def is_valid(value):
    try:
        normalize(value)
    except RutError:
        return False
    return True


def split(value):
    """Return ``(number, verifier)`` as the SII's upload form wants them."""
    number, verifier = normalize(value).split("-")
    return number, verifier


def display(value):
    """Return the RUT dotted for printing (``76.192.083-9``)."""
    return stdnum_rut.format(normalize(value))
