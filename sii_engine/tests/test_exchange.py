"""The exchange documents: RespuestaDTE (reception, result), EnvioRecibos, and reading them back.

Every built file is validated again here from its bytes against the SII's
schema and its signatures verified with the engine's verifier; the codes and
the Ley 19.983 declaration are compared with the shipped XSDs themselves.
"""

import datetime
from pathlib import Path

import pytest
from lxml import etree

from sii_engine import certificate as certificate_module
from sii_engine import identities, schema, signature
from sii_engine.errors import SchemaValidationError, XmlInputError
from sii_engine.exchange import (
    DECLARATION,
    ENVIO_DTE,
    ENVIO_RECIBOS,
    RESPUESTA_DTE,
    UNRECOGNISED,
    CommercialResult,
    CommercialStatus,
    Contact,
    DocumentReception,
    DocumentRef,
    DocumentStatus,
    EnvelopeReception,
    EnvelopeStatus,
    ExchangeBuildError,
    ExchangeFormatError,
    NotExchangeDocumentError,
    Receipt,
    build_receipts,
    build_reception_answer,
    build_result_answer,
    read_answer,
    read_receipts,
    sniff,
)
from sii_engine.xmlutil import parse

XSD = Path(schema.XSD_DIR)
XS = "{http://www.w3.org/2001/XMLSchema}"
ISSUER = "76192083-9"
RECEIVER = "77777777-7"
SIGNED_AT = datetime.datetime(2024, 5, 20, 9, 30, 0)
INVOICE = DocumentRef(33, 1234, datetime.date(2024, 5, 15), ISSUER, RECEIVER, 119000)
CREDIT_NOTE = DocumentRef(61, 77, datetime.date(2024, 5, 16), ISSUER, RECEIVER, 23800)
CONTACT = Contact(name="Ana Pérez", phone="+56 2 2345 6789", email="dte@cliente.cl")


@pytest.fixture(scope="module")
def receiver_certificate():
    """The person who answers for the receiver (a different RUT from the issuer's signer)."""
    return certificate_module.load_pkcs12(identities.make_pkcs12("12345678-5", "Receptor Prueba", "x"), "x")


def _enumeration(xsd_file, element_name):
    """``{code: documentation}`` of the enumeration of ``element_name`` in an SII XSD."""
    tree = etree.parse(str(XSD / xsd_file))
    element = tree.find(f".//{XS}element[@name='{element_name}']")
    return {
        int(item.get("value")): " ".join(item.findtext(f"{XS}annotation/{XS}documentation").split())
        for item in element.iter(f"{XS}enumeration")
    }


def _reception(documents=(INVOICE, CREDIT_NOTE), **changes):
    values = {
        "file_name": "EnvioDTE_76192083-9_1001.xml",
        "received_at": datetime.datetime(2024, 5, 16, 18, 2, 3),
        "envelope_code": 4711,
        "envelope_id": "SetDoc",
        "digest": "m5bX0k3p4nLrc7Ew0mRjvB1o0vA=",
        "issuer_rut": ISSUER,
        "receiver_rut": RECEIVER,
        "documents": tuple(item if isinstance(item, DocumentReception) else DocumentReception(item)
                           for item in documents),
    }
    values.update(changes)
    return EnvelopeReception(**values)


def _reception_answer(certificate, receptions=None, **kwargs):
    return build_reception_answer(receptions or [_reception()], responder_rut=RECEIVER, recipient_rut=ISSUER,
                                  certificate=certificate, response_id=kwargs.pop("response_id", 31),
                                  contact=kwargs.pop("contact", CONTACT), timestamp=SIGNED_AT, **kwargs)


def _result_answer(certificate, results):
    return build_result_answer(results, responder_rut=RECEIVER, recipient_rut=ISSUER, certificate=certificate,
                               response_id=32, timestamp=SIGNED_AT)


def _receipts(certificate, receipts=None, **kwargs):
    receipts = receipts or [Receipt(INVOICE, "Bodega Central, Quilicura"), Receipt(CREDIT_NOTE, "Oficina")]
    return build_receipts(receipts, responder_rut=kwargs.pop("responder_rut", RECEIVER),
                          recipient_rut=kwargs.pop("recipient_rut", ISSUER), certificate=certificate,
                          contact=CONTACT, timestamp=SIGNED_AT, **kwargs)


def _valid(data, schema_name):
    root = parse(data)
    assert schema.validation_errors(root, schema_name) == []
    return root


# --- the codes are the schema's ------------------------------------------------------------


@pytest.mark.parametrize(("enumeration", "xsd_file", "element"), [
    (EnvelopeStatus, "RespuestaEnvioDTE_v10.xsd", "EstadoRecepEnv"),
    (DocumentStatus, "RespuestaEnvioDTE_v10.xsd", "EstadoRecepDTE"),
    (CommercialStatus, "RespuestaEnvioDTE_v10.xsd", "EstadoDTE"),
])
def test_codes_and_glosas_are_the_schemas(enumeration, xsd_file, element):
    assert {int(member): member.glosa for member in enumeration} == _enumeration(xsd_file, element)


def test_declaration_is_the_text_the_schema_fixes():
    tree = etree.parse(str(XSD / "Recibos_v10.xsd"))
    assert tree.find(f".//{XS}element[@name='Declaracion']").get("fixed") == DECLARATION


# --- RespuestaDTE: reception -----------------------------------------------------------------


def test_reception_answer_is_schema_valid_signed_and_reads_back(receiver_certificate):
    data = _reception_answer(receiver_certificate)
    assert data.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    root = _valid(data, schema.RESPUESTA_ENVIO_DTE)
    signer = signature.verify(root)
    assert b"MII" in signer
    answer = read_answer(data)
    assert answer.verified
    assert answer.signature.signer_rut == "12345678-5"
    assert answer.cover.responder_rut == RECEIVER and answer.cover.recipient_rut == ISSUER
    assert (answer.cover.response_id, answer.cover.details, answer.cover.signed_at) == (31, 1, SIGNED_AT)
    assert answer.cover.contact == CONTACT
    assert answer.is_reception and not answer.results
    (reception,) = answer.receptions
    expected = _reception()
    assert reception == EnvelopeReception(**{
        **expected.__dict__,
        "glosa": "Envio Recibido Conforme",
        "documents": tuple(DocumentReception(item.document, DocumentStatus.OK, "DTE Recibido OK")
                           for item in expected.documents),
    })
    assert answer.documents() == [INVOICE, CREDIT_NOTE]


def test_reception_answer_with_refused_documents_and_envelopes(receiver_certificate):
    refused = _reception(documents=(), status=EnvelopeStatus.SIGNATURE_ERROR, envelope_code=4712,
                         glosa="Firma del SetDTE no corresponde", digest=None)
    mixed = _reception(envelope_code=4713, documents=(
        DocumentReception(INVOICE, DocumentStatus.REPEATED),
        DocumentReception(CREDIT_NOTE, DocumentStatus.RECEIVER_RUT_ERROR, "RUTRecep 88888888-8 no es el nuestro"),
    ))
    data = _reception_answer(receiver_certificate, [refused, mixed])
    root = _valid(data, schema.RESPUESTA_ENVIO_DTE)
    assert root.findtext(".//{*}NroDetalles") == "2"
    first, second = read_answer(data).receptions
    assert (first.status, first.glosa, first.documents) == (
        EnvelopeStatus.SIGNATURE_ERROR, "Firma del SetDTE no corresponde", ())
    assert root.find(".//{*}RecepcionEnvio/{*}NroDTE") is not None  # the second envelope's only
    assert [(item.status, item.glosa) for item in second.documents] == [
        (DocumentStatus.REPEATED, "DTE No Recibido - DTE Repetido"),
        (DocumentStatus.RECEIVER_RUT_ERROR, "RUTRecep 88888888-8 no es el nuestro"),
    ]


@pytest.mark.parametrize(("change", "message"), [
    ({"envelope_code": 0}, "CodEnvio"),
    ({"status": 5}, "EnvelopeStatus"),
    ({"file_name": "  "}, "NmbEnvio"),
    ({"issuer_rut": "76192083-0"}, "RutEmisor"),
    ({"documents": (DocumentReception(DocumentRef(33, 0, INVOICE.issue_date, ISSUER, RECEIVER, 1)),)}, "folio"),
    ({"documents": (DocumentReception(INVOICE, 7),)}, "DocumentStatus"),
])
def test_reception_answer_refuses_bad_input_before_signing(receiver_certificate, change, message):
    with pytest.raises(ExchangeBuildError) as raised:
        _reception_answer(receiver_certificate, [_reception(**change)])
    assert message in str(raised.value)


def test_a_type_the_schema_does_not_list_is_a_schema_error_not_a_bad_file(receiver_certificate):
    liquidacion = DocumentRef(43, 5, INVOICE.issue_date, ISSUER, RECEIVER, 1000)
    with pytest.raises(SchemaValidationError):
        _reception_answer(receiver_certificate, [_reception(documents=(liquidacion,))])


# --- RespuestaDTE: commercial result ---------------------------------------------------------


def test_result_answer_round_trip(receiver_certificate):
    results = [
        CommercialResult(INVOICE, 4711, CommercialStatus.ACCEPTED),
        CommercialResult(CREDIT_NOTE, 4711, CommercialStatus.ACCEPTED_WITH_DISCREPANCIES,
                         "Faltan 2 unidades", reason_code=-2),
        CommercialResult(DocumentRef(33, 1235, INVOICE.issue_date, ISSUER, RECEIVER, 5000), 4712,
                         CommercialStatus.REJECTED, "Precio no convenido", reason_code=-1),
    ]
    data = _result_answer(receiver_certificate, results)
    root = _valid(data, schema.RESPUESTA_ENVIO_DTE)
    assert signature.verify(root)
    answer = read_answer(data)
    assert answer.verified and not answer.is_reception
    assert answer.cover.details == 3
    assert list(answer.results) == [
        CommercialResult(INVOICE, 4711, CommercialStatus.ACCEPTED, "DTE Aceptado OK"),
        *results[1:],
    ]
    assert [result.accepted for result in answer.results] == [True, True, False]


@pytest.mark.parametrize(("result", "message"), [
    (CommercialResult(INVOICE, 1, CommercialStatus.ACCEPTED, reason_code=-1), "accepted document"),
    (CommercialResult(INVOICE, 1, CommercialStatus.REJECTED, reason_code=3), "CodRchDsc"),
    (CommercialResult(INVOICE, 1, 3), "CommercialStatus"),
    (CommercialResult(DocumentRef(33, 1, INVOICE.issue_date, "96790240-3", RECEIVER, 1), 1,
                      CommercialStatus.ACCEPTED), "was issued by 96790240-3"),
])
def test_result_answer_refuses_bad_input(receiver_certificate, result, message):
    with pytest.raises(ExchangeBuildError) as raised:
        _result_answer(receiver_certificate, [result])
    assert message in str(raised.value)


def test_an_answer_with_nothing_to_answer_is_refused(receiver_certificate):
    with pytest.raises(ExchangeBuildError):
        _result_answer(receiver_certificate, [])


# --- EnvioRecibos ----------------------------------------------------------------------------


def test_receipts_are_schema_valid_and_every_signature_verifies(receiver_certificate):
    data = _receipts(receiver_certificate)
    root = _valid(data, schema.ENVIO_RECIBOS)
    assert signature.verify(root)  # the SetRecibos
    recibos = root.findall(".//{*}Recibo")
    assert len(recibos) == 2
    for recibo in recibos:
        own = signature.signatures_of(recibo)[0]
        assert signature.verify(root, own)  # in place
        assert signature.verify(signature.standalone(recibo))  # taken out on its own
        assert schema.validation_errors(signature.standalone(recibo), schema.RECIBO) == []
    assert [recibo.find("{*}DocumentoRecibo").get("ID") for recibo in recibos] == ["T33F1234", "T61F77"]


def test_receipts_round_trip(receiver_certificate):
    received = read_receipts(_receipts(receiver_certificate))
    assert received.verified
    assert (received.cover.responder_rut, received.cover.recipient_rut, received.cover.signed_at) == (
        RECEIVER, ISSUER, SIGNED_AT)
    assert received.cover.contact == CONTACT
    assert [(r.document, r.place, r.signer_rut, r.signed_at, r.declaration) for r in received.receipts] == [
        (INVOICE, "Bodega Central, Quilicura", "12345678-5", SIGNED_AT, DECLARATION),
        (CREDIT_NOTE, "Oficina", "12345678-5", SIGNED_AT, DECLARATION),
    ]
    assert all(receipt.signature.ok and receipt.signature.signer_rut == "12345678-5"
               for receipt in received.receipts)


@pytest.mark.parametrize(("receipts", "kwargs", "message"), [
    ([Receipt(INVOICE, "A"), Receipt(INVOICE, "B")], {}, "two receipts"),
    ([Receipt(INVOICE, "")], {}, "Recinto"),
    ([Receipt(INVOICE, "A")], {"recipient_rut": "96790240-3"}, "this set is from"),
    ([Receipt(INVOICE, "A")], {"responder_rut": "12345678"}, "RutResponde"),
])
def test_receipts_refuse_bad_input(receiver_certificate, receipts, kwargs, message):
    with pytest.raises(ExchangeBuildError) as raised:
        _receipts(receiver_certificate, receipts, **kwargs)
    assert message in str(raised.value)


def test_a_long_place_is_cut_to_what_the_schema_takes(receiver_certificate):
    data = _receipts(receiver_certificate, [Receipt(INVOICE, "Bodega " + "Ñ" * 200)])
    root = _valid(data, schema.ENVIO_RECIBOS)
    assert len(root.findtext(".//{*}Recinto")) == 80


# --- what is received is checked, not trusted --------------------------------------------------


def test_a_changed_answer_does_not_verify(receiver_certificate):
    data = _result_answer(receiver_certificate, [CommercialResult(INVOICE, 1, CommercialStatus.REJECTED)])
    tampered = data.replace(b"<EstadoDTE>2</EstadoDTE>", b"<EstadoDTE>0</EstadoDTE>")
    answer = read_answer(tampered)
    assert answer.results[0].status == CommercialStatus.ACCEPTED  # what it says...
    assert not answer.signature.ok and not answer.verified  # ...is not what was signed
    assert "does not match" in answer.signature.detail


def test_a_changed_receipt_does_not_verify(receiver_certificate):
    data = _receipts(receiver_certificate).replace(b"<Recinto>Oficina</Recinto>", b"<Recinto>Otra</Recinto>")
    received = read_receipts(data)
    assert [receipt.signature.ok for receipt in received.receipts] == [True, False]
    assert not received.signature.ok  # the set's signature covers it too
    assert not received.verified


def test_a_receipt_signed_by_someone_else_than_rutfirma_is_not_trusted(receiver_certificate, certificate):
    data = _receipts(receiver_certificate)
    root = parse(data)
    recibo = root.find(".//{*}Recibo")
    recibo.remove(signature.signatures_of(recibo)[0])
    signature.sign_reference(recibo, "T33F1234", certificate)  # holder 11111111-1, RutFirma says 12345678-5
    check = read_receipts(root).receipts[0].signature
    assert not check.ok
    assert "RutFirma is 12345678-5" in check.detail


def test_a_signature_over_another_element_is_not_a_signature_of_the_answer(receiver_certificate):
    data = _result_answer(receiver_certificate, [CommercialResult(INVOICE, 1, CommercialStatus.REJECTED)])
    root = parse(data)
    result = root.find("{*}Resultado")
    # Wrapping: the signed original moves into a second Resultado-like element with the same ID,
    # the Resultado read (first) now says "accepted".
    decoy = etree.fromstring(etree.tostring(result))
    root.insert(0, decoy)
    result.find(".//{*}EstadoDTE").text = "0"
    root.remove(result)
    root.insert(0, result)
    answer = read_answer(root)
    assert answer.results[0].status == CommercialStatus.ACCEPTED
    assert not answer.signature.ok
    assert "2 elements have the ID" in answer.signature.detail


def test_a_signature_whose_reference_names_another_id_is_refused(receiver_certificate):
    data = _result_answer(receiver_certificate, [CommercialResult(INVOICE, 1, CommercialStatus.REJECTED)])
    check = read_answer(data.replace(b'ID="ResultadoEnvio"', b'ID="Otro"')).signature
    assert not check.ok and "not over <Resultado> #Otro" in check.detail


def test_an_unsigned_answer_is_read_but_not_verified(receiver_certificate):
    root = parse(_result_answer(receiver_certificate, [CommercialResult(INVOICE, 1, CommercialStatus.ACCEPTED)]))
    root.remove(signature.signatures_of(root)[0])
    answer = read_answer(root)
    assert not answer.verified and "is not signed" in answer.signature.detail
    assert answer.schema_errors  # the schema requires the signature


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<RespuestaDTE version="1.0"><Resultado>&lol2;</Resultado></RespuestaDTE>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<EnvioRecibos version="1.0"><SetRecibos>&x;</SetRecibos></EnvioRecibos>"""


@pytest.mark.parametrize("reader", [read_answer, read_receipts])
@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY, b"", b"not xml at all", b"<RespuestaDTE>"])
def test_hostile_or_broken_input_is_refused_cleanly(reader, data):
    with pytest.raises(XmlInputError):
        reader(data)


@pytest.mark.parametrize("reader", [read_answer, read_receipts])
def test_a_file_larger_than_the_bound_is_not_parsed(reader, receiver_certificate):
    data = _receipts(receiver_certificate) if reader is read_receipts else _reception_answer(receiver_certificate)
    with pytest.raises(XmlInputError) as raised:
        reader(data, max_bytes=len(data) - 1)
    assert "larger than" in str(raised.value)


def test_the_wrong_root_is_named(receiver_certificate):
    with pytest.raises(NotExchangeDocumentError) as raised:
        read_answer(_receipts(receiver_certificate))
    assert raised.value.params == {"root": "EnvioRecibos", "expected": "RespuestaDTE"}
    with pytest.raises(NotExchangeDocumentError):
        read_receipts(b"<EnvioDTE/>")


@pytest.mark.parametrize(("old", "new", "message"), [
    (b"<RUTEmisor>76192083-9</RUTEmisor>", b"<RUTEmisor>76192083-1</RUTEmisor>", "a valid RUT"),
    (b"<Folio>1234</Folio>", b"<Folio>mil</Folio>", "is not a number"),
    (b"<FchEmis>2024-05-15</FchEmis>", b"<FchEmis>15-05-2024</FchEmis>", "a date"),
    (b"<EstadoDTE>2</EstadoDTE>", b"<EstadoDTE>7</EstadoDTE>", "CommercialStatus"),
    (b"<CodRchDsc>-1</CodRchDsc>", b"<CodRchDsc>1</CodRchDsc>", "a negative number"),
    (b"<RutRecibe>76192083-9</RutRecibe>", b"", "has no <RutRecibe>"),
])
def test_a_garbled_field_is_a_typed_error_naming_it(receiver_certificate, old, new, message):
    data = _result_answer(receiver_certificate, [CommercialResult(INVOICE, 1, CommercialStatus.REJECTED,
                                                                  reason_code=-1)])
    assert old in data
    with pytest.raises(ExchangeFormatError) as raised:
        read_answer(data.replace(old, new))
    assert message in str(raised.value)


# --- sniffing -------------------------------------------------------------------------------


def test_sniff_names_each_kind_and_hands_the_root_on(receiver_certificate, issued_by_type, certificate):
    from sii_engine import envelope

    envio = envelope.build_envelope([issued_by_type[33][1].xml], ISSUER, certificate, datetime.date(2014, 8, 22),
                                    80, receiver_rut=RECEIVER)
    for data, kind in ((envio, ENVIO_DTE), (_reception_answer(receiver_certificate), RESPUESTA_DTE),
                       (_receipts(receiver_certificate), ENVIO_RECIBOS)):
        sniffed = sniff(data)
        assert (sniffed.kind, sniffed.root_tag) == (kind, kind)
        assert etree.QName(sniffed.root).localname == kind
    assert read_receipts(sniff(_receipts(receiver_certificate)).root).verified


@pytest.mark.parametrize(("data", "reason"), [
    (b"<AUTORIZACION><CAF/></AUTORIZACION>", "root element is <AUTORIZACION>"),
    (b"%PDF-1.4 not xml", "could not be read"),
    (BILLION_LAUGHS, "DOCTYPE"),
    (b"", "empty"),
])
def test_sniff_calls_anything_else_unrecognised(data, reason):
    sniffed = sniff(data)
    assert sniffed.kind == UNRECOGNISED
    assert reason in sniffed.reason
