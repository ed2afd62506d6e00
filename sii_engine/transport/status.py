"""One status model for every SII status answer.

getEstUp (an EnvioDTE's upload), getEstDte (one document), the boleta REST
envelope status and the boleta REST document status all become a
:class:`SiiStatus`: the SII's own code and text, plus a :class:`State` the
caller can act on and whether the answer is ``final``.

Envelope codes
--------------
* in process (not final, ask again later): ``REC`` received, ``SOK`` schema
  validated, ``CRT`` cover (carátula) OK, ``FOK`` envelope signature
  validated, ``PDR`` in process — and ``PRD``, see below; ``-11`` from
  getEstUp while the SII has not processed the upload yet.
* rejected (final): ``RSC`` schema, ``RFR`` signature, ``RCT`` cover, ``RCH``
  rejected, ``RPT`` repeated, ``VOF``.
* ``EPR`` "envío procesado" is final but says nothing by itself about the
  documents: the per-type counts (INFORMADOS / ACEPTADOS / RECHAZADOS /
  REPAROS) decide between :attr:`State.ACCEPTED`, :attr:`State.OBJECTED`,
  :attr:`State.REJECTED` and :attr:`State.MIXED`; an ``EPR`` without counts
  is not taken as an acceptance (state :attr:`State.IN_PROCESS`, not final).

Document codes
--------------
``DOK`` accepted; ``TMD``/``TMC``/``MMD``/``MMC``/``AND``/``ANC`` accepted,
then modified or annulled by a note; ``RPR`` and ``RLV`` accepted with
objections (:attr:`State.OBJECTED`); ``RCH`` rejected; ``FNA`` folio not
authorised, ``FAN`` folio annulled, ``EMP`` company not authorised (all
:attr:`State.REJECTED`); ``DNK`` received but its data differ from the query
(:attr:`State.MISMATCH`); ``FAU`` not received (:attr:`State.NOT_FOUND`, not
final: it may still be in an envelope in process).

Where the references disagree
-----------------------------
* ``PRD``: the SII's status table names ``PDR`` "Envío en Proceso"; ``PRD`` is
  a transposition seen in answers and libraries. LibreDTE lists it among the
  non-final codes; Odoo's l10n_cl_edi puts it with the rejections. **Decision:
  PRD is the same as PDR, in process, not final.** Taking it as a rejection
  would let the caller re-issue documents the SII may still accept (a
  duplicate tax document), while taking it as "in process" only costs another
  status query.
* ``RLV``: "DTE Aceptado con Reparos Leves". LibreDTE and Odoo's boleta REST
  code read it as accepted with objections; Odoo's SOAP code lists it with
  the rejections. **Decision: RLV is accepted with (minor) objections,
  :attr:`State.OBJECTED`, final** — like ``RPR``: the document is valid for
  tax purposes and must not be issued again.
"""

from dataclasses import dataclass, field
from enum import Enum


class State(str, Enum):
    IN_PROCESS = "in_process"  # not final: ask again later
    ACCEPTED = "accepted"
    OBJECTED = "objected"  # accepted with objections (reparos): a valid tax document
    REJECTED = "rejected"
    MIXED = "mixed"  # envelope processed: some documents accepted, some rejected
    NOT_FOUND = "not_found"  # document the SII has not received
    MISMATCH = "mismatch"  # document received, but its data differ from the query
    UNKNOWN = "unknown"  # a code this engine does not know: not final, needs a look


ENVELOPE = "envelope"
DOCUMENT = "document"


@dataclass(frozen=True)
class TypeCount:
    """The SII's count of one document type in a processed envelope."""

    document_type: int
    informed: int = 0
    accepted: int = 0
    rejected: int = 0
    objected: int = 0


@dataclass(frozen=True)
class DocumentResult:
    """One document of an envelope that the SII objected to or rejected (boleta REST detail)."""

    document_type: int | None
    folio: int | None
    code: str
    state: State
    description: str = ""
    errors: tuple = ()


@dataclass(frozen=True)
class SiiStatus:
    scope: str  # ENVELOPE or DOCUMENT
    code: str  # the SII's code: EPR, RSC, DOK...
    description: str  # the SII's text, or the meaning of the code
    state: State
    final: bool
    track_id: str | None = None
    counts: tuple = ()  # TypeCount, per document type (envelopes)
    documents: tuple = ()  # DocumentResult (boleta REST detail)
    errors: tuple = ()  # the SII's error texts (envelope rejections)
    attention: str | None = None  # NUM_ATENCION, the SII's reference of the answer
    raw: str = field(default="", repr=False, compare=False)

    @property
    def accepted(self):
        """The document (or every document of the envelope) is valid for the SII."""
        return self.state in (State.ACCEPTED, State.OBJECTED)

    @property
    def rejected(self):
        return self.state == State.REJECTED

    def totals(self):
        """Counts summed over document types: a :class:`TypeCount` with type 0."""
        return TypeCount(
            0,
            sum(c.informed for c in self.counts),
            sum(c.accepted for c in self.counts),
            sum(c.rejected for c in self.counts),
            sum(c.objected for c in self.counts),
        )

    def summary(self):
        """One line for a log or a chatter message: code, text, state and the counts."""
        text = f"{self.code} ({self.description}): {self.state.value}{'' if self.final else ', not final'}"
        for count in self.counts:
            text += (f"; type {count.document_type}: {count.informed} informed, {count.accepted} accepted, "
                     f"{count.rejected} rejected, {count.objected} objected")
        for result in self.documents:
            text += f"; type {result.document_type or '?'} folio {result.folio}: {result.code}"
        if self.errors:
            text += "; " + "; ".join(self.errors)
        return text

    def document(self, document_type, folio):
        """The detail the SII gave for one document, if any."""
        for result in self.documents:
            if result.folio == int(folio) and result.document_type in (None, int(document_type)):
                return result
        return None


# --- code tables -------------------------------------------------------------------

_IN_PROCESS = (State.IN_PROCESS, False)
_REJECTED = (State.REJECTED, True)

ENVELOPE_CODES = {
    "REC": (*_IN_PROCESS, "Envío recibido"),
    "SOK": (*_IN_PROCESS, "Schema validado"),
    "CRT": (*_IN_PROCESS, "Carátula OK"),
    "FOK": (*_IN_PROCESS, "Firma de envío validada"),
    "PDR": (*_IN_PROCESS, "Envío en proceso"),
    "PRD": (*_IN_PROCESS, "Envío en proceso"),  # PRD = PDR: see the module docstring
    "-11": (*_IN_PROCESS, "Envío aún no procesado"),
    "RSC": (*_REJECTED, "Rechazado por error en schema"),
    "RFR": (*_REJECTED, "Rechazado por error en firma"),
    "RCT": (*_REJECTED, "Rechazado por error en carátula"),
    "RCH": (*_REJECTED, "Rechazado"),
    "RPT": (*_REJECTED, "Envío repetido, rechazado"),
    "VOF": (*_REJECTED, "Envío rechazado"),
}

DOCUMENT_CODES = {
    "DOK": (State.ACCEPTED, True, "Documento recibido por el SII; datos coinciden con los registrados"),
    "TMD": (State.ACCEPTED, True, "Existe nota de débito que modifica texto del documento"),
    "TMC": (State.ACCEPTED, True, "Existe nota de crédito que modifica textos del documento"),
    "MMD": (State.ACCEPTED, True, "Existe nota de débito que modifica montos del documento"),
    "MMC": (State.ACCEPTED, True, "Existe nota de crédito que modifica montos del documento"),
    "AND": (State.ACCEPTED, True, "Existe nota de débito que anula el documento"),
    "ANC": (State.ACCEPTED, True, "Existe nota de crédito que anula el documento"),
    "RPR": (State.OBJECTED, True, "Documento aceptado con reparos"),
    "RLV": (State.OBJECTED, True, "Documento aceptado con reparos leves"),  # see the module docstring
    "RCH": (State.REJECTED, True, "Documento rechazado"),
    "FNA": (State.REJECTED, True, "Folio no autorizado"),
    "FAN": (State.REJECTED, True, "Folio anulado"),
    "EMP": (State.REJECTED, True, "Empresa no autorizada a emitir documentos tributarios electrónicos"),
    "DNK": (State.MISMATCH, True, "Documento recibido por el SII pero datos no coinciden con los registrados"),
    "FAU": (State.NOT_FOUND, False, "Documento no recibido por el SII"),
}


def envelope_state(code, counts=()):
    """``(state, final, meaning)`` of an envelope code (and, for EPR, its counts)."""
    code = (code or "").strip().upper()
    if code == "EPR":
        return (*_processed_state(counts), "Envío procesado")
    if code in ENVELOPE_CODES:
        return ENVELOPE_CODES[code]
    return State.UNKNOWN, False, f"Estado desconocido {code!r}"


def _processed_state(counts):
    informed = sum(c.informed for c in counts)
    accepted = sum(c.accepted for c in counts)
    rejected = sum(c.rejected for c in counts)
    objected = sum(c.objected for c in counts)
    if informed <= 0 and accepted + rejected + objected <= 0:
        return State.IN_PROCESS, False  # EPR without counts: not an acceptance
    informed = max(informed, accepted + rejected + objected)
    if rejected >= informed:
        return State.REJECTED, True
    if rejected == 0 and accepted + objected == informed:
        return (State.OBJECTED if objected else State.ACCEPTED), True
    return State.MIXED, True


def document_state(code):
    """``(state, final, meaning)`` of a document code."""
    code = (code or "").strip().upper()
    if code in DOCUMENT_CODES:
        return DOCUMENT_CODES[code]
    return State.UNKNOWN, False, f"Estado desconocido {code!r}"


@dataclass(frozen=True)
class UploadResult:
    """The SII took the envelope: its track id (a string, as the SII's may exceed 10 digits)."""

    track_id: str
    kind: str  # EnvioDTE or EnvioBOLETA
    file_name: str
    status: str  # DTEUpload STATUS ("0") or the boleta API's "estado" ("REC")
    received_at: str | None = None  # the SII's TIMESTAMP / fecha_recepcion, as it wrote it
    raw: str = field(default="", repr=False, compare=False)
