"""Retries with exponential backoff and jitter.

What is retried is decided by the caller raising
:class:`~.errors.RetryableFault` (timeouts, resets, HTTP 5xx, 429/503, HTML
or unreadable answers); everything else (an SII decision, a typed error)
goes straight through. The default policy makes 4 attempts, waiting about
1 s, 2 s and 4 s in between (each delay drawn in [50 %, 100 %] of its value
so that many workers do not retry in step), never more than 30 s; a
``Retry-After`` the SII sends is honoured up to 120 s.

``sleep``, ``random`` and ``clock`` are injectable: tests run without waiting.
"""

import logging
import random as random_module
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from .errors import RetryableFault, SiiUnavailable

_logger = logging.getLogger(__name__)


@dataclass
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 1.0
    multiplier: float = 2.0
    max_delay: float = 30.0
    #: Upper bound for a server's Retry-After (a longer one is cut to this).
    retry_after_cap: float = 120.0
    #: Give up once this many seconds were spent waiting (None: no limit).
    max_total_delay: float | None = 300.0
    #: Fraction of each delay that is random: 0.5 draws it in [50 %, 100 %].
    jitter: float = 0.5
    sleep: object = field(default=time.sleep, repr=False)
    random: object = field(default=random_module.random, repr=False)

    def __post_init__(self):
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")

    def backoff(self, retry_number):
        """The delay before retry ``retry_number`` (1 = the first retry), jitter applied."""
        delay = min(self.max_delay, self.base_delay * self.multiplier ** (retry_number - 1))
        return delay * (1 - self.jitter * self.random())

    def delay_for(self, retry_number, retry_after=None):
        """The delay to wait: the server's Retry-After (capped) when it sent one, else the backoff."""
        if retry_after is not None:
            return max(0.0, min(float(retry_after), self.retry_after_cap))
        return self.backoff(retry_number)

    def call(self, operation, *, service, url):
        """Run ``operation()``, retrying it on :class:`RetryableFault`.

        After the last attempt the fault becomes :class:`SiiUnavailable`
        (the fault is its ``__cause__``).
        """
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                return operation()
            except RetryableFault as fault:
                delay = self.delay_for(attempt, fault.retry_after)
                out_of_time = self.max_total_delay is not None and waited + delay > self.max_total_delay
                if attempt >= self.max_attempts or out_of_time:
                    _logger.warning("SII %s at %s: giving up after %d attempt(s): %s", service, url, attempt, fault)
                    raise SiiUnavailable(service=service, url=url, attempts=attempt, reason=str(fault)) from fault
                _logger.warning(
                    "SII %s at %s failed (%s); attempt %d of %d in %.1f s",
                    service, url, fault, attempt + 1, self.max_attempts, delay,
                )
                self.sleep(delay)
                waited += delay


NO_RETRY = RetryPolicy(max_attempts=1)


def parse_retry_after(value, now=None):
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, moment.timestamp() - now)
