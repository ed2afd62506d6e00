"""The RCV client (registroreclamodteservice) against the simulator, over real HTTP.

The issuer (76192083-9, its person 11111111-1) uploads invoices to the
simulator; the receiver (77777777-7, acting through 12345678-5) accepts,
acknowledges and claims them. The simulator's clock is the test's, so the
8 days can pass. Every answer code the simulator gives is met here once.
"""

import datetime
import time

import pytest
import pytz
import requests
from lxml import etree

from sii_engine import certificate as certificate_module
from sii_engine import document as document_module
from sii_engine import dte, envelope, identities
from sii_engine.rcv import RcvAction, RcvCode, acceptance_deadline, is_tacitly_accepted
from sii_engine.simulator import SiiSimulator, start_simulator
from sii_engine.transport import MemoryTokenCache, RcvRefused, RetryPolicy, SiiClient, SiiUnavailable

ISSUER = "76192083-9"
RECEIVER = "77777777-7"
RECEIVER_PERSON = "12345678-5"
STRANGER = "96790240-3"  # a person acting for nobody involved
RESOLUTION = (datetime.date(2014, 8, 22), 80)
RCV_PATH = "/WSREGISTRORECLAMODTECERT/registroreclamodteservice"
RCV_NS = "http://ws.registroreclamodte.diii.sdi.sii.cl"
DAY = 24 * 3600


CHILE = pytz.timezone("America/Santiago")


class Clock:
    """The simulator's clock: real time unless a test moves it."""

    def __init__(self):
        self.offset = 0.0

    def __call__(self):
        return time.time() + self.offset

    def now(self):
        """The SII's local time: Chile's, whatever the machine's time zone."""
        return datetime.datetime.fromtimestamp(self(), CHILE).replace(tzinfo=None)


@pytest.fixture(scope="module")
def clock():
    return Clock()


@pytest.fixture(scope="module")
def running_sii(authority, clock):
    simulator = SiiSimulator(authority=authority, processing_polls=0, clock=clock,
                             company_users={RECEIVER: [RECEIVER_PERSON]})
    with start_simulator(simulator) as running:
        yield running


@pytest.fixture
def sii(running_sii, clock):
    running_sii.app.reset()
    clock.offset = 0.0
    return running_sii


def _person(rut):
    return certificate_module.load_pkcs12(identities.make_pkcs12(rut, f"Persona {rut}", "x"), "x")


@pytest.fixture(scope="module")
def people():
    return {RECEIVER_PERSON: _person(RECEIVER_PERSON), STRANGER: _person(STRANGER)}


@pytest.fixture
def clients(sii, certificate, people):
    made = []

    def make(certificate, company, **kwargs):
        kwargs.setdefault("retry", RetryPolicy(max_attempts=3, sleep=lambda _seconds: None))
        client = SiiClient("certification", certificate, company, base_url=sii.base_url,
                           token_cache=MemoryTokenCache(), timeout=(2.0, 5.0), **kwargs)
        made.append(client)
        return client

    yield {
        "issuer": make(certificate, ISSUER),
        "receiver": make(people[RECEIVER_PERSON], RECEIVER),
        "stranger": make(people[STRANGER], STRANGER),
        "make": make,
    }
    for client in made:
        client.close()


@pytest.fixture
def received(sii, clients, document_factory, caf_factory, certificate):
    """``received(folio, doc_type=33, **fields)``: a document issued to RECEIVER and uploaded to the SII."""

    def send(folio, doc_type=33, **fields):
        document = document_factory(doc_type, folio=folio, **fields)
        issued = dte.issue(document, caf_factory(doc_type), certificate)
        data = envelope.build_envelope([issued.xml], ISSUER, certificate, *RESOLUTION)
        clients["issuer"].upload_envelope(data)
        return document

    return send


def _refused(call, *args):
    with pytest.raises(RcvRefused) as raised:
        call(*args)
    return raised.value


# --- ingresarAceptacionReclamoDoc ---------------------------------------------------------------


@pytest.mark.parametrize("action", list(RcvAction))
def test_each_action_is_registered_and_listed(sii, clients, received, action, clock):
    received(11)
    answer = clients["receiver"].register_action(ISSUER, 33, 11, action)
    assert (answer.code, answer.meaning, answer.registered) == (0, RcvCode.OK, True)
    assert answer.description == "Acción Completada OK"
    assert [event["code"] for event in sii.app.rcv_events(ISSUER, 33, 11)] == [action.value]
    history = clients["receiver"].document_events(ISSUER, 33, 11)
    assert history.meaning == RcvCode.EVENTS_LISTED
    (event,) = history.events
    assert (event.code, event.responsible_rut) == (action.value, RECEIVER_PERSON)
    assert abs((event.at - clock.now()).total_seconds()) < 60
    assert event.is_claim == action.is_claim
    # the issuer sees the same history of its document
    assert clients["issuer"].document_events(ISSUER, 33, 11).events == history.events


def test_registering_again_is_already_registered_not_an_error(sii, clients, received):
    received(12)
    clients["receiver"].register_action(ISSUER, 33, 12, "ERM")
    again = clients["receiver"].register_action(ISSUER, 33, 12, RcvAction.RECEIPT_OF_GOODS)
    assert (again.code, again.registered) == (RcvCode.ALREADY_REGISTERED, True)
    assert again.description == "Evento registrado previamente"
    assert len(sii.app.rcv_events(ISSUER, 33, 12)) == 1


@pytest.mark.parametrize(("first", "then", "code"), [
    ("RCD", "ACD", RcvCode.ACCEPT_OF_CLAIMED),
    ("RFT", "ERM", RcvCode.RECEIPT_OF_CLAIMED),
    ("ACD", "RCD", RcvCode.CLAIM_OF_ACCEPTED),
    ("ERM", "RFP", RcvCode.CLAIM_OF_RECEIVED),
    ("RFP", "RFT", RcvCode.GOODS_ALREADY_CLAIMED),
    ("RFP", "RCD", RcvCode.ALREADY_CLAIMED),
])
def test_actions_that_contradict_the_history_are_refused(sii, clients, received, first, then, code):
    received(13)
    clients["receiver"].register_action(ISSUER, 33, 13, first)
    error = _refused(clients["receiver"].register_action, ISSUER, 33, 13, then)
    assert error.answer.meaning == code
    assert error.code == "sii_rcv_refused" and str(int(code)) in str(error)
    assert [event["code"] for event in sii.app.rcv_events(ISSUER, 33, 13)] == [first]


def test_after_eight_days_nothing_can_be_registered(sii, clients, received, clock):
    received(14)
    clock.offset = 9 * DAY  # the simulator's clock: tokens expire too, the client renews its own
    error = _refused(clients["receiver"].register_action, ISSUER, 33, 14, "RCD")
    assert error.deadline_passed and error.answer.meaning == RcvCode.DEADLINE_PASSED
    assert "8 días" in error.answer.description
    assert sii.app.rcv_events(ISSUER, 33, 14) == []


def test_the_eighth_day_is_still_in_time_the_ninth_is_not(sii, clients, received, clock):
    received(15)
    received(16)
    today = clock.now()
    sii.app.set_reception_date(ISSUER, 33, 15, datetime.datetime.combine(
        (today - datetime.timedelta(days=8)).date(), datetime.time(0, 0, 1)))
    sii.app.set_reception_date(ISSUER, 33, 16, datetime.datetime.combine(
        (today - datetime.timedelta(days=9)).date(), datetime.time(23, 59, 59)))
    assert clients["receiver"].register_action(ISSUER, 33, 15, "ACD").registered
    assert _refused(clients["receiver"].register_action, ISSUER, 33, 16, "ACD").deadline_passed


def test_only_the_receiver_may_register(sii, clients, received):
    received(17)
    error = _refused(clients["issuer"].register_action, ISSUER, 33, 17, "ACD")
    assert error.not_receiver and error.answer.meaning == RcvCode.NOT_RECEIVER
    assert _refused(clients["stranger"].register_action, ISSUER, 33, 17, "ACD").not_receiver


def test_an_unknown_document_is_not_received(sii, clients):
    error = _refused(clients["receiver"].register_action, ISSUER, 33, 999, "ACD")
    assert error.not_found and error.answer.meaning == RcvCode.NOT_RECEIVED


def test_types_outside_the_registry_are_refused(sii, clients, received):
    received(18, doc_type=61, references=[document_module.Reference(
        document_type="33", folio="99", date=datetime.date(2024, 5, 1), code=3, reason="Corrige monto")])
    error = _refused(clients["receiver"].register_action, ISSUER, 61, 18, "ACD")
    assert error.answer.meaning == RcvCode.TYPE_NOT_IN_REGISTRY


def test_documents_before_the_registry_existed(sii, clients, received):
    received(24, issue_date=datetime.date(2016, 12, 30))
    assert _refused(clients["receiver"].register_action, ISSUER, 33, 24, "ACD").answer.meaning == \
        RcvCode.BEFORE_2017
    assert _refused(clients["issuer"].cedible_status, ISSUER, 33, 24).answer.meaning == RcvCode.BEFORE_2017


def test_a_cash_invoice_takes_no_event(sii, clients, received):
    received(19, payment_form=1)
    error = _refused(clients["receiver"].register_action, ISSUER, 33, 19, "ERM")
    assert error.answer.meaning == RcvCode.PAID_OR_FREE


def test_the_sii_internal_error_is_retried(sii, clients, received):
    received(20)
    sii.app.inject_fault("registroreclamodte", "rcv_internal_error")
    assert clients["receiver"].register_action(ISSUER, 33, 20, "ACD").code == RcvCode.OK
    assert sii.app.call_count("registroreclamodte") == 2


def test_the_sii_internal_error_every_time_is_sii_unavailable(sii, clients, received):
    received(21)
    for _ in range(3):
        sii.app.inject_fault("registroreclamodte", "rcv_internal_error")
    with pytest.raises(SiiUnavailable) as raised:
        clients["receiver"].register_action(ISSUER, 33, 21, "ACD")
    assert "-1" in str(raised.value)
    assert sii.app.rcv_events(ISSUER, 33, 21) == []


def test_transport_faults_are_retried_and_the_action_registered_once(sii, clients, received):
    received(22)
    sii.app.inject_fault("registroreclamodte", "http_500", process=True)  # registered, answer lost
    answer = clients["receiver"].register_action(ISSUER, 33, 22, "ACD")
    assert answer.meaning == RcvCode.ALREADY_REGISTERED  # the retry found the first attempt's event
    assert len(sii.app.rcv_events(ISSUER, 33, 22)) == 1


def test_an_expired_token_is_renewed_once(sii, clients, received):
    received(23)
    clients["receiver"].authenticate()
    tokens = sii.app.call_count("getToken")
    sii.app.inject_fault("registroreclamodte", "expired_token")
    assert clients["receiver"].register_action(ISSUER, 33, 23, "ACD").registered
    assert sii.app.call_count("getToken") == tokens + 1


# --- listarEventosHistDoc, consultarFechaRecepcionSii, consultarDocDteCedible --------------------


def test_a_document_without_events(sii, clients, received):
    received(30)
    answer = clients["receiver"].document_events(ISSUER, 33, 30)
    assert (answer.meaning, answer.events) == (RcvCode.NO_EVENTS, ())


def test_events_are_only_for_the_issuer_and_the_receiver(sii, clients, received):
    received(31)
    error = _refused(clients["stranger"].document_events, ISSUER, 33, 31)
    assert error.answer.meaning == RcvCode.NOT_ISSUER_OR_RECEIVER and error.not_receiver
    assert _refused(clients["receiver"].document_events, ISSUER, 33, 404).not_found


def test_reception_date_is_when_the_sii_received_the_envelope(sii, clients, received, clock):
    clock.offset = -3 * DAY
    before = clock.now().replace(microsecond=0)
    received(32)
    clock.offset = 0.0
    when = clients["receiver"].reception_date(ISSUER, 33, 32)
    assert before <= when <= before + datetime.timedelta(seconds=5)
    assert acceptance_deadline(when).date() == when.date() + datetime.timedelta(days=8)
    sii.app.set_reception_date(ISSUER, 33, 32, datetime.datetime(2024, 5, 16, 18, 2, 3))
    assert clients["issuer"].reception_date(ISSUER, 33, 32) == datetime.datetime(2024, 5, 16, 18, 2, 3)
    assert clients["receiver"].reception_date(ISSUER, 33, 404) is None


def test_tacit_acceptance_from_the_registry(sii, clients, received, clock):
    received(33)
    received(34)
    clients["receiver"].register_action(ISSUER, 33, 34, "RCD")
    clock.offset = 9 * DAY
    now = clock.now()
    for folio, tacit in ((33, True), (34, False)):
        reception = clients["receiver"].reception_date(ISSUER, 33, folio)
        events = clients["receiver"].document_events(ISSUER, 33, folio).events
        assert is_tacitly_accepted(reception, now, events) is tacit


@pytest.mark.parametrize(("setup", "code"), [
    ([], RcvCode.NO_CLAIM_NOR_RECEIPT),
    (["ERM"], RcvCode.CEDIBLE),
    (["RCD"], RcvCode.CLAIMED_NOT_CEDIBLE),
    ("9 days", RcvCode.CEDIBLE_TACITLY),
])
def test_cedible_status(sii, clients, received, clock, setup, code):
    received(40)
    if setup == "9 days":
        clock.offset = 9 * DAY
    else:
        for action in setup:
            clients["receiver"].register_action(ISSUER, 33, 40, action)
    answer = clients["issuer"].cedible_status(ISSUER, 33, 40)
    assert answer.meaning == code
    assert answer.cedible == (code in (RcvCode.CEDIBLE, RcvCode.CEDIBLE_TACITLY))


def test_an_invoice_annulled_by_a_credit_note_is_not_cedible(sii, clients, received):
    received(41)
    received(42, doc_type=61, references=[document_module.Reference(
        document_type="33", folio="41", date=datetime.date(2024, 5, 15), code=1, reason="Anula factura")])
    assert clients["issuer"].cedible_status(ISSUER, 33, 41).meaning == RcvCode.ANNULLED_BY_NOTE
    assert clients["issuer"].cedible_status(ISSUER, 61, 42).meaning == RcvCode.NOT_CEDIBLE_TYPE
    assert _refused(clients["issuer"].cedible_status, ISSUER, 33, 404).not_found


# --- the wire, for what the client never sends ------------------------------------------------


def _raw(sii, token, operation, **params):
    body = "".join(f"<{name}>{value}</{name}>" for name, value in params.items())
    envelope_text = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:ws="{RCV_NS}"><soapenv:Header/><soapenv:Body><ws:{operation}>{body}</ws:{operation}>'
        "</soapenv:Body></soapenv:Envelope>"
    )
    return requests.post(sii.base_url + RCV_PATH, data=envelope_text.encode(), timeout=5,
                         headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""',
                                  "Cookie": f"TOKEN={token}"})


def _token(clients):
    return clients["receiver"].with_soap_token(lambda token: token)


@pytest.mark.parametrize(("params", "code"), [
    ({"rutEmisor": "76192083", "dvEmisor": "0", "tipoDoc": "33", "folio": "1", "accionDoc": "ACD"}, 1),
    ({"rutEmisor": "76192083", "dvEmisor": "9", "tipoDoc": "33", "folio": "-1", "accionDoc": "ACD"}, 2),
    ({"rutEmisor": "76192083", "dvEmisor": "9", "tipoDoc": "33", "folio": "1", "accionDoc": "XYZ"}, 4),
    ({"rutEmisor": "76192083", "dvEmisor": "9", "tipoDoc": "39", "folio": "1", "accionDoc": "ACD"}, 3),
])
def test_parameter_errors_on_the_wire(sii, clients, params, code):
    response = _raw(sii, _token(clients), "ingresarAceptacionReclamoDoc", **params)
    assert response.status_code == 200
    root = etree.fromstring(response.content)
    answer = root.find(f".//{{{RCV_NS}}}ingresarAceptacionReclamoDocResponse/return")
    assert answer is not None, response.text  # the answer's <return> is unqualified
    assert answer.findtext("codResp") == str(code)


def test_without_a_token_the_service_answers_a_soap_fault(sii, clients):
    response = _raw(sii, "NOTATOKEN", "listarEventosHistDoc", rutEmisor="76192083", dvEmisor="9", tipoDoc="33",
                    folio="1")
    assert response.status_code == 500
    assert "TOKEN" in etree.fromstring(response.content).findtext(".//faultstring")


def test_the_wsdl_is_served_with_the_simulator_address(sii):
    response = requests.get(sii.base_url + RCV_PATH + "?wsdl", timeout=5)
    wsdl = etree.fromstring(response.content)
    location = wsdl.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address").get("location")
    assert location == sii.base_url + RCV_PATH


def test_qualified_parameters_are_not_what_the_service_takes(sii, clients):
    envelope_text = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:ws="{RCV_NS}"><soapenv:Body><ws:listarEventosHistDoc><ws:rutEmisor>76192083</ws:rutEmisor>'
        "</ws:listarEventosHistDoc></soapenv:Body></soapenv:Envelope>"
    )
    response = requests.post(sii.base_url + RCV_PATH, data=envelope_text.encode(), timeout=5,
                             headers={"Content-Type": "text/xml", "Cookie": f"TOKEN={_token(clients)}"})
    assert response.status_code == 500
    assert "Unmarshalling" in etree.fromstring(response.content).findtext(".//faultstring")
