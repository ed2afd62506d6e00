"""The exchange between taxpayers: answers and receipts for DTEs (no Odoo, no network).

What a company sends about DTEs it received, and reads about DTEs it issued:

* :func:`build_reception_answer` — ``RespuestaDTE`` / ``RecepcionEnvio``,
  sent on reception; :func:`assess_envelope` decides its codes for a received
  EnvioDTE;
* :func:`build_result_answer` — ``RespuestaDTE`` / ``ResultadoDTE``, the
  commercial result (accepted, accepted with discrepancies, rejected);
* :func:`build_receipts` — ``EnvioRecibos``, the receipt of goods or
  services with the Ley 19.983 declaration;
* :func:`sniff` — what a received file is (EnvioDTE, RespuestaDTE,
  EnvioRecibos or unrecognised), parsed once, safely;
* :func:`read_answer`, :func:`read_receipts` — a customer's answer or
  receipt as typed values, signatures verified;
* :func:`receive_envelope` — a supplier's EnvioDTE verified once: the
  reception to answer with and each document's content (:func:`read_dte`)
  to book it from.

Each built file is signed (XMLDSig, the SII's profile) and valid against the
SII's schemas (``data/xsd``: RespuestaEnvioDTE_v10, EnvioRecibos_v10, Recibos_v10).
"""

from .answer import build_reception_answer, build_result_answer
from .codes import DECLARATION, CommercialStatus, DocumentStatus, EnvelopeStatus
from .content import ReceivedDte, read_dte
from .errors import ExchangeBuildError, ExchangeFormatError, NotExchangeDocumentError
from .models import (
    AnswerCover,
    CommercialResult,
    Contact,
    DocumentReception,
    DocumentRef,
    EnvelopeReception,
    Receipt,
    ReceivedAnswer,
    ReceivedReceipts,
    SignatureCheck,
    Sniffed,
)
from .inbox import RECEIVABLE_TYPES, Delivery, ReceivedDocument, receive_envelope
from .read import read_answer, read_receipts
from .receipts import build_receipts
from .reception import assess_envelope
from .sniff import ENVIO_DTE, ENVIO_RECIBOS, RESPUESTA_DTE, UNRECOGNISED, sniff

__all__ = [
    "DECLARATION",
    "ENVIO_DTE",
    "ENVIO_RECIBOS",
    "RECEIVABLE_TYPES",
    "RESPUESTA_DTE",
    "UNRECOGNISED",
    "AnswerCover",
    "CommercialResult",
    "CommercialStatus",
    "Contact",
    "Delivery",
    "DocumentReception",
    "DocumentRef",
    "DocumentStatus",
    "EnvelopeReception",
    "EnvelopeStatus",
    "ExchangeBuildError",
    "ExchangeFormatError",
    "NotExchangeDocumentError",
    "Receipt",
    "ReceivedAnswer",
    "ReceivedDocument",
    "ReceivedDte",
    "ReceivedReceipts",
    "SignatureCheck",
    "Sniffed",
    "assess_envelope",
    "build_reception_answer",
    "build_receipts",
    "build_result_answer",
    "read_answer",
    "read_dte",
    "read_receipts",
    "receive_envelope",
    "sniff",
]
