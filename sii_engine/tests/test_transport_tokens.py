"""Token cache and token manager: keys, expiry, renewal, threads. A fake clock, no SII."""

import threading

import pytest

from sii_engine.transport.tokens import (
    DEFAULT_TOKEN_LIFETIME,
    CachedToken,
    MemoryTokenCache,
    TokenCache,
    TokenKey,
    TokenManager,
)


class Clock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


class TokenIssuer:
    """Hands out numbered tokens, as the SII's getToken would (the manager's ``fetch``)."""

    def __init__(self):
        self.issued = 0
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            self.issued += 1
            return f"TOKEN{self.issued:03d}"


KEY = TokenKey("certification", "soap", "76192083-9", "ab" * 32)


def test_the_default_lifetime_is_half_an_hour():
    assert DEFAULT_TOKEN_LIFETIME == 1800


def test_keys_separate_environment_service_company_and_certificate():
    keys = {
        KEY,
        TokenKey("production", "soap", "76192083-9", "ab" * 32),
        TokenKey("certification", "boleta", "76192083-9", "ab" * 32),
        TokenKey("certification", "soap", "11111111-1", "ab" * 32),
        TokenKey("certification", "soap", "76192083-9", "cd" * 32),
    }
    assert len(keys) == 5
    assert str(KEY) == "certification|soap|76192083-9|" + "ab" * 32


def test_cached_token_never_shows_the_token():
    cached = CachedToken("SECRETTOKEN", issued_at=1.0, expires_at=2.0)
    assert "SECRETTOKEN" not in repr(cached)
    assert cached.is_valid(1.5) and not cached.is_valid(2.0)


def test_memory_cache_get_set_forget():
    cache = MemoryTokenCache()
    assert cache.get(KEY) is None
    cached = CachedToken("T", 0, 10)
    cache.set(KEY, cached)
    assert cache.get(KEY) is cached
    cache.discard(KEY)
    assert cache.get(KEY) is None and len(cache) == 0
    cache.set(KEY, None)  # forgetting twice is harmless


def test_a_token_is_reused_until_it_expires():
    clock, issuer, cache = Clock(), TokenIssuer(), MemoryTokenCache()
    manager = TokenManager(KEY, issuer, cache, lifetime=1800, clock=clock)
    assert manager.token() == "TOKEN001"
    clock.now += 1799
    assert manager.token() == "TOKEN001"
    assert issuer.issued == 1
    clock.now += 1
    assert manager.token() == "TOKEN002"
    stored = cache.get(KEY)
    assert stored.issued_at == clock.now and stored.expires_at == clock.now + 1800


def test_a_refused_token_is_renewed_once():
    clock, issuer = Clock(), TokenIssuer()
    manager = TokenManager(KEY, issuer, MemoryTokenCache(), clock=clock)
    first = manager.token()
    assert manager.renew(refused_token=first) == "TOKEN002"
    assert manager.token() == "TOKEN002"
    assert issuer.issued == 2


def test_renewal_reuses_a_token_another_caller_already_renewed():
    issuer = TokenIssuer()
    manager = TokenManager(KEY, issuer, MemoryTokenCache(), clock=Clock())
    old = manager.token()
    newer = manager.renew(refused_token=old)
    assert manager.renew(refused_token=old) == newer  # a second caller with the same stale token
    assert issuer.issued == 2


def test_two_clients_share_a_cache():
    cache, issuer, clock = MemoryTokenCache(), TokenIssuer(), Clock()
    first = TokenManager(KEY, issuer, cache, clock=clock)
    second = TokenManager(KEY, issuer, cache, clock=clock)
    assert first.token() == second.token() == "TOKEN001"
    assert issuer.issued == 1


def test_concurrent_callers_wait_for_one_authentication():
    issuer = TokenIssuer()
    release = threading.Event()

    def slow_fetch():
        release.wait(5)
        return issuer()

    manager = TokenManager(KEY, slow_fetch, MemoryTokenCache(), clock=Clock())
    results = []
    threads = [threading.Thread(target=lambda: results.append(manager.token())) for _ in range(8)]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(5)
    assert results == ["TOKEN001"] * 8
    assert issuer.issued == 1


class DictTable(TokenCache):
    """What the Odoo layer does: tokens in a table keyed by ``str(key)``, only get/set."""

    def __init__(self):
        self.rows = {}

    def get(self, key):
        row = self.rows.get(str(key))
        return CachedToken(*row) if row else None

    def set(self, key, cached):
        if cached is None:
            self.rows.pop(str(key), None)
        else:
            self.rows[str(key)] = (cached.token, cached.issued_at, cached.expires_at)


def test_a_pluggable_cache_keeps_tokens_across_managers():
    table, issuer, clock = DictTable(), TokenIssuer(), Clock()
    assert TokenManager(KEY, issuer, table, clock=clock).token() == "TOKEN001"
    # a later cron run: new manager, same table
    assert TokenManager(KEY, issuer, table, clock=clock).token() == "TOKEN001"
    clock.now += DEFAULT_TOKEN_LIFETIME
    assert TokenManager(KEY, issuer, table, clock=clock).token() == "TOKEN002"
    manager = TokenManager(KEY, issuer, table, clock=clock)
    manager.invalidate()
    assert table.rows == {}


def test_an_authentication_failure_leaves_no_token():
    cache = MemoryTokenCache()

    def failing_fetch():
        raise RuntimeError("the SII refused")

    manager = TokenManager(KEY, failing_fetch, cache, clock=Clock())
    with pytest.raises(RuntimeError):
        manager.token()
    assert cache.get(KEY) is None
