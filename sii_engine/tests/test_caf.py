"""CAF files: parsing, the SII's FRMA, expiry, typed errors, and the real CAFs inside real TEDs."""

import base64
import datetime
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from sii_engine import caf as caf_module
from sii_engine import identities
from sii_engine.errors import (
    CafError,
    CafFormatError,
    CafKeyMismatchError,
    CafSignatureError,
    CafUntrustedKeyError,
    NotACafError,
)

FIXTURES = Path(__file__).parent / "fixtures"
ISSUER = "76192083-9"


@pytest.fixture(scope="module")
def raw_caf(authority):
    return authority.issue_caf(ISSUER, "Compañía Ñandú Ltda.", 33, 101, 250, authorized_on=datetime.date(2024, 1, 31))


def rsask_block(raw):
    return re.search(rb"<RSASK>.*?</RSASK>", raw, re.S).group(0)


def test_loads_a_caf_issued_by_the_authority(raw_caf, authority):
    caf = caf_module.load_caf(raw_caf, authority.trusted_keys())
    assert caf.rut == ISSUER
    assert caf.company_name == "Compañía Ñandú Ltda."
    assert caf.document_type == 33
    assert (caf.first_folio, caf.last_folio, caf.folio_count) == (101, 250, 150)
    assert caf.authorized_on == datetime.date(2024, 1, 31)
    assert caf.idk == authority.idk == identities.TEST_IDK
    assert caf.contains(101) and caf.contains("250") and caf.contains(180)
    assert not caf.contains(100) and not caf.contains(251)
    # The key pair is the RSA-512, e=3 pair the SII hands out.
    numbers = caf.public_key.public_numbers()
    assert numbers.e == 3
    assert caf.public_key.key_size == 512
    assert caf.private_key.public_key().public_numbers() == numbers
    assert b"RSA PRIVATE KEY" in caf.private_key_pem
    # The <CAF> element is kept, to paste into TEDs, and copies are independent.
    element = caf.caf_element()
    assert element.tag == "CAF" and element.get("version") == "1.0"
    assert element is not caf.element
    element.find("DA/RE").text = "1-9"
    assert caf.caf_element().findtext("DA/RE") == ISSUER


def test_frma_is_sha1_with_rsa_over_the_flattened_da(raw_caf, authority):
    """Recompute the FRMA check here, without the engine's flatten()."""
    root = etree.fromstring(raw_caf, etree.XMLParser(encoding="ISO-8859-1"))
    da_text = re.search(rb"<DA>.*</DA>", raw_caf, re.S).group(0)
    flattened = re.sub(rb">\s+<", b"><", da_text)
    signature = base64.b64decode(root.findtext("CAF/FRMA"))
    authority.public_key.verify(signature, flattened, padding.PKCS1v15(), hashes.SHA1())


def test_real_caf_bytes_are_iso_8859_1_without_declared_encoding(raw_caf, authority):
    head = raw_caf.split(b"\n", 1)[0]
    assert head.startswith(b"<?xml") and b"encoding" not in head
    assert b"\xd1" in raw_caf  # Ñ as one ISO-8859-1 byte
    assert "Ñandú".encode() not in raw_caf
    with pytest.raises(UnicodeDecodeError):
        raw_caf.decode("utf-8")
    assert caf_module.load_caf(raw_caf, authority.trusted_keys()).company_name.startswith("Compañía Ñandú")


@pytest.mark.parametrize(
    ("doc_type", "expected"),
    [
        (33, datetime.date(2024, 7, 31)),
        (34, datetime.date(2024, 7, 31)),
        (46, datetime.date(2024, 7, 31)),
        (52, datetime.date(2024, 7, 31)),
        (56, datetime.date(2024, 7, 31)),
        (61, datetime.date(2024, 7, 31)),
        (39, None),
        (41, None),
        (110, None),
        (111, None),
        (112, None),
    ],
)
def test_expiry_is_six_months_after_authorisation_for_non_boletas(authority, doc_type, expected):
    raw = authority.issue_caf(ISSUER, "X", doc_type, 1, 10, authorized_on=datetime.date(2024, 1, 31))
    caf = caf_module.load_caf(raw, authority.trusted_keys())
    assert caf.expires_on == expected
    if expected is None:
        assert not caf.is_expired(datetime.date(2099, 1, 1))
    else:
        assert not caf.is_expired(expected)
        assert caf.is_expired(expected + datetime.timedelta(days=1))


@pytest.mark.parametrize(
    ("authorized_on", "expected"),
    [
        (datetime.date(2024, 8, 31), datetime.date(2025, 2, 28)),
        (datetime.date(2023, 8, 31), datetime.date(2024, 2, 29)),
        (datetime.date(2024, 7, 15), datetime.date(2025, 1, 15)),
        (datetime.date(2024, 12, 31), datetime.date(2025, 6, 30)),
    ],
)
def test_expiry_month_arithmetic(authorized_on, expected):
    assert caf_module._add_months(authorized_on, 6) == expected


# --- typed errors -----------------------------------------------------------


def test_truncated_xml_is_malformed(raw_caf, authority):
    with pytest.raises(CafFormatError) as info:
        caf_module.load_caf(raw_caf[: len(raw_caf) // 2], authority.trusted_keys())
    assert info.value.code == "caf_malformed"


@pytest.mark.parametrize("data", [b"", b"not xml at all", b"<AUTORIZACION><CAF>"])
def test_other_malformed_inputs(data, authority):
    with pytest.raises(CafFormatError):
        caf_module.load_caf(data, authority.trusted_keys())


def test_other_root_is_not_a_caf(authority, fixtures_dir):
    with pytest.raises(NotACafError) as info:
        caf_module.load_caf(b"<EnvioDTE><CAF/></EnvioDTE>", authority.trusted_keys())
    assert info.value.params == {"root": "EnvioDTE"}
    official = (fixtures_dir / "official" / "F60T33-ejemplo-oficial-SII.xml").read_bytes()
    with pytest.raises(NotACafError):
        caf_module.load_caf(official, authority.trusted_keys())


def test_authorizacion_without_caf(authority):
    with pytest.raises(CafFormatError):
        caf_module.load_caf(b"<AUTORIZACION><RSASK>x</RSASK></AUTORIZACION>", authority.trusted_keys())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"<H>250</H>", b"<H>2500</H>"),
        (b"<D>101</D>", b"<D>1</D>"),
        (b"<TD>33</TD>", b"<TD>34</TD>"),
        (b"<FA>2024-01-31</FA>", b"<FA>2024-07-31</FA>"),
        (b"<RE>76192083-9</RE>", b"<RE>60803000-K</RE>"),
    ],
)
def test_tampered_caf(raw_caf, authority, old, new):
    assert raw_caf.count(old) == 1
    with pytest.raises(CafSignatureError) as info:
        caf_module.load_caf(raw_caf.replace(old, new), authority.trusted_keys())
    assert info.value.params == {"idk": authority.idk}
    assert info.value.code == "caf_tampered"


def test_caf_of_another_authority_with_another_idk_is_untrusted(authority):
    stranger = identities.TestAuthority(idk=8888)
    raw = stranger.issue_caf(ISSUER, "X", 33, 1, 10)
    with pytest.raises(CafUntrustedKeyError) as info:
        caf_module.load_caf(raw, authority.trusted_keys())
    assert info.value.params == {"idk": 8888}
    assert caf_module.load_caf(raw, stranger.trusted_keys()).idk == 8888


def test_caf_of_another_authority_under_the_same_idk_does_not_verify(authority):
    impostor = identities.TestAuthority()  # same IDK 9999, another key
    raw = impostor.issue_caf(ISSUER, "X", 33, 1, 10)
    with pytest.raises(CafSignatureError):
        caf_module.load_caf(raw, authority.trusted_keys())


def test_test_cafs_are_never_trusted_by_default(raw_caf):
    with pytest.raises(CafUntrustedKeyError):
        caf_module.load_caf(raw_caf)
    with pytest.raises(CafUntrustedKeyError):
        caf_module.load_caf(raw_caf, caf_module.sii_trusted_keys("production"))


def test_rsask_not_matching_rsapk(raw_caf, authority):
    other = authority.issue_caf(ISSUER, "Compañía Ñandú Ltda.", 33, 101, 250, authorized_on=datetime.date(2024, 1, 31))
    swapped = raw_caf.replace(rsask_block(raw_caf), rsask_block(other))
    assert swapped != raw_caf
    with pytest.raises(CafKeyMismatchError) as info:
        caf_module.load_caf(swapped, authority.trusted_keys())
    assert info.value.code == "caf_key_mismatch"


def test_missing_rsask(raw_caf, authority):
    without_key = raw_caf.replace(rsask_block(raw_caf), b"")
    with pytest.raises(CafFormatError) as info:
        caf_module.load_caf(without_key, authority.trusted_keys())
    assert "RSASK" in str(info.value)
    # Allowed on request (e.g. to inspect a CAF copied out of a TED).
    caf = caf_module.load_caf(without_key, authority.trusted_keys(), require_private_key=False)
    assert caf.private_key is None and caf.private_key_pem is None


def test_unreadable_rsask(raw_caf, authority):
    broken = raw_caf.replace(rsask_block(raw_caf), b"<RSASK>-----BEGIN RSA PRIVATE KEY-----\nAAAA\n</RSASK>")
    with pytest.raises(CafFormatError):
        caf_module.load_caf(broken, authority.trusted_keys())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"<IDK>9999</IDK>", b""),
        (b"<IDK>9999</IDK>", b"<IDK>abc</IDK>"),
        (b"<FA>2024-01-31</FA>", b"<FA>31-01-2024</FA>"),
        (b"<RE>76192083-9</RE>", b"<RE>76192083-0</RE>"),
    ],
)
def test_wrong_da_fields_are_malformed(raw_caf, authority, old, new):
    with pytest.raises(CafFormatError):
        caf_module.load_caf(raw_caf.replace(old, new), authority.trusted_keys())


def test_empty_folio_range_is_malformed(authority):
    raw = authority.issue_caf(ISSUER, "X", 33, 10, 5)
    with pytest.raises(CafFormatError) as info:
        caf_module.load_caf(raw, authority.trusted_keys())
    assert "10-5" in str(info.value)


def test_every_caf_error_is_a_caf_error():
    for cls in (CafFormatError, NotACafError, CafSignatureError, CafUntrustedKeyError, CafKeyMismatchError):
        assert issubclass(cls, CafError)


# --- the SII's real keys and the real CAFs inside real TEDs ----------------------


def real_caf_elements():
    paths = sorted((FIXTURES / "official").glob("*.xml")) + sorted((FIXTURES / "real_production").glob("*.xml"))
    for path in paths:
        root = etree.fromstring(path.read_bytes())
        for caf in root.iter("{*}CAF", "CAF"):
            expected_idk = 100 if path.parent.name == "official" else 300
            yield pytest.param(caf, expected_idk, id=path.stem)


def test_sii_keys():
    for idk in (100, 300):
        key = caf_module.sii_public_key(idk)
        assert isinstance(key, rsa.RSAPublicKey)
        assert caf_module.sii_public_key(idk) is key  # loaded once
    assert caf_module.sii_public_key(100).public_numbers() != caf_module.sii_public_key(300).public_numbers()
    assert set(caf_module.sii_trusted_keys()) == {100, 300}
    assert set(caf_module.sii_trusted_keys("certification")) == {100}
    assert set(caf_module.sii_trusted_keys("production")) == {300}


@pytest.mark.parametrize(("caf_element", "expected_idk"), list(real_caf_elements()))
def test_real_cafs_verify_with_the_real_sii_key_only(caf_element, expected_idk):
    caf = caf_module.parse_caf_element(caf_element, caf_module.sii_trusted_keys())
    assert caf.idk == expected_idk
    assert caf.private_key is None
    own_environment = "certification" if expected_idk == 100 else "production"
    other_environment = "production" if expected_idk == 100 else "certification"
    assert caf_module.parse_caf_element(caf_element, caf_module.sii_trusted_keys(own_environment)).idk == expected_idk
    with pytest.raises(CafUntrustedKeyError):
        caf_module.parse_caf_element(caf_element, caf_module.sii_trusted_keys(other_environment))
    # The other environment's key filed under this IDK does not verify the FRMA.
    other_idk = 300 if expected_idk == 100 else 100
    with pytest.raises(CafSignatureError):
        caf_module.parse_caf_element(caf_element, {expected_idk: caf_module.sii_public_key(other_idk)})


def test_real_production_caf_content(fixtures_dir):
    root = etree.fromstring((fixtures_dir / "real_production" / "DTE--76354771-K--33--170--cleaned.xml").read_bytes())
    caf = caf_module.parse_caf_element(next(root.iter("{*}CAF")))
    assert caf.rut == "76354771-K"
    assert caf.document_type == 33
    assert caf.contains(170)
    assert caf.public_key.public_numbers().e == 3


def test_frma_of_a_real_caf_was_made_by_the_key_it_claims(fixtures_dir):
    """Check a real FRMA with cryptography alone, over the DA flattened by hand."""
    raw = (fixtures_dir / "official" / "F60T33-ejemplo-oficial-SII.xml").read_bytes()
    da = re.search(rb"<DA>.*?</DA>", raw, re.S).group(0)
    frma = re.search(rb"<FRMA[^>]*>(.*?)</FRMA>", raw, re.S).group(1)
    flattened = re.sub(rb">\s+<", b"><", da.replace(b"\r\n", b"\n"))
    caf_module.sii_public_key(100).verify(base64.b64decode(frma), flattened, padding.PKCS1v15(), hashes.SHA1())
