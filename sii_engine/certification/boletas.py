"""The boleta set's cases as documents: the boletas, and the credit notes the set asks for them.

The SII's boleta set (read by :func:`.setfile.parse_boleta_set`) lists boletas
sold to final consumers, at prices that include VAT as every boleta states them.
A boleta whose lines are all exempt is a boleta exenta (41), any other a
boleta (39). Two columns ask for credit notes (61) on some of them:

* *Anular*: a note that annuls the boleta (CodRef 1), every line again;
* *Rebajar*: a note that takes that percent off the line (CodRef 3): the
  quantity returned is the line's quantity times the percent.

A credit note is not a boleta: it states net amounts, as any DTE but the
boleta does, so each taxed line's price is the boleta's gross price without
its VAT, and its VAT is computed on their sum: a note may differ from its
boleta by a peso of rounding (the boleta's VAT is what is left of its gross
total). Each boleta carries the certification reference the SII asks for
boletas (``TpoDocRef`` SET, ``FolioRef`` the set's attention number,
``RazonRef`` "CASO-n", n the boleta's number in the set); a note carries its
boleta's, then the boleta it modifies.
"""

from dataclasses import dataclass
from decimal import Decimal

from .. import codes
from ..document import Document, Line, Reference
from ..errors import DocumentError
from .issue import note_reference
from .setfile import Case, CaseReference, ItemLine

SET_REFERENCE = "SET"
ANNUL_REASON = "ANULA BOLETA"
REDUCE_REASON = "MODIFICA MONTO"
NOTE_SUFFIX = "NC"  # a note's case id: its boleta's, then -NC
HUNDRED = Decimal(100)
PRICE_QUANTUM = Decimal("0.000001")  # PrcItem carries up to six decimals


@dataclass(frozen=True)
class BoletaCases:
    """The boleta set as cases to issue in order: every boleta, then the notes on them."""

    boletas: list
    notes: list

    @property
    def cases(self):
        return self.boletas + self.notes


def boleta_type(case):
    """39, or 41 when every line of the case is exempt."""
    return codes.BOLETA_EXENTA if case.lines and all(line.exempt for line in case.lines) else codes.BOLETA


def set_cases(test_set):
    """The boletas of ``test_set`` with their type, and a note case for each Anular or Rebajar."""
    boletas, notes = [], []
    for case in test_set.cases:
        boleta = Case(case_id=case.case_id, document_type=boleta_type(case), lines=list(case.lines),
                      line_no=case.line_no, annul=case.annul)
        boletas.append(boleta)
        reduced = [line for line in case.lines if line.reduce]
        if case.annul:
            reference, lines = CaseReference(case.case_id, boleta.document_type, ANNUL_REASON, codes.CODREF_ANNUL), []
        elif reduced:
            reference = CaseReference(case.case_id, boleta.document_type, REDUCE_REASON, codes.CODREF_AMOUNTS)
            lines = [_reduced(case, line) for line in reduced]
        else:
            continue
        notes.append(Case(case_id=f"{case.case_id}-{NOTE_SUFFIX}", document_type=codes.NOTA_CREDITO, lines=lines,
                          reference=reference, line_no=case.line_no))
    return BoletaCases(boletas=boletas, notes=notes)


def _reduced(case, line):
    if line.reduce > HUNDRED:
        raise DocumentError(reason=f"case {case.case_id}: Rebajar {line.reduce} of {line.name!r} is above 100 percent")
    return ItemLine(name=line.name, quantity=line.quantity * line.reduce / HUNDRED, price=line.price,
                    unit=line.unit, exempt=line.exempt, line_no=line.line_no)


def reference_reason(case):
    """``RazonRef`` of a boleta set's SET reference: "CASO-n", n the boleta's number (its note's too)."""
    return f"CASO-{case.number}"


def case_document(case, folio, issue_date, issuer, receiver, earlier, attention):
    """The :class:`Document` of a boleta case or of a note on one; ``earlier`` maps case ids to the
    boletas' documents already made (with their folios)."""
    references = [Reference(document_type=SET_REFERENCE, folio=attention, date=issue_date,
                            reason=reference_reason(case))]
    if case.reference is None:
        lines = [Line(name=item.name, quantity=item.quantity, price=item.price, unit=item.unit, exempt=item.exempt)
                 for item in case.lines]
    else:
        target, reference = note_reference(case, earlier)
        references.append(reference)
        items = target.lines if case.reference.code == codes.CODREF_ANNUL else case.lines
        lines = [_net_line(item, target.vat_rate) for item in items]
    return Document(document_type=case.document_type, folio=folio, issue_date=issue_date, issuer=issuer,
                    receiver=receiver, lines=lines, references=references)


def _net_line(item, vat_rate):
    """A boleta's line on a credit note: its gross price without VAT (exempt lines keep theirs)."""
    price = item.price if item.exempt else (item.price / (1 + vat_rate / HUNDRED)).quantize(PRICE_QUANTUM)
    return Line(name=item.name, quantity=item.quantity, price=price, unit=item.unit, exempt=item.exempt)
