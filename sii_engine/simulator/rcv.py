"""The RCV's registroreclamodteservice: acceptances and claims of DTEs the simulator received.

JAX-WS style SOAP 1.1 (rpc/literal, namespace
``http://ws.registroreclamodte.diii.sdi.sii.cl``, answers in an unqualified
``<return>``), the token in the cookie ``TOKEN``. A document is known when it
came in an envelope the simulator accepted (or accepted with objections);
the 8 days run from that envelope's reception (or from the date a test set
with :meth:`SiiSimulator.set_reception_date`), judged with the simulator's
clock by :func:`sii_engine.rcv.within_deadline`. The caller acts for a
company when the token's RUT is the company's, is listed for it in
``company_users``, or uploaded envelopes for it (the SII lets only its
enrolled persons do that). Events are kept in the state (``rcv``).
"""

from xml.sax.saxutils import escape

from lxml import etree

from .. import rut as rut_module
from ..rcv import (
    ACTION_TEXT,
    CODE_TEXT,
    DATE_FORMAT,
    EVENT_TEXT,
    RCV_DOCUMENT_TYPES,
    RcvCode,
    within_deadline,
)
from . import sii_time, soap
from .http import join_rut, xml_response
from .state import TOKEN_OK, document_key

NAMESPACE = "http://ws.registroreclamodte.diii.sdi.sii.cl"
PATHS = frozenset({
    "/WSREGISTRORECLAMODTECERT/registroreclamodteservice",
    "/WSREGISTRORECLAMODTE/registroreclamodteservice",
})
VERSION = "1.2"
TOKEN_FAULT = "No se ha podido validar el TOKEN"
#: Types that can be ceded (consultarDocDteCedible answers 20 for the others). (simulator choice)
CEDIBLE_TYPES = frozenset({33, 34, 43, 46})
#: The registry starts with documents of 14 January 2017 (code 10 before).
REGISTRY_START = "2017-01-14"
_CLAIMS = ("RCD", "RFP", "RFT")
_GOODS_CLAIMS = ("RFP", "RFT")
_PAID_OR_FREE = (1, 3)  # FmaPago contado, gratuito


def handle(simulator, request):
    if request.method != "POST":
        return xml_response("<html><body>registroreclamodteservice</body></html>",
                            content_type="text/html; charset=utf-8")
    try:
        operation, params = _read_call(request.body)
    except soap.SoapRequestError as error:
        return soap.fault(str(error), code="soapenv:Client")
    handler = _OPERATIONS.get(operation)
    if handler is None:
        return soap.fault(f"Cannot find dispatch method for {{{NAMESPACE}}}{operation}", code="soapenv:Client")
    token = request.cookie("TOKEN")
    if request.force_invalid_token and token:
        simulator.state.revoke_token(token)
    verdict, caller = simulator.state.check_token(token, "soap", simulator.config.token_ttl)
    if verdict != TOKEN_OK:
        return soap.fault(TOKEN_FAULT, code="soapenv:Server")
    return xml_response(_envelope(operation, handler(_Call(simulator, caller, params))))


def _read_call(body):
    """``(operation, parameters)``, refusing what a JAX-WS rpc/literal endpoint would not
    unmarshal: the call outside the service's namespace, or qualified parameters."""
    call = soap.call_element(body)
    if etree.QName(call).namespace != NAMESPACE:
        raise soap.SoapRequestError(f"Cannot find dispatch method for {call.tag}")
    params = {}
    for child in call:
        if not isinstance(child.tag, str):
            continue
        if etree.QName(child).namespace is not None:
            raise soap.SoapRequestError(f"Unmarshalling Error: unexpected element {child.tag}")
        params[child.tag] = child.text or ""
    return etree.QName(call).localname, params


def internal_error(request):
    """The answer of the ``rcv_internal_error`` fault: codResp -1, nothing done."""
    try:
        operation, _params = soap.parse_call(request.body)
    except soap.SoapRequestError as error:
        return soap.fault(str(error))
    return xml_response(_envelope(operation, _answer(RcvCode.INTERNAL_ERROR)))


class _Call:
    """One call: the simulator, the caller's RUT (the token's) and the document the parameters name."""

    def __init__(self, simulator, caller, params):
        self.simulator = simulator
        self.state = simulator.state
        self.caller = caller
        self.params = params
        self.issuer = join_rut(params.get("rutEmisor"), params.get("dvEmisor"))
        document_type = params.get("tipoDoc", "").strip()
        folio = params.get("folio", "").strip()
        self.document_type = int(document_type) if document_type.isdecimal() and len(document_type) < 4 else None
        self.folio = int(folio) if folio.isdecimal() and len(folio) <= 10 and int(folio) > 0 else None
        self.key = None
        self.record = None
        if self.issuer and self.document_type and self.folio:
            self.key = document_key(self.issuer, self.document_type, self.folio)
            with self.state.lock:
                record = self.state.data["documents"].get(self.key)
                self.record = dict(record) if record is not None else None

    def input_error(self):
        """The code of a parameter error (1 RUT, 2 folio), or None."""
        if self.issuer is None:
            return RcvCode.BAD_ISSUER_RUT
        if self.folio is None or self.document_type is None:
            return RcvCode.BAD_FOLIO
        return None

    def acts_for(self, company):
        if company is None:
            return False
        if self.caller == company or self.caller in self.simulator.config.company_users.get(company, ()):
            return True
        with self.state.lock:
            return any(envelope["company_rut"] == company and envelope["sender_rut"] == self.caller
                       for envelope in self.state.data["envelopes"].values())

    def is_party(self):
        return self.acts_for(self.record["receiver_rut"]) or self.acts_for(self.issuer)

    def too_old(self):
        return (self.record.get("issue_date") or "") < REGISTRY_START

    def received_at(self):
        """The SII's reception of the document (naive, Chilean local time)."""
        with self.state.lock:
            override = self.state.data.get("rcv", {}).get(self.key, {}).get("received_at")
            envelope = self.state.data["envelopes"].get(str(self.record["track_id"]))
        moment = override if override is not None else envelope["received_at"]
        return sii_time.local(moment)

    def in_time(self):
        return within_deadline(self.received_at(), sii_time.local(self.state.clock()))

    def events(self):
        with self.state.lock:
            return [dict(event) for event in self.state.data.get("rcv", {}).get(self.key, {}).get("events", [])]

    def add_event(self, code):
        with self.state.lock:
            entry = self.state.data.setdefault("rcv", {}).setdefault(self.key, {})
            entry.setdefault("events", []).append({"code": code, "rut": self.caller, "at": self.state.clock()})
            self.state.save()


# --- operations -------------------------------------------------------------------------------


def ingresar_aceptacion_reclamo(call):
    problem = call.input_error()
    if problem is not None:
        return _answer(problem)
    if call.document_type not in RCV_DOCUMENT_TYPES:
        return _answer(RcvCode.TYPE_NOT_IN_REGISTRY)
    action = call.params.get("accionDoc", "").strip().upper()
    if action not in ACTION_TEXT:
        return _answer(RcvCode.BAD_ACTION)
    if call.record is None:
        return _answer(RcvCode.NOT_RECEIVED)
    if call.too_old():
        return _answer(RcvCode.BEFORE_2017)
    if not call.acts_for(call.record["receiver_rut"]):
        return _answer(RcvCode.NOT_RECEIVER)
    if call.record.get("payment_form") in _PAID_OR_FREE:
        return _answer(RcvCode.PAID_OR_FREE)
    with call.state.lock:  # decide and register as one step: two callers cannot both register
        previous = [event["code"] for event in call.events()]
        if action in previous:  # (simulator choice: before the deadline, so a late retry sees its own success)
            return _answer(RcvCode.ALREADY_REGISTERED)
        if not call.in_time():
            return _answer(RcvCode.DEADLINE_PASSED)
        code, claims = _conflict(action, previous)
        if code is not None:
            return _answer(code, previous="/".join(claims))
        call.add_event(action)
    return _answer(RcvCode.OK)


def _conflict(action, previous):
    """The code that refuses ``action`` after the ``previous`` events, or None."""
    claims = [code for code in previous if code in _CLAIMS]
    if action == "ACD" and claims:
        return RcvCode.ACCEPT_OF_CLAIMED, claims
    if action == "ERM" and claims:
        return RcvCode.RECEIPT_OF_CLAIMED, claims
    if action in _CLAIMS:
        if "ACD" in previous:
            return RcvCode.CLAIM_OF_ACCEPTED, claims
        if "ERM" in previous:
            return RcvCode.CLAIM_OF_RECEIVED, claims
        if action in _GOODS_CLAIMS and any(code in _GOODS_CLAIMS for code in claims):
            return RcvCode.GOODS_ALREADY_CLAIMED, claims
        if claims:
            return RcvCode.ALREADY_CLAIMED, claims
    return None, claims


def listar_eventos(call):
    problem = call.input_error()
    if problem is not None:
        return _answer(problem)
    if call.document_type not in RCV_DOCUMENT_TYPES:
        return _answer(RcvCode.TYPE_NOT_IN_REGISTRY)
    if call.record is None:
        return _answer(RcvCode.NOT_RECEIVED)
    if not call.is_party():
        return _answer(RcvCode.NOT_ISSUER_OR_RECEIVER)
    events = call.events()
    if not events:
        return _answer(RcvCode.NO_EVENTS)
    return _answer(RcvCode.EVENTS_LISTED, events=events)


def fecha_recepcion(call):
    """The reception date as ``DD-MM-YYYY HH:MM:SS``; empty when unknown or not the caller's
    (simulator choice: the SII's answer in those cases is not documented)."""
    if call.input_error() is not None or call.record is None or not call.is_party():
        return "<return></return>"
    return f"<return>{call.received_at().strftime(DATE_FORMAT)}</return>"


def doc_cedible(call):
    problem = call.input_error()
    if problem is not None:
        return _answer(problem)
    if call.record is None:
        return _answer(RcvCode.NOT_RECEIVED)
    if call.too_old():
        return _answer(RcvCode.BEFORE_2017)
    if not call.is_party():
        return _answer(RcvCode.NOT_ISSUER_OR_RECEIVER)
    if call.document_type not in CEDIBLE_TYPES:
        return _answer(RcvCode.NOT_CEDIBLE_TYPE)
    if call.record.get("modified_by") in ("ANC", "AND"):
        return _answer(RcvCode.ANNULLED_BY_NOTE)
    previous = [event["code"] for event in call.events()]
    if any(code in _CLAIMS for code in previous):
        return _answer(RcvCode.CLAIMED_NOT_CEDIBLE)
    if "ERM" in previous:
        return _answer(RcvCode.CEDIBLE)
    if not call.in_time():
        return _answer(RcvCode.CEDIBLE_TACITLY)
    return _answer(RcvCode.NO_CLAIM_NOR_RECEIPT)


def get_version(call):
    return f"<return>{VERSION}</return>"


_OPERATIONS = {
    "ingresarAceptacionReclamoDoc": ingresar_aceptacion_reclamo,
    "listarEventosHistDoc": listar_eventos,
    "consultarFechaRecepcionSii": fecha_recepcion,
    "consultarDocDteCedible": doc_cedible,
    "getVersion": get_version,
}


# --- the answer ---------------------------------------------------------------------------------


def _answer(code, events=(), previous=""):
    text = CODE_TEXT[int(code)].format(previous=previous)
    items = "".join(_event(event) for event in events)
    return (f"<return><codResp>{int(code)}</codResp><descResp>{escape(text)}</descResp>{items}</return>")


def _event(event):
    number, verifier = rut_module.split(event["rut"])
    at = sii_time.local(event["at"]).strftime(DATE_FORMAT)
    return (
        "<listaEventosDoc>"
        f"<codEvento>{escape(event['code'])}</codEvento><descEvento>{escape(EVENT_TEXT[event['code']])}</descEvento>"
        f"<rutResponsable>{number}</rutResponsable><dvResponsable>{verifier}</dvResponsable>"
        f"<fechaEvento>{at}</fechaEvento>"
        "</listaEventosDoc>"
    )


def _envelope(operation, inner):
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f'<S:Envelope xmlns:S="{soap.SOAP_ENV_NS}"><S:Body>'
        f'<ns2:{operation}Response xmlns:ns2="{NAMESPACE}">{inner}</ns2:{operation}Response>'
        "</S:Body></S:Envelope>"
    )
