"""The SII transport: authentication, uploads and status queries.

Modules:

* :mod:`.client` — :class:`SiiClient`, the facade the Odoo layer calls;
* :mod:`.environments` — hosts of certification, production, or a simulator;
* :mod:`.auth` — seed, signed seed, token (SOAP and boleta REST);
* :mod:`.tokens` — token cache interface and the in-memory default;
* :mod:`.soap` — the SII's Axis services through zeep, from shipped WSDLs;
* :mod:`.httpclient` — sessions, timeouts, fault classification;
* :mod:`.retry` — exponential backoff with jitter, Retry-After;
* :mod:`.answers` — reading the SII's answers (pure functions);
* :mod:`.status` — the status model (:class:`SiiStatus`, :class:`State`);
* :mod:`.rcv` — the RCV's registry of acceptances and claims (:class:`RcvAnswer`, :class:`RcvRefused`);
* :mod:`.errors` — the typed errors.
"""

from .client import SiiClient
from .environments import CERTIFICATION, PRODUCTION, Environment
from .errors import (
    AuthenticationError,
    SiiUnavailable,
    StatusQueryError,
    TokenRejected,
    TransportError,
    UploadAlreadyReceived,
    UploadOutcomeUnknown,
    UploadRejected,
)
from .rcv import RcvAnswer, RcvRefused
from .retry import RetryPolicy
from .status import DocumentResult, SiiStatus, State, TypeCount, UploadResult
from .tokens import DEFAULT_TOKEN_LIFETIME, CachedToken, MemoryTokenCache, TokenCache, TokenKey

__all__ = [
    "CERTIFICATION",
    "DEFAULT_TOKEN_LIFETIME",
    "PRODUCTION",
    "AuthenticationError",
    "CachedToken",
    "DocumentResult",
    "Environment",
    "MemoryTokenCache",
    "RcvAnswer",
    "RcvRefused",
    "RetryPolicy",
    "SiiClient",
    "SiiStatus",
    "SiiUnavailable",
    "State",
    "StatusQueryError",
    "TokenCache",
    "TokenKey",
    "TokenRejected",
    "TransportError",
    "TypeCount",
    "UploadAlreadyReceived",
    "UploadOutcomeUnknown",
    "UploadRejected",
    "UploadResult",
]
