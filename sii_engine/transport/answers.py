"""Reading the SII's answers: seeds, tokens, upload receipts, statuses.

Pure functions from what the SII sent (bytes, text, JSON) to values or typed
errors; no network here, so each is tested on the SII's transcribed answers.

The SII's answers are not always what they declare: some are ISO-8859-1 bytes
declared (or served) as UTF-8. :func:`xml_bytes` re-reads such bodies so that
"Envío" survives; :func:`decode_text` does the same for JSON and plain text.
"""

import codecs
import json
import re

from lxml import etree

from ..errors import XmlInputError
from ..xmlutil import find, findtext, local
from ..xmlutil import parse as parse_xml
from .errors import (
    AnswerUnreadable,
    AuthenticationError,
    RetryableFault,
    StatusQueryError,
    TokenInvalid,
    UploadAlreadyReceived,
    UploadRejected,
)
from .status import (
    DOCUMENT,
    ENVELOPE,
    DocumentResult,
    SiiStatus,
    State,
    TypeCount,
    UploadResult,
    document_state,
    envelope_state,
)

_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?\?>", re.S)
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""", re.S)
_UTF8_NAMES = {"utf-8", "utf8"}
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body")

UPLOAD_STATUS_MEANING = {
    "0": "upload OK",
    "1": "the sender has no permission to send",
    "2": "file size error (too large or too small)",
    "3": "incomplete file (size differs from the size parameter)",
    "5": "not authenticated",
    "6": "the company is not authorised to send files",
    "7": "invalid schema",
    "8": "signature error",
    "9": "system locked",
    "99": "the file was already received",
}
# STATUS that says nothing against the file: the same file may be sent later.
_UPLOAD_TRANSIENT = {"9"}

# Token errors of the SOAP queries (getEstUp / getEstDte ESTADO).
TOKEN_ERROR_CODES = {"001", "002", "003", "-3"}

# getSeed / getToken ESTADO that a new attempt (a new seed) may cure.
_AUTH_TRANSIENT = {"-1", "-2", "07", "08", "09", "10", "12"}


# --- bytes and text ----------------------------------------------------------------


def looks_like_html(data):
    if isinstance(data, str):
        data = data.encode("utf-8", errors="replace")
    head = data[:1024].lstrip().lower()
    return any(marker in head for marker in _HTML_MARKERS)


def _is_ascii(data):
    try:
        data.decode("ascii")
    except UnicodeDecodeError:
        return False
    return True


def decode_text(data, declared=None):
    """Bytes to text: the declared charset if the bytes fit it, else UTF-8, else ISO-8859-1."""
    if isinstance(data, str):
        return data
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace")
    candidates = []
    if declared:
        candidates.append(declared)
    candidates.append("utf-8")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
        if encoding.lower().replace("_", "-") not in _UTF8_NAMES and not _is_ascii(data):
            # Declared as a single-byte charset: if the bytes are valid UTF-8 they are UTF-8.
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                pass
        return text
    return data.decode("latin-1")


def xml_bytes(data):
    """XML bytes re-encoded as UTF-8 without declaration, whatever they declared.

    ISO-8859-1 bytes declared UTF-8 (or not declared) are read as ISO-8859-1;
    UTF-8 bytes declared ISO-8859-1 are read as UTF-8.
    """
    if isinstance(data, str):
        return _DECLARATION.sub(b"", data.encode("utf-8"), count=1).lstrip()
    match = _DECLARED_ENCODING.match(data)
    declared = match.group(1).decode("ascii").lower() if match else None
    text = decode_text(data, declared).lstrip("\ufeff")
    return _DECLARATION.sub(b"", text.encode("utf-8"), count=1).lstrip()


def read_xml(data, what):
    """Parse an SII XML answer (bytes or text), or raise :class:`AnswerUnreadable`."""
    raw = data if isinstance(data, bytes) else (data or "").encode("utf-8")
    if not raw.strip():
        raise AnswerUnreadable(f"empty answer from {what}")
    if looks_like_html(raw):
        raise AnswerUnreadable(f"{what} answered an HTML page instead of XML: {_excerpt(raw)}")
    try:
        return parse_xml(xml_bytes(data))
    except XmlInputError as error:
        raise AnswerUnreadable(f"{what} answered something that is not XML ({error.params.get('reason')}): "
                               f"{_excerpt(raw)}") from None


def read_json(data, what, declared=None):
    text = decode_text(data, declared) if isinstance(data, bytes) else (data or "")
    raw = data if isinstance(data, bytes) else text.encode("utf-8")
    if not raw.strip():
        raise AnswerUnreadable(f"empty answer from {what}")
    if looks_like_html(raw):
        raise AnswerUnreadable(f"{what} answered an HTML page instead of JSON: {_excerpt(raw)}")
    try:
        value = json.loads(text)
    except ValueError:
        raise AnswerUnreadable(f"{what} answered something that is not JSON: {_excerpt(raw)}") from None
    if not isinstance(value, dict):
        raise AnswerUnreadable(f"{what} answered JSON that is not an object: {_excerpt(raw)}")
    return value


def _excerpt(data, limit=200):
    text = decode_text(data) if isinstance(data, bytes) else str(data)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def _header(root):
    """RESP_HDR's children as a dict of stripped texts (first occurrence)."""
    header = {}
    node = find(root, "RESP_HDR")
    if node is not None:
        for child in node:
            if isinstance(child.tag, str):
                header.setdefault(local(child.tag), (child.text or "").strip())
    return header


def _respuesta(data, what):
    root = read_xml(data, what)
    if local(root.tag) != "RESPUESTA":
        raise AnswerUnreadable(f"{what} answered <{local(root.tag)}>, not <SII:RESPUESTA>")
    return root, _header(root)


def _is_zero(code):
    return code is not None and code.strip().lstrip("0") == "" and code.strip() != ""


def _attention(header):
    value = header.get("NUM_ATENCION")
    return " ".join(value.split()) if value else None


# --- authentication ------------------------------------------------------------------


def parse_seed(data, service="CrSeed.getSeed"):
    """The seed of a getSeed (SOAP, decoded) or boleta.electronica.semilla answer."""
    root, header = _respuesta(data, service)
    return _authentication_value(root, header, service, "SEMILLA", "seed")


def parse_token(data, service="GetTokenFromSeed.getToken"):
    """The token of a getToken (SOAP, decoded) or boleta.electronica.token answer.

    Errors never quote this answer: it may hold a token.
    """
    try:
        root, header = _respuesta(data, service)
    except AnswerUnreadable:
        raise AnswerUnreadable(f"{service} answered something that is not its XML answer") from None
    return _authentication_value(root, header, service, "TOKEN", "token")


def _authentication_value(root, header, service, element, what):
    """The SEMILLA or TOKEN of an authentication answer whose ESTADO is 0, else the typed error."""
    status = header.get("ESTADO")
    if not _is_zero(status):
        glosa = header.get("GLOSA") or f"no {what}"
        if status in _AUTH_TRANSIENT or status is None:
            raise RetryableFault(f"{service} answered ESTADO {status} ({glosa})")
        raise AuthenticationError(service=service, status=status, glosa=glosa)
    value = (findtext(root, f"RESP_BODY/{element}") or "").strip()
    if not value:
        raise AnswerUnreadable(f"{service} answered ESTADO {status} without a {element}")
    return value


# --- uploads ---------------------------------------------------------------------------


def parse_upload(data, file_name, kind="EnvioDTE", service="DTEUpload"):
    """The track id of a DTEUpload ``<RECEPCIONDTE>`` answer, or a typed error."""
    root = read_xml(data, service)
    if local(root.tag) != "RECEPCIONDTE":
        raise AnswerUnreadable(f"{service} answered <{local(root.tag)}>, not <RECEPCIONDTE>")
    status = (findtext(root, "STATUS") or "").strip()
    if not status:
        raise AnswerUnreadable(f"{service} answered a RECEPCIONDTE without STATUS")
    errors = tuple(" ".join((node.text or "").split()) for node in root.iter("ERROR"))
    if status != "0":
        raise upload_error(status, file_name, errors, service)
    track_id = (findtext(root, "TRACKID") or "").strip()
    if not track_id:
        raise AnswerUnreadable(f"{service} answered STATUS 0 without a TRACKID")
    return UploadResult(
        track_id=track_id,
        kind=kind,
        file_name=findtext(root, "FILE") or file_name,
        status=status,
        received_at=findtext(root, "TIMESTAMP"),
        raw=etree.tostring(root, encoding="unicode"),
    )


def upload_error(status, file_name, errors=(), service="DTEUpload"):
    status = str(status).strip()
    meaning = UPLOAD_STATUS_MEANING.get(status, "internal error of the SII")
    if status == "99":
        return UploadAlreadyReceived(status, meaning, file_name, errors)
    rejected = UploadRejected(status, meaning, file_name, errors, transient=status not in UPLOAD_STATUS_MEANING
                              or status in _UPLOAD_TRANSIENT)
    if status == "5":
        return TokenInvalid(service, status, meaning, final_error=rejected)
    return rejected


def parse_boleta_upload(data, file_name, declared=None, service="boleta.electronica.envio"):
    """The track id of a boleta REST upload answer (JSON), or a typed error."""
    answer = read_json(data, service, declared)
    track_id = answer.get("trackid", answer.get("trackId", answer.get("track_id")))
    status = str(answer.get("estado") or "").strip()
    if track_id in (None, "", 0):
        errors = _rest_error_texts(answer)
        raise UploadRejected(status or "?", answer.get("descripcion") or answer.get("glosa") or "no track id",
                             file_name, errors)
    return UploadResult(
        track_id=str(track_id).strip(),
        kind="EnvioBOLETA",
        file_name=str(answer.get("file") or file_name),
        status=status or "REC",
        received_at=answer.get("fecha_recepcion"),
        raw=json.dumps(answer, ensure_ascii=False),
    )


def _rest_error_texts(answer):
    texts = []
    for key in ("error", "errores", "errors"):
        value = answer.get(key)
        if isinstance(value, list):
            texts += [_rest_error_text(item) for item in value]
        elif value:
            texts.append(str(value))
    return tuple(texts)


def _rest_error_text(item):
    if not isinstance(item, dict):
        return str(item)
    where = "-".join(str(item[key]) for key in ("seccion", "codigo") if item.get(key) not in (None, ""))
    text = item.get("descripcion") or ""
    if item.get("detalle"):
        text = f"{text} ({item['detalle']})" if text else str(item["detalle"])
    return f"{where} {text}".strip()


# --- statuses --------------------------------------------------------------------------


def _query_error(service, header):
    """Token errors and query errors of getEstUp / getEstDte, else None."""
    status = header.get("ESTADO") or ""
    glosa = header.get("GLOSA") or header.get("GLOSA_ERR") or header.get("GLOSA_ESTADO") or ""
    if status in TOKEN_ERROR_CODES or "TOKEN" in glosa.upper():
        return TokenInvalid(service, status, glosa or "token")
    if status == "-11":
        if header.get("ERR_CODE") == "1":
            return StatusQueryError(service=service, status=status, glosa=glosa or "El envío no es de la empresa")
        return None
    if status.startswith("-"):
        # -1 .. -14 other than -3/-11: errors of the SII's own lookup (retorno, SQL).
        if status in ("-6", "-10", "-13"):
            return StatusQueryError(service=service, status=status, glosa=glosa or "query refused")
        return RetryableFault(f"{service} answered ESTADO {status} ({glosa})")
    return None


def parse_est_up(data, track_id=None, service="QueryEstUp.getEstUp"):
    """A getEstUp answer (the decoded SII:RESPUESTA) as a :class:`SiiStatus`."""
    root, header = _respuesta(data, service)
    status = header.get("ESTADO")
    if not status:
        raise AnswerUnreadable(f"{service} answered without ESTADO")
    error = _query_error(service, header)
    if error is not None:
        raise error
    counts = _counts(find(root, "RESP_BODY"))
    state, final, meaning = envelope_state(status, counts)
    return SiiStatus(
        scope=ENVELOPE,
        code=status,
        description=header.get("GLOSA") or meaning,
        state=state,
        final=final,
        track_id=header.get("TRACKID") or (str(track_id) if track_id is not None else None),
        counts=counts,
        errors=tuple(" ".join((n.text or "").split()) for n in root.iter("ERROR", "ERR_DESC") if n.text),
        attention=_attention(header),
        raw=etree.tostring(root, encoding="unicode"),
    )


def _int(value, default=0):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _counts(body):
    """The per-type counts of a getEstUp body: a flat sequence TIPO_DOCTO, INFORMADOS, ... per type."""
    if body is None:
        return ()
    groups = []
    for child in body:
        if not isinstance(child.tag, str):
            continue
        name = local(child.tag)
        if name == "TIPO_DOCTO":
            groups.append({"TIPO_DOCTO": child.text})
        elif groups and name in ("INFORMADOS", "ACEPTADOS", "RECHAZADOS", "REPAROS"):
            groups[-1][name] = child.text
    return tuple(
        TypeCount(
            document_type=_int(group.get("TIPO_DOCTO")),
            informed=_int(group.get("INFORMADOS")),
            accepted=_int(group.get("ACEPTADOS")),
            rejected=_int(group.get("RECHAZADOS")),
            objected=_int(group.get("REPAROS")),
        )
        for group in groups
    )


def parse_est_dte(data, service="QueryEstDte.getEstDte"):
    """A getEstDte answer (the decoded SII:RESPUESTA) as a :class:`SiiStatus`."""
    root, header = _respuesta(data, service)
    status = header.get("ESTADO")
    if not status:
        raise AnswerUnreadable(f"{service} answered without ESTADO")
    error = _query_error(service, header)
    if error is not None:
        raise error
    state, final, meaning = document_state(status)
    description = header.get("GLOSA_ESTADO") or header.get("GLOSA") or meaning
    errors = ()
    if header.get("GLOSA_ERR") and header.get("ERR_CODE") not in (None, "", "0"):
        errors = (header["GLOSA_ERR"],)
    return SiiStatus(
        scope=DOCUMENT,
        code=status,
        description=description,
        state=state,
        final=final,
        errors=errors,
        attention=_attention(header),
        raw=etree.tostring(root, encoding="unicode"),
    )


def parse_boleta_envelope_status(data, track_id=None, declared=None, service="boleta.electronica.envio (estado)"):
    """The boleta REST envelope status (JSON) as a :class:`SiiStatus`."""
    answer = read_json(data, service, declared)
    status = str(answer.get("estado") or "").strip().upper()
    if not status:
        raise AnswerUnreadable(f"{service} answered without estado: {_excerpt(json.dumps(answer))}")
    counts = tuple(
        TypeCount(
            document_type=_int(item.get("tipo")),
            informed=_int(item.get("informados")),
            accepted=_int(item.get("aceptados")),
            rejected=_int(item.get("rechazados")),
            objected=_int(item.get("reparos")),
        )
        for item in (answer.get("estadistica") or ())
        if isinstance(item, dict)
    )
    documents = []
    errors = list(_rest_error_texts(answer))
    for item in answer.get("detalle_rep_rech") or ():
        if not isinstance(item, dict):
            continue
        code = str(item.get("estado") or "").strip().upper()
        state, _final, meaning = document_state(code)
        texts = tuple(_rest_error_text(error) for error in (item.get("error") or ()))
        if item.get("folio") in (None, "") and state == State.REJECTED:
            errors += texts  # a rejection of the envelope, not of one document
            continue
        documents.append(DocumentResult(
            document_type=_int(item.get("tipo"), None) if item.get("tipo") not in (None, "") else None,
            folio=_int(item.get("folio"), None),
            code=code,
            state=state,
            description=item.get("descripcion") or meaning,
            errors=texts,
        ))
    state, final, meaning = envelope_state(status, counts)
    return SiiStatus(
        scope=ENVELOPE,
        code=status,
        description=answer.get("glosa") or answer.get("descripcion") or meaning,
        state=state,
        final=final,
        track_id=str(answer.get("trackid") or track_id or "") or None,
        counts=counts,
        documents=tuple(documents),
        errors=tuple(errors),
        raw=json.dumps(answer, ensure_ascii=False),
    )


def parse_boleta_document_status(data, declared=None, service="boleta.electronica (estado)"):
    """The boleta REST document status (JSON ``{"codigo", "descripcion"}``) as a :class:`SiiStatus`."""
    answer = read_json(data, service, declared)
    code = str(answer.get("codigo") or answer.get("estado") or "").strip().upper()
    if not code:
        raise AnswerUnreadable(f"{service} answered without codigo: {_excerpt(json.dumps(answer))}")
    state, final, meaning = document_state(code)
    return SiiStatus(
        scope=DOCUMENT,
        code=code,
        description=answer.get("descripcion") or meaning,
        state=state,
        final=final,
        raw=json.dumps(answer, ensure_ascii=False),
    )
