"""The electronic stamp (TED): DD content and order, FRMT, range and CAF checks, real TEDs."""

import base64
import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from sii_engine import caf as caf_module
from sii_engine import ted as ted_module
from sii_engine import xmlutil
from sii_engine.errors import (
    CafMismatchError,
    CafUntrustedKeyError,
    FolioOutOfRangeError,
    SignatureVerificationError,
    TedError,
)

FIXTURES = Path(__file__).parent / "fixtures"
ISSUER = "76192083-9"
TIMESTAMP = datetime.datetime(2024, 5, 15, 9, 45, 30)
DD_ORDER = ["RE", "TD", "F", "FE", "RR", "RSR", "MNT", "IT1", "CAF", "TSTED"]


def stamp(**changes):
    values = {
        "document_type": 33,
        "folio": 150,
        "issue_date": datetime.date(2024, 5, 15),
        "receiver_rut": "77.777.777-7",
        "receiver_name": "Cliente Ejemplo Limitada",
        "total": 119000,
        "first_item": "Tornillo hexagonal 3/8",
    }
    values.update(changes)
    return ted_module.StampData(**values)


@pytest.fixture(scope="module")
def caf33(caf_factory):
    return caf_factory(33, 101, 250)


def children(element):
    return [xmlutil.local(child.tag) for child in element if isinstance(child.tag, str)]


def independent_flatten(element):
    """DD as the SII signs it, by text surgery: no namespace, no whitespace between tags, ISO-8859-1."""
    text = etree.tostring(element, encoding="ISO-8859-1", xml_declaration=False, with_tail=False)
    text = re.sub(rb'\s+xmlns(:\w+)?="[^"]*"', b"", text)
    text = re.sub(rb"<(/?)\w+:", rb"<\1", text)  # prefixed tags (ns0:DD) to plain ones
    return re.sub(rb">\s+<", b"><", text)


def public_key_from_rsapk(dd):
    modulus = int.from_bytes(base64.b64decode(xmlutil.findtext(dd, "CAF/DA/RSAPK/M")), "big")
    exponent = int.from_bytes(base64.b64decode(xmlutil.findtext(dd, "CAF/DA/RSAPK/E")), "big")
    return rsa.RSAPublicNumbers(exponent, modulus).public_key(default_backend())


def test_dd_fields_in_order_and_content(caf33):
    ted = ted_module.build_ted(caf33, "76.192.083-9", stamp(), TIMESTAMP)
    assert ted.tag == f"{{{xmlutil.SII_NS}}}TED" and ted.get("version") == "1.0"
    assert children(ted) == ["DD", "FRMT"]
    dd = xmlutil.find(ted, "DD")
    assert children(dd) == DD_ORDER
    assert [xmlutil.findtext(dd, tag) for tag in DD_ORDER if tag != "CAF"] == [
        ISSUER,
        "33",
        "150",
        "2024-05-15",
        "77777777-7",
        "Cliente Ejemplo Limitada",
        "119000",
        "Tornillo hexagonal 3/8",
        "2024-05-15T09:45:30",
    ]
    assert xmlutil.find(ted, "FRMT").get("algoritmo") == "SHA1withRSA"
    # The CAF is pasted in whole, in the SII namespace.
    caf = xmlutil.find(dd, "CAF")
    assert caf.tag == f"{{{xmlutil.SII_NS}}}CAF"
    assert xmlutil.findtext(caf, "DA/RNG/D") == "101" and xmlutil.findtext(caf, "DA/RNG/H") == "250"
    assert xmlutil.findtext(caf, "FRMA") == caf33.element.findtext("FRMA")


def test_receiver_name_and_first_item_truncated_to_40(caf33):
    long_name = "Sociedad Comercializadora de Productos del Pacífico Sur Limitada"
    long_item = "Servicio de mantención preventiva de equipos industriales, mes de mayo"
    dd = xmlutil.find(
        ted_module.build_ted(caf33, ISSUER, stamp(receiver_name=long_name, first_item=long_item), TIMESTAMP), "DD"
    )
    assert xmlutil.findtext(dd, "RSR") == long_name[:40]
    assert xmlutil.findtext(dd, "IT1") == long_item[:40].rstrip()
    assert len(xmlutil.findtext(dd, "RSR")) == 40


def test_non_latin1_text_in_the_stamp_is_folded(caf33, authority):
    ted = ted_module.build_ted(
        caf33, ISSUER, stamp(receiver_name="Café “Ñuñoa” 😀", first_item="Té <verde> & €"), TIMESTAMP
    )
    dd = xmlutil.find(ted, "DD")
    assert xmlutil.findtext(dd, "RSR") == 'Café "Ñuñoa" ?'
    assert xmlutil.findtext(dd, "IT1") == "Té <verde> & EUR"
    ted_module.verify_ted(ted, authority.trusted_keys())


def test_frmt_is_sha1_with_rsa_over_the_flattened_namespace_free_dd(caf33):
    ted = ted_module.build_ted(caf33, ISSUER, stamp(receiver_name="Ñandú & Cía <Ltda>"), TIMESTAMP)
    # Through a serialization round trip, as a receiver reads it.
    ted = etree.fromstring(etree.tostring(ted))
    dd = xmlutil.find(ted, "DD")
    signed = independent_flatten(dd)
    assert b"xmlns" not in signed and b"\n" not in signed
    assert signed.startswith(b"<DD><RE>76192083-9</RE><TD>33</TD><F>150</F>")
    assert b"<RSR>\xd1and\xfa &amp; C\xeda &lt;Ltda&gt;</RSR>" in signed
    assert signed == xmlutil.flatten(dd)
    frmt = base64.b64decode(xmlutil.findtext(ted, "FRMT"))
    assert len(frmt) == 64  # RSA-512
    key = public_key_from_rsapk(dd)
    key.verify(frmt, signed, padding.PKCS1v15(), hashes.SHA1())
    assert key.public_numbers() == caf33.public_key.public_numbers()
    # Not over the namespaced or indented serializations.
    with pytest.raises(InvalidSignature):
        key.verify(frmt, etree.tostring(dd, encoding="ISO-8859-1"), padding.PKCS1v15(), hashes.SHA1())


def test_build_then_verify(caf33, authority):
    data = stamp(folio=250, total=0)
    verified = ted_module.verify_ted(ted_module.build_ted(caf33, ISSUER, data, TIMESTAMP), authority.trusted_keys())
    assert verified.issuer_rut == ISSUER
    assert verified.data.folio == 250 and verified.data.total == 0
    assert verified.data.issue_date == data.issue_date
    assert verified.data.receiver_rut == "77777777-7"
    assert verified.caf.rut == ISSUER and verified.caf.first_folio == 101


@pytest.mark.parametrize(("tag", "value"), [("MNT", "119001"), ("F", "151"), ("RR", "66666666-6"), ("RSR", "Otro")])
def test_altered_dd_fails(caf33, authority, tag, value):
    ted = ted_module.build_ted(caf33, ISSUER, stamp(), TIMESTAMP)
    xmlutil.find(ted, f"DD/{tag}").text = value
    with pytest.raises(SignatureVerificationError):
        ted_module.verify_ted(ted, authority.trusted_keys())


def test_stamp_of_another_caf_key_fails(caf_factory, caf33, authority):
    ted = ted_module.build_ted(caf33, ISSUER, stamp(), TIMESTAMP)
    other = caf_factory(33, 101, 250, company_name="Otra razón social")
    assert other.public_key.public_numbers() != caf33.public_key.public_numbers()
    forged = other.private_key.sign(xmlutil.flatten(xmlutil.find(ted, "DD")), padding.PKCS1v15(), hashes.SHA1())
    xmlutil.find(ted, "FRMT").text = base64.b64encode(forged).decode()
    with pytest.raises(SignatureVerificationError):
        ted_module.verify_ted(ted, authority.trusted_keys())


@pytest.mark.parametrize("folio", [100, 251, 1, 100000])
def test_folio_outside_range(caf33, folio):
    with pytest.raises(FolioOutOfRangeError) as info:
        ted_module.build_ted(caf33, ISSUER, stamp(folio=folio), TIMESTAMP)
    assert info.value.params == {"folio": folio, "first": 101, "last": 250}
    assert isinstance(info.value, TedError)


def test_caf_of_another_rut(caf_factory):
    caf = caf_factory(33, 101, 250, rut="60803000-K")
    with pytest.raises(CafMismatchError) as info:
        ted_module.build_ted(caf, ISSUER, stamp(), TIMESTAMP)
    assert info.value.params["caf_rut"] == "60803000-K" and info.value.params["rut"] == ISSUER


def test_caf_of_another_document_type(caf_factory):
    caf = caf_factory(34, 101, 250)
    with pytest.raises(CafMismatchError) as info:
        ted_module.build_ted(caf, ISSUER, stamp(document_type=33), TIMESTAMP)
    assert info.value.params["caf_type"] == 34 and info.value.params["doc_type"] == 33


def test_caf_without_private_key_cannot_stamp(caf33, authority):
    ted = ted_module.build_ted(caf33, ISSUER, stamp(), TIMESTAMP)
    copied = ted_module.verify_ted(ted, authority.trusted_keys()).caf
    with pytest.raises(TedError):
        ted_module.build_ted(copied, ISSUER, stamp(), TIMESTAMP)


def test_verify_refuses_a_ted_whose_dd_disagrees_with_its_caf(caf33, authority):
    ted = ted_module.build_ted(caf33, ISSUER, stamp(), TIMESTAMP)
    xmlutil.find(ted, "DD/F").text = "999"
    with pytest.raises(FolioOutOfRangeError):
        ted_module.verify_ted(ted, authority.trusted_keys())
    ted = ted_module.build_ted(caf33, ISSUER, stamp(), TIMESTAMP)
    xmlutil.find(ted, "DD/TD").text = "34"
    with pytest.raises(CafMismatchError):
        ted_module.verify_ted(ted, authority.trusted_keys())


def test_verify_needs_the_authority_key(caf33):
    ted = ted_module.build_ted(caf33, ISSUER, stamp(), TIMESTAMP)
    with pytest.raises(CafUntrustedKeyError):
        ted_module.verify_ted(ted)


def test_incomplete_ted(caf33, authority):
    ted = ted_module.build_ted(caf33, ISSUER, stamp(), TIMESTAMP)
    ted.remove(xmlutil.find(ted, "FRMT"))
    with pytest.raises(SignatureVerificationError):
        ted_module.verify_ted(ted, authority.trusted_keys())


@pytest.mark.parametrize("frmt", ["abc", "not base64 at all!", "AAAA"])
def test_unreadable_frmt(caf33, authority, frmt):
    ted = ted_module.build_ted(caf33, ISSUER, stamp(), TIMESTAMP)
    xmlutil.find(ted, "FRMT").text = frmt
    with pytest.raises(SignatureVerificationError):
        ted_module.verify_ted(ted, authority.trusted_keys())


def test_barcode_text_is_the_flattened_ted(caf33):
    ted = ted_module.build_ted(caf33, ISSUER, stamp(), TIMESTAMP)
    text = ted_module.ted_barcode_text(ted)
    assert text.startswith(b'<TED version="1.0"><DD><RE>76192083-9</RE>')
    assert text.endswith(b"</FRMT></TED>")
    assert b"xmlns" not in text and b"\n" not in text


# --- real TEDs -------------------------------------------------------------------


def real_teds():
    paths = sorted((FIXTURES / "official").glob("*.xml")) + sorted((FIXTURES / "real_production").glob("*.xml"))
    for path in paths:
        if "changed-monto" in path.name:
            continue
        yield pytest.param(path, id=path.stem)


@pytest.mark.parametrize("path", list(real_teds()))
def test_real_teds_verify(path):
    root = xmlutil.parse(path.read_bytes())
    teds = list(root.iter("{*}TED", "TED"))
    assert teds
    for ted in teds:
        verified = ted_module.verify_ted(ted, caf_module.sii_trusted_keys())
        dd = xmlutil.find(ted, "DD")
        assert verified.data.total == int(xmlutil.findtext(dd, "MNT"))
        assert verified.data.folio == int(xmlutil.findtext(dd, "F"))
        # The stamp matches its document.
        document = ted.getparent()
        assert str(verified.data.folio) == xmlutil.findtext(document, "Encabezado/IdDoc/Folio")
        assert str(verified.data.total) == xmlutil.findtext(document, "Encabezado/Totales/MntTotal")
        assert verified.issuer_rut == xmlutil.findtext(document, "Encabezado/Emisor/RUTEmisor")
        # The FRMT recomputed with cryptography alone over the DD flattened by hand.
        signed = independent_flatten(dd)
        public_key_from_rsapk(dd).verify(
            base64.b64decode(xmlutil.findtext(ted, "FRMT")), signed, padding.PKCS1v15(), hashes.SHA1()
        )


def test_real_ted_with_changed_monto_fails(fixtures_dir):
    path = fixtures_dir / "real_production" / "DTE--76354771-K--33--170--cleaned-mod-changed-monto.xml"
    ted = next(xmlutil.parse(path.read_bytes()).iter("{*}TED"))
    with pytest.raises(SignatureVerificationError):
        ted_module.verify_ted(ted, caf_module.sii_trusted_keys())
    # Putting the original amount back makes it verify: only the amount was changed.
    original = next(xmlutil.parse((path.parent / "DTE--76354771-K--33--170--cleaned.xml").read_bytes()).iter("{*}TED"))
    xmlutil.find(ted, "DD/MNT").text = xmlutil.findtext(original, "DD/MNT")
    ted_module.verify_ted(ted, caf_module.sii_trusted_keys())


def test_real_ted_fails_with_the_other_environment_key(fixtures_dir):
    production = fixtures_dir / "real_production" / "DTE--76399752-9--33--25568--cleaned.xml"
    ted = next(xmlutil.parse(production.read_bytes()).iter("{*}TED"))
    with pytest.raises(CafUntrustedKeyError):
        ted_module.verify_ted(ted, caf_module.sii_trusted_keys("certification"))
    official = fixtures_dir / "official" / "F60T33-ejemplo-oficial-SII.xml"
    ted = next(xmlutil.parse(official.read_bytes()).iter("{*}TED"))
    with pytest.raises(CafUntrustedKeyError):
        ted_module.verify_ted(ted, caf_module.sii_trusted_keys("production"))
    assert ted_module.verify_ted(ted, caf_module.sii_trusted_keys("certification")).caf.idk == 100


# --- MNT of exports: the total with its decimals ------------------------------------------------


@pytest.fixture(scope="module")
def caf110(caf_factory):
    return caf_factory(110, 1, 50)


def test_an_export_mnt_keeps_its_decimals_as_written(caf110, authority):
    """Real accepted exports write MNT with decimals ("30.00"); int("30.00") must not be the reader."""
    for total in (Decimal("30.00"), Decimal("4309.35"), Decimal("12.3456")):
        element = ted_module.build_ted(caf110, ISSUER, stamp(document_type=110, folio=9, total=total), TIMESTAMP)
        assert xmlutil.findtext(element, "DD/MNT") == str(total)
        verified = ted_module.verify_ted(element, authority.trusted_keys())
        assert verified.data.total == total and str(verified.data.total) == str(total)


def test_whole_mnt_stays_an_int(caf110, authority):
    element = ted_module.build_ted(caf110, ISSUER, stamp(document_type=110, folio=9, total=119000), TIMESTAMP)
    total = ted_module.verify_ted(element, authority.trusted_keys()).data.total
    assert total == 119000 and isinstance(total, int)


def test_an_unreadable_mnt_is_a_typed_error(caf110, authority):
    element = ted_module.build_ted(caf110, ISSUER, stamp(document_type=110, folio=9, total=Decimal("30.00")),
                                   TIMESTAMP)
    xmlutil.find(element, "DD/MNT").text = "30.0.0"
    with pytest.raises(SignatureVerificationError, match="MNT"):
        ted_module.verify_ted(element, authority.trusted_keys())
