"""The SII's SOAP services: CrSeed, GetTokenFromSeed, QueryEstUp, QueryEstDte."""

from .. import rut as rut_module
from . import codes, soap, status, wsdl
from .auth import issue_token
from .http import join_rut, xml_response
from .state import TOKEN_INACTIVE, TOKEN_MISSING, TOKEN_OK

REALM = "soap"
_TOKEN_ESTADO = {
    TOKEN_MISSING: codes.TOKEN_COOKIE_INACTIVE,
    TOKEN_INACTIVE: codes.TOKEN_INACTIVE,
}


def handle(simulator, request):
    """Dispatch a SOAP call to the operation it names on the service at ``request.path``."""
    if request.method != "POST":
        return xml_response("<html><body><h1>" + request.path + "</h1><p>Hi there, this is an AXIS service!</p>"
                            "</body></html>", content_type="text/html; charset=utf-8")
    try:
        operation, params = soap.parse_call(request.body)
    except soap.SoapRequestError as error:
        return soap.fault(str(error))
    handler = _OPERATIONS.get((request.path, operation))
    if handler is None:
        return soap.fault(f"No such operation '{operation}'", code="soapenv:Server.NoSuchOperation")
    inner = handler(simulator, request, params)
    return soap.answer(operation, wsdl.namespace(request.path), inner)


def get_seed(simulator, request, params):
    seed = simulator.state.new_seed(REALM)
    return soap.respuesta(header=[("ESTADO", codes.AUTH_OK)], body=[("SEMILLA", seed)])


def get_token(simulator, request, params):
    result = issue_token(params.get("pszXml", ""), simulator.state, REALM, simulator.config.seed_ttl)
    body = [("TOKEN", result.token)] if result.token else []
    return soap.respuesta(header=[("ESTADO", result.estado), ("GLOSA", result.glosa)], body=body)


def _token_error(simulator, request, token):
    """The ESTADO/GLOSA pair when ``token`` is not good, else ``None``."""
    if request.force_invalid_token and token:
        simulator.state.revoke_token(token)
    verdict, _rut = simulator.state.check_token(token, REALM, simulator.config.token_ttl)
    if verdict == TOKEN_OK:
        return None
    estado = _TOKEN_ESTADO.get(verdict, codes.TOKEN_UNKNOWN)
    return estado, codes.TOKEN_TEXT[estado]


def get_est_up(simulator, request, params):
    attention = simulator.attention()
    problem = _token_error(simulator, request, params.get("Token", "").strip())
    if problem is not None:
        return status.est_up_error_xml(*problem, attention)
    company = join_rut(params.get("RutCompania"), params.get("DvCompania"))
    track_id = params.get("TrackId", "").strip()
    record = simulator.state.envelope(int(track_id)) if track_id.isdigit() else None
    if record is None or record["channel"] != REALM or record["company_rut"] != company:
        return status.est_up_error_xml(codes.QUERY_BAD_INPUT, codes.QUERY_BAD_INPUT_TEXT, attention,
                                       extra=[("ERR_CODE", 1), ("SQL_CODE", 0), ("SRV_CODE", 0)])
    record = simulator.state.poll(record["track_id"])
    state_code, final = status.visible_state(record, simulator.config.processing_polls)
    return status.est_up_xml(record, state_code, final, attention)


def get_est_dte(simulator, request, params):
    attention = simulator.attention()
    problem = _token_error(simulator, request, params.get("Token", "").strip())
    if problem is not None:
        return soap.respuesta(header=[("ESTADO", problem[0]), ("GLOSA", problem[1]), ("NUM_ATENCION", attention)])
    company = join_rut(params.get("RutCompania"), params.get("DvCompania"))
    receiver = join_rut(params.get("RutReceptor"), params.get("DvReceptor"))
    document_type, folio = params.get("TipoDte", "").strip(), params.get("FolioDte", "").strip()
    if company is None or receiver is None or not document_type.isdigit() or not folio.isdigit():
        return soap.respuesta(header=[("ESTADO", "-2"), ("GLOSA", "ERROR RETORNO"), ("NUM_ATENCION", attention)])
    code, detail = status.document_state(
        simulator.state,
        company_rut=rut_module.normalize(company),
        document_type=int(document_type),
        folio=int(folio),
        receiver_rut=receiver,
        issue_date=status.parse_date(params.get("FechaEmisionDte")),
        amount=status.parse_amount(params.get("MontoDte")),
        unauthorized_companies=simulator.config.unauthorized_companies,
    )
    text = codes.DTE_STATE_TEXT[code]
    return soap.respuesta(header=[
        ("ESTADO", code),
        ("GLOSA_ESTADO", text),
        ("ERR_CODE", codes.DTE_STATE_ERR_CODE[code]),
        ("GLOSA_ERR", detail or text),
        ("NUM_ATENCION", attention),
    ])


_OPERATIONS = {
    ("/DTEWS/CrSeed.jws", "getSeed"): get_seed,
    ("/DTEWS/GetTokenFromSeed.jws", "getToken"): get_token,
    ("/DTEWS/QueryEstUp.jws", "getEstUp"): get_est_up,
    ("/DTEWS/QueryEstDte.jws", "getEstDte"): get_est_dte,
}
