"""The RCV's "registro de aceptación/reclamo" service (``registroreclamodteservice``) for SiiClient.

Four operations on a received document, named by its issuer, type and folio:

* ``ingresarAceptacionReclamoDoc`` — :meth:`SiiClient.register_action`:
  ACD, ERM, RCD, RFP or RFT; registered (0) and already registered (7) are
  both success (a retried call finds its own first attempt), any other answer
  raises :class:`RcvRefused` carrying the SII's code;
* ``listarEventosHistDoc`` — :meth:`SiiClient.document_events`: the history
  (15, or 16 when empty);
* ``consultarFechaRecepcionSii`` — :meth:`SiiClient.reception_date`: when the
  SII received it (what the 8 days run from, see :func:`sii_engine.rcv.acceptance_deadline`);
* ``consultarDocDteCedible`` — :meth:`SiiClient.cedible_status`: whether it can be ceded.

Same token as the other SOAP services (sent as the cookie ``TOKEN``), same
retries; the SII's "Error Interno" (-1, "reintentar más tarde") is retried like
a transport fault and ends as :class:`~.errors.SiiUnavailable`.
"""

import logging
from dataclasses import dataclass

from .. import rut as rut_module
from ..errors import RutError
from ..rcv import (
    CEDIBLE,
    CEDIBLE_ANSWERS,
    CODE_TEXT,
    LISTED,
    NOT_FOUND,
    REGISTERED,
    RcvAction,
    RcvCode,
    RcvEvent,
    known_code,
    parse_date,
)
from .errors import AnswerUnreadable, RetryableFault, TransportError

_logger = logging.getLogger(__name__)

REGISTER = "ingresarAceptacionReclamoDoc"
EVENTS = "listarEventosHistDoc"
RECEPTION_DATE = "consultarFechaRecepcionSii"
CEDIBLE_STATUS = "consultarDocDteCedible"


@dataclass(frozen=True)
class RcvAnswer:
    """What the registry answered about one document."""

    operation: str
    issuer_rut: str
    document_type: int
    folio: int
    code: int  # codResp (None when the answer had none)
    description: str  # descResp
    events: tuple = ()  # RcvEvent, for listarEventosHistDoc

    @property
    def meaning(self):
        """The code as an :class:`~sii_engine.rcv.RcvCode` (None for one the manual does not list)."""
        return known_code(self.code)

    @property
    def registered(self):
        return self.meaning in REGISTERED

    @property
    def cedible(self):
        return self.meaning in CEDIBLE

    def summary(self):
        return f"{self.operation} {self.document_type} {self.folio} of {self.issuer_rut}: {self.code} {self.description}"


class RcvRefused(TransportError):
    """The registry answered, and its answer is not the success of the operation (see ``answer.meaning``)."""

    code = "sii_rcv_refused"
    template = "The SII's registry refused {operation} for document {document_type} {folio} of {issuer_rut}: " \
               "{status} ({glosa})"

    def __init__(self, answer):
        self.answer = answer
        super().__init__(operation=answer.operation, document_type=answer.document_type, folio=answer.folio,
                         issuer_rut=answer.issuer_rut, status=answer.code, glosa=answer.description)

    @property
    def deadline_passed(self):
        return self.answer.meaning == RcvCode.DEADLINE_PASSED

    @property
    def not_found(self):
        return self.answer.meaning in NOT_FOUND

    @property
    def not_receiver(self):
        return self.answer.meaning in (RcvCode.NOT_RECEIVER, RcvCode.NOT_ISSUER_OR_RECEIVER)


class RcvService:
    """The operations, called through a :class:`~.client.SiiClient` (its token, retries and HTTP)."""

    def __init__(self, client, service):
        self._client = client
        self._service = service

    def register_action(self, issuer_rut, document_type, folio, action):
        action = RcvAction(action)
        answer = self._answer(REGISTER, issuer_rut, document_type, folio, accionDoc=action.value)
        if not answer.registered:
            raise RcvRefused(answer)
        return answer

    def document_events(self, issuer_rut, document_type, folio):
        answer = self._answer(EVENTS, issuer_rut, document_type, folio)
        if answer.meaning not in LISTED:
            raise RcvRefused(answer)
        return answer

    def cedible_status(self, issuer_rut, document_type, folio):
        answer = self._answer(CEDIBLE_STATUS, issuer_rut, document_type, folio)
        if answer.meaning not in CEDIBLE_ANSWERS:
            raise RcvRefused(answer)
        return answer

    def reception_date(self, issuer_rut, document_type, folio):
        issuer_rut, document_type, folio = _document(issuer_rut, document_type, folio)
        result = self._call(RECEPTION_DATE, issuer_rut, document_type, folio, _text)
        text = (result or "").strip()
        if not text:
            return None  # the SII gives no date: it has not received the document
        try:
            return parse_date(text)
        except ValueError:
            raise RcvRefused(RcvAnswer(RECEPTION_DATE, issuer_rut, document_type, folio, None, text)) from None

    # --- the call ------------------------------------------------------------------------

    def _answer(self, operation, issuer_rut, document_type, folio, **extra):
        issuer_rut, document_type, folio = _document(issuer_rut, document_type, folio)

        def read(result):
            answer = _read_answer(result, operation, issuer_rut, document_type, folio)
            if answer.meaning == RcvCode.INTERNAL_ERROR:
                raise RetryableFault(f"{operation}: the SII answered {answer.code} ({answer.description})")
            return answer

        answer = self._call(operation, issuer_rut, document_type, folio, read, **extra)
        log = _logger.info if answer.meaning in REGISTERED | LISTED | CEDIBLE_ANSWERS else _logger.warning
        log("SII %s: %s", self._client.environment.name, answer.summary())
        return answer

    def _call(self, operation, issuer_rut, document_type, folio, read, **extra):
        number, verifier = rut_module.split(issuer_rut)
        service = self._service

        def with_token(token):
            def attempt():
                result = service.call(operation, token_cookie=token, text=False, rutEmisor=number,
                                      dvEmisor=verifier, tipoDoc=str(document_type), folio=str(folio), **extra)
                return read(result)

            return self._client.retry.call(attempt, service=f"registroreclamodteservice.{operation}",
                                           url=service.address)

        return self._client.with_soap_token(with_token)


def _text(result):
    if result is not None and not isinstance(result, str):
        raise AnswerUnreadable(f"{RECEPTION_DATE} returned {type(result).__name__}, not a string")
    return result


def _document(issuer_rut, document_type, folio):
    document_type, folio = int(document_type), int(folio)
    if document_type < 1 or folio < 1:
        raise ValueError(f"document type {document_type} and folio {folio} must be positive")
    return rut_module.normalize(issuer_rut), document_type, folio


def _read_answer(result, operation, issuer_rut, document_type, folio):
    """An :class:`RcvAnswer` from what zeep made of a ``respuestaTo``."""
    if result is None or not hasattr(result, "codResp"):
        raise AnswerUnreadable(f"{operation} returned no respuestaTo")
    try:
        code = int(result.codResp) if result.codResp is not None else None
    except (TypeError, ValueError):
        raise AnswerUnreadable(f"{operation} returned codResp {result.codResp!r}") from None
    if code is None:
        raise AnswerUnreadable(f"{operation} returned no codResp")
    description = " ".join(str(result.descResp or CODE_TEXT.get(code, "")).split())
    events = tuple(_event(item, operation) for item in (getattr(result, "listaEventosDoc", None) or ()) if item)
    return RcvAnswer(operation, issuer_rut, document_type, folio, code, description, events)


def _event(item, operation):
    try:
        responsible = rut_module.normalize(f"{item.rutResponsable}-{item.dvResponsable}")
    except RutError:  # shown as the SII wrote it
        responsible = f"{item.rutResponsable or ''}-{item.dvResponsable or ''}".strip("-")
    try:
        at = parse_date(item.fechaEvento)
    except ValueError:
        raise AnswerUnreadable(f"{operation} returned the event date {item.fechaEvento!r}") from None
    code = (item.codEvento or "").strip()
    return RcvEvent(code=code, description=" ".join(str(item.descEvento or "").split()),
                    responsible_rut=responsible, at=at)
