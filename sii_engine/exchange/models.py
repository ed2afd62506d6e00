"""What the exchange documents say, as typed values.

The same classes describe what the builders write and what the parsers read,
so a built answer parses back to what was given. RUTs are in SII form
(``76192083-9``); amounts are whole pesos; datetimes are naive local time, as
the SII writes them.
"""

import datetime
from dataclasses import dataclass, field

from .codes import DECLARATION, CommercialStatus, DocumentStatus, EnvelopeStatus


@dataclass(frozen=True)
class DocumentRef:
    """Which document an answer or receipt is about (the issuer's DTE)."""

    document_type: int
    folio: int
    issue_date: datetime.date
    issuer_rut: str
    receiver_rut: str
    total: int

    @property
    def key(self):
        """``(issuer RUT, type, folio)``: what identifies a DTE for the SII."""
        return (self.issuer_rut, self.document_type, self.folio)


@dataclass(frozen=True)
class Contact:
    """Who answers questions about an answer (``NmbContacto``, ``FonoContacto``, ``MailContacto``)."""

    name: str = None
    phone: str = None
    email: str = None


@dataclass(frozen=True)
class SignatureCheck:
    """The outcome of verifying one received signature."""

    ok: bool
    signer_rut: str = None  # the RUT in the signing certificate, when it names one
    detail: str = ""


@dataclass(frozen=True)
class DocumentReception:
    """``RecepcionDTE``: one document of a received envelope and how it was received."""

    document: DocumentRef
    status: DocumentStatus = DocumentStatus.OK
    glosa: str = None  # default: the status's own text

    @property
    def received(self):
        return self.status == DocumentStatus.OK


@dataclass(frozen=True)
class EnvelopeReception:
    """``RecepcionEnvio``: a received envelope (EnvioDTE) and how it was received."""

    file_name: str  # NmbEnvio
    received_at: datetime.datetime  # FchRecep
    envelope_code: int  # CodEnvio: the receiver's own number for the envelope
    envelope_id: str  # EnvioDTEID: the ID attribute of the envelope's SetDTE
    status: EnvelopeStatus = EnvelopeStatus.OK
    glosa: str = None
    digest: str = None  # the DigestValue of the envelope's signature
    issuer_rut: str = None  # RutEmisor of the envelope's Caratula
    receiver_rut: str = None  # RutReceptor of the envelope's Caratula
    documents: tuple = ()  # DocumentReception

    @property
    def received(self):
        return self.status == EnvelopeStatus.OK


@dataclass(frozen=True)
class CommercialResult:
    """``ResultadoDTE``: the receiver's commercial answer to one document."""

    document: DocumentRef
    envelope_code: int  # CodEnvio of the envelope the document came in
    status: CommercialStatus
    glosa: str = None
    reason_code: int = None  # CodRchDsc: a negative number, with a rejection or discrepancy

    @property
    def accepted(self):
        return self.status != CommercialStatus.REJECTED


@dataclass(frozen=True)
class Receipt:
    """``Recibo``: the receiver's receipt of the goods or services of one document (Ley 19.983)."""

    document: DocumentRef
    place: str  # Recinto: where the goods or services were received
    signer_rut: str = None  # RutFirma; a built receipt names the certificate's holder
    signed_at: datetime.datetime = None  # TmstFirmaRecibo
    declaration: str = DECLARATION
    signature: SignatureCheck = None  # of a received receipt


@dataclass(frozen=True)
class AnswerCover:
    """The ``Caratula`` of a RespuestaDTE or of an EnvioRecibos."""

    responder_rut: str  # RutResponde: the documents' receiver, who answers
    recipient_rut: str  # RutRecibe: the documents' issuer, who gets the answer
    signed_at: datetime.datetime  # TmstFirmaResp / TmstFirmaEnv
    response_id: int = None  # IdRespuesta (RespuestaDTE only)
    details: int = None  # NroDetalles (RespuestaDTE only)
    contact: Contact = None


@dataclass(frozen=True)
class ReceivedAnswer:
    """A received ``RespuestaDTE``: either envelope receptions or commercial results."""

    cover: AnswerCover
    receptions: tuple = ()  # EnvelopeReception
    results: tuple = ()  # CommercialResult
    signature: SignatureCheck = None
    schema_errors: tuple = ()

    @property
    def is_reception(self):
        return bool(self.receptions)

    @property
    def verified(self):
        """Valid against the SII's schema and signed by a valid signature."""
        return not self.schema_errors and self.signature is not None and self.signature.ok

    def documents(self):
        """Every document the answer speaks of."""
        if self.results:
            return [result.document for result in self.results]
        return [item.document for reception in self.receptions for item in reception.documents]


@dataclass(frozen=True)
class ReceivedReceipts:
    """A received ``EnvioRecibos``."""

    cover: AnswerCover
    receipts: tuple = ()  # Receipt, each with its own SignatureCheck
    signature: SignatureCheck = None  # of the SetRecibos
    schema_errors: tuple = ()

    @property
    def verified(self):
        """Schema-valid, the set and every receipt signed by valid signatures."""
        return (
            not self.schema_errors
            and self.signature is not None
            and self.signature.ok
            and all(receipt.signature is not None and receipt.signature.ok for receipt in self.receipts)
        )


@dataclass(frozen=True)
class Sniffed:
    """What a received file is (see :func:`sii_engine.exchange.sniff`)."""

    kind: str  # one of sniff.ENVIO_DTE, RESPUESTA_DTE, ENVIO_RECIBOS, UNRECOGNISED
    root: object = field(default=None, repr=False)  # the parsed root element, to hand on without parsing again
    root_tag: str = None
    reason: str = ""  # why it is unrecognised
    sender_rut: str = None  # who sends it: the EnvioDTE's RutEmisor, the answer's RutResponde (when a valid RUT)
    addressee_rut: str = None  # to whom: the EnvioDTE's RutReceptor, the answer's RutRecibe (when a valid RUT)
