"""SII session tokens and where they are kept between calls.

A token is asked for with the company's certificate (seed, signed seed,
token) and is then reused for every call until it expires. Tokens are keyed by
environment, service family (the SOAP services and the boleta REST API issue
different tokens), company RUT and certificate fingerprint: a token of one
certificate or one environment is never used for another.

Lifetime
--------
The SII does not publish a fixed lifetime; its tokens die after about an hour
without use, and nothing says that using one extends it. The engine therefore
keeps a token for :data:`DEFAULT_TOKEN_LIFETIME` = 30 minutes from the moment
it was issued, whatever the use — half the observed idle lifetime — and, should
the SII still refuse it earlier (restart, revocation), gets a new one once and
repeats the call (see :class:`~.client.SiiClient`).

Where tokens live
-----------------
:class:`TokenCache` is the interface (``get``/``set``); the default
:class:`MemoryTokenCache` keeps them in this process, thread-safe. The Odoo
layer can implement the same two methods over a database table so tokens
survive between cron runs. A cache never sees the certificate, only the token
text, its key and its expiry.
"""

import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

DEFAULT_TOKEN_LIFETIME = 30 * 60

SOAP = "soap"
BOLETA = "boleta"


@dataclass(frozen=True)
class TokenKey:
    environment: str
    service: str  # SOAP or BOLETA
    company_rut: str
    certificate_fingerprint: str

    def __str__(self):
        return "|".join((self.environment, self.service, self.company_rut, self.certificate_fingerprint))


@dataclass(frozen=True)
class CachedToken:
    token: str = field(repr=False)
    issued_at: float
    expires_at: float

    def is_valid(self, now):
        return bool(self.token) and now < self.expires_at

    def __repr__(self):  # never show the token itself
        return f"CachedToken(issued_at={self.issued_at!r}, expires_at={self.expires_at!r})"


class TokenCache(ABC):
    """Where tokens are kept. ``set(key, None)`` forgets the token of ``key``."""

    @abstractmethod
    def get(self, key):
        """The :class:`CachedToken` stored for ``key`` (expired or not), or None."""

    @abstractmethod
    def set(self, key, cached):
        """Store ``cached`` (a :class:`CachedToken`) for ``key``; ``None`` removes it."""

    def discard(self, key):
        self.set(key, None)


class MemoryTokenCache(TokenCache):
    """Tokens in a dict of this process, guarded by a lock."""

    def __init__(self):
        self._tokens = {}
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            return self._tokens.get(key)

    def set(self, key, cached):
        with self._lock:
            if cached is None:
                self._tokens.pop(key, None)
            else:
                self._tokens[key] = cached

    def __len__(self):
        with self._lock:
            return len(self._tokens)


class TokenManager:
    """Hands out a valid token for one key, asking ``fetch()`` for a new one when needed.

    Concurrent callers of the same manager wait for one fetch rather than
    each authenticating.
    """

    def __init__(self, key, fetch, cache, lifetime=DEFAULT_TOKEN_LIFETIME, clock=time.time):
        self.key = key
        self._fetch = fetch
        self._cache = cache
        self._lifetime = lifetime
        self._clock = clock
        self._lock = threading.Lock()

    def token(self):
        cached = self._cache.get(self.key)
        if cached is not None and cached.is_valid(self._clock()):
            return cached.token
        with self._lock:
            cached = self._cache.get(self.key)
            if cached is not None and cached.is_valid(self._clock()):
                return cached.token
            return self._renew()

    def renew(self, refused_token=None):
        """A new token, unless another caller already replaced ``refused_token``."""
        with self._lock:
            cached = self._cache.get(self.key)
            if (
                refused_token is not None
                and cached is not None
                and cached.token != refused_token
                and cached.is_valid(self._clock())
            ):
                return cached.token
            self._cache.discard(self.key)
            return self._renew()

    def invalidate(self):
        self._cache.discard(self.key)

    def _renew(self):
        token = self._fetch()
        now = self._clock()
        self._cache.set(self.key, CachedToken(token=token, issued_at=now, expires_at=now + self._lifetime))
        return token
