"""The boleta REST API under ``/recursos/v1/``.

Seed and token answer the SII's XML (tests/fixtures/sii_responses/10-12); the
envío and the status queries answer JSON (13-16). The token travels in a
``Cookie: TOKEN=…`` header; a missing, unknown or expired token is HTTP 401
with a plain-text body, as the API's other errors (400, 404) are.
"""

import re

from .. import rut as rut_module
from . import codes, sii_time, status
from .auth import issue_token
from .http import join_rut, json_response, text_response, xml_response
from .soap import respuesta
from .state import TOKEN_OK
from .upload import receive

REALM = "rest"
KIND = "EnvioBOLETA"
PREFIX = "/recursos/v1/"
XML_TYPE = "application/xml; charset=utf-8"
_ENVELOPE_PATH = re.compile(r"^/recursos/v1/boleta\.electronica\.envio/(\d+)-([0-9kK])-(\d+)$")
_DOCUMENT_PATH = re.compile(r"^/recursos/v1/boleta\.electronica/(\d+)-([0-9kK])-(\d+)-(\d+)/estado$")
# HTTP answer of the envío when the upload is refused before a track id exists
_UPLOAD_HTTP = {
    codes.UPLOAD_NOT_AUTHENTICATED: 401,
    codes.UPLOAD_SENDER_NOT_ALLOWED: 403,
    codes.UPLOAD_COMPANY_NOT_AUTHORIZED: 403,
    codes.UPLOAD_BAD_SIZE: 400,
    codes.UPLOAD_TRUNCATED: 400,
    codes.UPLOAD_SCHEMA: 400,
    codes.UPLOAD_SIGNATURE: 400,
    codes.UPLOAD_BLOCKED: 503,
}


def route(request):
    """``(endpoint name, handler)`` for a request under ``/recursos/v1/``, or ``None``."""
    path = request.path
    if path == PREFIX + "boleta.electronica.semilla":
        return "boleta.semilla", semilla
    if path == PREFIX + "boleta.electronica.token":
        return "boleta.token", token
    if path == PREFIX + "boleta.electronica.envio":
        return "boleta.envio", envio
    if _ENVELOPE_PATH.match(path):
        return "boleta.estado_envio", estado_envio
    if _DOCUMENT_PATH.match(path):
        return "boleta.estado", estado_boleta
    return None


def _method(request, expected):
    if request.method != expected:
        return text_response("Method Not Allowed", status=405)
    return None


def semilla(simulator, request):
    refused = _method(request, "GET")
    if refused:
        return refused
    seed = simulator.state.new_seed(REALM)
    return xml_response(respuesta(header=[("ESTADO", "0")], body=[("SEMILLA", seed)], body_first=True),
                        content_type=XML_TYPE)


def token(simulator, request):
    refused = _method(request, "POST")
    if refused:
        return refused
    result = issue_token(request.body, simulator.state, REALM, simulator.config.seed_ttl)
    body = [("TOKEN", result.token)] if result.token else []
    return xml_response(respuesta(header=[("ESTADO", result.estado), ("GLOSA", result.glosa)], body=body),
                        content_type=XML_TYPE)


def _unauthorized(simulator, request):
    """The 401 answer when the request's token is not good, else ``None``."""
    presented = request.cookie("TOKEN")
    if request.force_invalid_token and presented:
        simulator.state.revoke_token(presented)
    verdict, _rut = simulator.state.check_token(presented, REALM, simulator.config.token_ttl)
    if verdict != TOKEN_OK:
        return text_response("Unauthorized: TOKEN invalido o expirado", status=401)
    return None


def envio(simulator, request):
    refused = _method(request, "POST")
    if refused:
        return refused
    outcome = receive(simulator, request, realm=REALM, kind=KIND, forced_status=request.forced_upload_status)
    if outcome.status != codes.UPLOAD_OK:
        http_status = _UPLOAD_HTTP.get(outcome.status, 500)
        return text_response(f"{codes.UPLOAD_STATUS_TEXT.get(outcome.status, 'Error Interno')}", status=http_status)
    received = sii_time.local(outcome.timestamp)
    return json_response({
        "rut_emisor": outcome.company_rut,
        "rut_envia": outcome.sender_rut,
        "trackid": outcome.track_id,
        "fecha_recepcion": received.strftime("%Y-%m-%d %H:%M:%S"),
        "estado": codes.RECEIVED,
        "file": outcome.file_name,
    })


def estado_envio(simulator, request):
    refused = _method(request, "GET") or _unauthorized(simulator, request)
    if refused:
        return refused
    number, verifier, track_id = _ENVELOPE_PATH.match(request.path).groups()
    company = join_rut(number, verifier)
    record = simulator.state.envelope(int(track_id))
    if record is None or record["channel"] != REALM or record["company_rut"] != company:
        return text_response("Not Found: TrackID no existe para la empresa", status=404)
    record = simulator.state.poll(record["track_id"])
    state_code, final = status.visible_state(record, simulator.config.processing_polls)
    return json_response(status.rest_envelope(record, state_code, final))


def estado_boleta(simulator, request):
    refused = _method(request, "GET") or _unauthorized(simulator, request)
    if refused:
        return refused
    number, verifier, document_type, folio = _DOCUMENT_PATH.match(request.path).groups()
    company = join_rut(number, verifier)
    query = request.query
    receiver = join_rut(query.get("rut_receptor"), query.get("dv_receptor"))
    if company is None:
        return text_response("Bad Request: RUT invalido", status=400)
    code, _detail = status.document_state(
        simulator.state,
        company_rut=rut_module.normalize(company),
        document_type=int(document_type),
        folio=int(folio),
        receiver_rut=receiver,
        issue_date=status.parse_date(query.get("fechaEmision")),
        amount=status.parse_amount(query.get("monto")),
        unauthorized_companies=simulator.config.unauthorized_companies,
    )
    return json_response({"codigo": code, "descripcion": codes.DTE_STATE_TEXT[code].rstrip(".")})
