"""The one object the Odoo layer talks to: :class:`SiiClient`.

::

    client = SiiClient("certification", certificate, "76192083-9")
    receipt = client.upload_envelope(envelope_bytes)          # EnvioDTE or EnvioBOLETA
    status = client.envelope_status(receipt.track_id, receipt.kind)
    if status.final: ...                                       # status.state, status.counts
    client.document_status(33, 1234, date(2024, 5, 15), 119000, "77777777-7")
    client.register_action("76192083-9", 33, 1234, "ACD")         # the RCV (see .rcv)

Every call authenticates on its own (token from the cache, or a new one),
retries transport faults following the :class:`~.retry.RetryPolicy`, renews
the token once if the SII refuses it, and raises the typed errors of
:mod:`.errors`. An upload is never sent twice without a definite "not
received" from the SII: when its fate is unknown the call raises
:class:`~.errors.UploadOutcomeUnknown`.
"""

import datetime
import hashlib
import logging
import threading
import time

from .. import rut as rut_module
from ..envelope import ENVIO_BOLETA, ENVIO_DTE, kind_for
from ..errors import EnvelopeError
from . import answers, auth
from .environments import (
    BOLETA_DOCUMENT_STATUS_PATH,
    BOLETA_ENVELOPE_STATUS_PATH,
    BOLETA_UPLOAD_PATH,
    CERTIFICATION,
    RCV_SERVICE,
    resolve,
)
from .errors import (
    RetryableFault,
    StatusQueryError,
    TokenInvalid,
    UploadOutcomeUnknown,
    UploadRejected,
)
from .httpclient import BOLETA_USER_AGENT, CLIENT_ERRORS, UPLOAD_USER_AGENT, Http
from .rcv import RcvService
from .retry import RetryPolicy
from .soap import SoapService
from .tokens import BOLETA, DEFAULT_TOKEN_LIFETIME, SOAP, MemoryTokenCache, TokenKey, TokenManager

_logger = logging.getLogger(__name__)

# The books the SII takes through DTEUpload (the certification's IEV/IEC and book of guías).
BOOKS = ("LibroCompraVenta", "LibroGuia")

#: Tokens of every client of this process that was given no cache of its own.
DEFAULT_TOKEN_CACHE = MemoryTokenCache()

_UPLOAD_HEADERS = {
    "Accept": "image/gif, image/x-xbitmap, image/jpeg, image/pjpeg, application/vnd.ms-powerpoint, "
              "application/ms-excel, application/msword, */*",
    "Accept-Language": "es-cl",
    "Cache-Control": "no-cache",
    "User-Agent": UPLOAD_USER_AGENT,
}
_REST_HEADERS = {"Accept": "application/json", "User-Agent": BOLETA_USER_AGENT}
# What the boleta API's HTTP refusals of an envío mean (DTEUpload says it with a STATUS).
_REST_UPLOAD_REFUSALS = {
    400: "the form or the file is unreadable (size, truncated, not XML)",
    403: "the sender or the company is not authorised to send",
    404: "no such service",
    413: "file size error (too large)",
}


class SiiClient:
    """The SII's services for one company and one signing certificate.

    :param environment: ``"certification"`` or ``"production"``.
    :param certificate: a :class:`~sii_engine.certificate.Certificate`; its
        holder is the sender (``rutSender``, ``RutConsultante``).
    :param company_rut: the issuing company (``rutCompany``).
    :param token_cache: a :class:`~.tokens.TokenCache`; default: this process's memory.
    :param base_url: serve every service from this URL (a local SII simulator).
    :param timeout: seconds, or ``(connect, read)``; default ``(10, 60)``.
    :param retry: a :class:`~.retry.RetryPolicy`.
    """

    def __init__(
        self,
        environment=CERTIFICATION,
        certificate=None,
        company_rut=None,
        token_cache=None,
        base_url=None,
        timeout=None,
        retry=None,
        session=None,
        token_lifetime=DEFAULT_TOKEN_LIFETIME,
        clock=time.time,
    ):
        if certificate is None or company_rut is None:
            raise ValueError("SiiClient needs the signing certificate and the company's RUT")
        self.environment = resolve(environment, base_url)
        self.certificate = certificate
        self.company_rut = rut_module.normalize(company_rut)
        self.retry = retry or RetryPolicy()
        self.http = Http(session, timeout)
        self._services = {}
        self._services_lock = threading.Lock()
        cache = DEFAULT_TOKEN_CACHE if token_cache is None else token_cache
        self._tokens = {
            family: TokenManager(
                TokenKey(self.environment.cache_name, family, self.company_rut, certificate.fingerprint),
                fetch, cache, token_lifetime, clock,
            )
            for family, fetch in ((SOAP, self._new_soap_token), (BOLETA, self._new_boleta_token))
        }

    # --- life cycle ------------------------------------------------------------------

    def close(self):
        self.http.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"SiiClient({self.environment.name!r}, company {self.company_rut}, sender {self.certificate.holder_rut})"

    # --- authentication ----------------------------------------------------------------

    def authenticate(self, kind=ENVIO_DTE, renew=False):
        """Make sure a token is at hand (a connection test); ``renew`` forces a new one."""
        manager = self._tokens[BOLETA if kind == ENVIO_BOLETA else SOAP]
        if renew:
            manager.renew()
        else:
            manager.token()

    def _new_soap_token(self):
        token = auth.soap_token(self._service("CrSeed"), self._service("GetTokenFromSeed"), self.certificate,
                                self.retry)
        self._log_new_token("SOAP")
        return token

    def _new_boleta_token(self):
        token = auth.boleta_token(self.http, self.environment, self.certificate, self.retry)
        self._log_new_token("boleta API")
        return token

    def _log_new_token(self, family):
        _logger.info(
            "SII %s: new %s token for company %s, certificate of %s (SHA-256 %s...)",
            self.environment.name, family, self.company_rut, self.certificate.holder_rut,
            self.certificate.fingerprint[:16],
        )

    def _with_token(self, family, operation):
        """``operation(token)``; if the SII refuses the token, once more with a new one."""
        manager = self._tokens[family]
        token = manager.token()
        try:
            return operation(token)
        except TokenInvalid as refused:
            _logger.warning("SII %s refused the %s token (%s): getting a new one and trying once more",
                            refused.params.get("service"), family, refused)
            token = manager.renew(refused_token=token)
            try:
                return operation(token)
            except TokenInvalid as again:
                manager.invalidate()
                raise again.give_up() from None

    def with_soap_token(self, operation):
        """``operation(token)`` with the SOAP services' token (renewed once if the SII refuses it)."""
        return self._with_token(SOAP, operation)

    def _service(self, name, address=None):
        with self._services_lock:
            if name not in self._services:
                self._services[name] = SoapService(
                    name, self.environment.wsdl_path(name), address or self.environment.soap_url(name), self.http
                )
            return self._services[name]

    # --- upload ----------------------------------------------------------------------

    def upload_envelope(self, xml_bytes, kind=None, file_name=None):
        """Send a signed EnvioDTE, EnvioBOLETA or book; return its :class:`~.status.UploadResult`.

        Books (LibroCompraVenta, LibroGuia) go up through DTEUpload like an EnvioDTE,
        and their status is an EnvioDTE's (``envelope_status(track_id)``).

        Raises :class:`~.errors.UploadRejected` (the SII refused it),
        :class:`~.errors.UploadOutcomeUnknown` (sent, fate unknown: check the
        status before sending again) or :class:`~.errors.SiiUnavailable`
        (certainly not received).
        """
        if isinstance(xml_bytes, str):
            raise TypeError("upload_envelope takes the envelope's bytes (ISO-8859-1), not text")
        kind = kind or envelope_kind(xml_bytes)
        if kind not in (ENVIO_DTE, ENVIO_BOLETA, *BOOKS):
            raise EnvelopeError(reason=f"cannot upload a {kind!r}")
        file_name = file_name or default_file_name(kind, self.company_rut, xml_bytes)
        if kind == ENVIO_BOLETA:
            url = self.environment.boleta_upload_base + BOLETA_UPLOAD_PATH
            family, send = BOLETA, self._send_boleta
        else:
            url = self.environment.upload_url
            family, send = SOAP, self._send_dte
        _logger.info("SII %s: uploading %s (%s, %d bytes) of company %s, sent by %s, to %s",
                     self.environment.name, file_name, kind, len(xml_bytes), self.company_rut,
                     self.certificate.holder_rut, url)
        try:
            result = self._with_token(family, lambda token: self._retry_upload(send, url, token, xml_bytes, file_name))
        except UploadRejected as error:
            _logger.warning("SII %s: upload of %s refused: %s", self.environment.name, file_name, error)
            raise
        except UploadOutcomeUnknown as error:
            _logger.error("SII %s: %s", self.environment.name, error)
            raise
        _logger.info("SII %s: upload of %s received, track id %s (status %s, at %s)", self.environment.name,
                     file_name, result.track_id, result.status, result.received_at)
        _logger.debug("SII %s: upload answer: %s", self.environment.name, result.raw)
        return result

    def _retry_upload(self, send, url, token, xml_bytes, file_name):
        def attempt():
            try:
                return send(url, token, xml_bytes, file_name)
            except RetryableFault as fault:
                if fault.sent:
                    raise UploadOutcomeUnknown(url=url, file_name=file_name, reason=fault.reason) from fault
                raise  # certainly not received: the retry policy may send it again

        return self.retry.call(attempt, service="upload", url=url)

    def _upload_fields(self):
        sender, sender_dv = rut_module.split(self.certificate.holder_rut)
        company, company_dv = rut_module.split(self.company_rut)
        return [("rutSender", sender), ("dvSender", sender_dv), ("rutCompany", company), ("dvCompany", company_dv)]

    def _send_dte(self, url, token, xml_bytes, file_name):
        response = self.http.request(
            "POST", url, service="DTEUpload", accept_statuses=CLIENT_ERRORS,
            data=self._upload_fields(), files={"archivo": (file_name, xml_bytes, "text/xml")},
            headers={**_UPLOAD_HEADERS, "Cookie": f"TOKEN={token}"},
        )
        if response.status_code in CLIENT_ERRORS and not _is_xml_receipt(response.content):
            if response.status_code == 401:
                raise TokenInvalid("DTEUpload", "HTTP 401", _excerpt(response),
                                   final_error=UploadRejected("5", "not authenticated", file_name))
            raise UploadRejected(f"HTTP {response.status_code}", "refused by the server", file_name,
                                 [_excerpt(response)])
        return answers.parse_upload(response.content, file_name, ENVIO_DTE)

    def _send_boleta(self, url, token, xml_bytes, file_name):
        response = self.http.request(
            "POST", url, service="boleta.electronica.envio", accept_statuses=CLIENT_ERRORS,
            data=self._upload_fields(), files={"archivo": (file_name, xml_bytes, "text/xml")},
            headers={**_REST_HEADERS, "Cookie": f"TOKEN={token}"},
        )
        if response.status_code == 401:
            raise TokenInvalid("boleta.electronica.envio", "HTTP 401", _excerpt(response),
                               final_error=UploadRejected("HTTP 401", "not authenticated", file_name))
        if response.status_code in CLIENT_ERRORS:
            meaning = _REST_UPLOAD_REFUSALS.get(response.status_code, "refused by the server")
            raise UploadRejected(f"HTTP {response.status_code}", meaning, file_name, [_excerpt(response)])
        return answers.parse_boleta_upload(response.content, file_name, declared=_charset(response))

    # --- statuses --------------------------------------------------------------------

    def envelope_status(self, track_id, kind=ENVIO_DTE):
        """The SII's status of an upload (getEstUp, or the boleta API for an EnvioBOLETA)."""
        track_id = str(track_id).strip()
        if not track_id:
            raise ValueError("a track id is needed")
        if kind == ENVIO_BOLETA:
            status = self._with_token(BOLETA, lambda token: self._boleta_envelope_status(track_id, token))
        else:
            status = self._with_token(SOAP, lambda token: self._soap_envelope_status(track_id, token))
        _logger.info("SII %s: envelope %s (%s) of company %s: %s", self.environment.name, track_id, kind,
                     self.company_rut, status.summary())
        _logger.debug("SII %s: status answer: %s", self.environment.name, status.raw)
        return status

    def _soap_envelope_status(self, track_id, token):
        company, company_dv = rut_module.split(self.company_rut)
        service = self._service("QueryEstUp")

        def attempt():
            answer = service.call("getEstUp", RutCompania=company, DvCompania=company_dv, TrackId=track_id,
                                  Token=token)
            return answers.parse_est_up(answer, track_id)

        return self.retry.call(attempt, service="QueryEstUp.getEstUp", url=service.address)

    def _boleta_envelope_status(self, track_id, token):
        company, company_dv = rut_module.split(self.company_rut)
        url = self.environment.boleta_api_base + BOLETA_ENVELOPE_STATUS_PATH.format(
            rut=company, dv=company_dv, track_id=track_id)
        service = "boleta.electronica.envio (estado)"

        def attempt():
            response = self._rest_get(url, token, service)
            return answers.parse_boleta_envelope_status(response.content, track_id, declared=_charset(response))

        return self.retry.call(attempt, service=service, url=url)

    def document_status(self, document_type, folio, issue_date, total, receiver_rut):
        """The SII's status of one issued document (getEstDte, or the boleta API for 39/41)."""
        document_type = int(document_type)
        folio = int(folio)
        issue_date = _as_date(issue_date)
        total = int(total)
        receiver_rut = rut_module.normalize(receiver_rut)
        if kind_for(document_type) == ENVIO_BOLETA:
            status = self._with_token(BOLETA, lambda token: self._boleta_document_status(
                document_type, folio, issue_date, total, receiver_rut, token))
        else:
            status = self._with_token(SOAP, lambda token: self._soap_document_status(
                document_type, folio, issue_date, total, receiver_rut, token))
        _logger.info("SII %s: document type %s folio %s of company %s: %s", self.environment.name,
                     document_type, folio, self.company_rut, status.summary())
        return status

    def _soap_document_status(self, document_type, folio, issue_date, total, receiver_rut, token):
        consultant, consultant_dv = rut_module.split(self.certificate.holder_rut)
        company, company_dv = rut_module.split(self.company_rut)
        receiver, receiver_dv = rut_module.split(receiver_rut)
        service = self._service("QueryEstDte")

        def attempt():
            answer = service.call(
                "getEstDte",
                RutConsultante=consultant, DvConsultante=consultant_dv,
                RutCompania=company, DvCompania=company_dv,
                RutReceptor=receiver, DvReceptor=receiver_dv,
                TipoDte=str(document_type), FolioDte=str(folio),
                FechaEmisionDte=issue_date.strftime("%d%m%Y"), MontoDte=str(total),
                Token=token,
            )
            return answers.parse_est_dte(answer)

        return self.retry.call(attempt, service="QueryEstDte.getEstDte", url=service.address)

    def _boleta_document_status(self, document_type, folio, issue_date, total, receiver_rut, token):
        company, company_dv = rut_module.split(self.company_rut)
        receiver, receiver_dv = rut_module.split(receiver_rut)
        url = self.environment.boleta_api_base + BOLETA_DOCUMENT_STATUS_PATH.format(
            rut=company, dv=company_dv, document_type=document_type, folio=folio)
        params = {"rut_receptor": receiver, "dv_receptor": receiver_dv, "monto": str(total),
                  "fechaEmision": issue_date.strftime("%d-%m-%Y")}
        service = "boleta.electronica (estado)"

        def attempt():
            response = self._rest_get(url, token, service, params=params)
            return answers.parse_boleta_document_status(response.content, declared=_charset(response))

        return self.retry.call(attempt, service=service, url=url)

    # --- the RCV's registry of acceptances and claims (see .rcv) ----------------------------

    @property
    def _rcv(self):
        return RcvService(self, self._service(RCV_SERVICE, self.environment.rcv_url))

    def register_action(self, issuer_rut, document_type, folio, action):
        """Register ``action`` (ACD, ERM, RCD, RFP, RFT: a :class:`~sii_engine.rcv.RcvAction`) on a
        document this company received; an :class:`~.rcv.RcvAnswer` (registered now, or before),
        else :class:`~.rcv.RcvRefused` with the SII's code (8: past the 8 days, 17: not the receiver...)."""
        return self._rcv.register_action(issuer_rut, document_type, folio, action)

    def document_events(self, issuer_rut, document_type, folio):
        """The document's history in the registry: an :class:`~.rcv.RcvAnswer` whose ``events``
        are :class:`~sii_engine.rcv.RcvEvent`; :class:`~.rcv.RcvRefused` when the SII will not list it."""
        return self._rcv.document_events(issuer_rut, document_type, folio)

    def reception_date(self, issuer_rut, document_type, folio):
        """When the SII received the document (a naive Chile-time datetime), or None if it has not."""
        return self._rcv.reception_date(issuer_rut, document_type, folio)

    def cedible_status(self, issuer_rut, document_type, folio):
        """Whether the document can be ceded (``answer.cedible``; ``answer.meaning`` says why)."""
        return self._rcv.cedible_status(issuer_rut, document_type, folio)

    def _rest_get(self, url, token, service, params=None):
        response = self.http.request("GET", url, params=params, service=service, accept_statuses=CLIENT_ERRORS,
                                     headers={**_REST_HEADERS, "Cookie": f"TOKEN={token}"})
        if response.status_code == 401:
            raise TokenInvalid(service, "HTTP 401", _excerpt(response))
        if response.status_code in CLIENT_ERRORS:
            raise StatusQueryError(service=service, status=f"HTTP {response.status_code}", glosa=_excerpt(response))
        return response


# --- helpers ---------------------------------------------------------------------------


def envelope_kind(xml_bytes):
    """EnvioDTE, EnvioBOLETA or a book's kind, from the file's root element."""
    head = xml_bytes[:4096]
    for kind in (ENVIO_BOLETA, ENVIO_DTE, *BOOKS):
        if f"<{kind}".encode() in head:
            return kind
    raise EnvelopeError(reason="the file is neither an EnvioDTE, an EnvioBOLETA nor a book")


def default_file_name(kind, company_rut, xml_bytes):
    digest = hashlib.sha256(xml_bytes).hexdigest()[:12]
    return f"{kind}_{company_rut.replace('-', '')}_{digest}.xml"


def _as_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def _charset(response):
    content_type = response.headers.get("Content-Type", "")
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip("\"' ")
    return None


def _excerpt(response, limit=300):
    text = " ".join(answers.decode_text(response.content[: limit * 2], _charset(response)).split())
    return (text[:limit] + "...") if len(text) > limit else (text or response.reason or "")


def _is_xml_receipt(content):
    return b"RECEPCIONDTE" in content[:2048]
