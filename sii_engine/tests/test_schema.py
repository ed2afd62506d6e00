"""Validation against the SII's XSDs: useful messages, the right schema, loaded once."""

import threading

import pytest
from lxml import etree

from sii_engine import schema, xmlutil
from sii_engine.errors import SchemaValidationError


def parsed(issued):
    return xmlutil.parse(issued.xml)


def remove(root, path):
    element = xmlutil.find(root, path)
    element.getparent().remove(element)


def test_issued_documents_are_valid(issued_by_type):
    for doc_type, (_document, issued) in issued_by_type.items():
        root = parsed(issued)
        expected = schema.BOLETA if doc_type in (39, 41) else schema.DTE
        assert schema.schema_for(root) == expected
        assert schema.validation_errors(root) == []
        assert schema.validate(root) is root


def test_missing_folio_names_the_element(issued_by_type):
    root = parsed(issued_by_type[33][1])
    remove(root, "Documento/Encabezado/IdDoc/Folio")
    with pytest.raises(SchemaValidationError) as info:
        schema.validate(root)
    error = info.value
    assert error.code == "schema_invalid"
    assert "Folio" in str(error)
    assert "DTE_v10.xsd" in str(error)
    assert error.errors and all(message.startswith("line ") for message in error.errors)
    assert any("Folio" in message and "Expected" in message for message in error.errors)


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        ("Documento/Encabezado/IdDoc/TipoDTE", "99", ["TipoDTE", "99"]),
        ("Documento/Encabezado/Totales/MntTotal", "12.5", ["MntTotal", "12.5"]),
        ("Documento/Encabezado/Emisor/RUTEmisor", "76.192.083-9", ["RUTEmisor"]),
        ("Documento/Encabezado/IdDoc/FchEmis", "15/05/2024", ["FchEmis"]),
        ("Documento/Encabezado/Emisor/RznSoc", "x" * 101, ["RznSoc", "length"]),
    ],
)
def test_wrong_values_name_the_element_and_the_rule(issued_by_type, path, value, words):
    root = parsed(issued_by_type[33][1])
    xmlutil.find(root, path).text = value
    with pytest.raises(SchemaValidationError) as info:
        schema.validate(root)
    for word in words:
        assert word in str(info.value)


def test_boleta_is_checked_against_the_boleta_type(issued_by_type):
    root = parsed(issued_by_type[39][1])
    assert schema.validation_errors(root, schema.BOLETA) == []
    # The DTE_v10 schema does not know boleta headers (RznSocEmisor).
    assert schema.validation_errors(root, schema.DTE)
    remove(root, "Documento/Encabezado/IdDoc/IndServicio")
    with pytest.raises(SchemaValidationError) as info:
        schema.validate(root)
    assert "IndServicio" in str(info.value)
    assert schema.BOLETA in str(info.value)


def test_schema_for_dispatches_on_the_root():
    def element(xml):
        return etree.fromstring(xml)

    assert schema.schema_for(element(f'<EnvioDTE xmlns="{xmlutil.SII_NS}"/>')) == schema.ENVIO_DTE
    assert schema.schema_for(element(f'<EnvioBOLETA xmlns="{xmlutil.SII_NS}"/>')) == schema.ENVIO_BOLETA
    assert schema.schema_for(element(f'<RespuestaDTE xmlns="{xmlutil.SII_NS}"/>')) == schema.RESPUESTA_ENVIO_DTE
    assert (
        schema.schema_for(
            element("<DTE><Documento><Encabezado><IdDoc><TipoDTE>41</TipoDTE></IdDoc></Encabezado></Documento></DTE>")
        )
        == schema.BOLETA
    )
    assert schema.schema_for(element("<DTE><Documento/></DTE>")) == schema.DTE
    with pytest.raises(SchemaValidationError) as info:
        schema.schema_for(element("<Factura/>"))
    assert "Factura" in str(info.value)


def test_schema_is_loaded_once_per_thread():
    first = schema._load(schema.DTE)
    assert schema._load(schema.DTE) is first
    assert schema._load(schema.BOLETA) is schema._load(schema.BOLETA)
    assert schema._load(schema.ENVIO_DTE) is not first
    other_thread = []
    thread = threading.Thread(target=lambda: other_thread.append(schema._load(schema.DTE)))
    thread.start()
    thread.join()
    assert other_thread[0] is not first  # lxml validators are not shared between threads
    assert isinstance(other_thread[0], etree.XMLSchema)


def test_validation_is_repeatable_on_one_loaded_schema(issued_by_type):
    valid = parsed(issued_by_type[33][1])
    invalid = parsed(issued_by_type[33][1])
    remove(invalid, "Documento/Encabezado/IdDoc/Folio")
    for _ in range(3):
        assert schema.validation_errors(valid) == []
        assert len(schema.validation_errors(invalid)) >= 1


def test_real_sii_documents_are_valid(fixtures_dir):
    official = xmlutil.parse((fixtures_dir / "official" / "F60T33-ejemplo-oficial-SII.xml").read_bytes())
    assert schema.validation_errors(official) == []
    for path in sorted((fixtures_dir / "real_production").glob("*--cleaned.xml")):
        assert schema.validation_errors(xmlutil.parse(path.read_bytes())) == [], path.name


def test_real_dte_without_its_signature_is_invalid(fixtures_dir):
    path = fixtures_dir / "real_production" / "DTE--76354771-K--33--170--cleaned-mod-removed-signature.xml"
    with pytest.raises(SchemaValidationError) as info:
        schema.validate(xmlutil.parse(path.read_bytes()))
    assert "Signature" in str(info.value)


def test_a_finished_threads_schemas_serve_the_next_thread():
    """Thread-per-request servers must not compile the XSDs on every request."""
    seen = []

    def load():
        seen.append(schema._load(schema.ENVIO_BOLETA))

    for _request in range(3):
        worker = threading.Thread(target=load)
        worker.start()
        worker.join()
    assert seen[1] is seen[0] and seen[2] is seen[0]
