"""PKCS#12 signing certificates: loading, holder RUT and name, validity, typed errors."""

import datetime
import os
import random
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from sii_engine import certificate as certificate_module
from sii_engine import identities
from sii_engine.errors import (
    CertificateError,
    CertificateExpiredError,
    CertificateFormatError,
    CertificateNoKeyError,
    CertificateNoRutError,
    CertificateNotYetValidError,
    CertificatePasswordError,
)

CERTS = Path(__file__).parent / "fixtures" / "real_production" / "certs"
RUT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.8321.1")


@pytest.fixture(scope="module")
def small_key():
    return rsa.generate_private_key(65537, 1024, default_backend())


def utcnow():
    return datetime.datetime.utcnow().replace(microsecond=0)


def self_signed_pkcs12(key, subject_attributes, alt_names=None, password=b"pw", not_before=None, days=30):
    """A PKCS#12 built here with cryptography, independent of identities.make_pkcs12."""
    not_before = not_before or utcnow() - datetime.timedelta(days=1)
    subject = x509.Name([x509.NameAttribute(oid, value) for oid, value in subject_attributes])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + datetime.timedelta(days=days))
    )
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    cert = builder.sign(key, hashes.SHA256(), default_backend())
    return pkcs12.serialize_key_and_certificates(
        b"test", key, cert, None, serialization.BestAvailableEncryption(password)
    ), cert


def der_explicit_string(tag, text):
    """``[0] EXPLICIT <string type tag> text``, the otherName value form."""
    inner = bytes([tag, len(text)]) + text.encode("ascii")
    return bytes([0xA0, len(inner)]) + inner


# --- the session certificate (identities.make_pkcs12) ---------------------------------


def test_loads_holder_rut_name_and_validity(certificate, holder):
    assert certificate.holder_rut == holder["rut"]
    assert certificate.holder_name == holder["name"]
    now = utcnow()
    assert certificate.not_before < now < certificate.not_after
    assert certificate.is_valid_at(now)
    assert not certificate.is_valid_at(certificate.not_after + datetime.timedelta(seconds=1))
    assert certificate.check_validity() is certificate
    assert certificate.not_before == certificate.certificate.not_valid_before
    assert certificate.not_after == certificate.certificate.not_valid_after
    # The key and the certificate belong together.
    assert (
        certificate.private_key.public_key().public_numbers() == certificate.certificate.public_key().public_numbers()
    )
    assert certificate.certificate_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert b"PRIVATE KEY" in certificate.private_key_pem
    assert len(certificate.fingerprint) == 64
    assert certificate.serial_number == certificate.certificate.serial_number


def test_rut_is_in_the_subject_alt_name_oid(certificate):
    alt_names = certificate.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    values = [name.value for name in alt_names.get_values_for_type(x509.OtherName) if name.type_id == RUT_OID]
    rut = certificate.holder_rut.encode("ascii")
    # As real Chilean certificates carry it (tests/fixtures/real_production/certs): the otherName's
    # [0] EXPLICIT holds the IA5String directly, "A0 0B 16 09 <RUT>" — not wrapped in a second [0].
    assert values == [bytes([0x16, len(rut)]) + rut]
    assert bytes([0xA0, len(rut) + 2, 0x16, len(rut)]) + rut in certificate.certificate.tbs_certificate_bytes


def test_password_as_str_or_bytes(small_key):
    data = identities.make_pkcs12("12.345.678-5", "Persona", password="ñandú", private_key=small_key)
    assert certificate_module.load_pkcs12(data, "ñandú").holder_rut == "12345678-5"
    assert certificate_module.load_pkcs12(data, "ñandú".encode()).holder_rut == "12345678-5"


def test_unencrypted_pkcs12_loads_without_password(small_key):
    data = identities.make_pkcs12("12345678-5", "Persona", password=None, private_key=small_key)
    assert certificate_module.load_pkcs12(data, None).holder_rut == "12345678-5"
    assert certificate_module.load_pkcs12(data, "").holder_rut == "12345678-5"


# --- holder RUT: SubjectAltName OID and serialNumber fallback -----------------------


@pytest.mark.parametrize("string_tag", [0x16, 0x0C, 0x13])  # IA5String, UTF8String, PrintableString
def test_holder_rut_from_subject_alt_name_in_any_string_type(small_key, string_tag):
    data, _cert = self_signed_pkcs12(
        small_key,
        [(NameOID.COMMON_NAME, "Juana Pérez")],
        [x509.OtherName(RUT_OID, der_explicit_string(string_tag, "13185095-6"))],
    )
    loaded = certificate_module.load_pkcs12(data, b"pw")
    assert loaded.holder_rut == "13185095-6"
    assert loaded.holder_name == "Juana Pérez"


def test_holder_rut_falls_back_to_subject_serial_number(small_key):
    data, cert = self_signed_pkcs12(
        small_key,
        [(NameOID.COMMON_NAME, "Pedro Soto"), (NameOID.SERIAL_NUMBER, "16.477.752-9")],
    )
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert certificate_module.holder_rut(cert) == "16477752-9"
    assert certificate_module.load_pkcs12(data, b"pw").holder_rut == "16477752-9"


def test_invalid_rut_in_alt_name_falls_back_to_serial_number(small_key):
    _data, cert = self_signed_pkcs12(
        small_key,
        [(NameOID.COMMON_NAME, "Pedro Soto"), (NameOID.SERIAL_NUMBER, "8480437-1")],
        [x509.OtherName(RUT_OID, der_explicit_string(0x16, "13185095-K"))],  # wrong verifier
    )
    assert certificate_module.holder_rut(cert) == "8480437-1"


def test_other_oids_are_not_read_as_the_rut(small_key):
    _data, cert = self_signed_pkcs12(
        small_key,
        [(NameOID.COMMON_NAME, "Pedro Soto")],
        [x509.OtherName(x509.ObjectIdentifier("1.3.6.1.4.1.8321.2"), der_explicit_string(0x16, "96928180-5"))],
    )
    with pytest.raises(CertificateNoRutError):
        certificate_module.holder_rut(cert)


def test_holder_name_falls_back_to_organization(small_key):
    _data, cert = self_signed_pkcs12(
        small_key, [(NameOID.ORGANIZATION_NAME, "Empresa Ltda."), (NameOID.SERIAL_NUMBER, "76192083-9")]
    )
    assert certificate_module._holder_name(cert) == "Empresa Ltda."


# --- real public certificates of production DTEs ---------------------------------


@pytest.mark.parametrize(
    ("filename", "expected_rut", "expected_name"),
    [
        ("DTE--60910000-1--33--2336600-cert.pem", "8480437-1", "Jorge Enrique Cabello Ortiz"),
        ("DTE--76354771-K--33--170-cert.pem", "13185095-6", "Ramon humberto Lopez  Jara"),
        ("DTE--76399752-9--33--25568-cert.pem", "16477752-9", "GIANINA BELEN DIAZ URRUTIA"),
        ("DTE--96670340-7--61--110616-cert.pem", "23099536-2", "Maria Teresa Abasto Perez"),
    ],
)
def test_real_certificates_name_their_holder(filename, expected_rut, expected_name):
    cert = x509.load_pem_x509_certificate((CERTS / filename).read_bytes(), default_backend())
    assert certificate_module.holder_rut(cert) == expected_rut
    assert certificate_module._holder_name(cert) == expected_name


def test_real_sii_test_certificate_with_another_oid_has_no_rut():
    # The SII's 2002 sample certificate names its holder under E-Certchile's
    # OID 1.3.6.1.4.1.8658.1, not 8321.1, and has no subject serialNumber.
    cert = x509.load_pem_x509_certificate((CERTS / "prueba-sii-cert.pem").read_bytes(), default_backend())
    with pytest.raises(CertificateNoRutError):
        certificate_module.holder_rut(cert)


# --- typed errors -----------------------------------------------------------


def test_wrong_password(small_key):
    data = identities.make_pkcs12("12345678-5", "Persona", password="right", private_key=small_key)
    with pytest.raises(CertificatePasswordError) as info:
        certificate_module.load_pkcs12(data, "wrong")
    assert info.value.code == "certificate_wrong_password"
    with pytest.raises(CertificatePasswordError):
        certificate_module.load_pkcs12(data, None)


def _xml_file():
    return (Path(__file__).parent / "fixtures" / "official" / "F60T33-ejemplo-oficial-SII.xml").read_bytes()


@pytest.mark.parametrize(
    "make_data",
    [
        pytest.param(lambda: random.Random(1234).randbytes(4096), id="random-bytes"),
        pytest.param(lambda: b"\x30" + random.Random(99).randbytes(2000), id="random-der-looking"),
        pytest.param(lambda: (CERTS / "prueba-sii-cert.pem").read_bytes(), id="pem-certificate"),
        pytest.param(lambda: (CERTS / "prueba-sii-cert.der").read_bytes(), id="der-certificate"),
        pytest.param(_xml_file, id="xml-file"),
        pytest.param(lambda: b"", id="empty"),
        pytest.param(lambda: "not bytes", id="text"),
        pytest.param(lambda: None, id="none"),
    ],
)
def test_not_a_pkcs12(make_data):
    with pytest.raises(CertificateFormatError) as info:
        certificate_module.load_pkcs12(make_data(), "test")
    assert info.value.code == "certificate_not_pkcs12"
    assert isinstance(info.value, CertificateError)


def test_truncated_pkcs12_is_a_format_error_not_a_password_error(small_key):
    data = identities.make_pkcs12("12345678-5", "Persona", password="test", private_key=small_key)
    with pytest.raises(CertificateFormatError):
        certificate_module.load_pkcs12(data[: len(data) // 2], "test")
    # The untouched file still loads with the same password.
    assert certificate_module.load_pkcs12(data, "test").holder_rut == "12345678-5"


def test_pem_key_and_certificate_are_not_a_pkcs12(certificate):
    with pytest.raises(CertificateFormatError):
        certificate_module.load_pkcs12(certificate.certificate_pem + certificate.private_key_pem, "test")


def test_certificate_without_private_key():
    data = identities.make_certificate_only_pkcs12("12345678-5", "Persona", password="test")
    _key, cert, extra = pkcs12.load_key_and_certificates(data, b"test", default_backend())
    assert _key is None and cert is None and len(extra) == 1  # the fixture really lacks the key
    with pytest.raises(CertificateNoKeyError) as info:
        certificate_module.load_pkcs12(data, "test")
    assert info.value.code == "certificate_no_private_key"


def test_expired_certificate(small_key):
    not_before = utcnow() - datetime.timedelta(days=400)
    data = identities.make_pkcs12("12345678-5", "Persona", not_before=not_before, valid_days=30, private_key=small_key)
    with pytest.raises(CertificateExpiredError) as info:
        certificate_module.load_pkcs12(data, "test")
    expiry = (not_before + datetime.timedelta(days=30)).date().isoformat()
    assert info.value.params == {"not_after": expiry}
    assert expiry in str(info.value)
    # Loadable for inspection, and valid at a moment inside its period.
    loaded = certificate_module.load_pkcs12(data, "test", check_validity=False)
    assert loaded.holder_rut == "12345678-5"
    inside = not_before + datetime.timedelta(days=10)
    assert certificate_module.load_pkcs12(data, "test", moment=inside).is_valid_at(inside)


def test_not_yet_valid_certificate(small_key):
    not_before = utcnow() + datetime.timedelta(days=10)
    data = identities.make_pkcs12("12345678-5", "Persona", not_before=not_before, valid_days=365, private_key=small_key)
    with pytest.raises(CertificateNotYetValidError) as info:
        certificate_module.load_pkcs12(data, "test")
    assert info.value.params == {"not_before": not_before.date().isoformat()}
    loaded = certificate_module.load_pkcs12(data, "test", check_validity=False)
    with pytest.raises(CertificateNotYetValidError):
        loaded.check_validity()
    assert loaded.check_validity(not_before + datetime.timedelta(days=1)) is loaded


def test_certificate_without_rut(small_key):
    data = identities.make_pkcs12("12345678-5", "Persona", with_rut=False, private_key=small_key)
    with pytest.raises(CertificateNoRutError) as info:
        certificate_module.load_pkcs12(data, "test")
    assert info.value.code == "certificate_no_rut"


def test_each_error_is_a_certificate_error_with_a_distinct_code():
    classes = [
        CertificateFormatError,
        CertificatePasswordError,
        CertificateNoKeyError,
        CertificateExpiredError,
        CertificateNotYetValidError,
        CertificateNoRutError,
    ]
    assert all(issubclass(cls, CertificateError) for cls in classes)
    assert len({cls.code for cls in classes}) == len(classes)


def test_random_bytes_never_escape_as_untyped_errors():
    generator = random.Random(7)
    for _ in range(50):
        data = bytes([0x30, 0x82]) + generator.randbytes(generator.randint(0, 300))
        with pytest.raises(CertificateError):
            certificate_module.load_pkcs12(data, "test")
    with pytest.raises(CertificateError):
        certificate_module.load_pkcs12(os.urandom(16), "test")
