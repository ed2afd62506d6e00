"""The simulator takes the certification's books: uploaded through DTEUpload, checked, queried with getEstUp."""

import datetime

import pytest
from lxml import etree

from sii_engine import signature
from sii_engine.certification import books, guide_book, setfile
from sii_engine.simulator import SiiSimulator, start_simulator
from sii_engine.tests.conftest import HOLDER_RUT, ISSUER_RUT
from sii_engine.tests.test_certification_issue import ISSUE_DATE, REAL_SET, TIMESTAMP, _issue
from sii_engine.transport import MemoryTokenCache, SiiClient
from sii_engine.xmlutil import SII_NS, XML_DECLARATION

COMMON = {"issuer_rut": ISSUER_RUT, "sender_rut": HOLDER_RUT, "period": "2026-12",
          "resolution_date": datetime.date(2026, 11, 30), "resolution_number": 0, "timestamp": TIMESTAMP}


@pytest.fixture(scope="module")
def sets():
    return {test_set.kind: test_set for test_set in setfile.parse_set_file(REAL_SET.read_bytes())}


@pytest.fixture(scope="module")
def purchase_book(sets, certificate):
    purchases = sets[setfile.LIBRO_COMPRAS]
    entries = books.purchase_entries(purchases, date=ISSUE_DATE, supplier_rut="77777777-7")
    return books.build_book(books.COMPRA, entries, notification_folio=purchases.attention, certificate=certificate,
                            proportionality_factor=purchases.proportionality_factor, **COMMON)


@pytest.fixture(scope="module")
def guides_book(sets, caf_factory, certificate):
    guides = _issue(sets[setfile.GUIA_DESPACHO], {52: caf_factory(52)}, certificate, {52: 31})
    invoice = guide_book.InvoiceReference(document_type=33, folio=1, date=ISSUE_DATE)
    return guide_book.build_guide_book(guides, sets[setfile.LIBRO_GUIAS], invoices={2: invoice},
                                       certificate=certificate, **COMMON)


@pytest.fixture(scope="module")
def client(authority, certificate):
    with start_simulator(SiiSimulator(authority=authority, processing_polls=1)) as sii:
        client = SiiClient("certification", certificate, ISSUER_RUT, base_url=sii.base_url,
                           token_cache=MemoryTokenCache(), timeout=(2.0, 5.0))
        yield client
        client.close()


def _final_status(client, data):
    """getEstUp's answer once the book is processed (the simulator processes on the second query).

    A processed book is EPR without per-type counts, which the transport does not take as an
    acceptance of documents (it has none): the code itself is what the tests read.
    """
    track_id = client.upload_envelope(data).track_id
    client.envelope_status(track_id)
    return client.envelope_status(track_id)


def test_books_are_accepted(client, purchase_book, guides_book):
    for data in (purchase_book, guides_book):
        assert _final_status(client, data).code == "EPR"


def _resigned(data, certificate, edit):
    """The book with ``edit`` applied to its tree and signed again (a well-signed but wrong book)."""
    root = etree.fromstring(data)
    for old in root.findall("{http://www.w3.org/2000/09/xmldsig#}Signature"):
        root.remove(old)
    edit(root)
    signature.sign_reference(root, root[0].get("ID"), certificate)
    return XML_DECLARATION + etree.tostring(root, encoding="ISO-8859-1", xml_declaration=False)


def test_a_book_that_does_not_square_is_rejected(client, purchase_book, certificate):
    def inflate(root):
        root.find(f".//{{{SII_NS}}}TotMntNeto").text = "51084"

    status = _final_status(client, _resigned(purchase_book, certificate, inflate))
    assert status.code == "RCT" and status.final and not status.accepted


def test_a_guide_book_counting_a_cancelled_guide_as_a_sale_is_rejected(client, guides_book, certificate):
    def count_cancelled(root):
        root.find(f".//{{{SII_NS}}}TotGuiaVenta").text = "2"

    assert _final_status(client, _resigned(guides_book, certificate, count_cancelled)).code == "RCT"


def test_a_changed_book_fails_its_signature(client, purchase_book):
    tampered = purchase_book.replace(b"<MntNeto>21298<", b"<MntNeto>21299<", 1)
    tampered = tampered.replace(b"<TotMntNeto>51083<", b"<TotMntNeto>51084<", 1)
    assert tampered != purchase_book
    assert _final_status(client, tampered).code == "RFR"


def test_a_book_outside_its_schema_is_rejected(client, purchase_book):
    broken = purchase_book.replace(b"<TipoLibro>ESPECIAL</TipoLibro>", b"<TipoLibro>RARO</TipoLibro>", 1)
    assert _final_status(client, broken).code == "RSC"
