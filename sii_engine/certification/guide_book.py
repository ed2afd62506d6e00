"""The certification's book of guías (``LibroGuia``) from the guías of the GUIA DE DESPACHO set.

Format: "Libro de Guías de Despacho Electrónicas" (formato_lgd) and its schema
LibroGuia_v10.xsd. The LIBRO DE GUIAS set says which of its guías was
invoiced in the period (its ``Detalle`` names the invoice: ``TpoDocRef``,
``FolioDocRef``, ``FchDocRef``) and which was cancelled (``Anulado`` 2: cancelled
after it was sent to the SII, as the set's guías were). ``ResumenPeriodo``
counts the sale guías not cancelled (``TotGuiaVenta``, their total) and, per
kind of transfer that is no sale (2 to 7), the others (``TotTraslado``).
"""

from collections import OrderedDict
from dataclasses import dataclass

from lxml import etree

from .. import codes
from .. import rut as rut_module
from ..errors import DocumentError
from ..exchange.content import read_dte
from ..xmlutil import SII_NS, clean_text
from .books import VAT_RATE, add, book_root, cover_head, rate_text, sign_book
from .issue import IssuedCase

SCHEMA = "LibroGuia_v10.xsd"
BOOK_ID = "LibroGuia"
CANCELLED_AFTER_SENDING = 2  # Anulado: the guía had been sent to the SII
SALE = 1  # TpoOper: the operation is a sale
MAX_OPERATION = 7  # TpoOper goes from 1 to 7


@dataclass(frozen=True)
class InvoiceReference:
    """The invoice that billed a guía: ``TpoDocRef``, ``FolioDocRef``, ``FchDocRef``."""

    document_type: int
    folio: int
    date: object  # datetime.date


def signed_guide(case_id, dte):
    """The :class:`~.issue.IssuedCase` of case ``case_id`` read back from its signed ``<DTE>`` element.

    A book states what the SII received: the guía's folio, date, receiver, IndTraslado and
    declared totals, as its signed DTE has them (read by the exchange's reader), whoever built it.
    """
    received = read_dte(dte)
    # What the book reads of a guía: the document's header and the totals it declared.
    return IssuedCase(case_id=case_id, document=received, issued=received)


def build_guide_book(issued_guides, book_set, *, invoices, issuer_rut, sender_rut, period, resolution_date,
                     resolution_number, certificate, timestamp=None, validate=True):
    """The signed ``LibroGuia`` (bytes) of ``issued_guides`` (:class:`~.issue.IssuedCase` of type 52).

    ``book_set`` is the LIBRO DE GUIAS set (which cases were invoiced or cancelled);
    ``invoices`` maps the number of each invoiced case to its :class:`InvoiceReference`.
    """
    guides = {case.document_type for case in issued_guides}
    if not issued_guides or guides != {codes.GUIA_DESPACHO}:
        raise DocumentError(reason="the book of guías holds guías de despacho (type 52) only")
    numbers = {int(case.case_id.split("-")[1]) for case in issued_guides}
    for number in sorted(book_set.invoiced_cases | book_set.cancelled_cases):
        if number not in numbers:
            raise DocumentError(reason=f"the LIBRO DE GUIAS set names case {number}, which is not among the guías")
    for number in sorted(book_set.invoiced_cases):
        if number not in invoices:
            raise DocumentError(reason=f"case {number} was invoiced in the period: give the invoice's type, "
                                       "folio and date")
    root, book = book_root("LibroGuia", SCHEMA, BOOK_ID, (
        *cover_head(issuer_rut, sender_rut, period, resolution_date, resolution_number),
        ("TipoLibro", "ESPECIAL"),
        ("TipoEnvio", "TOTAL"),
        ("FolioNotificacion", int(book_set.attention)),
    ))
    rows = [_row(case, book_set, invoices) for case in issued_guides]
    _summary(etree.SubElement(book, f"{{{SII_NS}}}ResumenPeriodo"), rows)
    for row in rows:
        detail = etree.SubElement(book, f"{{{SII_NS}}}Detalle")
        for tag, value in row:
            add(detail, tag, value)
    return sign_book(root, book, BOOK_ID, SCHEMA, certificate, timestamp, validate)


def _row(case, book_set, invoices):
    """The ``Detalle`` of one guía as (tag, value) pairs in the schema's order (None: absent)."""
    document, totals = case.document, case.issued.totals
    number = int(case.case_id.split("-")[1])
    operation = document.transfer_indicator
    if not operation or operation > MAX_OPERATION:
        raise DocumentError(reason=f"case {case.case_id}: IndTraslado {operation} has no TpoOper in the book")
    invoice = invoices.get(number) if number in book_set.invoiced_cases else None
    return (
        ("Folio", document.folio),
        ("Anulado", CANCELLED_AFTER_SENDING if number in book_set.cancelled_cases else None),
        ("TpoOper", operation),
        ("FchDoc", document.issue_date.isoformat()),
        ("RUTDoc", rut_module.normalize(document.receiver.rut)),
        ("RznSoc", clean_text(document.receiver.name, 50) or None),
        ("MntNeto", totals.net or None),
        ("TasaImp", rate_text(VAT_RATE) if totals.net else None),
        ("IVA", totals.vat if totals.net else None),
        ("MntTotal", totals.total),
        ("TpoDocRef", invoice.document_type if invoice else None),
        ("FolioDocRef", invoice.folio if invoice else None),
        ("FchDocRef", invoice.date.isoformat() if invoice else None),
    )


def _summary(summary, rows):
    values = [dict(row) for row in rows]
    cancelled = [row for row in values if row["Anulado"] == CANCELLED_AFTER_SENDING]
    live = [row for row in values if row["Anulado"] is None]
    sales = [row for row in live if row["TpoOper"] == SALE]
    transfers = OrderedDict()
    for row in live:
        if row["TpoOper"] != SALE:
            count, amount = transfers.get(row["TpoOper"], (0, 0))
            transfers[row["TpoOper"]] = (count + 1, amount + row["MntTotal"])
    add(summary, "TotGuiaAnulada", len(cancelled) or None)
    add(summary, "TotGuiaVenta", len(sales))
    add(summary, "TotMntGuiaVta", sum(row["MntTotal"] for row in sales))
    for operation, (count, amount) in transfers.items():
        element = etree.SubElement(summary, f"{{{SII_NS}}}TotTraslado")
        add(element, "TpoTraslado", operation)
        add(element, "CantGuia", count)
        add(element, "MntGuia", amount)
