"""The RCV's rules without the network: the 8 days, tacit acceptance, the codes, the shipped WSDL."""

import ast
import datetime
from pathlib import Path

import pytest
import zeep
from lxml import etree

from sii_engine.rcv import (
    CODE_TEXT,
    EVENT_TEXT,
    RcvAction,
    RcvCode,
    RcvEvent,
    acceptance_deadline,
    is_tacitly_accepted,
    parse_date,
    within_deadline,
)
from sii_engine.transport.environments import CERTIFICATION, PRODUCTION, resolve

FIXTURES = Path(__file__).parent / "fixtures" / "sii_responses"
RECEIVED = datetime.datetime(2024, 5, 16, 18, 2, 3)


def test_the_deadline_is_the_end_of_the_eighth_calendar_day_after_reception():
    deadline = acceptance_deadline(RECEIVED)
    assert deadline == datetime.datetime(2024, 5, 24, 23, 59, 59, 999999)
    assert acceptance_deadline(datetime.datetime(2024, 5, 16, 0, 0, 0)) == deadline  # the hour does not matter
    assert acceptance_deadline(datetime.date(2024, 5, 16)) == deadline
    assert acceptance_deadline(datetime.datetime(2024, 2, 25, 9, 0)) == datetime.datetime(
        2024, 3, 4, 23, 59, 59, 999999)  # calendar days, across a leap February


def test_an_aware_reception_keeps_its_zone():
    zone = datetime.timezone(datetime.timedelta(hours=-4))
    deadline = acceptance_deadline(RECEIVED.replace(tzinfo=zone))
    assert deadline.tzinfo is zone and deadline.date() == datetime.date(2024, 5, 24)


@pytest.mark.parametrize(("now", "in_time"), [
    (datetime.datetime(2024, 5, 16, 18, 2, 4), True),
    (datetime.datetime(2024, 5, 24, 23, 59, 59), True),
    (datetime.datetime(2024, 5, 25, 0, 0, 0), False),
    (datetime.datetime(2024, 6, 30), False),
])
def test_within_deadline(now, in_time):
    assert within_deadline(RECEIVED, now) is in_time


def _event(code):
    return RcvEvent(code, EVENT_TEXT[code], "12345678-5", RECEIVED + datetime.timedelta(days=1))


@pytest.mark.parametrize(("now", "events", "tacit"), [
    (datetime.datetime(2024, 5, 25), (), True),
    (datetime.datetime(2024, 5, 25), (_event("ERM"),), True),
    (datetime.datetime(2024, 5, 25), (_event("ACD"), _event("NCA")), True),
    (datetime.datetime(2024, 5, 24, 12), (), False),  # still within the 8 days
    (datetime.datetime(2024, 5, 25), (_event("RCD"),), False),
    (datetime.datetime(2024, 5, 25), (_event("RFP"),), False),
    (datetime.datetime(2024, 5, 25), (_event("RFT"),), False),
])
def test_tacit_acceptance(now, events, tacit):
    assert is_tacitly_accepted(RECEIVED, now, events) is tacit


def test_actions_and_claims():
    assert [action.value for action in RcvAction] == ["ACD", "ERM", "RCD", "RFP", "RFT"]
    assert {action.value for action in RcvAction if action.is_claim} == {"RCD", "RFP", "RFT"}
    assert RcvAction("ERM").description == "Otorga Recibo de Mercaderías o Servicios"


def test_every_code_has_the_manuals_text():
    assert set(CODE_TEXT) == {int(code) for code in RcvCode}
    assert CODE_TEXT[RcvCode.DEADLINE_PASSED].startswith("Pasados 8 días")


def test_dates_as_the_service_writes_them():
    assert parse_date("21-02-2017 19:02:03") == datetime.datetime(2017, 2, 21, 19, 2, 3)
    assert parse_date("") is None and parse_date(None) is None
    with pytest.raises(ValueError):
        parse_date("2017-02-21T19:02:03")


def test_the_hosts_of_the_registry():
    assert resolve(CERTIFICATION).rcv_url == "https://ws2.sii.cl/WSREGISTRORECLAMODTECERT/registroreclamodteservice"
    assert resolve(PRODUCTION).rcv_url == "https://ws1.sii.cl/WSREGISTRORECLAMODTE/registroreclamodteservice"
    assert resolve(PRODUCTION, "http://127.0.0.1:9").rcv_url == (
        "http://127.0.0.1:9/WSREGISTRORECLAMODTE/registroreclamodteservice")


@pytest.mark.parametrize("environment", [CERTIFICATION, PRODUCTION])
def test_the_shipped_wsdl_reads_the_sii_answer_as_the_sii_wsdl_did(environment):
    """Sample 17 is what zeep made of a real listarEventosHistDoc answer with the SII's own WSDL;
    the same answer on the wire, read with the shipped WSDL, must give the same values and types."""
    expected = ast.literal_eval((FIXTURES / "17_RegistroReclamoDTE_listarEventosHistDoc_zeep_dict.txt").read_text())
    event = expected["listaEventosDoc"][0]
    items = "".join(f"<{name}>{value}</{name}>" for name, value in event.items())
    answer = (
        '<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>'
        '<ns2:listarEventosHistDocResponse xmlns:ns2="http://ws.registroreclamodte.diii.sdi.sii.cl"><return>'
        f"<codResp>{expected['codResp']}</codResp><descResp>{expected['descResp']}</descResp>"
        f"<listaEventosDoc>{items}</listaEventosDoc></return></ns2:listarEventosHistDocResponse></S:Body>"
        "</S:Envelope>"
    ).encode()
    client = zeep.Client(resolve(environment).wsdl_path("RegistroReclamoDte"))
    binding = next(iter(client.wsdl.bindings.values()))
    result = binding.get("listarEventosHistDoc").process_reply(etree.fromstring(answer))
    assert zeep.helpers.serialize_object(result, dict) == expected
    assert next(iter(client.wsdl.services.values())).ports[
        "RegistroReclamoDteServiceEndpointPort"].binding_options["address"] == resolve(environment).rcv_url
