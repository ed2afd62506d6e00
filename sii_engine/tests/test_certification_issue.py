"""The real test set's cases issued as DTEs: amounts by the SII's rules, references, envelope, simulator."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from sii_engine import verify
from sii_engine.certification import issue, setfile
from sii_engine.document import Issuer, Receiver
from sii_engine.errors import DocumentError
from sii_engine.simulator import SiiSimulator, start_simulator
from sii_engine.tests.conftest import ISSUER_NAME, ISSUER_RUT
from sii_engine.transport import MemoryTokenCache, SiiClient
from sii_engine.xmlutil import SII_NS

REAL_SET = Path(__file__).parent / "fixtures" / "sets" / "SIISetDePruebas762352915-05.txt"
ISSUE_DATE = datetime.date(2026, 12, 3)
TIMESTAMP = datetime.datetime(2026, 12, 3, 10, 0, 0)
RESOLUTION = {"resolution_date": datetime.date(2026, 11, 30), "resolution_number": 0}
ISSUER = Issuer(rut=ISSUER_RUT, name=ISSUER_NAME, activity="Venta al por menor de articulos de ferreteria",
                economic_activities=(475201,), address="Av. Providencia 1234", commune="Providencia", city="Santiago")
RECEIVER = Receiver(rut="77777777-7", name="Cliente Ejemplo Limitada", activity="Comercio al por mayor",
                    address="Calle Falsa 123", commune="Santiago", city="Santiago")


@pytest.fixture(scope="module")
def sets():
    return {test_set.kind: test_set for test_set in setfile.parse_set_file(REAL_SET.read_bytes())}


@pytest.fixture(scope="module")
def cafs(caf_factory):
    return {document_type: caf_factory(document_type) for document_type in (33, 46, 52, 56, 61)}


def _issue(test_set, cafs, certificate, first_folios=None):
    return issue.issue_set(test_set, issuer=ISSUER, receiver=RECEIVER, cafs=cafs, certificate=certificate,
                           issue_date=ISSUE_DATE, first_folios=first_folios, timestamp=TIMESTAMP)


@pytest.fixture(scope="module")
def basic(sets, cafs, certificate):
    return {case.case_id: case for case in _issue(sets[setfile.BASICO], cafs, certificate, {33: 101, 61: 201})}


def _totals(issued):
    totals = issued.issued.totals
    return totals.net, totals.exempt, totals.vat, totals.total


def test_basic_set_amounts_follow_the_sii_rules(basic):
    # 168 × 3490 + 71 × 5813, VAT 19% rounded half up.
    assert _totals(basic["4352553-1"]) == (999043, None, 189818, 1188861)
    # Line discounts: 759 × 5874 − 10% (445 837) and 703 × 4925 − 23% (796 323).
    assert _totals(basic["4352553-2"]) == (4012529 + 2665952, None, 1268911, 7947392)
    # The exempt service is outside the VAT.
    assert _totals(basic["4352553-3"]) == (63 * 6868 + 236 * 4020, 35292, 262467, 1679163)
    # 22% global discount on the taxed lines only: (2 450 466 + 1 260 700) − 816 457; the exempt 13 666 untouched.
    assert _totals(basic["4352553-4"]) == (2894709, 13666, 549995, 2894709 + 13666 + 549995)


def test_notes_follow_their_reason(basic):
    correction, returned, annulment, debit = (basic[f"4352553-{n}"] for n in (5, 6, 7, 8))
    assert _totals(correction) == (0, None, 0, 0)  # corrects a text: no amounts
    # Only the returned quantities, at the invoice's prices and line discounts:
    # 278 × 5874 − 10% and 477 × 4925 − 23%.
    assert _totals(returned) == (1469675 + 1808903, None, 622930, 3901508)
    assert _totals(annulment) == _totals(basic["4352553-3"])  # annuls the whole invoice
    assert _totals(debit) == _totals(correction)  # annuls the text-correcting note


def _references(issued):
    root = etree.fromstring(issued.issued.xml)
    return [(ref.findtext(f"{{{SII_NS}}}TpoDocRef"), ref.findtext(f"{{{SII_NS}}}FolioRef"),
             ref.findtext(f"{{{SII_NS}}}CodRef"), ref.findtext(f"{{{SII_NS}}}RazonRef"))
            for ref in root.iter(f"{{{SII_NS}}}Referencia")]


def test_every_document_cites_its_case_and_the_folio_of_the_case_it_modifies(basic):
    assert [(case.document_type, case.folio) for case in basic.values()] == [
        (33, 101), (33, 102), (33, 103), (33, 104), (61, 201), (61, 202), (61, 203), (56, 1)]
    for case_id, issued in basic.items():
        assert _references(issued)[0] == ("SET", "4352553", None, f"CASO {case_id}")
    assert _references(basic["4352553-5"])[1] == ("33", "101", "2", "CORRIGE GIRO DEL RECEPTOR")
    assert _references(basic["4352553-6"])[1] == ("33", "102", "3", "DEVOLUCION DE MERCADERIAS")
    assert _references(basic["4352553-7"])[1] == ("33", "103", "1", "ANULA FACTURA")
    assert _references(basic["4352553-8"])[1] == ("61", "201", "1", "ANULA NOTA DE CREDITO ELECTRONICA")


def test_guides_and_purchase_invoices(sets, cafs, certificate):
    guides = _issue(sets[setfile.GUIA_DESPACHO], cafs, certificate)
    transfer = etree.fromstring(guides[0].issued.xml)
    assert transfer.findtext(f".//{{{SII_NS}}}IndTraslado") == "5"
    assert transfer.findtext(f".//{{{SII_NS}}}RUTRecep") == ISSUER_RUT  # an internal transfer
    assert [node.text for node in transfer.iter(f"{{{SII_NS}}}QtyItem")] == ["68", "92", "56"]
    assert [guide.total for guide in guides[1:]] == [1929471, 1465512]
    purchases = _issue(sets[setfile.FACTURA_COMPRA], cafs, certificate)
    invoice, note, debit = purchases
    # The buyer retains the whole VAT (ImptoReten 15): the total is the net.
    assert invoice.issued.totals.additional_taxes[0][0] == 15
    assert invoice.total == invoice.issued.totals.net == 471 * 3950 + 26 * 2074
    assert note.total == 157 * 3950 + 9 * 2074 and debit.total == note.total


def test_missing_caf_and_exhausted_caf_are_refused(sets, cafs, certificate, caf_factory):
    with pytest.raises(DocumentError, match="needs a CAF for document type 61"):
        _issue(sets[setfile.BASICO], {33: cafs[33], 56: cafs[56]}, certificate)
    with pytest.raises(DocumentError, match="has no folio 1001"):
        _issue(sets[setfile.BASICO], cafs, certificate, {33: 998})


@pytest.fixture(scope="module")
def basic_envelope(basic, certificate):
    return issue.set_envelope(list(basic.values()), issuer_rut=ISSUER_RUT, certificate=certificate,
                              timestamp=TIMESTAMP, **RESOLUTION)


def test_envelope_verifies(basic_envelope, authority):
    report = verify.verify_file(basic_envelope, authority.trusted_keys(), today=ISSUE_DATE)
    assert report.ok, report.format()
    assert report.kind == "EnvioDTE"
    root = etree.fromstring(basic_envelope)
    assert root.findtext(f".//{{{SII_NS}}}RutReceptor") == "60803000-K"
    assert len(root.findall(f".//{{{SII_NS}}}DTE")) == 8


def test_simulator_accepts_the_set(basic_envelope, basic, authority, certificate):
    with start_simulator(SiiSimulator(authority=authority, processing_polls=1)) as sii:
        client = SiiClient("certification", certificate, ISSUER_RUT, base_url=sii.base_url,
                           token_cache=MemoryTokenCache(), timeout=(2.0, 5.0))
        try:
            track_id = client.upload_envelope(basic_envelope).track_id
            status = None
            for _ in range(5):
                status = client.envelope_status(track_id)
                if status.final:
                    break
            assert status.accepted, status
            assert {count.document_type: count.accepted for count in status.counts} == {33: 4, 61: 3, 56: 1}
            returned = basic["4352553-6"]
            answer = client.document_status(61, returned.folio, ISSUE_DATE, returned.total, RECEIVER.rut)
            assert answer.code == "DOK"
        finally:
            client.close()


def test_libredte_exempt_set(caf_factory, certificate):
    (exempt,) = setfile.parse_set_file((REAL_SET.parent / "004-factura_exenta.txt").read_bytes())
    cafs = {document_type: caf_factory(document_type) for document_type in (34, 56, 61)}
    issued = {case.case_id: case for case in _issue(exempt, cafs, certificate)}
    assert _totals(issued["414178-1"]) == (None, 12 * 6991, None, 12 * 6991)
    assert _totals(issued["414178-3"]) == (None, 360368 + 262001, None, 622369)
    # Correcting the text of a factura exenta: a zero exempt line, no VAT; its annulment the same.
    for case_id in ("414178-4", "414178-5"):
        assert _totals(issued[case_id]) == (None, None, None, 0)
        assert etree.fromstring(issued[case_id].issued.xml).findtext(f".//{{{SII_NS}}}IndExe") == "1"
    assert _references(issued["414178-5"])[1][:3] == ("61", str(issued["414178-4"].folio), "1")
    assert _totals(issued["414178-7"]) == (None, 175207, None, 175207)


@pytest.mark.parametrize("kind, types", [(setfile.GUIA_DESPACHO, {52: 3}), (setfile.FACTURA_COMPRA, {46: 1, 61: 1, 56: 1})])
def test_simulator_accepts_the_guide_and_purchase_invoice_sets(sets, kind, types, caf_factory, authority, certificate):
    cafs = {document_type: caf_factory(document_type) for document_type in types}
    issued = _issue(sets[kind], cafs, certificate, dict.fromkeys(types, 401))
    envelope = issue.set_envelope(issued, issuer_rut=ISSUER_RUT, certificate=certificate, timestamp=TIMESTAMP,
                                  **RESOLUTION)
    with start_simulator(SiiSimulator(authority=authority, processing_polls=0)) as sii:
        client = SiiClient("certification", certificate, ISSUER_RUT, base_url=sii.base_url,
                           token_cache=MemoryTokenCache(), timeout=(2.0, 5.0))
        try:
            status = client.envelope_status(client.upload_envelope(envelope).track_id)
            assert status.accepted, status
            assert {count.document_type: count.accepted for count in status.counts} == types
        finally:
            client.close()


FOREIGN = Receiver(rut="55555555-5", name="Importadora del Pacifico", activity="Importador", address="Av. 1")
RATES = {"DOLAR USA": Decimal("950.25"), "EURO": Decimal("1050.5")}


def _customs_of(issued):
    """Every leaf of the DTE by its tag, the first occurrence (Totales/TpoMoneda before OtraMoneda's)."""
    fields = {}
    for node in etree.fromstring(issued.issued.xml).iter():
        if len(node) == 0 and etree.QName(node).namespace == SII_NS:
            fields.setdefault(etree.QName(node).localname, node.text)
    return fields


@pytest.fixture(scope="module")
def export_sets(sets, caf_factory, certificate):
    cafs = {document_type: caf_factory(document_type) for document_type in (110, 111, 112)}
    folios = issue.FolioSource(cafs)
    return [issue.issue_set(sets[kind], issuer=ISSUER, receiver=RECEIVER, cafs=cafs, certificate=certificate,
                            issue_date=ISSUE_DATE, timestamp=TIMESTAMP, folios=folios, foreign_receiver=FOREIGN,
                            exchange_rates=RATES)
            for kind in (setfile.EXPORTACION_1, setfile.EXPORTACION_2)]


def test_export_set_1(export_sets):
    invoice, note, debit = export_sets[0]
    # 261 × 116 plus freight 154.78 and insurance 24.86 as global surcharges.
    assert invoice.total == Decimal("30455.64")
    fields = _customs_of(invoice)
    assert (fields["TpoMoneda"], fields["CodClauVenta"], fields["CodViaTransp"]) == ("DOLAR USA", "5", "4")
    assert (fields["CodPtoEmbarque"], fields["CodPtoDesemb"], fields["CodPaisRecep"]) == ("901", "262", "224")
    assert (fields["MntFlete"], fields["MntSeguro"], fields["TotClauVenta"]) == ("154.78", "24.86", "963.69")
    assert _references(invoice)[1][0] == "810"  # the MIC
    assert note.total == 87 * 116  # the returned quantity at the invoice's price, without freight
    assert _references(note)[1][:3] == ("110", str(invoice.folio), "3")
    assert debit.total == note.total and _references(debit)[1][:3] == ("112", str(note.folio), "1")


def test_export_set_2(export_sets):
    services, goods, hotel = export_sets[1]
    assert services.total == 33  # 30 plus the 10% line surcharge of the commissions
    assert _customs_of(services)["IndServicio"] == "3"
    # 402 × 130 − 5% and 180 × 77, freight and insurance, commissions 11% of the clause's 1 810.53.
    assert goods.total == 402 * 130 - 2613 + 180 * 77 + Decimal("546.34") + Decimal("164.86") + Decimal("199.16")
    assert [ref[0] for ref in _references(goods)[1:]] == ["807", "809"]  # DUS and AWB
    assert _customs_of(hotel)["IndServicio"] == "4" and "CodViaTransp" not in _customs_of(hotel)


def test_export_envelopes_verify(export_sets, authority, certificate):
    for issued in export_sets:
        envelope = issue.set_envelope(issued, issuer_rut=ISSUER_RUT, certificate=certificate, timestamp=TIMESTAMP,
                                      **RESOLUTION)
        report = verify.verify_file(envelope, authority.trusted_keys(), today=ISSUE_DATE)
        assert report.ok, report.format()


def test_an_export_without_its_exchange_rate_is_refused(sets, caf_factory, certificate):
    cafs = {document_type: caf_factory(document_type) for document_type in (110, 111, 112)}
    with pytest.raises(DocumentError, match="TpoCambio"):
        issue.issue_set(sets[setfile.EXPORTACION_1], issuer=ISSUER, receiver=RECEIVER, cafs=cafs,
                        certificate=certificate, issue_date=ISSUE_DATE, foreign_receiver=FOREIGN, exchange_rates={})
