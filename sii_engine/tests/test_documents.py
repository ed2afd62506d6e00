"""Every document type, end to end: build, stamp, sign, validate — and the texts and limits."""

import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from sii_engine import document as document_module
from sii_engine import dte, schema, signature, ted, xmlutil
from sii_engine.errors import DocumentError, FolioOutOfRangeError, RutError

FIXTURES = Path(__file__).parent / "fixtures"
XSD = Path(schema.XSD_DIR)
XS = "{http://www.w3.org/2001/XMLSchema}"
ALL_TYPES = (33, 34, 39, 41, 46, 52, 56, 61, 110, 111, 112)
EXPECTED_AMOUNTS = json.loads((FIXTURES / "libredte_inputs" / "montos_esperados.json").read_text(encoding="utf-8"))
TIMESTAMP = datetime.datetime(2024, 5, 15, 12, 0, 0)


# --- an independent check of the element order, read from the XSDs -------------------------


def _load_xsd(name):
    return etree.parse(str(XSD / name)).getroot()


_XSD_ROOTS = {}


def top_declaration(doc_type):
    """The XSD complexType that describes a ``<DTE>`` of ``doc_type``."""
    boleta = doc_type in (39, 41)
    name, type_name = ("EnvioBOLETA_v11.xsd", "BOLETADefType") if boleta else ("DTE_v10.xsd", "DTEDefType")
    if name not in _XSD_ROOTS:
        _XSD_ROOTS[name] = _load_xsd(name)
    return _XSD_ROOTS[name].find(f"{XS}complexType[@name='{type_name}']")


def content_declarations(declaration):
    """The element declarations directly inside ``declaration``'s content model, in order."""
    found = []

    def walk(node):
        for child in node:
            if child.tag == f"{XS}element":
                found.append(child)
            elif child.tag in {f"{XS}{name}" for name in ("complexType", "sequence", "choice", "all")}:
                walk(child)

    walk(declaration)
    return found


def declared_name(declaration):
    return declaration.get("name") or declaration.get("ref").split(":")[-1]


def assert_schema_order(element, declaration, path="DTE"):
    """Children appear in the order of the content model (recursively for inline types)."""
    declarations = content_declarations(declaration)
    names = [declared_name(item) for item in declarations]
    position = 0
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = xmlutil.local(child.tag)
        candidates = [index for index in range(position, len(names)) if names[index] == name]
        assert candidates, f"<{name}> is out of order or unknown in {path}: expected order {names}"
        position = candidates[0]
        if declarations[position].find(f"{XS}complexType") is not None:
            assert_schema_order(child, declarations[position], f"{path}/{name}")


# --- what every issued DTE must satisfy ---------------------------------------------------


def check_issued(document, issued, authority):
    raw = issued.xml
    assert raw.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<DTE xmlns="http://www.sii.cl/SiiDte"')
    root = xmlutil.parse(raw)
    assert root.tag == f"{{{xmlutil.SII_NS}}}DTE" and root.get("version") == "1.0"
    assert root.nsmap == {None: xmlutil.SII_NS}
    body_tag = "Exportaciones" if document.document_type in (110, 111, 112) else "Documento"
    body = root[0]
    assert xmlutil.local(body.tag) == body_tag
    assert body.get("ID") == f"T{document.document_type}F{document.folio}"
    # Schema, signature and stamp.
    expected_schema = schema.BOLETA if document.document_type in (39, 41) else schema.DTE
    assert schema.validation_errors(root, expected_schema) == []
    certificate_pem = signature.verify(root)
    assert certificate_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert signature.verify_dte(root) == certificate_pem
    ted_element = xmlutil.find(body, "TED")
    verified = ted.verify_ted(ted_element, authority.trusted_keys())
    header = xmlutil.find(body, "Encabezado")
    assert verified.issuer_rut == xmlutil.findtext(header, "Emisor/RUTEmisor") == document.issuer.rut
    assert verified.data.document_type == document.document_type
    assert verified.data.folio == document.folio == int(xmlutil.findtext(header, "IdDoc/Folio"))
    # MNT is MntTotal: whole pesos, or on exports the exact total with its decimals.
    assert str(verified.data.total) == xmlutil.findtext(header, "Totales/MntTotal")
    assert xmlutil.findtext(ted_element, "DD/MNT") == xmlutil.findtext(header, "Totales/MntTotal")
    assert verified.data.issue_date.isoformat() == xmlutil.findtext(header, "IdDoc/FchEmis")
    assert issued.ted == xmlutil.flatten(ted_element)
    # Order: per the XSD, and TED then TmstFirma last in the body, Signature after the body.
    assert_schema_order(root, top_declaration(document.document_type))
    names = [xmlutil.local(child.tag) for child in body]
    assert names[-2:] == ["TED", "TmstFirma"]
    assert [xmlutil.local(child.tag) for child in root] == [body_tag, "Signature"]
    # The IssuedDte summary agrees with the XML.
    assert issued.document_type == document.document_type and issued.folio == document.folio
    assert issued.body == xmlutil.strip_declaration(raw)
    assert issued.xml.decode("ISO-8859-1").encode("ISO-8859-1") == issued.xml
    return root


# --- every document type, from the LibreDTE JSON inputs and from dataclasses ---------------


@pytest.mark.parametrize("stem", sorted(path.stem for path in (FIXTURES / "libredte_inputs").glob("*/*.json")))
def test_libredte_inputs_issue_valid_signed_stamped_dtes(stem, issued_libredte, authority):
    document, issued = issued_libredte[stem]
    root = check_issued(document, issued, authority)
    totals = xmlutil.find(root[0], "Encabezado/Totales")
    for key, value in EXPECTED_AMOUNTS[stem].items():
        if key == "ImptoReten":
            assert xmlutil.findtext(totals, "ImptoReten/TipoImp") == str(value["TipoImp"])
            assert xmlutil.findtext(totals, "ImptoReten/MontoImp") == str(value["MontoImp"])
        else:
            assert Decimal(xmlutil.findtext(totals, key)) == Decimal(str(value)), key


def test_libredte_inputs_cover_every_type(issued_libredte):
    assert {document.document_type for document, _issued in issued_libredte.values()} == set(ALL_TYPES)


@pytest.mark.parametrize("doc_type", ALL_TYPES)
def test_every_type_from_dataclasses(doc_type, issued_by_type, authority):
    document, issued = issued_by_type[doc_type]
    root = check_issued(document, issued, authority)
    header = xmlutil.find(root[0], "Encabezado")
    assert xmlutil.findtext(header, "IdDoc/TipoDTE") == str(doc_type)
    details = [child for child in root[0] if xmlutil.local(child.tag) == "Detalle"]
    assert [xmlutil.findtext(detail, "NroLinDet") for detail in details] == ["1", "2"]
    assert [xmlutil.findtext(detail, "NmbItem") for detail in details] == [line.name for line in document.lines]
    # Exempt types mark every line and carry no IVA.
    if doc_type in (34, 41, 110, 111, 112):
        assert all(xmlutil.findtext(detail, "IndExe") == "1" for detail in details)
        assert xmlutil.find(header, "Totales/IVA") is None
        assert xmlutil.find(header, "Totales/MntNeto") is None
    if doc_type in (39, 41):
        assert xmlutil.findtext(header, "Emisor/RznSocEmisor") == document.issuer.name
        assert xmlutil.findtext(header, "IdDoc/IndServicio") == "3"
    if doc_type in (110, 111, 112):
        assert xmlutil.findtext(header, "Totales/TpoMoneda") == "DOLAR USA"
        assert xmlutil.findtext(header, "Receptor/Extranjero/Nacionalidad") == "225"
        assert xmlutil.findtext(header, "OtraMoneda/TpoMoneda") == "PESO CL"
    if doc_type in (56, 61, 111, 112):
        assert xmlutil.findtext(root[0], "Referencia/CodRef") == "1"


def test_issue_from_dataclasses_with_default_timestamp(document_factory, caf_factory, certificate, authority):
    document = document_factory(33, folio=500)
    before = datetime.datetime.now().replace(microsecond=0)
    issued = dte.issue(document, caf_factory(33), certificate)
    root = check_issued(document, issued, authority)
    stamped = datetime.datetime.fromisoformat(xmlutil.findtext(root[0], "TmstFirma"))
    assert before <= stamped <= datetime.datetime.now()
    assert xmlutil.findtext(root[0], "TED/DD/TSTED") == xmlutil.findtext(root[0], "TmstFirma")


def test_amounts_of_a_factura_in_the_xml(issued_by_type):
    document, issued = issued_by_type[33]
    root = xmlutil.parse(issued.xml)
    totals = xmlutil.find(root[0], "Encabezado/Totales")
    # 120 × 85 = 10 200 and 45 000: net 55 200, IVA 10 488, total 65 688.
    assert [xmlutil.findtext(totals, tag) for tag in ("MntNeto", "TasaIVA", "IVA", "MntTotal")] == [
        "55200",
        "19",
        "10488",
        "65688",
    ]
    assert issued.total == 65688
    assert xmlutil.findtext(root[0], "TED/DD/MNT") == "65688"


def test_amounts_of_a_boleta_in_the_xml(issued_by_type):
    _document, issued = issued_by_type[39]
    totals = xmlutil.find(xmlutil.parse(issued.xml)[0], "Encabezado/Totales")
    # 1.5 × 2390 = 3585 and 2 × 1790 = 3580: gross 7165, net round(7165 / 1.19) = 6021.
    assert [xmlutil.findtext(totals, tag) for tag in ("MntNeto", "IVA", "MntTotal")] == ["6021", "1144", "7165"]


# --- texts ----------------------------------------------------------------------------------


HOSTILE = "Café “Ñuñoa” 😀 漢字 €5 ‘ok’ — fin…"


def texts_document(document_factory, doc_type, folio, text):
    document = document_factory(doc_type, folio=folio)
    document.issuer.name = text * 10
    document.issuer.activity = text * 10
    document.issuer.address = text * 10
    document.issuer.commune = text
    document.issuer.city = text
    document.receiver.name = text * 10
    document.receiver.address = text * 10
    document.receiver.activity = text * 10
    document.receiver.contact = text * 10
    document.lines[0].name = text * 10
    document.lines[0].description = text * 100
    document.lines[0].unit = text
    for reference in document.references:
        reference.reason = text * 10
    return document


@pytest.mark.parametrize("doc_type", ALL_TYPES)
def test_hostile_texts_never_crash_and_stay_iso_8859_1(doc_type, document_factory, caf_factory, certificate, authority):
    document = texts_document(document_factory, doc_type, 600, HOSTILE)
    issued = dte.issue(document, caf_factory(doc_type), certificate, timestamp=TIMESTAMP)
    root = check_issued(document, issued, authority)
    text = issued.xml.decode("latin-1")
    assert text.encode("latin-1") == issued.xml
    assert "&#" not in text  # nothing needed a character reference: all of it is ISO-8859-1
    assert not any(0x80 <= byte <= 0x9F for byte in issued.xml)  # no C1 control bytes
    assert not any(byte < 0x20 and byte not in (0x09, 0x0A, 0x0D) for byte in issued.xml)
    name = xmlutil.findtext(root[0], "Detalle/NmbItem")
    assert name.startswith("Café \"Ñuñoa\" ? ?? EUR5 'ok' - fin...")
    assert "😀" not in text and "€" not in text and "“" not in text
    assert xmlutil.findtext(root[0], "TED/DD/IT1") == name[:40].rstrip()


@pytest.mark.parametrize(
    ("path", "length"),
    [
        ("Encabezado/Emisor/RznSoc", 100),
        ("Encabezado/Emisor/GiroEmis", 80),
        ("Encabezado/Emisor/DirOrigen", 70),
        ("Encabezado/Emisor/CmnaOrigen", 20),
        ("Encabezado/Receptor/RznSocRecep", 100),
        ("Encabezado/Receptor/GiroRecep", 40),
        ("Encabezado/Receptor/DirRecep", 70),
        ("Detalle/NmbItem", 80),
        ("Detalle/DscItem", 1000),
        ("TED/DD/RSR", 40),
        ("TED/DD/IT1", 40),
    ],
)
def test_long_texts_are_truncated_to_schema_lengths(path, length, document_factory, caf_factory, certificate):
    document = texts_document(document_factory, 33, 601, "abcdefghij" * 3 + "ÑÁÉÍÓÚ1234")
    issued = dte.issue(document, caf_factory(33), certificate, timestamp=TIMESTAMP)
    value = xmlutil.findtext(xmlutil.parse(issued.xml)[0], path)
    assert len(value) == length
    assert ("abcdefghij" * 3 + "ÑÁÉÍÓÚ1234")[: min(length, 40)] == value[: min(length, 40)]


@pytest.mark.parametrize("doc_type", [39, 110])
def test_long_texts_fit_the_boleta_and_export_schemas(doc_type, document_factory, caf_factory, certificate, authority):
    document = texts_document(document_factory, doc_type, 602, "x" * 2000)
    issued = dte.issue(document, caf_factory(doc_type), certificate, timestamp=TIMESTAMP)
    check_issued(document, issued, authority)


def test_markup_characters_are_escaped_and_round_trip(document_factory, caf_factory, certificate, authority):
    text = 'Pérez & Hijos <Ltda> "R&D" > 5'
    document = document_factory(33, folio=603)
    document.receiver.name = text
    document.lines[0].name = text
    document.lines[0].description = "</DscItem><MontoItem>1</MontoItem>"
    issued = dte.issue(document, caf_factory(33), certificate, timestamp=TIMESTAMP)
    assert 'Pérez &amp; Hijos &lt;Ltda&gt; "R&amp;D" &gt; 5'.encode("latin-1") in issued.xml
    assert b"&lt;/DscItem&gt;&lt;MontoItem&gt;1&lt;/MontoItem&gt;" in issued.xml
    root = check_issued(document, issued, authority)
    body = root[0]
    assert xmlutil.findtext(body, "Encabezado/Receptor/RznSocRecep") == text
    assert xmlutil.findtext(body, "Detalle/NmbItem") == text
    assert xmlutil.findtext(body, "Detalle/DscItem") == "</DscItem><MontoItem>1</MontoItem>"
    assert xmlutil.findtext(body, "TED/DD/RSR") == text
    assert len([element for element in body.iter() if xmlutil.local(element.tag) == "MontoItem"]) == 2


# --- limits and refusals --------------------------------------------------------------------


def many_lines(count, price=Decimal(100)):
    return [document_module.Line(f"Producto {number}", Decimal(1), price) for number in range(count)]


def test_sixty_lines_on_a_factura(document_factory, caf_factory, certificate, authority):
    document = document_factory(33, folio=700, lines=many_lines(60))
    check_issued(document, dte.issue(document, caf_factory(33), certificate, timestamp=TIMESTAMP), authority)


def test_sixty_one_lines_on_a_factura_are_refused(document_factory, caf_factory, certificate):
    document = document_factory(33, folio=701, lines=many_lines(61))
    with pytest.raises(DocumentError) as info:
        dte.issue(document, caf_factory(33), certificate)
    assert "61" in str(info.value) and "60" in str(info.value)


def test_thousand_lines_on_a_boleta(document_factory, caf_factory, certificate, authority):
    document = document_factory(39, folio=702, lines=many_lines(1000))
    issued = dte.issue(document, caf_factory(39), certificate, timestamp=TIMESTAMP)
    root = check_issued(document, issued, authority)
    assert xmlutil.findtext(root[0], "Encabezado/Totales/MntTotal") == "100000"


def test_thousand_and_one_lines_on_a_boleta_are_refused(document_factory, caf_factory, certificate):
    document = document_factory(39, folio=703, lines=many_lines(1001))
    with pytest.raises(DocumentError) as info:
        dte.issue(document, caf_factory(39), certificate)
    assert "1001" in str(info.value)


@pytest.mark.parametrize("doc_type", [56, 61, 111, 112])
def test_notes_without_references_are_refused(doc_type, document_factory, caf_factory, certificate):
    document = document_factory(doc_type, folio=704, references=[])
    with pytest.raises(DocumentError) as info:
        dte.issue(document, caf_factory(doc_type), certificate)
    assert "refer" in str(info.value)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"document_type": 35}, "35"),
        ({"folio": 0}, "folio"),
        ({"lines": []}, "no lines"),
    ],
)
def test_other_refusals(changes, words, document_factory, caf_factory, certificate):
    document = document_factory(33, **{"folio": 705, **changes})
    with pytest.raises(DocumentError) as info:
        dte.issue(document, caf_factory(33), certificate)
    assert words in str(info.value)


def test_refusals_on_issuer_receiver_and_lines(document_factory, caf_factory, certificate):
    caf = caf_factory(33)
    document = document_factory(33, folio=706)
    document.issuer.activity = ""
    with pytest.raises(DocumentError):
        dte.issue(document, caf, certificate)
    document = document_factory(33, folio=706)
    document.issuer.economic_activities = ()
    with pytest.raises(DocumentError):
        dte.issue(document, caf, certificate)
    document = document_factory(33, folio=706)
    document.receiver.name = ""
    with pytest.raises(DocumentError):
        dte.issue(document, caf, certificate)
    document = document_factory(33, folio=706)
    document.receiver.rut = "77777777-8"
    with pytest.raises(RutError):
        dte.issue(document, caf, certificate)
    document = document_factory(33, folio=706)
    document.lines[0].price = Decimal(-1)
    with pytest.raises(DocumentError):
        dte.issue(document, caf, certificate)
    document = document_factory(61, folio=706)
    document.references[0].code = 4
    with pytest.raises(DocumentError):
        dte.issue(document, caf_factory(61), certificate)


def test_folio_outside_the_caf(document_factory, caf_factory, certificate):
    document = document_factory(33, folio=1001)
    with pytest.raises(FolioOutOfRangeError):
        dte.issue(document, caf_factory(33, 1, 1000), certificate)


def test_boleta_without_receiver_name_issues(document_factory, caf_factory, certificate, authority):
    document = document_factory(39, folio=707)
    assert document.receiver.name == ""
    root = check_issued(document, dte.issue(document, caf_factory(39), certificate, timestamp=TIMESTAMP), authority)
    assert xmlutil.findtext(root[0], "TED/DD/RSR") == "Sin nombre"


# --- references ---------------------------------------------------------------------------


def references_of(issued):
    body = xmlutil.parse(issued.xml)[0]
    return [
        {xmlutil.local(child.tag): child.text for child in reference}
        for reference in body
        if xmlutil.local(reference.tag) == "Referencia"
    ]


@pytest.mark.parametrize(
    ("code", "reason"), [(1, "Anula factura"), (2, "Corrige giro del receptor"), (3, "Devolución de mercaderías")]
)
def test_credit_note_codref(code, reason, document_factory, caf_factory, certificate, authority):
    reference = document_module.Reference("33", "4521", datetime.date(2024, 5, 2), code, reason)
    document = document_factory(61, folio=800 + code, references=[reference])
    issued = dte.issue(document, caf_factory(61), certificate, timestamp=TIMESTAMP)
    check_issued(document, issued, authority)
    assert references_of(issued) == [
        {
            "NroLinRef": "1",
            "TpoDocRef": "33",
            "FolioRef": "4521",
            "FchRef": "2024-05-02",
            "CodRef": str(code),
            "RazonRef": reason,
        }
    ]


def test_certification_set_reference_on_a_factura(document_factory, caf_factory, certificate, authority):
    references = [
        document_module.Reference("SET", reason="CASO 12345-1"),
        document_module.Reference("801", "OC-778", datetime.date(2024, 5, 1), reason="Orden de compra"),
    ]
    document = document_factory(33, folio=810, references=references)
    issued = dte.issue(document, caf_factory(33), certificate, timestamp=TIMESTAMP)
    check_issued(document, issued, authority)
    first, second = references_of(issued)
    assert first == {
        "NroLinRef": "1",
        "TpoDocRef": "SET",
        "FolioRef": "0",
        "FchRef": document.issue_date.isoformat(),
        "RazonRef": "CASO 12345-1",
    }
    assert second["NroLinRef"] == "2" and second["TpoDocRef"] == "801" and second["FolioRef"] == "OC-778"


def test_certification_set_reference_on_a_note(document_factory, caf_factory, certificate, authority):
    references = [
        document_module.Reference("SET", "0", None, None, "CASO 12345-3"),
        document_module.Reference("33", "15", datetime.date(2024, 5, 2), 3, "Modifica monto"),
    ]
    document = document_factory(61, folio=811, references=references)
    issued = dte.issue(document, caf_factory(61), certificate, timestamp=TIMESTAMP)
    check_issued(document, issued, authority)
    first, second = references_of(issued)
    assert (first["TpoDocRef"], first["RazonRef"]) == ("SET", "CASO 12345-3")
    assert "CodRef" not in first
    assert (second["TpoDocRef"], second["CodRef"]) == ("33", "3")


def test_certification_set_reference_on_a_boleta(document_factory, caf_factory, certificate, authority):
    document = document_factory(39, folio=812, references=[document_module.Reference("SET", reason="CASO-1")])
    issued = dte.issue(document, caf_factory(39), certificate, timestamp=TIMESTAMP)
    check_issued(document, issued, authority)
    assert references_of(issued) == [{"NroLinRef": "1", "TpoDocRef": "SET", "RazonRef": "CASO-1"}]


def test_global_reference(document_factory, caf_factory, certificate, authority):
    reference = document_module.Reference("33", "", datetime.date(2024, 5, 2), 3, "Descuento por volumen", True)
    document = document_factory(61, folio=813, references=[reference])
    issued = dte.issue(document, caf_factory(61), certificate, timestamp=TIMESTAMP)
    check_issued(document, issued, authority)
    (only,) = references_of(issued)
    assert (only["IndGlobal"], only["FolioRef"]) == ("1", "0")


# --- document_from_dict -------------------------------------------------------------------


def test_document_from_dict_reads_the_sii_tags():
    data = json.loads((FIXTURES / "libredte_inputs" / "33" / "33_005_descuento_item_monto.json").read_text())
    document = document_module.document_from_dict(data, folio=9, issue_date=datetime.date(2024, 1, 2))
    assert (document.document_type, document.folio, document.issue_date) == (33, 9, datetime.date(2024, 1, 2))
    assert document.issuer.rut == data["Encabezado"]["Emisor"]["RUTEmisor"]
    assert document.receiver.rut == data["Encabezado"]["Receptor"]["RUTRecep"]
    assert all(isinstance(line.quantity, Decimal) and isinstance(line.price, Decimal) for line in document.lines)
    assert any(line.discount_amount for line in document.lines)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"Encabezado": {"IdDoc": {"TipoDTE": "factura"}}},
        {"Encabezado": {"IdDoc": {"TipoDTE": 33, "FchEmis": "15/05/2024"}}},
        {"Encabezado": {"IdDoc": {"TipoDTE": 33}}, "Detalle": [{"NmbItem": "x", "PrcItem": "diez"}]},
        "not a dict",
    ],
)
def test_document_from_dict_refuses_bad_data(data):
    with pytest.raises(DocumentError):
        document_module.document_from_dict(data)
