"""The real test set's sales and purchase books: special rules, summaries, signature and schema."""

import datetime
from decimal import Decimal

import pytest
from lxml import etree

from sii_engine import schema, signature
from sii_engine.certification import books, setfile
from sii_engine.errors import DocumentError
from sii_engine.tests.conftest import HOLDER_RUT, ISSUER_RUT
from sii_engine.tests.test_certification_issue import ISSUE_DATE, REAL_SET, TIMESTAMP, _issue
from sii_engine.xmlutil import SII_NS

SUPPLIER = "77777777-7"
NS = {"s": SII_NS}


@pytest.fixture(scope="module")
def sets():
    return {test_set.kind: test_set for test_set in setfile.parse_set_file(REAL_SET.read_bytes())}


def _book(operation, entries, attention, certificate, factor=None):
    data = books.build_book(
        operation, entries, issuer_rut=ISSUER_RUT, sender_rut=HOLDER_RUT, period="2026-12",
        resolution_date=datetime.date(2026, 11, 30), resolution_number=0, notification_folio=attention,
        certificate=certificate, proportionality_factor=factor, timestamp=TIMESTAMP)
    return etree.fromstring(data)


@pytest.fixture(scope="module")
def purchase_book(sets, certificate):
    purchases = sets[setfile.LIBRO_COMPRAS]
    entries = books.purchase_entries(purchases, date=ISSUE_DATE, supplier_rut=SUPPLIER)
    return _book(books.COMPRA, entries, purchases.attention, certificate, purchases.proportionality_factor)


def _summary(book):
    return {
        int(totals.findtext("s:TpoDoc", namespaces=NS)): {
            etree.QName(child).localname: child.text for child in totals if len(child) == 0}
        for totals in book.iterfind(".//s:TotalesPeriodo", NS)}


def _detail(book, document_type, folio):
    for detail in book.iterfind(".//s:Detalle", NS):
        if (detail.findtext("s:TpoDoc", namespaces=NS), detail.findtext("s:NroDoc", namespaces=NS)) == (
                str(document_type), str(folio)):
            return detail
    raise AssertionError(f"no Detalle {document_type} {folio}")


def test_purchase_book_cover(purchase_book):
    cover = {etree.QName(child).localname: child.text for child in purchase_book.find(".//s:Caratula", NS)}
    assert (cover["TipoOperacion"], cover["TipoLibro"], cover["TipoEnvio"], cover["FolioNotificacion"]) == (
        "COMPRA", "ESPECIAL", "TOTAL", "4352555")


def test_purchase_book_special_rules(purchase_book):
    # Common-use VAT: 19% of 29 785 = 5 659 goes to IVAUsoComun, none to MntIVA.
    common = _detail(purchase_book, 30, 781)
    assert (common.findtext("s:MntIVA", namespaces=NS), common.findtext("s:IVAUsoComun", namespaces=NS)) == (
        "0", "5659")
    assert common.findtext("s:MntTotal", namespaces=NS) == str(29785 + 5659)
    # A free delivery: its VAT is not recoverable, code 4.
    free = _detail(purchase_book, 33, 67)
    assert free.findtext("s:IVANoRec/s:CodIVANoRec", namespaces=NS) == "4"
    assert free.findtext("s:IVANoRec/s:MntIVANoRec", namespaces=NS) == "1905"
    # The factura de compra retains the whole VAT: OtrosImp 15 and a total without it.
    retention = _detail(purchase_book, 46, 9)
    assert retention.findtext("s:OtrosImp/s:CodImp", namespaces=NS) == "15"
    assert retention.findtext("s:OtrosImp/s:MntImp", namespaces=NS) == "1819"
    assert retention.findtext("s:MntTotal", namespaces=NS) == "9575"


def test_purchase_book_summary(purchase_book):
    summary = _summary(purchase_book)
    assert list(summary) == [30, 33, 60, 46]
    # The same figures as a book the SII accepted for this set (mediabox-cl's certification sample).
    assert {key: summary[30][key] for key in ("TotDoc", "TotMntNeto", "TotMntIVA", "TotMntTotal")} == {
        "TotDoc": "2", "TotMntNeto": "51083", "TotMntIVA": "4047", "TotMntTotal": "60789"}
    assert (summary[30]["FctProp"], summary[30]["TotCredIVAUsoComun"]) == ("0.60", "3395")  # 0.60 × 5 659
    assert (summary[33]["TotMntExe"], summary[33]["TotMntNeto"], summary[33]["TotMntTotal"]) == (
        "8844", "16553", "28542")
    assert (summary[60]["TotMntNeto"], summary[60]["TotMntIVA"], summary[60]["TotMntTotal"]) == (
        "7184", "1365", "8549")


def test_books_are_signed_and_valid(purchase_book):
    assert schema.validation_errors(purchase_book, books.SCHEMA) == []
    signature.verify(purchase_book)
    tampered = etree.fromstring(etree.tostring(purchase_book))
    tampered.find(".//s:Detalle/s:MntNeto", NS).text = "1"
    with pytest.raises(Exception, match="(?i)signature|digest"):
        signature.verify(tampered)


def test_sales_book_of_the_basic_set(sets, caf_factory, certificate):
    cafs = {document_type: caf_factory(document_type) for document_type in (33, 56, 61)}
    issued = _issue(sets[setfile.BASICO], cafs, certificate)
    book = _book(books.VENTA, books.sales_entries(issued), sets[setfile.LIBRO_VENTAS].attention, certificate)
    assert book.findtext(".//s:FolioNotificacion", namespaces=NS) == "4352554"
    summary = _summary(book)
    invoices = [case for case in issued if case.document_type == 33]
    assert summary[33]["TotDoc"] == "4"
    assert summary[33]["TotMntTotal"] == str(sum(case.total for case in invoices))
    assert summary[33]["TotMntExe"] == str(35292 + 13666)
    assert summary[61]["TotMntTotal"] == str(sum(case.total for case in issued if case.document_type == 61))
    assert len(book.findall(".//s:Detalle", NS)) == 8


def test_common_use_without_factor_is_refused(sets):
    entries = books.purchase_entries(sets[setfile.LIBRO_COMPRAS], date=ISSUE_DATE, supplier_rut=SUPPLIER)
    with pytest.raises(DocumentError, match="proportionality factor"):
        books.build_book(books.COMPRA, entries, issuer_rut=ISSUER_RUT, sender_rut=HOLDER_RUT, period="2026-12",
                         resolution_date=ISSUE_DATE, resolution_number=0, notification_folio=1, certificate=None)
    assert entries[2].common_use_vat == Decimal(5659)
