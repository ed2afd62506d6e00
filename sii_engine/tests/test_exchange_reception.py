"""Deciding the reception codes of a supplier's EnvioDTE, and answering with them.

The envelopes are real ones built by the engine (CAFs of the session's stand-in
SII, signed DTEs), addressed to the receiver 77777777-7; each test spoils one
thing and checks the code the SII's exchange format gives it.
"""

import datetime

import pytest
from lxml import etree

from sii_engine import document as document_module
from sii_engine import dte, envelope, identities, schema, signature
from sii_engine.exchange import (
    DocumentStatus,
    EnvelopeStatus,
    assess_envelope,
    build_reception_answer,
    read_answer,
    sniff,
)
from sii_engine.exchange.reception import ANSWERABLE_TYPES

ISSUER = "76192083-9"
COMPANY = "77777777-7"  # the receiver of conftest's documents
RESOLUTION = (datetime.date(2014, 8, 22), 80)
RECEIVED_AT = datetime.datetime(2024, 5, 16, 18, 2, 3)


@pytest.fixture(scope="module")
def trusted(authority):
    return authority.trusted_keys()


@pytest.fixture(scope="module")
def issued(document_factory, caf_factory, certificate):
    """``issued(folio, **fields)`` → the signed DTE bytes of an invoice (33) to COMPANY."""
    cache = {}

    def make(folio, **fields):
        key = (folio, repr(sorted(fields.items())))
        if key not in cache:
            document = document_factory(33, folio=folio, **fields)
            cache[key] = dte.issue(document, caf_factory(33), certificate).xml
        return cache[key]

    return make


def _envelope(dtes, certificate, receiver=COMPANY, check_documents=True):
    return envelope.build_envelope(
        dtes, ISSUER, certificate, *RESOLUTION, receiver_rut=receiver, check_documents=check_documents
    )


def _assess(data, trusted, **kwargs):
    kwargs.setdefault("company_rut", COMPANY)
    return assess_envelope(data, envelope_code=9001, file_name="envio.xml", received_at=RECEIVED_AT,
                           trusted_keys=trusted, **kwargs)


def test_a_good_envelope_is_received_with_every_document(issued, certificate, trusted):
    data = _envelope([issued(501), issued(502)], certificate)
    reception = _assess(data, trusted)
    assert reception.status == EnvelopeStatus.OK and reception.received
    assert (reception.issuer_rut, reception.receiver_rut, reception.envelope_id) == (ISSUER, COMPANY, "SetDoc")
    envelope_signature = signature.signatures_of(etree.fromstring(data))[-1]
    assert reception.digest == envelope_signature.findtext(".//{*}DigestValue").strip()
    assert [(item.document.key, item.status) for item in reception.documents] == [
        ((ISSUER, 33, 501), DocumentStatus.OK), ((ISSUER, 33, 502), DocumentStatus.OK)]
    assert reception.documents[0].document.receiver_rut == COMPANY
    assert reception.documents[0].document.total > 0


def test_the_answer_made_from_an_assessment_is_valid(issued, certificate, trusted):
    reception = _assess(sniff(_envelope([issued(503)], certificate)).root, trusted)
    data = build_reception_answer([reception], responder_rut=COMPANY, recipient_rut=ISSUER,
                                  certificate=certificate, response_id=1)
    answer = read_answer(data)
    assert answer.verified
    assert answer.receptions[0].documents[0].document == reception.documents[0].document


def test_an_envelope_for_another_company_is_refused_with_code_3(issued, certificate, trusted):
    reception = _assess(_envelope([issued(504)], certificate), trusted, company_rut="96790240-3")
    assert reception.status == EnvelopeStatus.RECEIVER_RUT_ERROR
    assert reception.documents == ()
    assert "96790240-3" in reception.glosa


def test_a_changed_envelope_is_refused_with_code_2(issued, certificate, trusted):
    data = _envelope([issued(505)], certificate).replace(b"<NroResol>80</NroResol>", b"<NroResol>81</NroResol>")
    assert _assess(data, trusted).status == EnvelopeStatus.SIGNATURE_ERROR


def test_a_schema_error_is_code_1(issued, certificate, trusted):
    data = _envelope([issued(506)], certificate).replace(b"<NroResol>80</NroResol>", b"<NroResol>ochenta</NroResol>")
    reception = _assess(data, trusted)
    assert reception.status == EnvelopeStatus.SCHEMA_ERROR
    assert reception.glosa.startswith("Envio Rechazado - Error de Schema: ")


def test_unreadable_and_repeated_files(issued, certificate, trusted):
    assert _assess(b"<EnvioDTE><unclosed>", trusted).status == EnvelopeStatus.UNREADABLE_FILE
    assert _assess(b'<!DOCTYPE x [<!ENTITY a "b">]><EnvioDTE/>', trusted).status == EnvelopeStatus.UNREADABLE_FILE
    data = _envelope([issued(507)], certificate)
    repeated = _assess(data, trusted, repeated_file=True)
    assert (repeated.status, repeated.envelope_id, repeated.documents) == (EnvelopeStatus.REPEATED_FILE, "SetDoc", ())
    assert _assess(b"<RespuestaDTE/>", trusted).status == EnvelopeStatus.OTHER


def test_documents_received_before_or_twice_are_repeated(issued, certificate, trusted):
    data = _envelope([issued(508), issued(509)], certificate)
    reception = _assess(data, trusted, already_received={(ISSUER, 33, 509)})
    assert [item.status for item in reception.documents] == [DocumentStatus.OK, DocumentStatus.REPEATED]


def test_a_document_to_another_receiver_is_code_3(issued, certificate, trusted):
    other = document_module.Receiver(rut="96790240-3", name="Otra SA", activity="Comercio", address="X 1",
                                     commune="Santiago", city="Santiago")
    reception = _assess(_envelope([issued(510), issued(511, receiver=other)], certificate), trusted)
    assert reception.status == EnvelopeStatus.OK  # the envelope itself is ours
    assert [item.status for item in reception.documents] == [DocumentStatus.OK, DocumentStatus.RECEIVER_RUT_ERROR]


def test_a_changed_document_is_code_1(issued, certificate, trusted):
    changed = issued(512).replace(b"Cliente Ejemplo Limitada", b"Cliente Ejemplo Ltda.")
    assert changed != issued(512)
    # Our builder refuses a DTE changed after signing: a careless or hostile supplier's does not.
    reception = _assess(_envelope([changed], certificate, check_documents=False), trusted)
    assert reception.status == EnvelopeStatus.OK
    assert reception.documents[0].status == DocumentStatus.SIGNATURE_ERROR


def test_a_document_with_a_caf_the_sii_did_not_sign_is_code_99(issued, certificate):
    reception = _assess(_envelope([issued(513)], certificate), identities.TestAuthority().trusted_keys())
    assert reception.documents[0].status == DocumentStatus.OTHER
    assert "TED" in reception.documents[0].glosa


def test_a_document_whose_issuer_is_not_the_envelopes_is_code_2(issued, certificate, trusted):
    data = _envelope([issued(514)], certificate)
    root = etree.fromstring(data)
    root.find(".//{*}Caratula/{*}RutEmisor").text = "96790240-3"
    for node in signature.signatures_of(root):
        root.remove(node)
    signature.sign_reference(root, "SetDoc", certificate)
    reception = _assess(root, trusted)
    assert reception.issuer_rut == "96790240-3"
    assert [check.status for check in reception.documents] == [DocumentStatus.ISSUER_RUT_ERROR]


def test_answerable_types_are_the_schemas_dtetype():
    tree = etree.parse(str(schema.XSD_DIR / "SiiTypes_v10.xsd"))
    xs = "{http://www.w3.org/2001/XMLSchema}"
    dte_type = tree.find(f"{xs}simpleType[@name='DTEType']")
    assert {int(item.get("value")) for item in dte_type.iter(f"{xs}enumeration")} == ANSWERABLE_TYPES
