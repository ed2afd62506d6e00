"""Faults injected per call: one queue per endpoint, each call consumes one fault.

Kinds (``Fault.kind``):

* ``timeout``: wait ``seconds`` (longer than the client's timeout), then answer
  normally. The request *is* processed: an upload that times out on the client
  side was still received, as happens with the real SII. With ``process=True``
  it is processed first and only its answer waits: the upload is registered
  while the client still waits (for a test to kill the client then).
* ``reset``: close the connection without any answer (TCP RST).
* ``http_500``: HTTP 500 with an HTML error page.
* ``html``: HTTP 200 with an HTML page (the SII's maintenance page) instead of XML/JSON.
* ``error_text``: the plain text ``Error 500`` with HTTP ``status`` (default 200).
* ``expired_token``: the token presented is treated as expired (and revoked), so
  the service answers as the SII does for an invalid token.
* ``rate_limit``: HTTP 429 with ``Retry-After: retry_after``.
* ``mislabelled_encoding``: the normal answer, its bytes re-encoded ISO-8859-1
  while ``Content-Type`` still says ``charset=UTF-8``.
* ``upload_status``: (upload endpoints) answer ``status`` (1..9, 99) at once.
* ``rcv_internal_error``: (registroreclamodte) answer codResp -1, the SII's "Error
  Interno ... reintentar más tarde", without processing the request.

``process=True`` makes the simulator handle the request before it answers with
the fault (kinds timeout, reset, http_500, html, error_text, rate_limit): the upload is
received but the client never learns its track id.
"""

import threading
from collections import defaultdict, deque
from dataclasses import dataclass

KINDS = frozenset({
    "timeout", "reset", "http_500", "html", "error_text", "expired_token",
    "rate_limit", "mislabelled_encoding", "upload_status", "rcv_internal_error",
})
ANY_ENDPOINT = "*"

HTML_ERROR_PAGE = (
    "<html><head><title>Error 500--Internal Server Error</title></head>"
    "<body><h1>Error 500--Internal Server Error</h1>"
    "<p>From RFC 2068 <i>Hypertext Transfer Protocol -- HTTP/1.1</i></p></body></html>"
)
HTML_MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html lang=\"es\"><head><meta charset=\"utf-8\"><title>SII | Servicio de Impuestos Internos"
    "</title></head><body><h1>Servicio no disponible</h1><p>Estamos realizando mantenciones. Por favor intente"
    " m\u00e1s tarde.</p></body></html>"
)


@dataclass(frozen=True)
class Fault:
    kind: str
    seconds: float = 5.0  # timeout
    retry_after: int = 1  # rate_limit
    status: int = None  # error_text HTTP status (default 200) / upload_status STATUS
    process: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {sorted(KINDS)}")
        if self.kind == "upload_status" and not self.status:
            raise ValueError("an upload_status fault needs the (non-zero) STATUS to answer")


class FaultQueue:
    def __init__(self):
        self._lock = threading.Lock()
        self._queues = defaultdict(deque)
        self.applied = []  # (endpoint, kind) of every fault served, in order

    def push(self, endpoint, fault):
        with self._lock:
            self._queues[endpoint].append(fault)

    def pop(self, endpoint):
        with self._lock:
            for name in (endpoint, ANY_ENDPOINT):
                queue = self._queues.get(name)
                if queue:
                    fault = queue.popleft()
                    self.applied.append((endpoint, fault.kind))
                    return fault
            return None

    def pending(self, endpoint=None):
        with self._lock:
            if endpoint is None:
                return sum(len(queue) for queue in self._queues.values())
            return len(self._queues.get(endpoint, ()))

    def clear(self):
        """Drop the queued faults and forget the ones served."""
        with self._lock:
            self._queues.clear()
            self.applied.clear()
