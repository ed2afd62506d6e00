"""HTTP plumbing shared by the SOAP, upload and boleta REST calls.

One ``requests.Session`` per client, every request with a timeout, and the
transport faults sorted into what the retry loop can act on:

* connection refused / connect timeout: the request never left —
  :class:`RetryableFault` with ``sent=False``;
* 429 and 503: the server says it did not take the request (``sent=False``),
  with the ``Retry-After`` it asked for;
* read timeout, reset, other 5xx: the request may have been processed
  (``sent=True``): retried for queries, :class:`UploadOutcomeUnknown` for an
  upload.

The session keeps no cookies: the SII token travels in an explicit
``Cookie: TOKEN=…`` header, never in a jar a later request could mix up.
"""

import http.cookiejar
import logging

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from .answers import looks_like_html
from .errors import RetryableFault
from .retry import parse_retry_after

_logger = logging.getLogger(__name__)

#: The User-Agent the SII's manual prescribes for DTEUpload ("PROG 1.0" makes it answer XML).
UPLOAD_USER_AGENT = "Mozilla/4.0 (compatible; PROG 1.0; Windows NT 5.0; YComp 5.0.2.4)"
#: The boleta API's gateway refuses user agents that are not of this "Mozilla ... PROG 1.0" form.
BOLETA_USER_AGENT = "Mozilla/4.0 ( compatible; PROG 1.0; Windows NT)"

#: 4xx answers other than 429: the server refused the request itself (the callers read them).
CLIENT_ERRORS = frozenset(range(400, 500)) - {429}

#: (connect, read) seconds.
DEFAULT_TIMEOUT = (10.0, 60.0)


def make_session():
    session = requests.Session()
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    session.headers["User-Agent"] = UPLOAD_USER_AGENT
    return session


def normalize_timeout(timeout):
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, (int, float)):
        return (float(timeout), float(timeout))
    connect, read = timeout
    return (float(connect), float(read))


def _never_connected(error):
    """True when a ConnectionError happened before the request was sent."""
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, ConnectTimeoutError)  # NewConnectionError is one too


class Http:
    """``request()`` with a timeout, faults turned into :class:`RetryableFault`."""

    def __init__(self, session=None, timeout=None):
        self.session = session or make_session()
        self.timeout = normalize_timeout(timeout)

    def request(self, method, url, *, service, accept_statuses=(), **kwargs):
        """The response, or :class:`RetryableFault`.

        Responses with a status in ``accept_statuses`` (e.g. 401 for the
        token logic) are returned whatever they are.
        """
        kwargs.setdefault("timeout", self.timeout)
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.exceptions.ConnectTimeout:
            raise RetryableFault(f"{service}: connection to {url} timed out", sent=False) from None
        except requests.exceptions.ConnectionError as error:
            if _never_connected(error):
                raise RetryableFault(f"{service}: cannot connect to {url} ({_short(error)})", sent=False) from None
            raise RetryableFault(f"{service}: connection to {url} broken ({_short(error)})", sent=True) from None
        except requests.exceptions.Timeout:
            raise RetryableFault(f"{service}: no answer from {url} within {kwargs['timeout'][1]:.0f} s",
                                 sent=True) from None
        except requests.exceptions.RequestException as error:
            raise RetryableFault(f"{service}: {url} failed ({_short(error)})", sent=True) from None
        status = response.status_code
        if status in accept_statuses:
            return response
        if status in (429, 503):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise RetryableFault(
                f"{service}: {url} answered HTTP {status}"
                + (f" (Retry-After {retry_after:.0f} s)" if retry_after is not None else ""),
                sent=False, retry_after=retry_after, status_code=status,
            )
        if status >= 500 and not self._is_soap_fault(response):
            raise RetryableFault(f"{service}: {url} answered HTTP {status}: {_body_excerpt(response)}",
                                 sent=True, status_code=status)
        return response

    @staticmethod
    def _is_soap_fault(response):
        head = response.content[:2048]
        return b"Envelope" in head and b"Fault" in response.content and not looks_like_html(head)


def _short(error):
    text = str(error)
    return text if len(text) <= 200 else text[:200] + "..."


def _body_excerpt(response, limit=200):
    text = " ".join(response.content[:limit * 2].decode("latin-1").split())
    return text[:limit] or "(empty body)"
