"""The certification's books: sales (IEV) and purchases (IEC) as ``LibroCompraVenta``.

Format: "Formato Información Electrónica de Compras y Ventas" (formato_iecv)
and its schema LibroCV_v10.xsd. A certification book is ``TipoLibro``
ESPECIAL, ``TipoEnvio`` TOTAL, with ``FolioNotificacion`` the set's attention
number; each document is a ``Detalle`` and ``ResumenPeriodo`` totals them per
document type.

The purchase set's special rules, by the formato_iecv's definitions:

* common-use VAT: the VAT goes to ``IVAUsoComun``, not ``MntIVA``; the summary
  gives the set's ``FctProp`` and ``TotCredIVAUsoComun`` = factor × the VAT;
* a free delivery from the supplier: non-recoverable VAT, ``IVANoRec`` code 4;
* a factura de compra retaining the whole VAT: ``OtrosImp`` code 15 at the VAT's
  rate, and ``MntTotal`` = net + VAT − the VAT retained.
"""

import datetime
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

from lxml import etree

from .. import rut as rut_module
from .. import schema as schema_module
from .. import signature as signature_module
from ..errors import DocumentError
from ..totals import round_amount
from ..xmlutil import SII_NS, XML_DECLARATION, clean_text
from . import setfile

SCHEMA = "LibroCV_v10.xsd"
BOOK_ID = "LibroCV"
VENTA = "VENTA"
COMPRA = "COMPRA"
VAT_RATE = Decimal(19)
FREE_DELIVERY_CODE = 4  # CodIVANoRec: entregas gratuitas recibidas
TOTAL_RETENTION_CODE = 15  # CodImp: IVA retenido total
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


@dataclass
class BookEntry:
    """One document of a book (``Detalle``)."""

    document_type: int  # TpoDoc
    folio: int  # NroDoc
    date: datetime.date  # FchDoc
    rut: str  # RUTDoc: the customer (sales) or the supplier (purchases)
    name: str = ""  # RznSoc
    exempt: Decimal = Decimal(0)  # MntExe
    net: Decimal = Decimal(0)  # MntNeto
    vat: Decimal = Decimal(0)  # MntIVA: recoverable VAT
    non_recoverable: tuple = None  # IVANoRec: (CodIVANoRec, MntIVANoRec)
    common_use_vat: Decimal = None  # IVAUsoComun
    other_taxes: list = field(default_factory=list)  # OtrosImp: (CodImp, TasaImp, MntImp)
    retained: Decimal = Decimal(0)  # VAT retained by the buyer, taken off MntTotal
    total: Decimal = None  # MntTotal; computed by the formato_iecv's rule when None

    def computed_total(self):
        if self.total is not None:
            return self.total
        non_recoverable = self.non_recoverable[1] if self.non_recoverable else 0
        added = sum((amount for code, _rate, amount in self.other_taxes if code != TOTAL_RETENTION_CODE), Decimal(0))
        return (self.net + self.exempt + self.vat + (self.common_use_vat or 0) + non_recoverable + added
                - self.retained)


def sales_entries(issued_cases):
    """The sales book's entries of issued documents (:class:`~.issue.IssuedCase`)."""
    entries = []
    for case in issued_cases:
        document, totals = case.document, case.issued.totals
        entries.append(BookEntry(
            document_type=document.document_type, folio=document.folio, date=document.issue_date,
            rut=document.receiver.rut, name=document.receiver.name, exempt=totals.exempt or Decimal(0),
            net=totals.net or Decimal(0), vat=totals.vat or Decimal(0),
            other_taxes=[(code, rate, amount) for code, rate, amount in totals.additional_taxes],
            total=totals.total))
    return entries


def purchase_entries(test_set, *, date, supplier_rut, supplier_name=""):
    """The purchase book's entries of the LIBRO DE COMPRAS set, its special rules applied.

    The set names no suppliers: ``supplier_rut``/``supplier_name`` stand for them.
    """
    entries = []
    for purchase in test_set.purchases:
        net = purchase.net or Decimal(0)
        vat = round_amount(net * VAT_RATE / 100)
        entry = BookEntry(document_type=purchase.document_type, folio=purchase.folio, date=date, rut=supplier_rut,
                          name=supplier_name, exempt=purchase.exempt or Decimal(0), net=net, vat=vat)
        if purchase.rule == setfile.RULE_COMMON_USE:
            entry.vat, entry.common_use_vat = Decimal(0), vat
        elif purchase.rule == setfile.RULE_FREE_DELIVERY:
            entry.vat, entry.non_recoverable = Decimal(0), (FREE_DELIVERY_CODE, vat)
        elif purchase.rule == setfile.RULE_TOTAL_RETENTION:
            entry.other_taxes, entry.retained = [(TOTAL_RETENTION_CODE, VAT_RATE, vat)], vat
        entries.append(entry)
    return entries


def add(parent, tag, value):
    if value is None:
        return None
    element = etree.SubElement(parent, f"{{{SII_NS}}}{tag}")
    element.text = value if isinstance(value, str) else _text(value)
    return element


def _text(value):
    if isinstance(value, Decimal):
        return format(value.normalize() if value == value.to_integral_value() else value, "f")
    return str(value)


def rate_text(value):
    return format(Decimal(value).quantize(Decimal("0.01")), "f")


def build_book(operation, entries, *, issuer_rut, sender_rut, period, resolution_date, resolution_number,
               notification_folio, certificate, proportionality_factor=None, timestamp=None, validate=True):
    """The signed ``LibroCompraVenta`` (bytes, ISO-8859-1) of ``entries``.

    ``operation`` is VENTA (IEV) or COMPRA (IEC); ``period`` a ``YYYY-MM`` text;
    ``proportionality_factor`` is required when an entry has common-use VAT.
    """
    if operation not in (VENTA, COMPRA):
        raise DocumentError(reason=f"a book's TipoOperacion is VENTA or COMPRA, not {operation!r}")
    if not entries:
        raise DocumentError(reason="the book has no documents")
    if any(entry.common_use_vat for entry in entries) and proportionality_factor is None:
        raise DocumentError(reason="common-use VAT needs the proportionality factor (FctProp)")
    root, book = book_root("LibroCompraVenta", SCHEMA, BOOK_ID, (
        *cover_head(issuer_rut, sender_rut, period, resolution_date, resolution_number),
        ("TipoOperacion", operation),
        ("TipoLibro", "ESPECIAL"),
        ("TipoEnvio", "TOTAL"),
        ("FolioNotificacion", int(notification_folio)),
    ))
    _summary(etree.SubElement(book, f"{{{SII_NS}}}ResumenPeriodo"), entries, proportionality_factor)
    for entry in entries:
        _detail(etree.SubElement(book, f"{{{SII_NS}}}Detalle"), entry)
    return sign_book(root, book, BOOK_ID, SCHEMA, certificate, timestamp, validate)


def cover_head(issuer_rut, sender_rut, period, resolution_date, resolution_number):
    """The first fields of every book's ``Caratula``: who, which period, under which resolution."""
    return (
        ("RutEmisorLibro", rut_module.normalize(issuer_rut)),
        ("RutEnvia", rut_module.normalize(sender_rut)),
        ("PeriodoTributario", period),
        ("FchResol", resolution_date.isoformat()),
        ("NroResol", int(resolution_number)),
    )


def book_root(tag, schema, book_id, cover_fields):
    """``(root, EnvioLibro)`` of a book with its ``Caratula`` (``cover_fields``: (tag, value) in order)."""
    root = etree.Element(f"{{{SII_NS}}}{tag}", nsmap={None: SII_NS, "xsi": _XSI}, version="1.0")
    root.set(f"{{{_XSI}}}schemaLocation", f"{SII_NS} {schema}")
    book = etree.SubElement(root, f"{{{SII_NS}}}EnvioLibro", ID=book_id)
    cover = etree.SubElement(book, f"{{{SII_NS}}}Caratula")
    for cover_tag, value in cover_fields:
        add(cover, cover_tag, value)
    return root, book


def sign_book(root, book, book_id, schema, certificate, timestamp=None, validate=True):
    """Stamp ``TmstFirma``, sign ``EnvioLibro`` and validate: the book's bytes, ISO-8859-1."""
    timestamp = (timestamp or datetime.datetime.now()).replace(microsecond=0)
    add(book, "TmstFirma", timestamp.strftime("%Y-%m-%dT%H:%M:%S"))
    signature_module.sign_reference(root, book_id, certificate)
    if validate:
        schema_module.validate(root, schema)
    return XML_DECLARATION + etree.tostring(root, encoding="ISO-8859-1", xml_declaration=False)


def _summary(summary, entries, factor):
    by_type = OrderedDict()
    for entry in entries:
        by_type.setdefault(entry.document_type, []).append(entry)
    for document_type, group in by_type.items():
        totals = etree.SubElement(summary, f"{{{SII_NS}}}TotalesPeriodo")
        add(totals, "TpoDoc", document_type)
        add(totals, "TotDoc", len(group))
        add(totals, "TotMntExe", sum(entry.exempt for entry in group))
        add(totals, "TotMntNeto", sum(entry.net for entry in group))
        add(totals, "TotMntIVA", sum(entry.vat for entry in group))
        non_recoverable = OrderedDict()
        for entry in group:
            if entry.non_recoverable:
                code, amount = entry.non_recoverable
                count, total = non_recoverable.get(code, (0, 0))
                non_recoverable[code] = (count + 1, total + amount)
        for code, (count, amount) in non_recoverable.items():
            element = etree.SubElement(totals, f"{{{SII_NS}}}TotIVANoRec")
            add(element, "CodIVANoRec", code)
            add(element, "TotOpIVANoRec", count)
            add(element, "TotMntIVANoRec", amount)
        common = [entry.common_use_vat for entry in group if entry.common_use_vat]
        if common:
            add(totals, "TotOpIVAUsoComun", len(common))
            add(totals, "TotIVAUsoComun", sum(common))
            add(totals, "FctProp", rate_text(factor))
            add(totals, "TotCredIVAUsoComun", round_amount(sum(common) * Decimal(factor)))
        other = OrderedDict()
        for entry in group:
            for code, _rate_value, amount in entry.other_taxes:
                other[code] = other.get(code, 0) + amount
        for code, amount in other.items():
            element = etree.SubElement(totals, f"{{{SII_NS}}}TotOtrosImp")
            add(element, "CodImp", code)
            add(element, "TotMntImp", amount)
        add(totals, "TotMntTotal", sum(entry.computed_total() for entry in group))


def _detail(detail, entry):
    add(detail, "TpoDoc", entry.document_type)
    add(detail, "NroDoc", entry.folio)
    if entry.net or entry.vat or entry.common_use_vat or entry.non_recoverable:
        add(detail, "TasaImp", rate_text(VAT_RATE))
    add(detail, "FchDoc", entry.date.isoformat())
    add(detail, "RUTDoc", rut_module.normalize(entry.rut))
    if entry.name:
        add(detail, "RznSoc", clean_text(entry.name, 50))
    add(detail, "MntExe", entry.exempt or None)
    add(detail, "MntNeto", entry.net or None)
    add(detail, "MntIVA", entry.vat if entry.net else None)
    if entry.non_recoverable:
        element = etree.SubElement(detail, f"{{{SII_NS}}}IVANoRec")
        add(element, "CodIVANoRec", entry.non_recoverable[0])
        add(element, "MntIVANoRec", entry.non_recoverable[1])
    add(detail, "IVAUsoComun", entry.common_use_vat)
    for code, rate, amount in entry.other_taxes:
        element = etree.SubElement(detail, f"{{{SII_NS}}}OtrosImp")
        add(element, "CodImp", code)
        add(element, "TasaImp", rate_text(rate))
        add(element, "MntImp", amount)
    add(detail, "MntTotal", entry.computed_total())
