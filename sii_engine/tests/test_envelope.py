"""EnvioDTE and EnvioBOLETA: cover, schema, the SetDTE signature, DTEs pasted verbatim."""

import datetime

import pytest
from lxml import etree

from sii_engine import envelope, rut, schema, signature, ted, xmlutil
from sii_engine.errors import EnvelopeError, SignatureVerificationError

RESOLUTION_DATE = datetime.date(2014, 8, 22)
RESOLUTION_NUMBER = 80
TIMESTAMP = datetime.datetime(2024, 5, 15, 13, 0, 0)
NON_BOLETA_TYPES = (33, 34, 46, 52, 56, 61, 110, 111, 112)
BOLETA_TYPES = (39, 41)


def build(dtes, certificate, **options):
    return envelope.build_envelope(
        dtes, "76192083-9", certificate, RESOLUTION_DATE, RESOLUTION_NUMBER, timestamp=TIMESTAMP, **options
    )


@pytest.fixture(scope="module")
def factura_envelope(issued_by_type, issued_libredte, certificate):
    """Every non-boleta type once, plus three more facturas from the LibreDTE inputs."""
    issued = [issued_by_type[doc_type][1] for doc_type in NON_BOLETA_TYPES]
    issued += [
        issued_libredte[stem][1] for stem in ("33_001_simple", "33_004_descuento_global", "61_001_anula_factura")
    ]
    return issued, build([item.xml for item in issued], certificate)


@pytest.fixture(scope="module")
def boleta_envelope(issued_by_type, issued_libredte, certificate):
    issued = [issued_by_type[doc_type][1] for doc_type in BOLETA_TYPES]
    issued += [issued_libredte[stem][1] for stem in ("39_001_simple", "41_002_descuento_global")]
    # Bodies without declaration are accepted too.
    return issued, build([item.body for item in issued], certificate)


def test_envio_dte_cover(factura_envelope, certificate):
    issued, raw = factura_envelope
    assert raw.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<EnvioDTE ')
    root = xmlutil.parse(raw)
    assert root.tag == f"{{{xmlutil.SII_NS}}}EnvioDTE" and root.get("version") == "1.0"
    assert root.get(f"{{{xmlutil.XSI_NS}}}schemaLocation") == f"{xmlutil.SII_NS} EnvioDTE_v10.xsd"
    cover = envelope.cover_of(root)
    assert cover["issuer_rut"] == "76192083-9"
    assert cover["sender_rut"] == certificate.holder_rut
    assert cover["receiver_rut"] == rut.SII_RUT == "60803000-K"
    assert cover["resolution_date"] == "2014-08-22"
    assert cover["resolution_number"] == "80"
    expected = {}
    for item in issued:
        expected[item.document_type] = expected.get(item.document_type, 0) + 1
    assert cover["subtotals"] == expected
    assert cover["subtotals"][33] == 3 and cover["subtotals"][61] == 2
    caratula = xmlutil.find(root, "SetDTE/Caratula")
    assert [xmlutil.local(child.tag) for child in caratula] == (
        ["RutEmisor", "RutEnvia", "RutReceptor", "FchResol", "NroResol", "TmstFirmaEnv"] + ["SubTotDTE"] * len(expected)
    )
    assert [
        int(xmlutil.findtext(item, "TpoDTE")) for item in caratula if xmlutil.local(item.tag) == "SubTotDTE"
    ] == sorted(expected)
    assert xmlutil.findtext(caratula, "TmstFirmaEnv") == "2024-05-15T13:00:00"


def test_envio_dte_is_valid_and_signed(factura_envelope, certificate):
    _issued, raw = factura_envelope
    root = xmlutil.parse(raw)
    assert schema.validation_errors(root, schema.ENVIO_DTE) == []
    assert signature.verify(root) == certificate.certificate_pem
    (set_signature,) = signature.signatures_of(root)
    reference = set_signature.find(".//{http://www.w3.org/2000/09/xmldsig#}Reference")
    assert reference.get("URI") == "#SetDoc"
    assert xmlutil.find(root, "SetDTE").get("ID") == "SetDoc"


def test_each_inner_dte_is_pasted_verbatim_and_verifies_standalone(factura_envelope, authority, certificate):
    issued, raw = factura_envelope
    root = xmlutil.parse(raw)
    documents = envelope.envelope_documents(root)
    assert len(documents) == len(issued)
    for item, element in zip(issued, documents, strict=True):
        assert item.body in raw  # byte for byte
        assert signature.verify_dte(element) == certificate.certificate_pem
        assert signature.verify(signature.standalone(element)) == certificate.certificate_pem
        body = element[0]
        assert body.get("ID") == f"T{item.document_type}F{item.folio}"
        ted.verify_ted(xmlutil.find(body, "TED"), authority.trusted_keys())


def test_receiver_rut_is_the_customers_for_the_exchange_copy(issued_by_type, certificate):
    raw = build([issued_by_type[33][1].xml], certificate, receiver_rut="77.777.777-7")
    root = xmlutil.parse(raw)
    assert envelope.cover_of(root)["receiver_rut"] == "77777777-7"
    assert signature.verify(root)


def test_changing_the_cover_breaks_the_set_signature_only(factura_envelope):
    _issued, raw = factura_envelope
    root = xmlutil.parse(raw.replace(b"<NroResol>80</NroResol>", b"<NroResol>81</NroResol>"))
    with pytest.raises(SignatureVerificationError):
        signature.verify(root)
    for element in envelope.envelope_documents(root):
        signature.verify_dte(element)


def test_changing_an_inner_dte_breaks_both_signatures(factura_envelope):
    _issued, raw = factura_envelope
    assert raw.count(b"<MntTotal>65688</MntTotal>") > 1
    root = xmlutil.parse(raw.replace(b"<MntTotal>65688</MntTotal>", b"<MntTotal>65689</MntTotal>", 1))
    with pytest.raises(SignatureVerificationError):
        signature.verify(root)
    failures = 0
    for element in envelope.envelope_documents(root):
        try:
            signature.verify_dte(element)
        except SignatureVerificationError:
            failures += 1
    assert failures == 1


def test_envio_boleta(boleta_envelope, certificate, authority):
    issued, raw = boleta_envelope
    root = xmlutil.parse(raw)
    assert root.tag == f"{{{xmlutil.SII_NS}}}EnvioBOLETA"
    assert root.get(f"{{{xmlutil.XSI_NS}}}schemaLocation") == f"{xmlutil.SII_NS} EnvioBOLETA_v11.xsd"
    assert schema.validation_errors(root, schema.ENVIO_BOLETA) == []
    assert schema.schema_for(root) == schema.ENVIO_BOLETA
    assert signature.verify(root) == certificate.certificate_pem
    assert envelope.cover_of(root)["subtotals"] == {39: 2, 41: 2}
    for item, element in zip(issued, envelope.envelope_documents(root), strict=True):
        assert item.body in raw
        assert signature.verify_dte(element) == certificate.certificate_pem
        ted.verify_ted(xmlutil.find(element[0], "TED"), authority.trusted_keys())


def test_kind_for():
    assert envelope.kind_for(39) == envelope.kind_for("41") == envelope.ENVIO_BOLETA
    for doc_type in NON_BOLETA_TYPES:
        assert envelope.kind_for(doc_type) == envelope.ENVIO_DTE


# --- refusals -------------------------------------------------------------------------------


def test_boletas_and_facturas_do_not_mix(issued_by_type, certificate):
    with pytest.raises(EnvelopeError) as info:
        build([issued_by_type[33][1].xml, issued_by_type[39][1].xml], certificate)
    assert "separate" in str(info.value)


@pytest.mark.parametrize(("doc_type", "kind"), [(33, envelope.ENVIO_BOLETA), (39, envelope.ENVIO_DTE)])
def test_explicit_kind_must_match(issued_by_type, certificate, doc_type, kind):
    with pytest.raises(EnvelopeError):
        build([issued_by_type[doc_type][1].xml], certificate, kind=kind)


def test_empty_envelope(certificate):
    with pytest.raises(EnvelopeError) as info:
        build([], certificate)
    assert "no documents" in str(info.value)


def fake_bodies(doc_type, count):
    """Cheap stand-ins: the count is checked before anything is parsed or signed."""
    return [
        b"<DTE><Documento><Encabezado><IdDoc><TipoDTE>%d</TipoDTE></IdDoc></Encabezado></Documento></DTE>" % doc_type
    ] * count


def test_more_than_2000_dtes(certificate):
    with pytest.raises(EnvelopeError) as info:
        build(fake_bodies(33, 2001), certificate)
    assert "2000" in str(info.value) and "2001" in str(info.value)


def test_more_than_500_boletas(certificate):
    with pytest.raises(EnvelopeError) as info:
        build(fake_bodies(39, 501), certificate)
    assert "500" in str(info.value) and "501" in str(info.value)


def test_limits_are_not_hit_below_them(certificate):
    # 500 fake boletas pass the count check and fail only later, on what each one lacks (an issuer).
    with pytest.raises(Exception) as info:
        build(fake_bodies(39, 500), certificate)
    assert "at most" not in str(info.value) and "issued by None" in str(info.value)


def test_document_without_type(certificate):
    with pytest.raises(EnvelopeError):
        build([b"<DTE><Documento/></DTE>"], certificate)


def test_envelope_documents_needs_a_set():
    with pytest.raises(Exception) as info:
        envelope.envelope_documents(etree.fromstring(f'<EnvioDTE xmlns="{xmlutil.SII_NS}"/>'))
    assert "SetDTE" in str(info.value)


def test_official_envelope_cover(fixtures_dir):
    root = xmlutil.parse((fixtures_dir / "official" / "F60T33-ejemplo-oficial-SII.xml").read_bytes())
    cover = envelope.cover_of(root)
    assert cover["receiver_rut"] == "60803000-K"
    assert sum(cover["subtotals"].values()) == len(envelope.envelope_documents(root))
