"""The SII's SOAP services (Axis, rpc style) through zeep.

The WSDLs are read from ``sii_engine/data/wsdl/<environment>/`` and their
endpoint replaced by the environment's (or the simulator's) URL: no WSDL is
ever fetched from the network. zeep posts through :class:`_SiiTransport`,
which applies the client's timeouts and fault rules, repairs answers whose
bytes are not in the encoding they declare, and logs nothing of what it
sends (a getEstUp request carries the token).
"""

import contextvars
import logging
import threading
from urllib.parse import urlparse

import zeep
import zeep.exceptions
from lxml import etree

from ..errors import XmlInputError
from ..xmlutil import parse as parse_xml
from .answers import looks_like_html, xml_bytes
from .errors import AnswerUnreadable, RetryableFault, TokenInvalid

_logger = logging.getLogger(__name__)

_SETTINGS = zeep.Settings(strict=False, forbid_dtd=True, forbid_entities=True, forbid_external=True)
# HTTP headers of the call in progress in this thread (the RCV's token cookie): zeep has no
# per-call headers, and one service object serves every thread.
_CALL_HEADERS = contextvars.ContextVar("sii_soap_call_headers", default=None)


class _SiiTransport(zeep.Transport):
    def __init__(self, http, service):
        user_agent = http.session.headers.get("User-Agent")
        super().__init__(session=http.session, timeout=http.timeout, operation_timeout=http.timeout)
        http.session.headers["User-Agent"] = user_agent  # zeep sets its own; keep ours
        self._close_session = False
        self.http = http
        self.service = service

    def load(self, url):
        if urlparse(url).scheme in ("http", "https"):
            raise RuntimeError(f"refusing to fetch {url}: the SII's WSDLs are shipped with the addon")
        return super().load(url)

    def post(self, address, message, headers):
        extra = _CALL_HEADERS.get()
        if extra:
            headers = {**headers, **extra}
        response = self.http.request("POST", address, data=message, headers=headers, service=self.service)
        content = response.content
        if looks_like_html(content):
            raise AnswerUnreadable(f"{self.service}: {address} answered an HTML page (HTTP {response.status_code})")
        if not content.strip():
            raise AnswerUnreadable(f"{self.service}: {address} answered an empty body (HTTP {response.status_code})")
        content = xml_bytes(content)  # what it holds, re-encoded as UTF-8
        try:
            parse_xml(content)  # zeep's lenient parser would take "Error 500" for an empty document
        except XmlInputError as error:
            raise AnswerUnreadable(f"{self.service}: {address} answered something that is not XML "
                                   f"(HTTP {response.status_code}, {error.params.get('reason')})") from None
        response._content = content
        return response

    def post_xml(self, address, envelope, headers):
        message = etree.tostring(envelope, encoding="utf-8", xml_declaration=True)
        return self.post(address, message, headers)


class SoapService:
    """One SII SOAP service (CrSeed, GetTokenFromSeed, QueryEstUp, QueryEstDte)."""

    def __init__(self, name, wsdl_path, address, http):
        self.name = name
        self.address = address
        self._wsdl_path = wsdl_path
        self._http = http
        self._proxy = None
        self._lock = threading.Lock()

    def _service_proxy(self):
        with self._lock:
            if self._proxy is None:
                transport = _SiiTransport(self._http, self.name)
                client = zeep.Client(wsdl=self._wsdl_path, transport=transport, settings=_SETTINGS)
                binding = next(iter(client.wsdl.bindings))
                self._proxy = client.create_service(binding, self.address)
            return self._proxy

    def call(self, operation, *, token_cookie=None, text=True, **params):
        """Call ``operation`` once; return the string it returns (the SII's inner XML).

        ``token_cookie``: send the token as ``Cookie: TOKEN=…`` (the RCV's way);
        ``text=False``: return what zeep made of the answer as it is (an object, or None).
        Raises :class:`RetryableFault` (or its :class:`AnswerUnreadable`) for
        faults, :class:`TokenInvalid` for a SOAP fault about the token.
        """
        what = f"{self.name}.{operation}"
        proxy = self._service_proxy()
        headers = _CALL_HEADERS.set({"Cookie": f"TOKEN={token_cookie}"} if token_cookie else None)
        try:
            result = getattr(proxy, operation)(**params)
        except RetryableFault:
            raise
        except zeep.exceptions.Fault as fault:
            message = " ".join(str(fault.message or "").split())
            if "TOKEN" in message.upper():
                raise TokenInvalid(what, "SOAP Fault", message) from None
            raise RetryableFault(f"{what} answered a SOAP fault: {message[:300]}") from None
        except zeep.exceptions.TransportError as error:
            raise AnswerUnreadable(f"{what} answered HTTP {error.status_code} without a SOAP envelope") from None
        except (zeep.exceptions.Error, etree.XMLSyntaxError, ValueError) as error:
            raise AnswerUnreadable(f"{what} answered something that is not its SOAP answer "
                                   f"({type(error).__name__}: {str(error)[:200]})") from None
        finally:
            _CALL_HEADERS.reset(headers)
        if not text:
            return result
        if not isinstance(result, str) or not result.strip():
            raise AnswerUnreadable(f"{what} returned no string")
        return result
