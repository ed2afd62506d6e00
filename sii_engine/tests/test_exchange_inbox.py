"""Receiving a supplier's EnvioDTE: one verification, each document's status and content.

The envelopes come from :class:`~sii_engine.stand_in_supplier.StandInSupplier`
(CAFs of the session's stand-in SII, its own signer), addressed to RECEIVER.
"""

import datetime
from decimal import Decimal

import pytest
from lxml import etree

from sii_engine import document as document_module
from sii_engine import verify
from sii_engine.exchange import (
    DocumentStatus,
    EnvelopeStatus,
    ExchangeFormatError,
    build_reception_answer,
    read_answer,
    read_dte,
    receive_envelope,
    sniff,
)
from sii_engine.stand_in_supplier import StandInSupplier
from sii_engine.xmlutil import parse

RECEIVER = "76192083-9"
TODAY = datetime.date(2024, 5, 15)


@pytest.fixture(scope="module")
def supplier(authority):
    return StandInSupplier(authority, key_size=1024)


@pytest.fixture(scope="module")
def receiver():
    return document_module.Receiver(RECEIVER, "Receptora SpA", "Servicios", "Teatinos 120", "Santiago", "Santiago")


def _note(document_type):
    return {"references": [document_module.Reference("33", "7", TODAY, 3, "Corrige montos")]} \
        if document_type in (56, 61) else {}


def _receive(supplier, data, authority, **kwargs):
    kwargs.setdefault("company_rut", RECEIVER)
    return receive_envelope(sniff(data).root, envelope_code=12, file_name="envio.xml",
                            trusted_keys=authority.trusted_keys(), **kwargs)


def test_every_type_a_receiver_books_is_received_with_its_content(supplier, receiver, authority):
    types = (33, 34, 43, 46, 52, 56, 61)
    lines = {
        34: [document_module.Line("Asesoria exenta", Decimal(1), Decimal(30000), exempt=True)],
        46: [document_module.Line("Trigo", Decimal(10), Decimal(500), additional_tax_code=15, retention="R")],
    }
    dtes = [supplier.issue(supplier.document(t, 40 + t, receiver, lines=lines.get(t), issue_date=TODAY, **_note(t)))
            for t in types]
    delivery = _receive(supplier, supplier.envelope(dtes, RECEIVER), authority)
    assert delivery.reception.status == EnvelopeStatus.OK
    assert [document.subject for document in delivery.documents] == [f"T{t}F{40 + t}" for t in types]
    assert all(document.received for document in delivery.documents), [d.glosa for d in delivery.documents]
    by_type = {document.content.document_type: document.content for document in delivery.documents}
    factura = by_type[33]
    assert (factura.issuer.rut, factura.issuer.name, factura.receiver.rut) == (supplier.rut, supplier.name, RECEIVER)
    assert factura.issuer.email == supplier.email and factura.issuer.economic_activities == (466302,)
    assert factura.lines[0].codes == (("INT1", "TOR-38"),)
    assert (factura.lines[0].quantity, factura.lines[0].price, factura.lines[0].amount) == (120, 85, 10200)
    assert (factura.totals.net, factura.totals.vat, factura.totals.total) == (55200, 10488, 65688)
    assert factura.ted.startswith(b"<TED") and b"<F>73</F>" in factura.ted
    assert by_type[34].lines[0].exempt and by_type[34].totals.exempt == 30000 and by_type[34].totals.vat is None
    assert by_type[46].totals.additional_taxes == ((15, Decimal(19), Decimal(950)),)
    assert by_type[46].lines[0].retention == "R" and by_type[46].lines[0].additional_tax_codes == (15,)
    assert by_type[61].references[0].document_type == "33" and by_type[61].references[0].code == 3
    liquidacion = by_type[43]
    assert liquidacion.commissions[0].net == 5520 and liquidacion.totals.commissions_vat == 1049
    assert liquidacion.totals.total == 55200 + 10488 - 5520 - 1049
    # The answer names every document but the 43, which the schema's DTEType cannot name: it is counted.
    answer = read_answer(build_reception_answer(
        [delivery.reception], responder_rut=RECEIVER, recipient_rut=supplier.rut,
        certificate=supplier.certificate, response_id=1))
    assert answer.verified
    assert sorted(d.document.document_type for d in answer.receptions[0].documents) == [33, 34, 46, 52, 56, 61]
    assert "1 documento(s)" in answer.receptions[0].glosa


def test_the_envelope_is_verified_once(supplier, receiver, authority, monkeypatch):
    data = supplier.envelope([supplier.issue(supplier.document(33, 90, receiver, issue_date=TODAY))], RECEIVER)
    calls = []
    original = verify.verify_element
    monkeypatch.setattr(verify, "verify_element", lambda *args, **kw: calls.append(1) or original(*args, **kw))
    delivery = _receive(supplier, data, authority)
    assert calls == [1] and delivery.documents[0].received
    assert delivery.report.ok


def test_documents_received_before_a_changed_one_and_one_for_another_company(supplier, receiver, authority):
    other = document_module.Receiver("96790240-3", "Otra SA", "Comercio", "X 1", "Santiago", "Santiago")
    good = supplier.issue(supplier.document(33, 91, receiver, issue_date=TODAY))
    again = supplier.issue(supplier.document(33, 92, receiver, issue_date=TODAY))
    changed = supplier.issue(supplier.document(33, 93, receiver, issue_date=TODAY)).replace(
        b"<NmbItem>Tornillo hexagonal 3/8</NmbItem>", b"<NmbItem>Tornillo hexagonal 1/2</NmbItem>")
    elsewhere = supplier.issue(supplier.document(33, 94, other, issue_date=TODAY))
    data = supplier.envelope([good, again, changed, elsewhere], RECEIVER, check_documents=False)
    delivery = _receive(supplier, data, authority, already_received={(supplier.rut, 33, 92)})
    statuses = [(document.subject, document.status, document.content is not None) for document in delivery.documents]
    assert statuses == [
        ("T33F91", DocumentStatus.OK, True),
        ("T33F92", DocumentStatus.REPEATED, False),
        ("T33F93", DocumentStatus.SIGNATURE_ERROR, False),
        ("T33F94", DocumentStatus.RECEIVER_RUT_ERROR, False),
    ]
    # What came is kept as it came, whatever its status.
    assert b"Tornillo hexagonal 1/2" in delivery.documents[2].xml
    assert parse(delivery.documents[2].xml).tag.endswith("DTE")


def test_a_refused_envelope_lists_no_document(supplier, receiver, authority):
    data = supplier.envelope([supplier.issue(supplier.document(33, 95, receiver, issue_date=TODAY))], RECEIVER)
    delivery = _receive(supplier, data, authority, company_rut="96790240-3")
    assert (delivery.reception.status, delivery.documents) == (EnvelopeStatus.RECEIVER_RUT_ERROR, ())
    repeated = _receive(supplier, data, authority, repeated_file=True)
    assert (repeated.reception.status, repeated.documents, repeated.report) == (EnvelopeStatus.REPEATED_FILE, (), None)


def test_read_dte_reads_discounts_surcharges_and_other_currency(supplier, receiver):
    document = supplier.document(
        33, 96, receiver, issue_date=TODAY, due_date=datetime.date(2024, 6, 14), payment_form=2,
        lines=[document_module.Line("Vino", Decimal(6), Decimal(4000), discount_percent=Decimal(10),
                                    additional_tax_code=25),
               document_module.Line("Flete", Decimal(1), Decimal(5000), exempt=True)],
        global_adjustments=[document_module.GlobalAdjustment("D", "%", Decimal(5), "Descuento cliente"),
                            document_module.GlobalAdjustment("R", "$", Decimal(1000), "Recargo flete", exempt=True)],
    )
    content = read_dte(parse(supplier.issue(document)))
    assert (content.due_date, content.payment_form) == (datetime.date(2024, 6, 14), 2)
    assert (content.lines[0].discount_percent, content.lines[0].discount_amount, content.lines[0].amount) == (10, 2400,
                                                                                                              21600)
    assert content.lines[0].additional_tax_codes == (25,) and content.lines[1].exempt
    assert [(a.movement, a.value_type, a.value, a.exempt) for a in content.adjustments] == [
        ("D", "%", 5, False), ("R", "$", 1000, True)]
    assert content.totals.additional_taxes[0][:2] == (25, Decimal("20.5"))
    root = parse(supplier.issue(document))
    header = root.find(".//{*}Encabezado")
    other = etree.SubElement(header, "{http://www.sii.cl/SiiDte}OtraMoneda")
    for name, value in (("TpoMoneda", "DOLAR USA"), ("TpoCambio", "950.25"), ("MntTotOtrMnda", "84.95")):
        etree.SubElement(other, f"{{http://www.sii.cl/SiiDte}}{name}").text = value
    assert read_dte(root).other_currency.currency == "DOLAR USA"
    assert read_dte(root).other_currency.exchange_rate == Decimal("950.25")


@pytest.mark.parametrize("path, value, reason", [
    ("Encabezado/Totales/MntTotal", "1E+999999", "MntTotal"),
    ("Encabezado/IdDoc/Folio", "doce", "is not a number"),
    ("Encabezado/Emisor/RUTEmisor", "12345678-0", "is not a valid RUT"),
    ("Encabezado/IdDoc/FchEmis", "2024-13-45", "is not a date"),
])
def test_a_garbled_field_is_named(supplier, receiver, path, value, reason):
    root = parse(supplier.issue(supplier.document(33, 97, receiver, issue_date=TODAY)))
    element = root.find("{*}Documento/" + "/".join("{*}" + name for name in path.split("/")))
    element.text = value
    with pytest.raises(ExchangeFormatError, match=reason):
        read_dte(root)


def test_sniff_names_who_sends_and_to_whom(supplier, receiver):
    data = supplier.envelope([supplier.issue(supplier.document(33, 98, receiver, issue_date=TODAY))], RECEIVER)
    sniffed = sniff(data)
    assert (sniffed.kind, sniffed.sender_rut, sniffed.addressee_rut) == ("EnvioDTE", supplier.rut, RECEIVER)
    garbled = sniff(data.replace(f"<RutReceptor>{RECEIVER}</RutReceptor>".encode(), b"<RutReceptor>1-2</RutReceptor>"))
    assert (garbled.kind, garbled.addressee_rut) == ("EnvioDTE", None)
    answer = build_reception_answer(
        [receive_envelope(sniffed.root, company_rut=RECEIVER, envelope_code=1, file_name="e.xml",
                          trusted_keys=supplier.authority.trusted_keys()).reception],
        responder_rut=RECEIVER, recipient_rut=supplier.rut, certificate=supplier.certificate, response_id=3)
    assert (sniff(answer).sender_rut, sniff(answer).addressee_rut) == (RECEIVER, supplier.rut)
    assert sniff(b"<Otro/>").sender_rut is None
