"""The RFC 1867 form of DTEUpload and of the boleta envío, read byte-exact.

Fields: ``rutSender``, ``dvSender``, ``rutCompany``, ``dvCompany`` and the file
``archivo`` (with its ``filename``). The SII manual writes the header as
``multipart/form-data: boundary=…`` (a colon); that spelling is accepted too.
"""

import re
from dataclasses import dataclass, field
from email.parser import HeaderParser
from email.utils import collapse_rfc2231_value

_BOUNDARY = re.compile(r'boundary="?([^";,\s]+)"?', re.IGNORECASE)
MAX_FIELD_BYTES = 1024


class MultipartError(Exception):
    def __init__(self, reason, truncated=False):
        super().__init__(reason)
        self.truncated = truncated


@dataclass
class UploadForm:
    fields: dict = field(default_factory=dict)
    file_name: str = None
    file_data: bytes = None


def parse_form(content_type, body):
    if not content_type or "multipart/form-data" not in content_type.lower():
        raise MultipartError("the request is not multipart/form-data")
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise MultipartError("the multipart request names no boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    if delimiter + b"--" not in body:
        raise MultipartError("the multipart body has no closing boundary", truncated=True)
    form = UploadForm()
    segments = body.split(delimiter)
    for segment in segments[1:]:
        if segment.startswith(b"--"):
            break
        _read_part(segment, form)
    return form


def _read_part(segment, form):
    if segment.startswith(b"\r\n"):
        segment = segment[2:]
    elif segment.startswith(b"\n"):
        segment = segment[1:]
    separator = b"\r\n\r\n" if b"\r\n\r\n" in segment else b"\n\n"
    if separator not in segment:
        raise MultipartError("a multipart part has no header/body separator")
    head, content = segment.split(separator, 1)
    if content.endswith(b"\r\n"):
        content = content[:-2]
    elif content.endswith(b"\n"):
        content = content[:-1]
    headers = HeaderParser().parsestr(_text(head) + "\r\n\r\n")
    name = _param(headers, "name")
    if not name:
        return
    filename = _param(headers, "filename")
    if filename is not None or name == "archivo":
        form.file_name = str(filename or "")
        form.file_data = content
    elif len(content) <= MAX_FIELD_BYTES:
        form.fields[str(name)] = content.decode("latin-1").strip()


def _text(data):
    """Part headers: UTF-8 as browsers and urllib3 write them, else ISO-8859-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _param(headers, name):
    value = headers.get_param(name, header="content-disposition")
    if value is None:
        return None
    return collapse_rfc2231_value(value)
