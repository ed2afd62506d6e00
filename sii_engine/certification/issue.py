"""The cases of a test set issued as DTEs, and the envelope that sends them to the SII.

Every document carries the certification reference first (``TpoDocRef`` SET,
``FolioRef`` the set's attention number, ``RazonRef`` "CASO n-m"); a note
also cites the case it modifies by the folio that case got. What a note
contains follows the SII's rules for its reason (CodRef):

* 1 annuls: the referenced document again, every line and global discount;
* 2 corrects a text: one line naming the correction, amount zero;
* 3 corrects amounts: the returned quantities (or corrected values) at the
  referenced line's unit price and discount, under the referenced document's
  global discount.

Folios are taken in order from each type's CAF. The engine's own builders
compute the totals, stamp, sign and validate (:func:`sii_engine.dte.issue`).
"""

import datetime
from dataclasses import dataclass, replace

from .. import codes
from .. import dte as dte_module
from .. import envelope as envelope_module
from ..document import Document, GlobalAdjustment, Line, Reference, Transport
from ..errors import DocumentError
from . import exports
from .setfile import normalized

SET_REFERENCE = "SET"
GLOBAL_DISCOUNT_NAME = "Descuento global items afectos"
TEXT_CORRECTION_LINE = "CORRIGE"
# The factura de compra of the certification retains the whole VAT (ImptoReten 15).
PURCHASE_RETENTION_CODE = 15
SUPPORTED = frozenset({codes.FACTURA, codes.FACTURA_EXENTA, codes.FACTURA_COMPRA, codes.GUIA_DESPACHO,
                       codes.NOTA_DEBITO, codes.NOTA_CREDITO}) | codes.EXPORT_TYPES


@dataclass
class IssuedCase:
    case_id: str
    document: Document
    issued: object  # dte.IssuedDte

    @property
    def document_type(self):
        return self.document.document_type

    @property
    def folio(self):
        return self.document.folio

    @property
    def total(self):
        return self.issued.total


class FolioSource:
    """The next folio of each type, from its CAF: ``first`` (type → folio) or the CAF's first."""

    def __init__(self, cafs, first=None):
        self.cafs = cafs
        self.next = {document_type: (first or {}).get(document_type, caf.first_folio)
                     for document_type, caf in cafs.items()}

    def take(self, document_type, case_id):
        caf = self.cafs.get(document_type)
        if caf is None:
            raise DocumentError(reason=f"case {case_id} needs a CAF for document type {document_type}")
        folio = self.next[document_type]
        if not caf.contains(folio):
            raise DocumentError(reason=f"case {case_id}: the CAF of type {document_type} has no folio {folio} "
                                       f"(it covers {caf.first_folio}-{caf.last_folio})")
        self.next[document_type] = folio + 1
        return folio


def case_document(case, folio, issue_date, issuer, receiver, earlier, foreign_receiver=None, exchange_rates=None):
    """The :class:`Document` of ``case``; ``earlier`` maps case ids to the documents already made.

    Export cases go to ``foreign_receiver`` (its nationality is the case's country) at the
    rate ``exchange_rates`` gives their currency (pesos per unit, the issue date's).
    """
    if case.document_type not in SUPPORTED:
        raise DocumentError(reason=f"case {case.case_id}: document type {case.document_type} is not issued here")
    references = [Reference(document_type=SET_REFERENCE, folio=case.attention, date=issue_date,
                            reason=case.reference_reason)]
    adjustments, extra = [], {}
    if case.reference is None:
        lines = [_line(case, item) for item in case.lines]
        if case.global_discount_percent:
            adjustments.append(GlobalAdjustment(movement="D", value_type="%", value=case.global_discount_percent,
                                                description=GLOBAL_DISCOUNT_NAME))
        if case.document_type in codes.EXPORT_TYPES:
            if foreign_receiver is None or case.export is None:
                raise DocumentError(reason=f"case {case.case_id}: an export needs its export data and a foreign "
                                           "receiver")
            rate = (exchange_rates or {}).get(exports.currency_name(case.export.currency))
            extra, export_adjustments, cited = exports.export_fields(case, lines, exchange_rate=rate)
            adjustments += export_adjustments
            references += [Reference(document_type=reference_type, date=issue_date, reason=name)
                           for reference_type, name in cited]
            country = extra["transport"].customs.receiver_country
            receiver = replace(foreign_receiver, nationality=str(country) if country else "")
    else:
        target, reference = note_reference(case, earlier)
        references.append(reference)
        lines, adjustments = _note_detail(case, target)
        if case.document_type in codes.EXPORT_TYPES:
            extra, receiver = exports.note_fields(target), target.receiver
    if case.transfer is not None:
        extra.update(transfer_indicator=case.transfer.transfer_indicator, dispatch_type=case.transfer.dispatch_type)
        if case.transfer.transfer_indicator == 5:  # an internal transfer names the issuer as receiver
            receiver = replace(receiver, rut=issuer.rut, name=issuer.name, activity=issuer.activity,
                               address=issuer.address, commune=issuer.commune, city=issuer.city)
        extra["transport"] = Transport(destination_address=receiver.address, destination_commune=receiver.commune,
                                       destination_city=receiver.city)
    return Document(document_type=case.document_type, folio=folio, issue_date=issue_date, issuer=issuer,
                    receiver=receiver, lines=lines, global_adjustments=adjustments, references=references,
                    **extra)


def note_reference(case, earlier):
    """The document of the case a note modifies (from ``earlier``), and the note's reference to it."""
    target = earlier.get(case.reference.case_id)
    if target is None:
        raise DocumentError(reason=f"case {case.case_id} refers to case {case.reference.case_id}, "
                                   "which was not issued")
    return target, Reference(document_type=str(target.document_type), folio=str(target.folio),
                             date=target.issue_date, code=case.reference.code, reason=case.reference.reason[:90])


def _line(case, item):
    exempt = item.exempt or case.document_type == codes.FACTURA_EXENTA
    if item.amount is not None:
        quantity, price = 1, item.amount
    else:
        quantity, price = item.quantity, item.price or 0
    return Line(name=item.name, quantity=quantity, price=price, unit=item.unit, exempt=exempt,
                discount_percent=item.discount_percent,
                additional_tax_code=PURCHASE_RETENTION_CODE if case.document_type == codes.FACTURA_COMPRA else None)


def _note_detail(case, target):
    """``(lines, global adjustments)`` of a note, by its reason's CodRef."""
    code = case.reference.code
    if code == codes.CODREF_ANNUL:
        return [replace(line, amount=None) for line in target.lines], list(target.global_adjustments)
    if code == codes.CODREF_TEXT:
        # The correcting line is exempt when what it corrects is (a factura exenta): no VAT appears.
        exempt = bool(target.lines) and all(line.exempt for line in target.lines)
        return [Line(name=case.reference.reason[:80] or TEXT_CORRECTION_LINE, quantity=1, price=0,
                     exempt=exempt)], []
    by_name = {normalized(line.name): line for line in target.lines}
    lines = []
    for item in case.lines:
        original = by_name.get(normalized(item.name))
        if original is None:
            raise DocumentError(reason=f"case {case.case_id}: the item {item.name!r} is not on the document of "
                                       f"case {case.reference.case_id}")
        quantity = item.quantity if item.quantity is not None else original.quantity
        price = item.price if item.price is not None else original.price
        lines.append(replace(original, quantity=quantity, price=price, amount=None, discount_amount=None))
    # The returned goods were sold under the referenced document's global discount: it applies to them too.
    return lines, [adjustment for adjustment in target.global_adjustments if adjustment.value_type == "%"]


def issue_set(test_set, *, issuer, receiver, cafs, certificate, issue_date=None, first_folios=None,
              timestamp=None, folios=None, foreign_receiver=None, exchange_rates=None):
    """Every case of ``test_set`` stamped and signed, in the set's order: a list of :class:`IssuedCase`.

    ``folios`` (a :class:`FolioSource`) shares the folio count between sets that issue the same types.
    """
    issue_date = issue_date or datetime.date.today()
    folios = folios or FolioSource(cafs, first_folios)
    earlier, issued = {}, []
    for case in test_set.cases:
        folio = folios.take(case.document_type, case.case_id)
        document = case_document(case, folio, issue_date, issuer, receiver, earlier, foreign_receiver,
                                 exchange_rates)
        signed = dte_module.issue(document, cafs[case.document_type], certificate, timestamp=timestamp)
        earlier[case.case_id] = document
        issued.append(IssuedCase(case_id=case.case_id, document=document, issued=signed))
    return issued


def set_envelope(issued_cases, *, issuer_rut, certificate, resolution_date, resolution_number, timestamp=None):
    """The signed EnvioDTE of one set, addressed to the SII (RutReceptor 60803000-K)."""
    return envelope_module.build_envelope(
        [case.issued.xml for case in issued_cases], issuer_rut, certificate, resolution_date, resolution_number,
        timestamp=timestamp)
