"""CAF files: the SII's authorisation of a range of folios for one document type.

A CAF holds the range, the RSA-512 key pair the company stamps its documents
with (``RSASK``/``RSAPK``), and the SII's signature over it all (``FRMA``) made
with the SII key its ``IDK`` names.
"""

import base64
import copy
import datetime
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dh, dsa, ec, ed448, ed25519, padding, rsa, x448, x25519
from lxml import etree

from . import rut as rut_module
from .certificate import key_kind
from .errors import (
    CafError,
    CafFormatError,
    CafKeyMismatchError,
    CafSignatureError,
    CafTrustedKeyError,
    CafUntrustedKeyError,
    NotACafError,
    RutError,
    XmlInputError,
)
from .xmlutil import find, findtext, flatten, local, parse

# The SII's CAF keys are RSA-512 with exponent 3; far larger ones are refused unread.
MAX_CAF_KEY_BITS = 2048
MAX_CAF_KEY_EXPONENT = 2 ** 17 + 1

CERTIFICATION_IDK = 100
PRODUCTION_IDK = 300
# Since 2018 the SII voids unused folios of these types six months after their
# authorisation; boletas and export documents keep no such limit.
EXPIRING_TYPES = frozenset({33, 34, 43, 46, 52, 56, 61})
VALIDITY_MONTHS = 6

_KEYS_DIR = Path(__file__).parent / "data" / "sii_keys"
_KEY_FILES = {
    CERTIFICATION_IDK: "idk100-certificacion.pub.pem",
    PRODUCTION_IDK: "idk300-produccion.pub.pem",
}


@cache
def sii_public_key(idk):
    """The SII's public key for ``idk`` (100 certification, 300 production)."""
    return serialization.load_pem_public_key((_KEYS_DIR / _KEY_FILES[idk]).read_bytes(), default_backend())


# Public keys cryptography loads that cannot check an SHA1withRSA FRMA.
_NON_RSA_KEYS = (
    dh.DHPublicKey, dsa.DSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey, ed448.Ed448PublicKey,
    x25519.X25519PublicKey, x448.X448PublicKey,
)


def load_trusted_key(data, source):
    """A CAF-signing key from PEM bytes (``source`` names the file in errors): RSA, as the SII's."""
    try:
        key = serialization.load_pem_public_key(data, default_backend())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise CafTrustedKeyError(source=source, reason="it is not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise CafTrustedKeyError(source=source, reason=f"it is an {key_kind(key)} key; the SII signs CAFs with RSA")
    return key


def sii_trusted_keys(environment=None):
    """Trusted keys for an SII environment: ``certification``, ``production`` or both."""
    idks = {
        "certification": (CERTIFICATION_IDK,),
        "production": (PRODUCTION_IDK,),
        None: (CERTIFICATION_IDK, PRODUCTION_IDK),
    }[environment]
    return {idk: sii_public_key(idk) for idk in idks}


@dataclass(frozen=True)
class Caf:
    """A parsed CAF. ``private_key`` is ``None`` for a CAF read from a TED."""

    rut: str
    company_name: str
    document_type: int
    first_folio: int
    last_folio: int
    authorized_on: datetime.date
    idk: int
    public_key: rsa.RSAPublicKey = field(repr=False)
    private_key: rsa.RSAPrivateKey = field(default=None, repr=False, compare=False)
    element: object = field(default=None, repr=False, compare=False)

    @property
    def folio_count(self):
        return self.last_folio - self.first_folio + 1

    @property
    def expires_on(self):
        """Last day its folios may be used, or ``None`` when they do not expire."""
        if self.document_type not in EXPIRING_TYPES:
            return None
        return _add_months(self.authorized_on, VALIDITY_MONTHS)

    def is_expired(self, on_date=None):
        expiry = self.expires_on
        return expiry is not None and (on_date or datetime.date.today()) > expiry

    def contains(self, folio):
        return self.first_folio <= int(folio) <= self.last_folio

    def caf_element(self):
        """A copy of the ``<CAF>`` element, to paste verbatim into a TED."""
        return copy.deepcopy(self.element)

    @property
    def private_key_pem(self):
        if self.private_key is None:
            return None
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )


def load_caf(data, trusted_keys=None, *, require_private_key=True):
    """Parse and verify a CAF file (bytes as the SII delivers them).

    ``trusted_keys`` maps IDK to the RSA public key that signs CAFs under it;
    by default the SII's certification and production keys.
    """
    try:
        root = parse(data)
    except XmlInputError as error:
        raise CafFormatError(reason=error.params.get("reason", str(error))) from None
    if local(root.tag) != "AUTORIZACION":
        raise NotACafError(root=local(root.tag))
    caf_element = find(root, "CAF")
    if caf_element is None:
        raise CafFormatError(reason="no <CAF> element")
    caf = parse_caf_element(caf_element, trusted_keys)
    private_key = None
    rsask = findtext(root, "RSASK")
    if rsask:
        private_key = _load_private_key(rsask)
        if private_key.public_key().public_numbers() != caf.public_key.public_numbers():
            raise CafKeyMismatchError()
    elif require_private_key:
        raise CafFormatError(reason="no private key (<RSASK>)")
    return Caf(**{**caf.__dict__, "private_key": private_key})


# Every DTE stamped under one CAF carries that same <CAF> in its TED: an envelope of
# 2,000 facturas holds a handful of CAFs. Each is read and its FRMA checked once
# per trusted key (by identity), not once per document. Bounded, and only RSA keys'
# verdicts are kept.
_VERIFIED_CAFS = {}
_VERIFIED_CAFS_SIZE = 256
_verified_cafs_lock = threading.Lock()


def parse_caf_element(caf_element, trusted_keys=None):
    """Read and verify a ``<CAF>`` element (as found in a CAF file or a TED)."""
    trusted_keys = sii_trusted_keys() if trusted_keys is None else trusted_keys
    raw = etree.tostring(caf_element)
    known = _VERIFIED_CAFS.get(raw)
    if known is not None and trusted_keys.get(known[0]) is known[1]:
        return known[2]
    caf, sii_key = _parse_caf_element(caf_element, trusted_keys)
    if isinstance(sii_key, rsa.RSAPublicKey):
        with _verified_cafs_lock:
            if len(_VERIFIED_CAFS) >= _VERIFIED_CAFS_SIZE:
                _VERIFIED_CAFS.pop(next(iter(_VERIFIED_CAFS)))
            _VERIFIED_CAFS[raw] = (caf.idk, sii_key, caf)
    return caf


def _parse_caf_element(caf_element, trusted_keys):
    da = find(caf_element, "DA")
    signature_text = findtext(caf_element, "FRMA")
    if da is None or not signature_text:
        raise CafFormatError(reason="the <CAF> has no <DA> or no <FRMA>")
    try:
        rut = rut_module.normalize(findtext(da, "RE"))
        document_type = int(findtext(da, "TD"))
        first = int(findtext(da, "RNG/D"))
        last = int(findtext(da, "RNG/H"))
        authorized_on = datetime.date.fromisoformat(findtext(da, "FA").strip())
        idk = int(findtext(da, "IDK"))
        modulus = _b64_int(findtext(da, "RSAPK/M"))
        exponent = _b64_int(findtext(da, "RSAPK/E"))
        signature = base64.b64decode(signature_text)
    except (RutError, TypeError, ValueError, AttributeError) as error:
        raise CafFormatError(reason=f"a field of <DA> is missing or wrong ({error})") from None
    if first > last or first < 1:
        raise CafFormatError(reason=f"the folio range {first}-{last} is empty")
    if modulus.bit_length() > MAX_CAF_KEY_BITS or exponent > MAX_CAF_KEY_EXPONENT:
        # A received TED may carry any <CAF>; checking its FRMT costs with the key's size.
        raise CafFormatError(reason=f"its RSAPK is a {modulus.bit_length()}-bit key with exponent of "
                                    f"{exponent.bit_length()} bits; the SII issues CAF keys of 512 bits (exponent 3)")
    try:
        public_key = rsa.RSAPublicNumbers(exponent, modulus).public_key(default_backend())
    except ValueError as error:  # n < 3, e >= n...
        raise CafFormatError(reason=f"its RSAPK is not an RSA public key ({error})") from None
    sii_key = trusted_keys.get(idk)
    if sii_key is None:
        raise CafUntrustedKeyError(idk=idk)
    if isinstance(sii_key, _NON_RSA_KEYS):
        raise CafTrustedKeyError(source=f"trusted for IDK {idk}",
                                 reason=f"it is an {key_kind(sii_key)} key; the SII signs CAFs with RSA")
    try:
        sii_key.verify(signature, flatten(da), padding.PKCS1v15(), hashes.SHA1())
    except InvalidSignature:
        raise CafSignatureError(idk=idk) from None
    return Caf(
        rut=rut,
        company_name=findtext(da, "RS", ""),
        document_type=document_type,
        first_folio=first,
        last_folio=last,
        authorized_on=authorized_on,
        idk=idk,
        public_key=public_key,
        element=copy.deepcopy(caf_element),
    ), sii_key


def _load_private_key(pem_text):
    try:
        return serialization.load_pem_private_key(pem_text.strip().encode("ascii"), None, default_backend())
    except (ValueError, TypeError, UnicodeEncodeError):
        raise CafFormatError(reason="the private key (<RSASK>) cannot be read") from None


def _b64_int(text):
    if not text:
        raise ValueError("empty key number")
    return int.from_bytes(base64.b64decode(text.strip()), "big")


def _add_months(day, months):
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, candidate)
        except ValueError:
            continue
    raise CafError()
