"""The real test set's book of guías: invoiced and cancelled guías, summary, signature and schema."""

import datetime

import pytest
from lxml import etree

from sii_engine import schema, signature, xmlutil
from sii_engine.certification import guide_book, setfile
from sii_engine.errors import DocumentError
from sii_engine.tests.conftest import HOLDER_RUT, ISSUER_RUT
from sii_engine.tests.test_certification_issue import ISSUE_DATE, REAL_SET, TIMESTAMP, _issue
from sii_engine.xmlutil import SII_NS

NS = {"s": SII_NS}
INVOICE = guide_book.InvoiceReference(document_type=33, folio=104, date=ISSUE_DATE)


@pytest.fixture(scope="module")
def sets():
    return {test_set.kind: test_set for test_set in setfile.parse_set_file(REAL_SET.read_bytes())}


@pytest.fixture(scope="module")
def guides(sets, caf_factory, certificate):
    return _issue(sets[setfile.GUIA_DESPACHO], {52: caf_factory(52)}, certificate, {52: 11})


def _book(guides, book_set, certificate, invoices):
    return guide_book.build_guide_book(
        guides, book_set, invoices=invoices, issuer_rut=ISSUER_RUT, sender_rut=HOLDER_RUT, period="2026-12",
        resolution_date=datetime.date(2026, 11, 30), resolution_number=0, certificate=certificate,
        timestamp=TIMESTAMP)


@pytest.fixture(scope="module")
def book(guides, sets, certificate):
    return etree.fromstring(_book(guides, sets[setfile.LIBRO_GUIAS], certificate, {2: INVOICE}))


def _details(book):
    return {int(detail.findtext("s:Folio", namespaces=NS)): {
        etree.QName(child).localname: child.text for child in detail} for detail in book.iterfind(".//s:Detalle", NS)}


def test_guide_book_details(book, guides):
    details = _details(book)
    assert sorted(details) == [11, 12, 13]
    transfer, invoiced, cancelled = details[11], details[12], details[13]
    assert (transfer["TpoOper"], transfer["RUTDoc"], transfer["MntTotal"]) == ("5", ISSUER_RUT, "0")
    assert (invoiced["TpoOper"], invoiced["TpoDocRef"], invoiced["FolioDocRef"]) == ("1", "33", "104")
    assert invoiced["MntTotal"] == str(guides[1].total) == "1929471"
    assert "Anulado" not in invoiced and cancelled["Anulado"] == "2"
    assert book.findtext(".//s:FolioNotificacion", namespaces=NS) == "4352557"


def test_guide_book_summary_counts_live_sales_and_transfers(book):
    summary = book.find(".//s:ResumenPeriodo", NS)
    assert summary.findtext("s:TotGuiaAnulada", namespaces=NS) == "1"
    # Only case 2 is a sale still standing: case 3 was cancelled.
    assert (summary.findtext("s:TotGuiaVenta", namespaces=NS), summary.findtext("s:TotMntGuiaVta", namespaces=NS)) == (
        "1", "1929471")
    assert [(node.findtext("s:TpoTraslado", namespaces=NS), node.findtext("s:CantGuia", namespaces=NS))
            for node in summary.iterfind("s:TotTraslado", NS)] == [("5", "1")]


def test_guide_book_is_signed_and_valid(book):
    assert schema.validation_errors(book, guide_book.SCHEMA) == []
    signature.verify(book)


def test_invoiced_guide_needs_its_invoice(guides, sets, certificate):
    with pytest.raises(DocumentError, match="case 2 was invoiced"):
        _book(guides, sets[setfile.LIBRO_GUIAS], certificate, {})
    with pytest.raises(DocumentError, match="type 52"):
        _book([], sets[setfile.LIBRO_GUIAS], certificate, {2: INVOICE})


def test_book_of_the_signed_guides_is_the_same_book(guides, sets, certificate):
    """Read back from their signed DTEs (what the SII received), the guías make the very same book."""
    read_back = [guide_book.signed_guide(case.case_id, xmlutil.parse(case.issued.xml)) for case in guides]
    assert [(case.folio, case.document.transfer_indicator) for case in read_back] == [(11, 5), (12, 1), (13, 1)]
    book_set = sets[setfile.LIBRO_GUIAS]
    assert _book(read_back, book_set, certificate, {2: INVOICE}) == _book(guides, book_set, certificate, {2: INVOICE})
