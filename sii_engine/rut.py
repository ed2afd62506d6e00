"""Chilean RUT handling on top of python-stdnum.

The SII writes a RUT without dots, with a dash and an upper-case verifier
(``76192083-9``, ``60803000-K``); that is the canonical form returned here.
"""

from stdnum.cl import rut as stdnum_rut
from stdnum.exceptions import ValidationError

from .errors import RutError

SII_RUT = "60803000-K"
GENERIC_RECEIVER_RUT = "66666666-6"


def normalize(value):
    """Return the RUT in SII form (``12345678-5``) or raise :class:`RutError`."""
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
