"""The boleta set's cases as documents: boletas at gross prices, 41 when all exempt, notes at net prices."""

from decimal import Decimal
from pathlib import Path

import pytest

from sii_engine import dte
from sii_engine.certification import boletas, setfile
from sii_engine.document import Receiver
from sii_engine.errors import DocumentError
from sii_engine.tests.test_certification_issue import ISSUE_DATE, ISSUER, TIMESTAMP
from sii_engine.totals import compute_totals

BOLETA_SET = Path(__file__).parent / "fixtures" / "sets" / "007-boletas.csv"
EXEMPT_ROW = "11;1;entrada museo exenta;2;;4500;;\n"
CONSUMER = Receiver(rut="66666666-6", name="Consumidor final")


@pytest.fixture
def cases():
    test_set = setfile.parse_boleta_set(BOLETA_SET.read_bytes() + EXEMPT_ROW.encode(), attention="4352600")
    return boletas.set_cases(test_set)


def _documents(cases):
    folios, earlier = {}, {}
    for case in cases.cases:
        folios[case.document_type] = folios.get(case.document_type, 0) + 1
        earlier[case.case_id] = boletas.case_document(case, folios[case.document_type], ISSUE_DATE, ISSUER,
                                                      CONSUMER, earlier, "4352600")
    return earlier


def test_boletas_then_a_note_for_each_anular_and_rebajar(cases):
    assert [case.document_type for case in cases.boletas] == [39] * 10 + [41]
    assert [(case.case_id, case.reference.code, case.reference.case_id) for case in cases.notes] == [
        ("4352600-1-NC", 1, "4352600-1"), ("4352600-3-NC", 1, "4352600-3"), ("4352600-5-NC", 1, "4352600-5"),
        ("4352600-7-NC", 3, "4352600-7"), ("4352600-10-NC", 3, "4352600-10")]
    # Rebajar 40: 40 percent of the line's quantity goes back.
    assert [line.quantity for line in cases.notes[3].lines] == [2]
    assert [line.quantity for line in cases.notes[4].lines] == [Decimal("1.520")]


def test_totals_by_the_sii_rules(cases, caf_factory, certificate):
    documents = _documents(cases)
    totals = {case_id: compute_totals(document) for case_id, document in documents.items()}
    # A boleta states what the customer paid: gross amounts, VAT taken out of them.
    assert (totals["4352600-1"].total, totals["4352600-1"].net, totals["4352600-1"].vat) == (23040, 19361, 3679)
    assert (totals["4352600-4"].total, totals["4352600-4"].exempt) == (28180, 10180)
    assert (totals["4352600-11"].total, totals["4352600-11"].exempt, totals["4352600-11"].vat) == (9000, 9000, None)
    # A note states net amounts, its VAT on their sum: a peso below the boleta it annuls, here.
    assert (totals["4352600-3-NC"].net, totals["4352600-3-NC"].vat, totals["4352600-3-NC"].total) == (31865, 6054, 37919)
    assert totals["4352600-10-NC"].total == 1079  # 1.52 kg at 710 gross
    note = documents["4352600-5-NC"]
    assert [(r.document_type, r.folio, r.code, r.reason) for r in note.references] == [
        ("SET", "4352600", None, "CASO-5"), ("39", "5", 1, "ANULA BOLETA")]
    # Stamped and valid against the SII's schemas (the boleta's and the DTE's).
    for case_id in ("4352600-4", "4352600-11", "4352600-10-NC"):
        document = documents[case_id]
        dte.issue(document, caf_factory(document.document_type), certificate, timestamp=TIMESTAMP)


def test_rebajar_above_100_percent_is_refused():
    data = BOLETA_SET.read_text(encoding="utf-8").replace("340;;40", "340;;140")
    with pytest.raises(DocumentError, match="above 100 percent"):
        boletas.set_cases(setfile.parse_boleta_set(data, attention="1"))
