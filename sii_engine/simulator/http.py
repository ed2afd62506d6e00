"""Minimal request/response objects over WSGI: no framework, bounded reads."""

import json
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

from .. import rut as rut_module
from ..errors import RutError

MAX_BODY = 64 * 1024 * 1024
READ_CHUNK = 256 * 1024

REASONS = {
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 413: "Payload Too Large", 429: "Too Many Requests", 500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict  # lower-case names
    body: bytes
    truncated: bool
    environ: dict = field(repr=False)
    too_large: bool = False  # the body was over the limit and was discarded
    endpoint: str = None  # the simulator's name of the service called
    force_invalid_token: bool = False  # set by the "expired_token" fault
    forced_upload_status: int = None  # set by the "upload_status" fault

    @classmethod
    def from_environ(cls, environ, max_body=MAX_BODY):
        headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        body, truncated, too_large = _read_body(environ, max_body)
        return cls(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            path=environ.get("PATH_INFO", "/") or "/",
            query={key: values[-1] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()},
            headers=headers,
            body=body,
            truncated=truncated,
            environ=environ,
            too_large=too_large,
        )

    @property
    def raw_query(self):
        return self.environ.get("QUERY_STRING", "")

    def cookie(self, name):
        raw = self.headers.get("cookie", "")
        if not raw:
            return None
        cookies = SimpleCookie()
        try:
            cookies.load(raw)
        except CookieError:
            return None
        morsel = cookies.get(name)
        return morsel.value if morsel is not None else None

    def base_url(self, default):
        host = self.headers.get("host")
        if not host:
            return default
        scheme = self.environ.get("wsgi.url_scheme", "http")
        return f"{scheme}://{host}"


def _read_body(environ, max_body):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b"", False, False
    if length > max_body:
        _drain(environ["wsgi.input"], length)
        return b"", False, True
    stream = environ["wsgi.input"]
    chunks, remaining = [], length
    try:
        while remaining > 0:
            chunk = stream.read(min(READ_CHUNK, remaining))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError:  # socket timeout: the client declared more than it sent
        pass
    return b"".join(chunks), remaining > 0, False


def _drain(stream, length):
    remaining = length
    try:
        while remaining > 0:
            chunk = stream.read(min(READ_CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
    except OSError:
        return


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: list = field(default_factory=list)
    reset: bool = False  # close the connection without answering

    @property
    def status_line(self):
        return f"{self.status} {REASONS.get(self.status, 'Status')}"

    def header_list(self):
        return [("Content-Type", self.content_type), ("Content-Length", str(len(self.body))), *self.headers]


def xml_response(text, status=200, content_type="text/xml; charset=utf-8"):
    body = text.encode("utf-8") if isinstance(text, str) else text
    return Response(status=status, body=body, content_type=content_type)


def json_response(data, status=200):
    body = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
    return Response(status=status, body=body, content_type="application/json; charset=utf-8")


def text_response(text, status=200, content_type="text/plain; charset=utf-8"):
    return Response(status=status, body=text.encode("utf-8"), content_type=content_type)


def join_rut(number, verifier):
    """``rutSender``/``dvSender`` style halves to the SII form, or ``None`` if invalid."""
    if number is None or verifier is None:
        return None
    try:
        return rut_module.normalize(f"{str(number).strip()}-{str(verifier).strip()}")
    except RutError:
        return None
