"""Receiving an envelope: DTEUpload (SOAP world) and the boleta REST envío.

Both take the same multipart form. What is refused at once, before any track
id exists, gets an upload STATUS (RECEPCIONDTE) or an HTTP error (REST):
no/invalid token 5 / 401, sender not allowed 1, file empty or too large 2,
truncated 3, company not authorized 6, system blocked 9; not even XML 7. With
``strict_upload`` schema errors (7) and a bad envelope signature (8) are
refused at once too; otherwise they show later as RSC / RFR, like today's SII.
Everything else gets a track id and is checked (see :mod:`.validation`).
"""

import hashlib
import os
import re
import time
from dataclasses import dataclass, field

from ..errors import XmlInputError
from ..xmlutil import parse
from . import codes
from .books import check_book, is_book
from .http import join_rut
from .multipart import MultipartError, parse_form
from .registry import register_envelope
from .state import TOKEN_OK
from .validation import EnvelopeCheck, check_envelope

_UNSAFE_FILE_CHARACTERS = re.compile(r"[\x00-\x1f<>&\"]")


@dataclass
class UploadOutcome:
    status: int
    track_id: int = None
    sender_rut: str = None
    company_rut: str = None
    file_name: str = ""
    timestamp: float = field(default_factory=time.time)
    errors: list = field(default_factory=list)
    record: dict = None


def receive(simulator, request, *, realm, kind, forced_status=None):
    """Receive the upload in ``request``; return an :class:`UploadOutcome`."""
    config = simulator.config
    outcome = UploadOutcome(status=codes.UPLOAD_OK, timestamp=simulator.state.clock())
    token = request.cookie("TOKEN")
    if request.force_invalid_token and token:
        simulator.state.revoke_token(token)
    verdict, token_rut = simulator.state.check_token(token, realm, config.token_ttl)
    form, form_problem = _read_form(request, outcome)
    if forced_status is not None:
        outcome.status = forced_status
    elif verdict != TOKEN_OK:
        outcome.status = codes.UPLOAD_NOT_AUTHENTICATED
    elif form_problem is not None:
        outcome.status = form_problem
    elif not form.file_data or len(form.file_data) > config.max_upload_bytes:
        outcome.status = codes.UPLOAD_BAD_SIZE
    elif outcome.sender_rut is None or outcome.sender_rut != token_rut:
        outcome.status = codes.UPLOAD_SENDER_NOT_ALLOWED
    elif outcome.company_rut is None or outcome.company_rut in config.unauthorized_companies:
        outcome.status = codes.UPLOAD_COMPANY_NOT_AUTHORIZED
    elif config.blocked:
        outcome.status = codes.UPLOAD_BLOCKED
    else:
        _check_and_register(simulator, outcome, form.file_data, realm=realm, kind=kind)
    simulator.record_upload(request, outcome, form.file_data if form is not None else None)
    return outcome


def _read_form(request, outcome):
    """The form and, if it cannot be used, the STATUS that says why."""
    if request.too_large:
        return None, codes.UPLOAD_BAD_SIZE
    if request.truncated:
        return None, codes.UPLOAD_TRUNCATED
    try:
        form = parse_form(request.headers.get("content-type"), request.body)
    except MultipartError as error:
        outcome.errors = [str(error)]
        return None, codes.UPLOAD_TRUNCATED if error.truncated else codes.UPLOAD_BAD_SIZE
    outcome.file_name = _safe_file_name(form.file_name)
    outcome.sender_rut = join_rut(form.fields.get("rutSender"), form.fields.get("dvSender"))
    outcome.company_rut = join_rut(form.fields.get("rutCompany"), form.fields.get("dvCompany"))
    return form, None


def _check_and_register(simulator, outcome, data, *, realm, kind):
    config = simulator.config
    started = time.perf_counter()
    try:
        root = parse(data)
    except XmlInputError as error:
        root, errors = None, [str(error)]
    if root is None and realm == "soap":
        outcome.status, outcome.errors = codes.UPLOAD_SCHEMA, errors
        return
    if root is None:
        check = EnvelopeCheck(kind=kind, state=codes.SCHEMA_REJECTED, errors=errors)
    elif realm == "soap" and is_book(root):  # books go up through DTEUpload too
        check = check_book(root, company_rut=outcome.company_rut, sender_rut=outcome.sender_rut)
    else:
        check = check_envelope(root, kind=kind, company_rut=outcome.company_rut, sender_rut=outcome.sender_rut,
                               trusted_keys=config.trusted_keys, resolution=config.resolutions.get(outcome.company_rut))
    if config.strict_upload and realm == "soap" and check.state in (codes.SCHEMA_REJECTED, codes.SIGNATURE_REJECTED):
        outcome.status = codes.UPLOAD_SCHEMA if check.state == codes.SCHEMA_REJECTED else codes.UPLOAD_SIGNATURE
        outcome.errors = check.errors
        return
    outcome.track_id = simulator.state.next_track_id()
    upload = {
        "track_id": outcome.track_id,
        "channel": realm,
        "company_rut": outcome.company_rut,
        "sender_rut": outcome.sender_rut,
        "file": outcome.file_name,
        "digest": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "received_at": outcome.timestamp,
    }
    outcome.record = register_envelope(simulator.state, check, upload)
    simulator.count_processing(time.perf_counter() - started, len(outcome.record["documents"]))


def _safe_file_name(name):
    name = os.path.basename((name or "").replace("\\", "/"))
    return _UNSAFE_FILE_CHARACTERS.sub("_", name)[:200]
