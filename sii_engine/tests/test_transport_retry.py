"""Retry policy: backoff, jitter, Retry-After, and what is never retried. No real waiting."""

import datetime
import email.utils

import pytest

from sii_engine.transport.errors import (
    AnswerUnreadable,
    RetryableFault,
    SiiUnavailable,
    UploadOutcomeUnknown,
    UploadRejected,
)
from sii_engine.transport.retry import RetryPolicy, parse_retry_after


class Recorder:
    """Stands in for time.sleep: records the delays instead of waiting."""

    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)


def failing(times, fault_factory, result="done"):
    calls = {"count": 0}

    def operation():
        calls["count"] += 1
        if calls["count"] <= times:
            raise fault_factory()
        return result

    return operation, calls


def policy(**kwargs):
    sleep = Recorder()
    kwargs.setdefault("random", lambda: 0.0)
    return RetryPolicy(sleep=sleep, **kwargs), sleep


def test_exponential_backoff_without_jitter():
    retry, sleep = policy(max_attempts=5, base_delay=1.0, multiplier=2.0)
    operation, calls = failing(4, lambda: RetryableFault("reset"))
    assert retry.call(operation, service="test", url="http://x") == "done"
    assert calls["count"] == 5
    assert sleep.delays == [1.0, 2.0, 4.0, 8.0]


def test_backoff_is_capped():
    retry, sleep = policy(max_attempts=6, base_delay=1.0, multiplier=10.0, max_delay=30.0, max_total_delay=None)
    operation, _ = failing(5, lambda: RetryableFault("reset"))
    retry.call(operation, service="test", url="http://x")
    assert sleep.delays == [1.0, 10.0, 30.0, 30.0, 30.0]


def test_jitter_draws_each_delay_between_half_and_all_of_it():
    values = iter([1.0, 0.5, 0.0])
    retry, sleep = policy(max_attempts=4, base_delay=2.0, jitter=0.5, random=lambda: next(values))
    operation, _ = failing(3, lambda: RetryableFault("reset"))
    retry.call(operation, service="test", url="http://x")
    assert sleep.delays == [1.0, 3.0, 8.0]  # 2*(1-0.5), 4*(1-0.25), 8*(1-0)


def test_retry_after_is_honoured_and_capped():
    faults = iter([RetryableFault("429", sent=False, retry_after=7), RetryableFault("503", retry_after=3600)])
    retry, sleep = policy(max_attempts=3, retry_after_cap=120.0)
    operation, _ = failing(2, lambda: next(faults))
    assert retry.call(operation, service="test", url="http://x") == "done"
    assert sleep.delays == [7.0, 120.0]


def test_gives_up_with_a_typed_error_naming_the_cause():
    retry, sleep = policy(max_attempts=3)
    operation, calls = failing(10, lambda: AnswerUnreadable("HTML page"))
    with pytest.raises(SiiUnavailable) as caught:
        retry.call(operation, service="QueryEstUp.getEstUp", url="https://maullin.sii.cl/DTEWS/QueryEstUp.jws")
    assert calls["count"] == 3
    assert len(sleep.delays) == 2
    error = caught.value
    assert error.code == "sii_unavailable" and error.transient
    assert error.params["attempts"] == 3
    assert "HTML page" in str(error)
    assert isinstance(error.__cause__, AnswerUnreadable)


def test_total_waiting_time_is_bounded():
    retry, sleep = policy(max_attempts=10, base_delay=10.0, multiplier=2.0, max_delay=1000, max_total_delay=60)
    operation, calls = failing(10, lambda: RetryableFault("timeout"))
    with pytest.raises(SiiUnavailable):
        retry.call(operation, service="test", url="http://x")
    assert sleep.delays == [10.0, 20.0]  # the next 40 s would pass 60 s of waiting
    assert calls["count"] == 3


@pytest.mark.parametrize(
    "error",
    [
        UploadRejected("7", "invalid schema", "f.xml"),
        UploadOutcomeUnknown(url="http://x", file_name="f.xml", reason="read timeout"),
        ValueError("a bug"),
    ],
)
def test_decisions_and_unknown_outcomes_are_never_retried(error):
    retry, sleep = policy(max_attempts=5)
    calls = {"count": 0}

    def operation():
        calls["count"] += 1
        raise error

    with pytest.raises(type(error)):
        retry.call(operation, service="test", url="http://x")
    assert calls["count"] == 1
    assert sleep.delays == []


def test_single_attempt_policy():
    retry, sleep = policy(max_attempts=1)
    operation, calls = failing(1, lambda: RetryableFault("reset"))
    with pytest.raises(SiiUnavailable):
        retry.call(operation, service="test", url="http://x")
    assert calls["count"] == 1 and sleep.delays == []


def test_invalid_policies_are_refused():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(jitter=1.5)


def test_parse_retry_after():
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = datetime.datetime(2024, 5, 15, 12, 0, 0, tzinfo=datetime.timezone.utc)
    later = email.utils.format_datetime(now + datetime.timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(30.0)
    earlier = email.utils.format_datetime(now - datetime.timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(earlier, now=now.timestamp()) == 0.0
