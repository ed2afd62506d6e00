"""A storm of SII faults: the simulator failing a share of all calls, in every way it knows.

:class:`StormSimulator` is the SII simulator that also counts the requests
in flight (a test advancing the clock waits until the SII has finished with
what it was given) and, while a :class:`FaultStorm` is on, fails calls at
random (seeded: a run can be replayed).
"""

import random
import threading
import time

from ..sii_engine.simulator import SiiSimulator
from ..sii_engine.simulator.app import UPLOAD_ENDPOINTS
from ..sii_engine.simulator.faults import Fault, FaultQueue

TOKEN_ENDPOINTS = frozenset({"getSeed", "getToken", "boleta.semilla", "boleta.token"})


def family(endpoint):
    if endpoint in UPLOAD_ENDPOINTS:
        return "upload"
    return "token" if endpoint in TOKEN_ENDPOINTS else "query"


def storm_faults(endpoint_family, timeout_seconds):
    """{kind: [faults]}: every fault the simulator can inject that changes what an endpoint of the family answers.

    Left out: ``expired_token`` where no token is presented, ``upload_status``
    outside uploads, and ``rate_limit`` with ``process=True``: an HTTP 429 says the
    server did not take the request, so a client rightly sends it again.
    """
    processed = endpoint_family == "upload"  # received, then the answer lost: only an upload cares
    faults = {
        "timeout": [Fault("timeout", seconds=timeout_seconds), Fault("timeout", seconds=timeout_seconds, process=True)],
        "reset": [Fault("reset"), *([Fault("reset", process=True)] if processed else [])],
        "http_500": [Fault("http_500"), *([Fault("http_500", process=True)] if processed else [])],
        "html": [Fault("html"), *([Fault("html", process=True)] if processed else [])],
        "error_text": [Fault("error_text"), Fault("error_text", status=500),
                       *([Fault("error_text", process=True)] if processed else [])],
        "rate_limit": [Fault("rate_limit", retry_after=1)],
        "mislabelled_encoding": [Fault("mislabelled_encoding")],
    }
    if endpoint_family != "token":
        faults["expired_token"] = [Fault("expired_token")]
    if endpoint_family == "upload":
        faults["upload_status"] = [Fault("upload_status", status=status) for status in (1, 2, 3, 5, 6, 7, 8, 9, 99)]
    return faults


class FaultStorm(FaultQueue):
    """Each call fails with probability ``rate``; in each family of endpoints the kinds come in turn."""

    def __init__(self, rate, seed, timeout_seconds):
        super().__init__()
        self.rate = rate
        self.timeout_seconds = timeout_seconds
        self._random = random.Random(seed)
        self._due = {}
        self.served = []  # (endpoint, Fault)

    def pop(self, endpoint):
        queued = super().pop(endpoint)
        if queued is not None:
            return queued
        with self._lock:
            if self._random.random() >= self.rate:
                return None
            faults = storm_faults(family(endpoint), self.timeout_seconds)
            due = self._due.setdefault(family(endpoint), [])
            if not due:
                due.extend(sorted(faults))
                self._random.shuffle(due)
                # Kinds no call has met yet come first (popped from the end): a short run still meets
                # every kind, those only one family has (upload_status) included.
                seen = self.kinds()
                due.sort(key=lambda kind: kind not in seen)
            fault = self._random.choice(faults[due.pop()])
            self.served.append((endpoint, fault))
            self.applied.append((endpoint, fault.kind))
            return fault

    def failing(self):
        """Faults served that make the call fail (a mislabelled answer is still the right answer)."""
        return [(endpoint, fault) for endpoint, fault in self.served if fault.kind != "mislabelled_encoding"]

    def kinds(self):
        return {fault.kind for _endpoint, fault in self.served}


class StormSimulator(SiiSimulator):
    """The SII simulator, with the requests it is handling counted."""

    def __init__(self, **settings):
        super().__init__(**settings)
        self._handling = 0
        self._idle = threading.Condition()

    def __call__(self, environ, start_response):
        with self._idle:
            self._handling += 1
        try:
            return super().__call__(environ, start_response)
        finally:
            with self._idle:
                self._handling -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout=60):
        """Wait until no request is being handled (a held timeout fault included)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._handling:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"the SII simulator still handles {self._handling} request(s)")
                self._idle.wait(remaining)

    def storm(self, rate, seed, timeout_seconds):
        """Start failing calls; returns the storm (its ``served`` faults). ``calm()`` ends it."""
        self.faults = FaultStorm(rate, seed, timeout_seconds)
        return self.faults

    def calm(self):
        self.faults = FaultQueue()

