"""The SII's test-set files read into typed cases: the real set, LibreDTE's examples, malformed lines."""

from decimal import Decimal
from pathlib import Path

import pytest

from sii_engine.certification import setfile
from sii_engine.errors import SetFileError

SETS = Path(__file__).parent / "fixtures" / "sets"
REAL_SET = SETS / "SIISetDePruebas762352915-05.txt"


@pytest.fixture(scope="module")
def real_sets():
    return {test_set.kind: test_set for test_set in setfile.parse_set_file(REAL_SET.read_bytes())}


def test_real_set_has_every_kind_with_its_attention_number(real_sets):
    assert {kind: test_set.attention for kind, test_set in real_sets.items()} == {
        setfile.BASICO: "4352553", setfile.LIBRO_VENTAS: "4352554", setfile.LIBRO_COMPRAS: "4352555",
        setfile.GUIA_DESPACHO: "4352556", setfile.LIBRO_GUIAS: "4352557", setfile.EXPORTACION_1: "4352558",
        setfile.EXPORTACION_2: "4352559", setfile.FACTURA_COMPRA: "4352560",
    }


def test_real_set_read_as_the_sii_encodes_it_gives_the_same_cases():
    latin1 = REAL_SET.read_text(encoding="utf-8").replace("\ufffd", "ó").encode("iso-8859-1")
    from_latin1 = setfile.parse_set_file(latin1)
    from_utf8 = setfile.parse_set_file(REAL_SET.read_bytes())
    assert [len(s.cases) for s in from_latin1] == [len(s.cases) for s in from_utf8]
    assert from_latin1[0].cases[0].lines[0].name == "Cajón AFECTO"


def test_basic_set_cases(real_sets):
    basic = real_sets[setfile.BASICO]
    assert [case.case_id for case in basic.cases] == [f"4352553-{n}" for n in range(1, 9)]
    assert [case.document_type for case in basic.cases] == [33, 33, 33, 33, 61, 61, 61, 56]
    first = basic.case("4352553-1")
    assert [(line.quantity, line.price) for line in first.lines] == [(168, 3490), (71, 5813)]
    second = basic.case("4352553-2")
    assert [line.discount_percent for line in second.lines] == [Decimal(10), Decimal(23)]
    third = basic.case("4352553-3")
    assert [line.exempt for line in third.lines] == [False, False, True]
    fourth = basic.case("4352553-4")
    assert fourth.global_discount_percent == Decimal(22)
    assert fourth.reference_reason == "CASO 4352553-4"


def test_basic_set_references_between_cases(real_sets):
    basic = real_sets[setfile.BASICO]
    references = {case.case_id: case.reference for case in basic.cases if case.reference}
    assert {case_id: (ref.case_id, ref.document_type, ref.code) for case_id, ref in references.items()} == {
        "4352553-5": ("4352553-1", 33, 2),  # corrige giro: text
        "4352553-6": ("4352553-2", 33, 3),  # devolución: amounts
        "4352553-7": ("4352553-3", 33, 1),  # anula factura
        "4352553-8": ("4352553-5", 61, 1),  # anula nota de crédito
    }
    returned = basic.case("4352553-6")
    assert [(line.name, line.quantity, line.price) for line in returned.lines] == [
        ("Pa\ufffduelo AFECTO", 278, None), ("ITEM 2 AFECTO", 477, None)]


def test_purchase_book_entries_and_rules(real_sets):
    purchases = real_sets[setfile.LIBRO_COMPRAS]
    assert purchases.proportionality_factor == Decimal("0.60")
    assert [(e.document_type, e.folio, e.rule, e.exempt, e.net, e.referenced_folio)
            for e in purchases.purchases] == [
        (30, 234, setfile.RULE_CREDIT, None, 21298, None),
        (33, 32, setfile.RULE_CREDIT, 8844, 6527, None),
        (30, 781, setfile.RULE_COMMON_USE, None, 29785, None),
        (60, 451, setfile.RULE_DISCOUNT_NOTE, None, 2719, 234),
        (33, 67, setfile.RULE_FREE_DELIVERY, None, 10026, None),
        (46, 9, setfile.RULE_TOTAL_RETENTION, None, 9575, None),
        (60, 211, setfile.RULE_DISCOUNT_NOTE, None, 4465, 32),
    ]


def test_guides_and_their_book(real_sets):
    guides = real_sets[setfile.GUIA_DESPACHO]
    assert [(c.transfer.transfer_indicator, c.transfer.dispatch_type) for c in guides.cases] == [
        (5, None), (1, 2), (1, 1)]
    assert [line.price for line in guides.cases[0].lines] == [None, None, None]
    book = real_sets[setfile.LIBRO_GUIAS]
    assert (book.invoiced_cases, book.cancelled_cases) == ({2}, {3})


def test_exports(real_sets):
    first = real_sets[setfile.EXPORTACION_1]
    invoice = first.cases[0]
    assert (invoice.lines[0].quantity, invoice.lines[0].unit, invoice.lines[0].price) == (261, "U", 116)
    export = invoice.export
    assert (export.currency, export.sale_clause, export.sale_clause_total) == ("DOLAR USA", "FOB", Decimal("963.69"))
    assert (export.freight, export.insurance, export.total_packages) == (Decimal("154.78"), Decimal("24.86"), 26)
    assert export.references == ["MIC (MANIFIESTO INTERNACIONAL)"]
    assert first.cases[1].prices_from_reference and first.cases[1].reference.document_type == 110
    assert first.cases[2].reference.document_type == 112
    second = real_sets[setfile.EXPORTACION_2]
    assert second.cases[0].lines[0].amount == 30 and second.cases[0].export.line_surcharge_percent == 10
    assert second.cases[1].export.commission_percent == 11
    assert second.cases[1].export.line_discounts == {1: Decimal(5)}
    assert second.cases[1].export.references == ["DUS", "AWB"]
    assert second.cases[2].export.nationality == "AUSTRALIA"


@pytest.mark.parametrize("name, kind, cases", [
    ("001-basico.txt", setfile.BASICO, 8),
    ("002-ventas.txt", setfile.LIBRO_VENTAS, 0),
    ("003-compras.txt", setfile.LIBRO_COMPRAS, 0),
    ("004-factura_exenta.txt", setfile.FACTURA_EXENTA, 8),
    ("005-guia_despacho.txt", setfile.GUIA_DESPACHO, 3),
    ("006-libro_guias.txt", setfile.LIBRO_GUIAS, 0),
    ("008-factura_compra.txt", setfile.FACTURA_COMPRA, 3),
    ("009-set_exportacion_1.txt", setfile.EXPORTACION_1, 3),
    ("010-set_exportacion_2.txt", setfile.EXPORTACION_1, 3),
])
def test_libredte_examples(name, kind, cases):
    (test_set,) = setfile.parse_set_file((SETS / name).read_bytes())
    assert (test_set.kind, len(test_set.cases)) == (kind, cases)
    for case in test_set.cases:
        assert case.document_type and (case.lines or case.reference)


def test_libredte_exempt_set_amount_notes():
    (exempt,) = setfile.parse_set_file((SETS / "004-factura_exenta.txt").read_bytes())
    note = exempt.case("414178-2")
    assert (note.reference.code, note.lines[0].price, note.lines[0].quantity) == (3, 874, None)
    assert exempt.case("414178-1").lines[0].unit == "Hora"
    assert exempt.case("414178-4").reference.code == 2


BASIC = (
    "SET BASICO - NUMERO DE ATENCION: 100\r\n"
    "\r\n"
    "CASO 100-1\r\n"
    "==============\r\n"
    "DOCUMENTO\tFACTURA ELECTRONICA\r\n"
    "\r\n"
    "ITEM\t\t\tCANTIDAD\tPRECIO UNITARIO\r\n"
    "Cajon AFECTO\t\t    168\t\t   3490\r\n"
    "\r\n"
    "CASO 100-2\r\n"
    "==============\r\n"
    "DOCUMENTO\t\tNOTA DE CREDITO ELECTRONICA\r\n"
    "REFERENCIA\t\tFACTURA ELECTRONICA CORRESPONDIENTE A CASO 100-1\r\n"
    "RAZON REFERENCIA\tANULA FACTURA\r\n"
)


def test_minimal_set_parses():
    (test_set,) = setfile.parse_set_file(BASIC)
    assert [case.case_id for case in test_set.cases] == ["100-1", "100-2"]


@pytest.mark.parametrize("old, new, line, words", [
    ("FACTURA ELECTRONICA\r\n", "FACTURA HOLOGRAFICA\r\n", 5, "not a document type"),
    ("   3490", "   34x90", 8, "must be a number"),
    ("    168\t\t   3490", "    168", 8, "2 fields"),
    ("CANTIDAD\tPRECIO", "CANTIDAD\tCOLOR", 7, "columns"),
    ("CASO 100-1\r\n", "CASO 100-2\r\n", 3, None),  # the note then refers to itself
    ("ANULA FACTURA", "PORQUE SI", 14, "neither annuls"),
    ("A CASO 100-1", "A CASO 100-7", 13, "not an earlier case"),
    ("\r\nCASO 100-2", "\r\nLINEA RARA\r\nCASO 100-2", 10, "not a layout"),
    ("SET BASICO", "SET MISTERIOSO", 1, "not a kind"),
    ("CASO 100-2", "CASO 101-2", 10, "attention number"),
    ("RAZON REFERENCIA\tANULA FACTURA\r\n", "", 13, "no RAZON REFERENCIA"),
])
def test_malformed_lines_are_refused_with_their_number(old, new, line, words):
    error = _refused(BASIC, old, new)
    assert error.params["line"] in ((line,) if words else (3, 10, 13))
    if words:
        assert words in error.params["reason"]


def _refused(text, old, new, parse=setfile.parse_set_file):
    """The error ``parse`` raises on ``text`` with ``old`` replaced by ``new`` (which must be there)."""
    assert old in text
    with pytest.raises(SetFileError) as error:
        parse(text.replace(old, new, 1))
    return error.value


PURCHASES = (
    "SET LIBRO DE COMPRAS - NUMERO DE ATENCION: 200\r\n"
    "==========\r\n"
    "TIPO DOCUMENTO\t\t\t\tFOLIO\r\n"
    "OBSERVACIONES\r\n"
    "MONTO EXENTO\tMONTO AFECTO\r\n"
    "==========\r\n"
    "FACTURA\t\t\t\t\t234\r\n"
    "FACTURA CON IVA USO COMUN\r\n"
    "\t\t  21298\r\n"
    "==========\r\n"
    "EN FACTURA CON IVA USO COMUN CONSIDERE QUE EL FACTOR DE PROPORCIONALIDAD \r\n"
    "DEL IVA ES DE 0.60\r\n"
)


def test_minimal_purchase_set_parses():
    (test_set,) = setfile.parse_set_file(PURCHASES)
    assert test_set.purchases[0].rule == setfile.RULE_COMMON_USE
    assert test_set.proportionality_factor == Decimal("0.60")


def test_hostile_sizes_are_refused():
    with pytest.raises(SetFileError, match="larger than"):
        setfile.parse_set_file(b"x" * (setfile.MAX_BYTES + 1))
    with pytest.raises(SetFileError) as error:
        setfile.parse_set_file(BASIC + "A" * (setfile.MAX_LINE_LENGTH + 1) + "\r\n")
    assert error.value.params["line"] == 15
    with pytest.raises(SetFileError, match="no SET header"):
        setfile.parse_set_file("hola\r\n")


def test_libredte_boleta_set():
    boletas = setfile.parse_boleta_set((SETS / "007-boletas.csv").read_bytes())
    assert boletas.kind == setfile.BOLETA and len(boletas.cases) == 10
    assert [case.annul for case in boletas.cases] == [True, False, True, False, True, False, False, False, False,
                                                       False]
    fourth = boletas.case("BOLETA-4")
    assert [(line.exempt, line.quantity, line.price) for line in fourth.lines] == [
        (False, 12, 1500), (True, 2, 2590), (True, 1, 5000)]
    nails = boletas.case("BOLETA-10").lines[0]
    assert (nails.name, nails.quantity, nails.unit, nails.reduce) == ('Clavo Galvanizado 3/4"', Decimal("3.8"), "Kg", 40)
    assert boletas.case("BOLETA-2").lines[0].name == "pizza española el italiano"


@pytest.mark.parametrize("source, old, new, line, words", [
    ("purchases", "FACTURA\t\t\t\t\t234", "FACTURA\t\t\t\t\tX1", 7, "folio"),
    ("purchases", "FACTURA\t\t\t\t\t234", "BOLETO\t\t\t\t\t234", 7, "folio"),
    ("purchases", "FACTURA CON IVA USO COMUN\r\n", "FACTURA REGALADA\r\n", 8, "not a rule"),
    ("purchases", "\t\t  21298\r\n", "\t\t  21298\t\t5\t\t6\r\n", 9, "amounts line"),
    ("purchases", "\t\t  21298\r\n", "\t\t  21298\r\nOTRA\r\n", 10, "three lines"),
    ("purchases", "OBSERVACIONES\r\n", "COLORES\r\n", 4, "not a column"),
    ("purchases", "DEL IVA ES DE 0.60\r\n", "\r\n", 1, "proportionality factor"),
    ("boletas", "Folio;IndExe", "Folio;Exento", 1, "header"),
    ("boletas", "1;;koyak", "x;;koyak", 2, "must be a number"),
    ("boletas", ";;cuaderno pre U;20;;1050;;", ";;cuaderno pre U;20;;1050;1;", 3, "whole boleta"),
    ("boletas", ";;cuaderno pre U;20;;1050;;", ";;cuaderno pre U;veinte;;1050;;", 3, "QtyItem"),
    ("boletas", ";;cuaderno pre U;20;;1050;;", ";;cuaderno pre U;20;;1050", 3, "fields"),
])
def test_malformed_purchase_and_boleta_lines_are_refused_with_their_number(source, old, new, line, words):
    if source == "purchases":
        error = _refused(PURCHASES, old, new)
    else:
        error = _refused((SETS / "007-boletas.csv").read_text(encoding="utf-8"), old, new, setfile.parse_boleta_set)
    assert (error.params["line"], words in error.params["reason"]) == (line, True)
