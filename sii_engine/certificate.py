"""Digital certificates (PKCS#12) of the people who sign for a company.

The SII identifies the signer by the RUT in the certificate: SubjectAltName
otherName OID 1.3.6.1.4.1.8321.1 (what Chilean CAs issue), else the subject
serialNumber.
"""

import datetime
from dataclasses import dataclass, field
from functools import cached_property

from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from . import rut as rut_module
from .errors import (
    CertificateExpiredError,
    CertificateFormatError,
    CertificateKeyTypeError,
    CertificateNoKeyError,
    CertificateNoRutError,
    CertificateNotYetValidError,
    CertificatePasswordError,
    RutError,
)

RUT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.8321.1")
_STRING_TAGS = {0x0C, 0x13, 0x16, 0x1A}  # UTF8String, PrintableString, IA5String, VisibleString


@dataclass(frozen=True)
class Certificate:
    """A signing identity: private key, X.509 certificate and who holds it."""

    private_key: rsa.RSAPrivateKey = field(repr=False)
    certificate: x509.Certificate = field(repr=False)
    holder_rut: str
    holder_name: str
    not_before: datetime.datetime
    not_after: datetime.datetime

    @cached_property
    def certificate_pem(self):
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @cached_property
    def private_key_pem(self):
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )

    @property
    def serial_number(self):
        return self.certificate.serial_number

    @cached_property
    def fingerprint(self):
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    def is_valid_at(self, moment):
        return self.not_before <= moment <= self.not_after

    def check_validity(self, moment=None):
        """Raise if the certificate is not valid at ``moment`` (default: now, UTC)."""
        moment = moment or _utcnow()
        if moment > self.not_after:
            raise CertificateExpiredError(not_after=self.not_after.date().isoformat())
        if moment < self.not_before:
            raise CertificateNotYetValidError(not_before=self.not_before.date().isoformat())
        return self


def load_pkcs12(data, password, *, check_validity=True, moment=None):
    """Load a .pfx/.p12 file into a :class:`Certificate`.

    Raises a :class:`~.errors.CertificateError` subclass naming the defect.
    """
    if not _looks_like_pkcs12(data):
        raise CertificateFormatError()
    if isinstance(password, str):
        password = password.encode("utf-8")
    try:
        private_key, certificate, _chain = pkcs12.load_key_and_certificates(
            data, password or None, default_backend()
        )
    except ValueError:
        raise CertificatePasswordError() from None
    except Exception:
        raise CertificateFormatError() from None
    if private_key is None or certificate is None:
        raise CertificateNoKeyError()
    if not isinstance(private_key, rsa.RSAPrivateKey):
        # An EC or Ed25519 key loads, but the SII's XMLDSig is rsa-sha1: say so now,
        # not as a failure deep inside signing.
        raise CertificateKeyTypeError(kind=key_kind(private_key))
    result = Certificate(
        private_key=private_key,
        certificate=certificate,
        holder_rut=holder_rut(certificate),
        holder_name=_holder_name(certificate),
        not_before=certificate.not_valid_before,
        not_after=certificate.not_valid_after,
    )
    if check_validity:
        result.check_validity(moment)
    return result


def holder_rut(certificate):
    """The RUT of the certificate's holder, in SII form."""
    candidates = []
    try:
        alt_names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        candidates += [
            _decode_der_string(name.value)
            for name in alt_names.get_values_for_type(x509.OtherName)
            if name.type_id == RUT_OID
        ]
    except x509.ExtensionNotFound:
        pass
    candidates += [attr.value for attr in certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)]
    for candidate in candidates:
        try:
            return rut_module.normalize(candidate)
        except RutError:
            continue
    raise CertificateNoRutError()


def rut_other_name_value(rut):
    """DER of the otherName value as Chilean CAs write it: the IA5String of the RUT.

    ``x509.OtherName`` wraps its value in the otherName's ``[0] EXPLICIT`` itself, so
    the certificate carries ``A0 0B 16 09 <RUT>``, as real certificates do (this
    engine once added a second ``[0]``: ``A0 0E A0 0C 16 0A ...``; both are read).
    """
    text = rut.encode("ascii")
    return bytes([0x16, len(text)]) + text


def _decode_der_string(value):
    """Read the string inside an otherName value, whatever explicit tags wrap it
    (none in real certificates, one more in those this engine made before)."""
    position = 0
    while position + 2 <= len(value):
        tag = value[position]
        length, header = _der_length(value, position + 1)
        start = position + 1 + header
        if tag in _STRING_TAGS:
            return value[start:start + length].decode("latin-1")
        if tag & 0x20:  # constructed: descend into its content
            position = start
            continue
        return None
    return None


def _der_length(data, position):
    first = data[position]
    if first < 0x80:
        return first, 1
    count = first & 0x7F
    return int.from_bytes(data[position + 1:position + 1 + count], "big"), 1 + count


def _looks_like_pkcs12(data):
    """A PFX is a DER SEQUENCE whose first element is INTEGER 3 (its version)."""
    if not isinstance(data, (bytes, bytearray)) or len(data) < 8 or data[0] != 0x30:
        return False
    try:
        length, header = _der_length(data, 1)
    except (IndexError, ValueError):
        return False
    start = 1 + header
    if data[1] != 0x80 and start + length > len(data):  # truncated (0x80: BER indefinite length)
        return False
    return data[start:start + 3] == b"\x02\x01\x03"


def key_kind(key):
    """``"EC (secp256r1)"``, ``"Ed25519"``, ``"RSA-2048"``...: a key named for a message."""
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return f"RSA-{key.key_size}"
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return f"EC ({key.curve.name})"
    return type(key).__name__.removeprefix("_").removesuffix("PrivateKey").removesuffix("PublicKey") or "unknown"


def _holder_name(certificate):
    for oid in (NameOID.COMMON_NAME, NameOID.PSEUDONYM, NameOID.ORGANIZATION_NAME):
        values = certificate.subject.get_attributes_for_oid(oid)
        if values:
            return values[0].value
    return certificate.subject.rfc4514_string()


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
