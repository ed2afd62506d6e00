"""The simulated SII as one WSGI application, and the knobs tests turn.

>>> simulator = SiiSimulator()                 # trusts a fresh TestAuthority's CAFs
>>> simulator.inject_fault("DTEUpload", "timeout", seconds=3)
>>> simulator.force_outcome("76192083-9", 33, 7, "objected", reason="giro")
>>> simulator.set_reception_date("76192083-9", 33, 7, datetime.datetime(2024, 5, 1, 10, 0))  # the RCV's 8 days

Endpoint names (for faults and counters) are listed in PROTOCOL.md.
"""

import hashlib
import logging
import re
import threading
import time
from collections import Counter

from .. import rut as rut_module
from ..identities import TestAuthority
from . import dteupload, faults, rcv, rest, sii_time, soap_services, wsdl
from .config import SimulatorConfig
from .http import Request, Response, text_response, xml_response
from .registry import FORCED_OUTCOMES
from .state import State, document_key

_logger = logging.getLogger(__name__)

SOAP_ENDPOINTS = {
    "/DTEWS/CrSeed.jws": "getSeed",
    "/DTEWS/GetTokenFromSeed.jws": "getToken",
    "/DTEWS/QueryEstUp.jws": "getEstUp",
    "/DTEWS/QueryEstDte.jws": "getEstDte",
}
UPLOAD_PATH = "/cgi_dte/UPL/DTEUpload"
UPLOAD_ENDPOINTS = frozenset({"DTEUpload", "boleta.envio"})
ABORT_KEY = "sii_simulator.abort"  # set by the server: closes the connection with a TCP RST


class SiiSimulator:
    def __init__(self, *, authority=None, trusted_keys=None, state_file=None, clock=time.time, **settings):
        """``authority``: the stand-in SII whose CAFs are trusted (default: a new
        :class:`~sii_engine.identities.TestAuthority`, unless ``trusted_keys`` is given);
        ``trusted_keys``: more IDK → public key pairs to trust; ``settings``: see
        :class:`~.config.SimulatorConfig`.
        """
        if authority is None and trusted_keys is None:
            authority = TestAuthority()
        self.authority = authority
        keys = dict(trusted_keys or {})
        if authority is not None:
            keys.setdefault(authority.idk, authority.public_key)
        self.config = SimulatorConfig(trusted_keys=keys, **settings)
        self.state = State(state_file, clock=clock)
        self.faults = faults.FaultQueue()
        self.base_url = None
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._calls = Counter()
        self._uploads = []
        self._processing = {"envelopes": 0, "documents": 0, "seconds": 0.0}
        self._attention = 0

    # --- what tests do -----------------------------------------------------------------

    def inject_fault(self, endpoint, kind, **params):
        """Queue a fault for the next call of ``endpoint`` (``"*"``: of any endpoint)."""
        fault = faults.Fault(kind=kind, **params)
        if kind == "upload_status" and endpoint not in UPLOAD_ENDPOINTS:
            raise ValueError(f"an upload_status fault only applies to {sorted(UPLOAD_ENDPOINTS)}")
        self.faults.push(endpoint, fault)
        return fault

    def force_outcome(self, rut, document_type, folio, outcome, reason=None):
        """Decide what happens to a document whenever it arrives: ``accepted``,
        ``rejected``, ``objected``, ``objected_minor`` or (for getEstDte) ``annulled``;
        ``None`` removes the rule."""
        if outcome is not None and outcome not in FORCED_OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; known: {sorted(FORCED_OUTCOMES)}")
        key = document_key(rut_module.normalize(rut), document_type, folio)
        self.state.set_forced(key, None if outcome is None else {"outcome": outcome, "reason": reason})

    def set_reception_date(self, rut, document_type, folio, when):
        """Make the RCV see the document as received by the SII at ``when`` (naive: Chilean
        local time, as the SII's), e.g. 9 days ago to try the 8-day rule; ``None`` goes back to its envelope's."""
        key = document_key(rut_module.normalize(rut), document_type, folio)
        with self.state.lock:
            entry = self.state.data.setdefault("rcv", {}).setdefault(key, {})
            entry["received_at"] = None if when is None else sii_time.timestamp(when)
            self.state.save()

    def rcv_events(self, rut, document_type, folio):
        """The RCV events registered on a document: ``[{"code", "rut", "at"}]``."""
        key = document_key(rut_module.normalize(rut), document_type, folio)
        with self.state.lock:
            return [dict(event) for event in self.state.data.get("rcv", {}).get(key, {}).get("events", [])]

    def expire_tokens(self):
        """Every token issued so far becomes inactive, as after the SII's idle timeout."""
        self.state.revoke_all_tokens()

    @property
    def calls(self):
        with self._lock:
            return dict(self._calls)

    def call_count(self, endpoint):
        with self._lock:
            return self._calls[endpoint]

    @property
    def uploads(self):
        """Every upload received (whatever its answer), oldest first."""
        with self._lock:
            return [dict(upload) for upload in self._uploads]

    def upload_count(self, endpoint=None, status=None):
        return sum(
            1 for upload in self.uploads
            if (endpoint is None or upload["endpoint"] == endpoint) and (status is None or upload["status"] == status)
        )

    def duplicate_uploads(self):
        """``{sha256: count}`` of files given a track id more than once."""
        counts = Counter(upload["digest"] for upload in self.uploads if upload["track_id"] is not None)
        return {digest: count for digest, count in counts.items() if count > 1}

    def envelope(self, track_id):
        """Everything the simulator knows about an envelope (its final state included)."""
        return self.state.envelope(track_id)

    def processing_stats(self):
        """Time the simulator spent checking envelopes, in total and per document."""
        with self._lock:
            stats = dict(self._processing)
        stats["seconds_per_document"] = stats["seconds"] / stats["documents"] if stats["documents"] else None
        return stats

    def reset(self):
        """Forget everything: state, faults, counters."""
        self.state.reset()
        self.faults.clear()
        with self._lock:
            self._calls.clear()
            self._uploads.clear()
            self._processing = {"envelopes": 0, "documents": 0, "seconds": 0.0}

    # --- used by the services --------------------------------------------------------------

    def attention(self):
        """A NUM_ATENCION like the SII's: a number and the time."""
        with self._lock:
            self._attention += 1
            number = self._attention
        return f"{number}   ( {sii_time.local(time.time()).strftime('%Y/%m/%d %H:%M:%S')})"

    def record_upload(self, request, outcome, data):
        with self._lock:
            self._uploads.append({
                "endpoint": request.endpoint,
                "status": outcome.status,
                "track_id": outcome.track_id,
                "digest": hashlib.sha256(data).hexdigest() if data else None,
                "bytes": len(data) if data else 0,
                "company_rut": outcome.company_rut,
                "sender_rut": outcome.sender_rut,
                "file": outcome.file_name,
                "at": outcome.timestamp,
            })

    def count_processing(self, seconds, documents):
        with self._lock:
            self._processing["envelopes"] += 1
            self._processing["documents"] += documents
            self._processing["seconds"] += seconds

    # --- WSGI ---------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request.from_environ(environ, max_body=self.config.max_upload_bytes + 64 * 1024)
        response = self._dispatch(request)
        if response.reset:
            abort = environ.get(ABORT_KEY)
            if abort is not None:
                abort()
            raise ConnectionAbortedError("connection reset by the simulator (fault)")
        start_response(response.status_line, response.header_list())
        return [response.body]

    def _route(self, request):
        if wsdl.is_wsdl_request(request):
            return "wsdl", _serve_wsdl
        if request.path in SOAP_ENDPOINTS:
            return SOAP_ENDPOINTS[request.path], soap_services.handle
        if request.path == UPLOAD_PATH:
            return "DTEUpload", dteupload.handle
        if request.path in rcv.PATHS:
            return "registroreclamodte", rcv.handle
        return rest.route(request) or ("unknown", _not_found)

    def _dispatch(self, request):
        endpoint, handler = self._route(request)
        request.endpoint = endpoint
        with self._lock:
            self._calls[endpoint] += 1
        _logger.debug("%s %s -> %s", request.method, request.path, endpoint)
        fault = self.faults.pop(endpoint)
        try:
            if fault is None:
                return handler(self, request)
            return self._faulty(fault, handler, request)
        except Exception:  # a bug of the simulator: answer like a crashed SII, keep serving
            _logger.exception("the simulator failed on %s %s", request.method, request.path)
            return text_response("Error Interno", status=500)

    def _faulty(self, fault, handler, request):
        kind = fault.kind
        if kind == "timeout":
            if fault.process:  # received and answered at once, the answer held back (a client dying meanwhile)
                response = handler(self, request)
                self.stopping.wait(fault.seconds)
                return response
            self.stopping.wait(fault.seconds)
            return handler(self, request)
        if kind == "expired_token":
            request.force_invalid_token = True
            return handler(self, request)
        if kind == "upload_status":
            request.forced_upload_status = fault.status
            return handler(self, request)
        if kind == "rcv_internal_error":
            return rcv.internal_error(request)
        if kind == "mislabelled_encoding":
            return mislabel(handler(self, request))
        if fault.process:
            handler(self, request)
        if kind == "reset":
            return Response(reset=True)
        if kind == "http_500":
            return xml_response(faults.HTML_ERROR_PAGE, status=500, content_type="text/html; charset=utf-8")
        if kind == "html":
            return xml_response(faults.HTML_MAINTENANCE_PAGE, content_type="text/html; charset=utf-8")
        if kind == "error_text":
            return text_response("Error 500", status=fault.status or 200)
        response = text_response("Too Many Requests", status=429)
        response.headers.append(("Retry-After", str(fault.retry_after)))
        return response


def _serve_wsdl(simulator, request):
    return xml_response(wsdl.render(request.path, request.base_url(simulator.base_url or "http://localhost")))


def _not_found(simulator, request):
    return text_response("Not Found", status=404)


_CHARSET = re.compile(r"charset=([\w.-]+)", re.IGNORECASE)


def mislabel(response):
    """The same answer, its bytes ISO-8859-1, its Content-Type still claiming UTF-8."""
    match = _CHARSET.search(response.content_type)
    text = response.body.decode(match.group(1) if match else "utf-8", errors="replace")
    response.body = text.encode("iso-8859-1", errors="replace")
    if match:
        response.content_type = _CHARSET.sub("charset=UTF-8", response.content_type)
    else:
        response.content_type += "; charset=UTF-8"
    return response
