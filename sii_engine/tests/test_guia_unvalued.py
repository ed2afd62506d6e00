"""A guía de despacho without valuation (internal transfers): quantities, no prices, a zero total."""

from decimal import Decimal

from sii_engine import document as document_module
from sii_engine import dte, verify, xmlutil


def test_unvalued_guia_states_quantities_without_prices(document_factory, caf_factory, certificate, authority):
    lines = [document_module.Line("Resma de papel", Decimal(3), Decimal(0), unit="UN", amount=Decimal(0))]
    document = document_factory(52, folio=7, lines=lines, transfer_indicator=5)
    issued = dte.issue(document, caf_factory(52), certificate)
    body = xmlutil.parse(issued.xml)[0]
    assert xmlutil.findtext(body, "Detalle/QtyItem") == "3"
    assert xmlutil.findtext(body, "Detalle/UnmdItem") == "UN"
    assert xmlutil.find(body, "Detalle/PrcItem") is None
    assert xmlutil.findtext(body, "Detalle/MontoItem") == "0"
    assert xmlutil.findtext(body, "Encabezado/Totales/MntTotal") == "0"
    report = verify.verify_file(issued.xml, authority.trusted_keys())
    assert report.ok, [f"{check.name}: {check.detail}" for check in report.failures]


def test_priced_lines_of_other_types_keep_omitting_quantity_without_price(document_factory, caf_factory, certificate):
    lines = [document_module.Line("Regalo", Decimal(2), Decimal(0), amount=Decimal(0)),
             document_module.Line("Tornillo", Decimal(1), Decimal(100))]
    issued = dte.issue(document_factory(33, folio=8, lines=lines), caf_factory(33), certificate)
    first = xmlutil.find(xmlutil.parse(issued.xml)[0], "Detalle")
    assert xmlutil.find(first, "QtyItem") is None
