"""The transport against the local SII simulator, over real HTTP on 127.0.0.1.

The simulator (``sii_engine.simulator``, see its PROTOCOL.md) is the only
stand-in for the SII: every test starts a fresh one, sends real envelopes
built by the engine, injects the SII's failures and checks what the client
did — and, through the simulator's counters, that no upload was repeated.
"""

import datetime
import logging
import time

import pytest

from sii_engine import certificate as certificate_module
from sii_engine import dte, envelope, identities
from sii_engine.simulator import SiiSimulator, start_simulator
from sii_engine.transport import (
    AuthenticationError,
    MemoryTokenCache,
    RetryPolicy,
    SiiClient,
    SiiUnavailable,
    State,
    StatusQueryError,
    TokenRejected,
    UploadAlreadyReceived,
    UploadOutcomeUnknown,
    UploadRejected,
)

ISSUER_RUT = "76192083-9"  # conftest's issuer: the CAFs of caf_factory are for it
RESOLUTION_DATE = datetime.date(2014, 8, 22)
RESOLUTION_NUMBER = 80
RECEIVER_RUT = "77777777-7"


class Sleeps:
    """The retry policy's sleep: records the delays, waits a token amount of time."""

    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)
        time.sleep(0.01)


TIMEOUT_FAULT = 2.5  # seconds a "timeout" fault holds the answer; the clients here wait 1 s


@pytest.fixture(scope="module")
def running_sii(authority):
    """One simulator for the module, trusting the session's CAF authority; envelopes final on the 2nd query."""
    with start_simulator(SiiSimulator(authority=authority, processing_polls=1)) as running:
        yield running


@pytest.fixture
def sii(running_sii):
    """The simulator, as new: no state, no faults, no counters."""
    running_sii.app.reset()
    yield running_sii
    if any(kind == "timeout" for _endpoint, kind in running_sii.app.faults.applied):
        time.sleep(TIMEOUT_FAULT + 0.3)  # let the held request finish before the next test


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def make_client(sii, certificate, sleeps):
    clients = []

    def make(**kwargs):
        kwargs.setdefault("base_url", sii.base_url)
        kwargs.setdefault("token_cache", MemoryTokenCache())
        kwargs.setdefault("timeout", (2.0, 1.0))
        kwargs.setdefault("retry", RetryPolicy(max_attempts=4, base_delay=0.05, sleep=sleeps, random=lambda: 0.0))
        client = SiiClient("certification", certificate, ISSUER_RUT, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def issue(document_factory, caf_factory, certificate):
    """``issue(doc_type, folio)`` -> (Document, IssuedDte) signed with the session's CAF."""

    def make(doc_type, folio, **fields):
        document = document_factory(doc_type, folio=folio, **fields)
        return document, dte.issue(document, caf_factory(doc_type), certificate,
                                   timestamp=datetime.datetime(2024, 5, 15, 10, 0, 0))

    return make


@pytest.fixture
def build(certificate):
    def make(*issued, kind=None):
        return envelope.build_envelope(
            [item.xml for _document, item in issued], ISSUER_RUT, certificate, RESOLUTION_DATE, RESOLUTION_NUMBER,
            kind=kind, timestamp=datetime.datetime(2024, 5, 15, 10, 5, 0),
        )

    return make


def poll(client, track_id, kind="EnvioDTE", limit=10):
    for _ in range(limit):
        status = client.envelope_status(track_id, kind)
        if status.final:
            return status
    raise AssertionError(f"envelope {track_id} still in process after {limit} queries: {status}")


def wait_for(predicate, seconds=8.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def assert_no_duplicate(sii):
    assert sii.app.duplicate_uploads() == {}


def doc_status(client, document, issued):
    return client.document_status(document.document_type, document.folio, document.issue_date, issued.total,
                                  document.receiver.rut)


# --- happy paths -------------------------------------------------------------------------


def test_envio_dte_end_to_end(sii, client, issue, build):
    factura = issue(33, 101)
    nota = issue(61, 102)
    result = client.upload_envelope(build(factura, nota))
    assert isinstance(result.track_id, str) and result.track_id.isdigit()
    assert result.kind == "EnvioDTE" and result.status == "0"

    first = client.envelope_status(result.track_id)
    assert first.state == State.IN_PROCESS and not first.final
    final = poll(client, result.track_id)
    assert final.code == "EPR" and final.state == State.ACCEPTED and final.accepted
    assert {count.document_type: count.accepted for count in final.counts} == {33: 1, 61: 1}
    assert int(final.track_id) == int(result.track_id)

    status = doc_status(client, *factura)
    assert status.code == "DOK" and status.state == State.ACCEPTED

    assert sii.app.upload_count("DTEUpload") == 1
    assert sii.app.call_count("getToken") == 1  # one token for every call
    assert sii.app.call_count("wsdl") == 0  # WSDLs come from the addon
    assert_no_duplicate(sii)


def test_envio_boleta_end_to_end(sii, client, issue, build):
    boleta = issue(39, 201)
    exenta = issue(41, 202)
    result = client.upload_envelope(build(boleta, exenta))
    assert result.kind == "EnvioBOLETA" and result.status == "REC"

    final = poll(client, result.track_id, "EnvioBOLETA")
    assert final.code == "EPR" and final.state == State.ACCEPTED
    assert {count.document_type for count in final.counts} == {39, 41}

    status = doc_status(client, *boleta)
    assert status.code == "DOK" and status.accepted
    assert sii.app.upload_count("boleta.envio") == 1
    assert sii.app.call_count("boleta.token") == 1
    assert sii.app.call_count("getToken") == 0  # the boleta API has tokens of its own
    assert_no_duplicate(sii)


def test_document_status_mismatch(sii, client, issue, build):
    document, issued = issue(33, 103)
    poll(client, client.upload_envelope(build((document, issued))).track_id)
    status = client.document_status(33, 103, document.issue_date, int(issued.total) + 1, document.receiver.rut)
    assert status.code == "DNK" and status.state == State.MISMATCH and status.errors


# --- status queries survive the SII's failures ---------------------------------------------------


FAULTS = [
    ("timeout", {"seconds": TIMEOUT_FAULT}),
    ("reset", {}),
    ("http_500", {}),
    ("html", {}),
    ("error_text", {}),
    ("error_text", {"status": 500}),
    ("rate_limit", {"retry_after": 1}),
    ("mislabelled_encoding", {}),
]


@pytest.mark.parametrize("kind, params", FAULTS, ids=[f"{k}-{p}" if p else k for k, p in FAULTS])
def test_envelope_status_recovers(sii, client, issue, build, sleeps, kind, params):
    track_id = client.upload_envelope(build(issue(33, 110))).track_id
    sii.app.inject_fault("getEstUp", kind, **params)
    status = poll(client, track_id)
    assert status.state == State.ACCEPTED
    assert sii.app.faults.applied == [("getEstUp", kind)]
    if kind == "rate_limit":
        assert sleeps.delays == [1.0]  # the server's Retry-After
    elif kind != "mislabelled_encoding":
        assert len(sleeps.delays) == 1


@pytest.mark.parametrize("kind, params", FAULTS, ids=[f"{k}-{p}" if p else k for k, p in FAULTS])
def test_boleta_envelope_status_recovers(sii, client, issue, build, kind, params):
    track_id = client.upload_envelope(build(issue(39, 210))).track_id
    sii.app.inject_fault("boleta.estado_envio", kind, **params)
    assert poll(client, track_id, "EnvioBOLETA").state == State.ACCEPTED


@pytest.mark.parametrize("endpoint", ["getSeed", "getToken", "boleta.semilla", "boleta.token"])
@pytest.mark.parametrize("kind", ["reset", "http_500", "html", "error_text", "mislabelled_encoding"])
def test_authentication_recovers(sii, client, endpoint, kind):
    sii.app.inject_fault(endpoint, kind)
    client.authenticate("EnvioBOLETA" if endpoint.startswith("boleta") else "EnvioDTE")
    assert sii.app.faults.applied == [(endpoint, kind)]


def test_document_status_recovers(sii, client, issue, build):
    document, issued = issue(33, 111)
    poll(client, client.upload_envelope(build((document, issued))).track_id)
    for kind in ("reset", "html", "mislabelled_encoding", "rate_limit"):
        sii.app.inject_fault("getEstDte", kind)
        assert doc_status(client, document, issued).code == "DOK"
    boleta, issued_boleta = issue(39, 211)
    poll(client, client.upload_envelope(build((boleta, issued_boleta))).track_id, "EnvioBOLETA")
    for kind in ("reset", "http_500", "mislabelled_encoding"):
        sii.app.inject_fault("boleta.estado", kind)
        assert doc_status(client, boleta, issued_boleta).code == "DOK"


def test_persistent_failure_is_a_typed_error(sii, client, issue, build, sleeps):
    track_id = client.upload_envelope(build(issue(33, 112))).track_id
    for _ in range(4):
        sii.app.inject_fault("getEstUp", "http_500")
    with pytest.raises(SiiUnavailable) as caught:
        client.envelope_status(track_id)
    assert caught.value.params["attempts"] == 4
    assert "HTTP 500" in str(caught.value)
    assert len(sleeps.delays) == 3


def test_unknown_track_id(sii, client):
    with pytest.raises(StatusQueryError) as caught:
        client.envelope_status("999999")
    assert caught.value.params["status"] == "-11"
    with pytest.raises(StatusQueryError) as caught:
        client.envelope_status("999999", "EnvioBOLETA")
    assert caught.value.params["status"] == "HTTP 404"


# --- tokens ------------------------------------------------------------------------------------


def test_expired_token_is_renewed_once(sii, client, issue, build):
    track_id = client.upload_envelope(build(issue(33, 120))).track_id
    sii.app.inject_fault("getEstUp", "expired_token")
    assert client.envelope_status(track_id).code in ("REC", "SOK", "CRT", "FOK", "PDR")
    assert sii.app.call_count("getToken") == 2
    sii.app.expire_tokens()  # the SII's idle timeout
    assert poll(client, track_id).state == State.ACCEPTED
    assert sii.app.call_count("getToken") == 3


def test_token_refused_twice_is_a_typed_error(sii, client, issue, build):
    track_id = client.upload_envelope(build(issue(33, 121))).track_id
    sii.app.inject_fault("getEstUp", "expired_token")
    sii.app.inject_fault("getEstUp", "expired_token")
    with pytest.raises(TokenRejected) as caught:
        client.envelope_status(track_id)
    assert caught.value.code == "sii_token_rejected"
    assert caught.value.params["status"] == "002"
    assert sii.app.call_count("getToken") == 2  # renewed once, not more


def test_boleta_expired_token_is_renewed(sii, client, issue, build):
    track_id = client.upload_envelope(build(issue(39, 220))).track_id
    sii.app.inject_fault("boleta.estado_envio", "expired_token")
    client.envelope_status(track_id, "EnvioBOLETA")
    assert sii.app.call_count("boleta.token") == 2


def test_tokens_are_shared_through_the_cache(sii, make_client):
    cache = MemoryTokenCache()
    make_client(token_cache=cache).authenticate()
    make_client(token_cache=cache).authenticate()
    assert sii.app.call_count("getToken") == 1
    make_client(token_cache=MemoryTokenCache()).authenticate()
    assert sii.app.call_count("getToken") == 2


def test_an_expired_cached_token_is_replaced_before_use(sii, make_client):
    clock = [1000.0]
    client = make_client(clock=lambda: clock[0], token_lifetime=60)
    client.authenticate()
    clock[0] += 59
    client.authenticate()
    assert sii.app.call_count("getToken") == 1
    clock[0] += 1
    client.authenticate()
    assert sii.app.call_count("getToken") == 2


def test_authentication_refused_by_the_sii(sii, make_client):
    # an expired certificate: the SII answers getToken ESTADO -3, nothing to retry
    data = identities.make_pkcs12("11111111-1", "Vencido", "pw", key_size=1024,
                                  not_before=datetime.datetime(2020, 1, 1), valid_days=30)
    expired = certificate_module.load_pkcs12(data, "pw", check_validity=False)
    client = make_client()
    other = SiiClient("certification", expired, ISSUER_RUT, base_url=sii.base_url, token_cache=MemoryTokenCache(),
                      retry=client.retry)
    with pytest.raises(AuthenticationError) as caught:
        other.authenticate()
    assert caught.value.params["status"] == "-3"
    assert sii.app.call_count("getToken") == 1
    other.close()


# --- uploads: never twice ---------------------------------------------------------------------


@pytest.mark.parametrize("endpoint, doc_type, kind", [("DTEUpload", 33, "EnvioDTE"),
                                                      ("boleta.envio", 39, "EnvioBOLETA")])
def test_rate_limited_upload_is_sent_again_after_retry_after(sii, client, issue, build, sleeps, endpoint, doc_type,
                                                            kind):
    sii.app.inject_fault(endpoint, "rate_limit", retry_after=1)
    result = client.upload_envelope(build(issue(doc_type, 130)))
    assert sleeps.delays == [1.0]
    assert sii.app.upload_count(endpoint) == 1  # the 429 answer received nothing
    assert poll(client, result.track_id, kind).state == State.ACCEPTED
    assert_no_duplicate(sii)


@pytest.mark.parametrize("endpoint, doc_type", [("DTEUpload", 33), ("boleta.envio", 39)])
@pytest.mark.parametrize("kind, params", [
    ("reset", {}),
    ("http_500", {}),
    ("html", {}),
    ("error_text", {}),
    ("reset", {"process": True}),
    ("http_500", {"process": True}),
    ("error_text", {"process": True}),
])
def test_upload_with_unknown_outcome_is_not_repeated(sii, client, issue, build, sleeps, endpoint, doc_type, kind,
                                                     params):
    document, issued = issue(doc_type, 131)
    sii.app.inject_fault(endpoint, kind, **params)
    with pytest.raises(UploadOutcomeUnknown) as caught:
        client.upload_envelope(build((document, issued)))
    error = caught.value
    assert error.code == "sii_upload_outcome_unknown" and not error.transient
    assert "Do not send it again" in str(error)
    received = 1 if params.get("process") else 0
    assert sii.app.upload_count(endpoint) == received  # sent once, never again
    assert sleeps.delays == []
    # what the caller does instead: ask for the document's status
    status = doc_status(client, document, issued)
    assert status.code == ("DOK" if received else "FAU")
    assert_no_duplicate(sii)


def test_upload_timeout_is_not_repeated(sii, client, issue, build, sleeps):
    document, issued = issue(33, 132)
    sii.app.inject_fault("DTEUpload", "timeout", seconds=TIMEOUT_FAULT)
    with pytest.raises(UploadOutcomeUnknown) as caught:
        client.upload_envelope(build((document, issued)))
    assert "no answer" in str(caught.value)
    assert sleeps.delays == []
    # the SII still received it (later): exactly once
    assert wait_for(lambda: sii.app.upload_count("DTEUpload") == 1)
    assert doc_status(client, document, issued).code == "DOK"
    time.sleep(0.2)
    assert sii.app.upload_count("DTEUpload") == 1
    assert_no_duplicate(sii)


def test_upload_to_nowhere_is_certainly_not_received(certificate, issue, build, sleeps):
    client = SiiClient("certification", certificate, ISSUER_RUT, base_url="http://127.0.0.1:9",
                       token_cache=MemoryTokenCache(), timeout=(1.0, 1.0),
                       retry=RetryPolicy(max_attempts=2, base_delay=0.01, sleep=sleeps, random=lambda: 0.0))
    with pytest.raises(SiiUnavailable) as caught:
        client.upload_envelope(build(issue(33, 133)))
    assert caught.value.transient
    client.close()


@pytest.mark.parametrize("endpoint, doc_type, kind", [("DTEUpload", 33, "EnvioDTE"),
                                                      ("boleta.envio", 39, "EnvioBOLETA")])
def test_upload_with_expired_token_is_sent_again_with_a_new_one(sii, client, issue, build, endpoint, doc_type, kind):
    client.authenticate(kind)
    sii.app.inject_fault(endpoint, "expired_token")
    result = client.upload_envelope(build(issue(doc_type, 134)))
    assert poll(client, result.track_id, kind).state == State.ACCEPTED
    statuses = [upload["status"] for upload in sii.app.uploads]
    assert statuses == [5, 0]  # refused (not received), then received once
    assert_no_duplicate(sii)


def test_upload_mislabelled_answer(sii, client, issue, build):
    sii.app.inject_fault("DTEUpload", "mislabelled_encoding")
    result = client.upload_envelope(build(issue(33, 135)), file_name="envío_ñandú.xml")
    assert result.track_id.isdigit()
    assert result.file_name == "envío_ñandú.xml"
    sii.app.inject_fault("boleta.envio", "mislabelled_encoding")
    assert client.upload_envelope(build(issue(39, 235))).track_id.isdigit()


@pytest.mark.parametrize("status, meaning", [(1, "the sender has no permission to send"), (7, "invalid schema"),
                                             (8, "signature error"), (6, "the company is not authorised to send "
                                                                         "files")])
def test_upload_refusals_carry_the_sii_status(sii, client, issue, build, status, meaning):
    sii.app.inject_fault("DTEUpload", "upload_status", status=status)
    with pytest.raises(UploadRejected) as caught:
        client.upload_envelope(build(issue(33, 136)))
    assert caught.value.status == str(status) and caught.value.meaning == meaning
    assert sii.app.upload_count("DTEUpload") == 1  # never sent again


def test_upload_status_99_and_9(sii, client, issue, build):
    sii.app.inject_fault("DTEUpload", "upload_status", status=99)
    with pytest.raises(UploadAlreadyReceived):
        client.upload_envelope(build(issue(33, 137)))
    sii.app.inject_fault("DTEUpload", "upload_status", status=9)
    with pytest.raises(UploadRejected) as caught:
        client.upload_envelope(build(issue(33, 137)))
    assert caught.value.transient and caught.value.meaning == "system locked"
    assert sii.app.upload_count("DTEUpload") == 2


def test_boleta_upload_refused(sii, client, issue, build):
    sii.app.inject_fault("boleta.envio", "upload_status", status=1)
    with pytest.raises(UploadRejected) as caught:
        client.upload_envelope(build(issue(39, 237)))
    assert caught.value.status == "HTTP 403"
    assert caught.value.meaning == "the sender or the company is not authorised to send"
    assert sii.app.upload_count("boleta.envio") == 1


# --- rejections, with the SII's reasons --------------------------------------------------------


def test_rejected_boleta_with_the_sii_reason(sii, client, issue, build):
    sii.app.force_outcome(ISSUER_RUT, 39, 240, "rejected", reason="Monto total no cuadra")
    result = client.upload_envelope(build(issue(39, 240), issue(39, 241)))
    status = poll(client, result.track_id, "EnvioBOLETA")
    assert status.state == State.MIXED and status.final
    rejected = status.document(39, 240)
    assert rejected.state == State.REJECTED and rejected.code == "RCH"
    assert any("Monto total no cuadra" in text for text in rejected.errors)
    assert status.document(39, 241) is None  # accepted documents are not listed


def test_rlv_is_accepted_with_objections(sii, client, issue, build):
    sii.app.force_outcome(ISSUER_RUT, 39, 242, "objected_minor", reason="Glosa")
    status = poll(client, client.upload_envelope(build(issue(39, 242))).track_id, "EnvioBOLETA")
    assert status.state == State.OBJECTED and status.accepted and status.final
    assert status.document(39, 242).code == "RLV"
    assert status.document(39, 242).state == State.OBJECTED


def test_rejected_dte(sii, client, issue, build):
    sii.app.force_outcome(ISSUER_RUT, 33, 150, "rejected", reason="Giro no corresponde")
    document, issued = issue(33, 150)
    status = poll(client, client.upload_envelope(build((document, issued))).track_id)
    assert status.code == "EPR"  # processed, and yet:
    assert status.state == State.REJECTED and status.rejected and not status.accepted
    assert status.totals().rejected == 1
    assert doc_status(client, document, issued).state in (State.NOT_FOUND, State.REJECTED)


def test_rejected_envelope_with_the_sii_glosa(sii, make_client, issue, build):
    # the carátula names another issuer than the company uploading it: RCT
    client = make_client()
    other = SiiClient("certification", client.certificate, "96670340-7", base_url=sii.base_url,
                      token_cache=MemoryTokenCache(), retry=client.retry)
    result = other.upload_envelope(build(issue(33, 151)))
    status = poll(other, result.track_id)
    assert status.code == "RCT" and status.state == State.REJECTED
    assert status.description == "Rechazado por Error en Caratula"
    other.close()


# --- logging ----------------------------------------------------------------------------------


def test_logs_help_support_and_never_show_a_token(sii, client, issue, build, caplog):
    caplog.set_level(logging.DEBUG)
    document, issued = issue(33, 160)
    sii.app.inject_fault("DTEUpload", "expired_token")
    result = client.upload_envelope(build((document, issued)))
    sii.app.inject_fault("getEstUp", "expired_token")
    poll(client, result.track_id)
    doc_status(client, document, issued)
    boleta = issue(39, 260)
    boleta_result = client.upload_envelope(build(boleta))
    sii.app.inject_fault("boleta.estado_envio", "expired_token")
    poll(client, boleta_result.track_id, "EnvioBOLETA")
    sii.app.inject_fault("getEstUp", "expired_token")
    sii.app.inject_fault("getEstUp", "expired_token")
    with pytest.raises(TokenRejected) as caught:
        client.envelope_status(result.track_id)

    tokens = list(sii.app.state.data["tokens"])
    assert len(tokens) >= 5
    everything = caplog.text + "\n".join(str(record.args) for record in caplog.records) + str(caught.value)
    for token in tokens:
        assert token not in everything
    # and what support needs is there: where, what, the answer, the track id
    assert f"track id {result.track_id}" in caplog.text
    assert sii.base_url + "/cgi_dte/UPL/DTEUpload" in caplog.text
    assert "EPR" in caplog.text
    assert "refused the soap token" in caplog.text
    private = client.certificate.private_key_pem.decode().splitlines()[1]
    assert private not in caplog.text
