"""sii_engine.verify: every check passes on good files, and each defect is named by the right check."""

import dataclasses
import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from sii_engine import dte, identities, signature, xmlutil
from sii_engine.caf import load_caf, sii_trusted_keys
from sii_engine.certificate import load_pkcs12
from sii_engine.document import document_from_dict
from sii_engine.envelope import build_envelope
from sii_engine.simulator.validation import check_document
from sii_engine.ted import StampData, build_ted
from sii_engine.tests import libredte_inputs
from sii_engine.totals import compute_totals, round_amount
from sii_engine.verify import (
    CAF_SIGNATURE,
    COVER_COUNTS,
    COVER_ISSUER,
    EXPIRY,
    FORMAT,
    KEY_PAIR,
    SCHEMA,
    SENDER,
    SIGNATURE,
    TED,
    TED_DATA,
    TOTALS,
    UNIQUE,
    Report,
    verify_file,
)

FIXTURES = Path(__file__).parent / "fixtures"
INPUTS = FIXTURES / "libredte_inputs"
REAL = FIXTURES / "real_production"
OFFICIAL = FIXTURES / "official" / "F60T33-ejemplo-oficial-SII.xml"
ISSUER = "76192083-9"
SII = xmlutil.SII_NS
DOCUMENT_CHECKS = {SIGNATURE, TED, TED_DATA, TOTALS}


# --- identities and documents -------------------------------------------------------------------


@pytest.fixture(scope="module")
def authority():
    return identities.TestAuthority()


@pytest.fixture(scope="module")
def trusted(authority):
    return authority.trusted_keys()


@pytest.fixture(scope="module")
def certificate():
    return load_pkcs12(identities.make_pkcs12(ISSUER, "Firmante de Prueba", password="pw"), "pw")


@pytest.fixture(scope="module")
def cafs(authority, trusted):
    cache = {}

    def caf_for(document_type, first=1, last=100):
        key = (document_type, first, last)
        if key not in cache:
            cache[key] = load_caf(authority.issue_caf(ISSUER, "SASCO SpA", document_type, first, last), trusted)
        return cache[key]

    return caf_for


def _document(name="33/33_001_simple.json", folio=None):
    return document_from_dict(libredte_inputs.as_issued(json.loads((INPUTS / name).read_text(encoding="utf-8"))),
                              folio=folio)


@pytest.fixture(scope="module")
def issued(cafs, certificate):
    return dte.issue(_document(), cafs(33), certificate)


@pytest.fixture(scope="module")
def envelope_xml(cafs, certificate, issued):
    second = dte.issue(_document(folio=2), cafs(33), certificate)
    return build_envelope([issued.xml, second.xml], ISSUER, certificate, datetime.date(2014, 8, 22), 80)


def _check(report, name, subject=None):
    found = report.find(name, subject)
    assert len(found) == 1, f"expected one {name!r} check on {subject!r}:\n{report.format()}"
    return found[0]


def _failed_names(report):
    return {check.name for check in report.failures}


def _sign_document(document, totals, caf, certificate):
    """What dte.issue does, from totals the test chose (build, stamp, sign)."""
    element, totals = dte.build_dte(document, totals)
    body = element[0]
    stamp = StampData(
        document_type=document.document_type,
        folio=int(document.folio),
        issue_date=document.issue_date,
        receiver_rut=document.receiver.rut,
        receiver_name=document.receiver.name,
        total=int(round_amount(totals.total)),
        first_item=document.lines[0].name,
    )
    now = datetime.datetime.now().replace(microsecond=0)
    body.append(build_ted(caf, document.issuer.rut, stamp, now))
    etree.SubElement(body, f"{{{SII}}}TmstFirma").text = now.isoformat()
    signature.sign_reference(element, document.document_id, certificate)
    return xmlutil.to_bytes(element, declaration=True)


def _resign(root, reference_id, certificate):
    for old in signature.signatures_of(root):
        root.remove(old)
    signature.sign_reference(root, reference_id, certificate)
    return xmlutil.to_bytes(root, declaration=True)


# --- valid files --------------------------------------------------------------------------------


def test_valid_dte_passes_every_check(issued, trusted):
    report = verify_file(issued.xml, trusted)
    assert report.ok, report.format()
    assert report.kind == "DTE"
    assert {check.name for check in report.checks} == {FORMAT, SCHEMA} | DOCUMENT_CHECKS
    assert not any(check.skipped for check in report.checks)
    assert {check.subject for check in report.checks} == {"T33F1"}
    assert "IDK 9999" in _check(report, TED).detail
    assert "Firmante de Prueba" in _check(report, SIGNATURE).detail
    assert report.format().endswith(f"OK: all {len(report.checks)} checks passed.")


@pytest.mark.parametrize("name", sorted(str(p.relative_to(INPUTS)) for p in INPUTS.glob("*/*.json")))
def test_every_document_type_issued_by_the_engine_verifies(name, cafs, certificate, trusted):
    document = _document(name)
    issued = dte.issue(document, cafs(document.document_type), certificate)
    report = verify_file(issued.xml, trusted)
    assert report.ok, report.format()
    assert "agree" in _check(report, TOTALS).detail


def _export_in_dollars(folio):
    """LibreDTE's export in dollars, for US$ 4309.3454 (94 x 45.8441)."""
    document = _document("110/110_002_otra_moneda.json", folio=folio)
    document.lines[0].price = Decimal("45.8441")
    document.lines[0].quantity = Decimal(94)
    return document


def test_an_export_in_dollars_verifies_with_its_decimal_mnt(cafs, certificate, trusted):
    issued = dte.issue(_export_in_dollars(3), cafs(110), certificate)
    assert xmlutil.findtext(xmlutil.parse(issued.xml)[0], "TED/DD/MNT") == "4309.3454"
    report = verify_file(issued.xml, trusted)
    assert report.ok, report.format()
    assert "MNT match" in _check(report, TED_DATA).detail


def test_an_export_stamped_with_its_total_rounded_to_pesos_fails_ted_data(cafs, certificate, trusted):
    """What the engine did before: MNT 4309 for a MntTotal of 4309.3454."""
    data = _sign_document(_export_in_dollars(4), None, cafs(110), certificate)
    report = verify_file(data, trusted)
    assert _check(report, TED).ok
    detail = _check(report, TED_DATA).detail
    assert not _check(report, TED_DATA).ok
    assert "TED MNT is '4309' but the document's MntTotal is '4309.3454'" in detail
    checked = check_document(etree.fromstring(data), ISSUER, trusted)
    assert [(found.code, found.detail) for found in checked.issues] == [
        (6, "MNT del TED no coinciden con el documento")]


def test_valid_envelope_passes_every_check(envelope_xml, trusted):
    report = verify_file(envelope_xml, trusted)
    assert report.ok, report.format()
    assert report.kind == "EnvioDTE"
    names = {(check.subject, check.name) for check in report.checks}
    for name in (FORMAT, SCHEMA, SIGNATURE, SENDER, COVER_COUNTS, COVER_ISSUER, UNIQUE):
        assert ("envelope", name) in names
    for subject in ("T33F1", "T33F2"):
        for name in DOCUMENT_CHECKS:
            assert (subject, name) in names


def test_valid_boleta_envelope(cafs, certificate, trusted):
    boletas = [
        dte.issue(_document("39/39_001_simple.json"), cafs(39), certificate).xml,
        dte.issue(_document("39/39_002_descuento_global.json", folio=2), cafs(39), certificate).xml,
        dte.issue(_document("41/41_001_simple.json"), cafs(41), certificate).xml,
    ]
    report = verify_file(build_envelope(boletas, ISSUER, certificate, datetime.date(2014, 8, 22), 80), trusted)
    assert report.ok, report.format()
    assert report.kind == "EnvioBOLETA"
    assert "2 of type 39, 1 of type 41" in _check(report, COVER_COUNTS).detail


# --- tampering, each caught by the right check -----------------------------------------------------


def test_amount_changed_after_signing_breaks_the_signature(issued, trusted):
    total = issued.total
    tampered = issued.xml.replace(f"<MntTotal>{total}<".encode(), f"<MntTotal>{total - 1}<".encode())
    assert tampered != issued.xml
    report = verify_file(tampered, trusted)
    assert not report.ok
    failed = _check(report, SIGNATURE, "T33F1")
    assert not failed.ok
    assert "changed after signing" in failed.detail and "#T33F1" in failed.detail
    assert _check(report, TED).ok  # the stamp itself was not touched
    assert "MNT" in _check(report, TED_DATA).detail and not _check(report, TED_DATA).ok


def test_tampered_ted(issued, certificate, trusted):
    root = xmlutil.parse(issued.xml)
    xmlutil.find(root, "Documento/TED/DD/IT1").text = "Otra cosa"
    unsigned = xmlutil.to_bytes(root, declaration=True)
    report = verify_file(unsigned, trusted)
    assert "stamp was altered" in _check(report, TED).detail
    assert not _check(report, SIGNATURE).ok

    # Re-signed by the certificate holder (who has no CAF key): only the TED fails.
    report = verify_file(_resign(root, "T33F1", certificate), trusted)
    assert _failed_names(report) == {TED}, report.format()
    assert "FRMT does not match its DD" in _check(report, TED).detail


def test_folio_outside_the_caf(cafs, certificate, trusted):
    caf = cafs(33, 1, 10)
    stretched = dataclasses.replace(caf, last_folio=1000)  # lies about its range, keeps the SII's <CAF>
    issued = dte.issue(_document(folio=500), stretched, certificate)
    report = verify_file(issued.xml, trusted)
    assert _failed_names(report) == {TED}, report.format()
    assert "Folio 500 is outside the CAF range 1-10" in _check(report, TED, "T33F500").detail


def test_caf_signed_by_an_impostor_with_the_same_idk(certificate, trusted):
    impostor = identities.TestAuthority()
    caf = load_caf(impostor.issue_caf(ISSUER, "SASCO SpA", 33, 1, 100), impostor.trusted_keys())
    report = verify_file(dte.issue(_document(), caf, certificate).xml, trusted)
    assert _failed_names(report) == {TED}, report.format()
    detail = _check(report, TED).detail
    assert "FRMA does not verify" in detail and "IDK 9999" in detail
    assert "apart from that the stamp is consistent" in detail


def test_caf_of_an_untrusted_idk(issued):
    report = verify_file(issued.xml)  # default: the SII's real keys only
    assert _failed_names(report) == {TED}, report.format()
    detail = _check(report, TED).detail
    assert "IDK 9999" in detail and "not trusted" in detail and "trusted: 100, 300" in detail
    assert "stand-in test key" in detail


def test_caf_of_an_unknown_idk(certificate):
    stranger = identities.TestAuthority(idk=4242)
    caf = load_caf(stranger.issue_caf(ISSUER, "SASCO SpA", 33, 1, 100), stranger.trusted_keys())
    report = verify_file(dte.issue(_document(), caf, certificate).xml)
    assert "IDK 4242" in _check(report, TED).detail
    assert "does not use" in _check(report, TED).detail


def test_totals_inconsistent_but_properly_signed(cafs, certificate, trusted):
    document = _document()
    totals = compute_totals(document)
    totals.vat += 1
    totals.total += 1
    report = verify_file(_sign_document(document, totals, cafs(33), certificate), trusted)
    assert _failed_names(report) == {TOTALS}, report.format()
    detail = _check(report, TOTALS).detail
    assert f"IVA is {totals.vat}, but round(MntNeto x TasaIVA / 100)" in detail
    assert f"= {totals.vat - 1}" in detail


def test_net_amount_not_matching_the_lines(cafs, certificate, trusted):
    document = _document()
    totals = compute_totals(document)
    totals.net += 100
    totals.vat = round_amount(totals.net * 19 / 100)
    totals.total = totals.net + totals.vat
    report = verify_file(_sign_document(document, totals, cafs(33), certificate), trusted)
    assert _failed_names(report) == {TOTALS}, report.format()
    assert "MntNeto is 31600, but the taxable lines' MontoItem add up to 31500" in _check(report, TOTALS).detail


def test_boleta_totals_checked_against_gross_lines(cafs, certificate, trusted):
    document = _document("39/39_001_simple.json")
    totals = compute_totals(document)
    totals.vat += 5
    totals.total += 5
    report = verify_file(_sign_document(document, totals, cafs(39), certificate), trusted)
    assert _failed_names(report) == {TOTALS}, report.format()
    assert "gross prices" in _check(report, TOTALS).detail


def test_cover_count_wrong(envelope_xml, certificate, trusted):
    root = xmlutil.parse(envelope_xml)
    xmlutil.find(root, "SetDTE/Caratula/SubTotDTE/NroDTE").text = "3"
    report = verify_file(_resign(root, "SetDoc", certificate), trusted)
    assert _failed_names(report) == {COVER_COUNTS}, report.format()
    assert "type 33: SubTotDTE says 3, the envelope holds 2" in _check(report, COVER_COUNTS).detail


def test_cover_issuer_differs_from_the_documents(envelope_xml, certificate, trusted):
    root = xmlutil.parse(envelope_xml)
    xmlutil.find(root, "SetDTE/Caratula/RutEmisor").text = "60803000-K"
    report = verify_file(_resign(root, "SetDoc", certificate), trusted)
    assert _failed_names(report) == {COVER_ISSUER}, report.format()
    assert "T33F1 is issued by 76192083-9" in _check(report, COVER_ISSUER).detail


def test_repeated_document_in_an_envelope(issued, certificate, trusted):
    envelope = build_envelope(
        [issued.xml, issued.xml], ISSUER, certificate, datetime.date(2014, 8, 22), 80, validate=False
    )
    report = verify_file(envelope, trusted)
    assert _failed_names(report) == {SCHEMA, UNIQUE}, report.format()  # the schema sees a repeated xs:ID
    assert "T33F1 appear(s) more than once" in _check(report, UNIQUE).detail


def test_envelope_changed_after_signing(envelope_xml, trusted):
    tampered = envelope_xml.replace(b"<NroResol>80</NroResol>", b"<NroResol>81</NroResol>")
    report = verify_file(tampered, trusted)
    assert _failed_names(report) == {SIGNATURE}, report.format()
    assert "#SetDoc was changed after signing" in _check(report, SIGNATURE, "envelope").detail
    assert _check(report, SENDER).skipped
    assert _check(report, SIGNATURE, "T33F1").ok  # each DTE verifies on its own


def test_envelope_sent_by_someone_else(issued, trusted):
    other = load_pkcs12(identities.make_pkcs12("11111111-1", "Otra Persona", password="x"), "x")
    envelope = build_envelope([issued.xml], ISSUER, other, datetime.date(2014, 8, 22), 80)
    root = xmlutil.parse(envelope)
    xmlutil.find(root, "SetDTE/Caratula/RutEnvia").text = "22222222-2"
    report = verify_file(_resign(root, "SetDoc", other), trusted)
    assert _failed_names(report) == {SENDER}, report.format()
    assert "signed with the certificate of 11111111-1" in _check(report, SENDER).detail


# --- what the file is -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "the file is empty"),
        (b"%PDF-1.4 not xml", "not readable as XML"),
        (b"<RespuestaDTE/>", "acknowledgement"),
        (b"<Factura><Total>1</Total></Factura>", "the root element is <Factura>"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><DTE/>', "DOCTYPE"),
    ],
)
def test_unknown_or_unreadable_input(data, expected):
    report = verify_file(data)
    assert not report.ok
    assert report.kind is None
    check = _check(report, FORMAT)
    assert expected in check.detail


def test_schema_errors_are_named(issued, trusted):
    root = xmlutil.parse(issued.xml)
    folio = xmlutil.find(root, "Documento/Encabezado/IdDoc/Folio")
    folio.addnext(etree.Element(f"{{{SII}}}Sorpresa"))
    report = verify_file(xmlutil.to_bytes(root), trusted)
    check = _check(report, SCHEMA)
    assert not check.ok
    assert "DTE_v10.xsd" in check.detail and "Sorpresa" in check.detail


# --- CAF files ------------------------------------------------------------------------------------


def test_valid_caf_file(authority, trusted):
    report = verify_file(authority.issue_caf(ISSUER, "SASCO SpA", 33, 1, 200), trusted)
    assert report.ok, report.format()
    assert report.kind == "CAF"
    assert {check.subject for check in report.checks} == {"CAF 33 1-200"}
    assert {check.name for check in report.checks} == {FORMAT, CAF_SIGNATURE, KEY_PAIR, EXPIRY}
    assert "days left" in _check(report, EXPIRY).detail


def test_caf_with_unknown_authority(authority):
    report = verify_file(authority.issue_caf(ISSUER, "SASCO SpA", 33, 1, 200))
    assert _failed_names(report) == {CAF_SIGNATURE}
    assert "IDK 9999" in _check(report, CAF_SIGNATURE).detail
    assert "never valid at the SII" in _check(report, CAF_SIGNATURE).detail


def test_caf_with_altered_range(authority, trusted):
    data = authority.issue_caf(ISSUER, "SASCO SpA", 33, 1, 200).replace(b"<H>200</H>", b"<H>900</H>")
    report = verify_file(data, trusted)
    assert _failed_names(report) == {CAF_SIGNATURE}
    assert "altered" in _check(report, CAF_SIGNATURE, "CAF 33 1-900").detail


def test_caf_with_someone_elses_private_key(authority, trusted):
    data = authority.issue_caf(ISSUER, "SASCO SpA", 33, 1, 200)
    root = xmlutil.parse(data)
    other = rsa.generate_private_key(3, 512, default_backend())
    xmlutil.find(root, "RSASK").text = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    report = verify_file(xmlutil.to_bytes(root), trusted)
    assert _failed_names(report) == {KEY_PAIR}
    assert "does not match the public key (RSAPK)" in _check(report, KEY_PAIR).detail


def test_expired_caf(authority, trusted):
    data = authority.issue_caf(ISSUER, "SASCO SpA", 33, 1, 200, authorized_on=datetime.date(2024, 1, 15))
    report = verify_file(data, trusted, today=datetime.date(2024, 9, 1))
    assert _failed_names(report) == {EXPIRY}
    assert "expired on 2024-07-15" in _check(report, EXPIRY).detail
    boletas = authority.issue_caf(ISSUER, "SASCO SpA", 39, 1, 200, authorized_on=datetime.date(2020, 1, 15))
    assert verify_file(boletas, trusted).ok


def test_the_official_caf_verifies_with_the_sii_certification_key():
    """The CAF of the SII's sample, as a CAF file: its FRMA is the SII's; it has no private key."""
    caf = xmlutil.find(xmlutil.parse(OFFICIAL.read_bytes()), "SetDTE/DTE/Documento/TED/DD/CAF")
    root = etree.Element("AUTORIZACION")
    root.append(signature.without_sii_namespace(caf))
    report = verify_file(xmlutil.to_bytes(root), sii_trusted_keys("certification"), today=datetime.date(2003, 10, 1))
    assert _check(report, CAF_SIGNATURE).ok
    assert "IDK 100 (the SII's certification key)" in _check(report, CAF_SIGNATURE).detail
    assert "no private key" in _check(report, KEY_PAIR).detail
    assert _check(report, EXPIRY).ok


# --- real documents ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "DTE--76354771-K--33--170--cleaned.xml",
        "DTE--76399752-9--33--25568--cleaned.xml",
        "DTE--60910000-1--33--2336600.xml",
        "DTE--96670340-7--61--110616.xml",
    ],
)
def test_real_production_documents_verify_with_the_sii_keys(name):
    report = verify_file((REAL / name).read_bytes())
    assert _check(report, SIGNATURE).ok, report.format()
    assert _check(report, TED).ok, report.format()
    assert "IDK 300 (the SII's production key)" in _check(report, TED).detail
    assert _check(report, TED_DATA).ok and _check(report, TOTALS).ok
    if "cleaned" in name:
        assert report.ok, report.format()
    else:  # the raw files carry no namespace: the schema says so
        # 110616 also carries the issuer's <DocPersonalizado> after its signature: signed by nobody.
        unsigned = {"unsigned content"} if "110616" in name else set()
        assert _failed_names(report) == {SCHEMA} | unsigned
        assert "no namespace" in _check(report, SCHEMA).detail


@pytest.mark.parametrize(
    "name", ["DTE--76354771-K--33--170.xml", "DTE--76399752-9--33--25568.xml"]
)
def test_raw_copies_that_lost_their_namespace(name):
    report = verify_file((REAL / name).read_bytes())
    assert _failed_names(report) == {SCHEMA}, report.format()
    assert "SII namespace is restored" in _check(report, SIGNATURE).detail


def test_real_documents_against_the_wrong_environment():
    data = (REAL / "DTE--76354771-K--33--170--cleaned.xml").read_bytes()
    report = verify_file(data, sii_trusted_keys("certification"))
    assert _failed_names(report) == {TED}
    assert "IDK 300 (the SII's production key)" in _check(report, TED).detail
    assert "other SII environment" in _check(report, TED).detail


def test_real_document_with_changed_amount():
    report = verify_file((REAL / "DTE--76354771-K--33--170--cleaned-mod-changed-monto.xml").read_bytes())
    assert _failed_names(report) == {SIGNATURE, TED}, report.format()
    assert "changed after signing" in _check(report, SIGNATURE).detail
    assert "stamp was altered" in _check(report, TED).detail


def test_real_document_with_removed_signature():
    report = verify_file((REAL / "DTE--76354771-K--33--170--cleaned-mod-removed-signature.xml").read_bytes())
    assert _failed_names(report) == {SCHEMA, SIGNATURE}, report.format()
    assert "not signed" in _check(report, SIGNATURE).detail
    assert "Signature" in _check(report, SCHEMA).detail
    assert _check(report, TED).ok


def test_real_document_with_replaced_signature_value():
    report = verify_file((REAL / "DTE--76354771-K--33--170--cleaned-mod-replaced-cert.xml").read_bytes())
    assert _failed_names(report) == {SIGNATURE}, report.format()
    detail = _check(report, SIGNATURE).detail
    assert "is intact" in detail and "verifies neither with the embedded X509Certificate" in detail


def test_official_sii_sample():
    """TED and CAF verify with the SII's certification key; the XML signatures cannot (see
    notes_official_sample.md): the embedded certificate is not the key that signed."""
    report = verify_file(OFFICIAL.read_bytes(), sii_trusted_keys("certification"))
    assert report.kind == "EnvioDTE"
    assert _failed_names(report) == {SIGNATURE}, report.format()
    ted = _check(report, TED, "T33F60")
    assert ted.ok and "IDK 100 (the SII's certification key)" in ted.detail
    for subject in ("envelope", "T33F60"):
        detail = _check(report, SIGNATURE, subject).detail
        assert "embedded X509Certificate" in detail and "is not the signing key" in detail
        assert "RSAKeyValue" in detail and "Wilibaldo Gonzalez Cabrera" in detail
    assert "signed without the SII namespace" in _check(report, SIGNATURE, "T33F60").detail
    assert _check(report, COVER_COUNTS).ok and _check(report, TOTALS).ok and _check(report, TED_DATA).ok


# --- the report -----------------------------------------------------------------------------------------


def test_report_format_and_dict(issued):
    report = verify_file(issued.xml)
    text = report.format()
    assert "FAIL" in text and "TED" in text and "T33F1" in text
    assert text.splitlines()[-1] == f"FAILED: 1 of {len(report.checks)} checks failed."
    data = report.as_dict()
    assert data["ok"] is False and data["kind"] == "DTE"
    assert {"name", "subject", "ok", "detail", "skipped"} <= set(data["checks"][0])
    assert not Report().ok  # nothing checked is not a pass


def test_never_raises_on_mangled_input(issued, certificate, authority, trusted):
    """Every element removed or its text replaced by junk: always a report, never an exception."""
    envelope = build_envelope([issued.xml], ISSUER, certificate, datetime.date(2014, 8, 22), 80)
    for data in (envelope, authority.issue_caf(ISSUER, "SASCO SpA", 33, 1, 10)):
        count = sum(1 for node in xmlutil.parse(data).iter() if isinstance(node.tag, str))
        for index in range(1, count):
            for junk in (None, "x\u00e9", "-99999999999999999999999999999"):
                root = xmlutil.parse(data)
                node = [n for n in root.iter() if isinstance(n.tag, str)][index]
                if junk is None:
                    node.getparent().remove(node)
                elif len(node) == 0:
                    node.text = junk
                else:
                    continue
                report = verify_file(xmlutil.to_bytes(root), trusted)
                assert report.checks and report.format()
