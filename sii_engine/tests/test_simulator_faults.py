"""Faults injected in the simulator, its persistence, its entry point and its cost."""

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from lxml import etree

from sii_engine.simulator import SiiSimulator, start_simulator
from sii_engine.tests import conftest_simulator as kit
from sii_engine.tests.conftest_simulator import (
    COMPANY,
    TIMEOUT,
    body,
    envelope_of,
    est_up,
    hdr,
    issue,
    poll_est_up,
    recepcion,
    rest_envelope_status,
    rest_token,
    rest_upload,
    soap_post,
    soap_token,
    upload,
    upload_ok,
)

ADDON_ROOT = Path(__file__).resolve().parents[2]

# fixtures shared by the simulator tests
authority, signer, cafs, sii = kit.authority, kit.signer, kit.cafs, kit.sii


def _wait_for(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_timeout_the_upload_is_received_although_the_client_gave_up(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    data = envelope_of([issue(cafs, signer, "33_001_simple", 300)], signer)
    sii.app.inject_fault("DTEUpload", "timeout", seconds=1.5)
    with pytest.raises(requests.Timeout):
        upload(sii.base_url, token, data, timeout=0.3)
    assert _wait_for(lambda: sii.app.upload_count("DTEUpload", status=0) == 1)
    # a client that blindly uploads again is caught: same file twice, the second one RPT
    track_id = upload_ok(sii.base_url, token, data)
    assert poll_est_up(sii.base_url, token, track_id)[0][-1] == "RPT"
    assert list(sii.app.duplicate_uploads().values()) == [2]
    assert sii.app.faults.applied == [("DTEUpload", "timeout")]


def test_timeout_processed_first_registers_the_upload_while_the_answer_waits(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    data = envelope_of([issue(cafs, signer, "33_001_simple", 302)], signer)
    sii.app.inject_fault("DTEUpload", "timeout", seconds=3, process=True)
    answered = []
    client = threading.Thread(target=lambda: answered.append(upload(sii.base_url, token, data)))
    client.start()
    # Registered (with its track id) while the client is still waiting for the answer.
    assert _wait_for(lambda: sii.app.upload_count("DTEUpload", status=0) == 1, seconds=2.5)
    assert not answered
    client.join(10)
    assert recepcion(answered[0]).findtext("STATUS") == "0"
    assert sii.app.faults.applied == [("DTEUpload", "timeout")]


def test_reset_closes_the_connection_without_answer(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    sii.app.inject_fault("DTEUpload", "reset")
    sii.app.inject_fault("DTEUpload", "reset", process=True)
    data = envelope_of([issue(cafs, signer, "33_001_simple", 301)], signer)
    with pytest.raises(requests.ConnectionError):
        upload(sii.base_url, token, data)
    assert sii.app.upload_count() == 0  # dropped before reading it
    with pytest.raises(requests.ConnectionError):
        upload(sii.base_url, token, data)
    assert sii.app.upload_count(status=0) == 1  # received, but the client never learnt its track id
    assert sii.app.call_count("DTEUpload") == 2
    assert recepcion(upload(sii.base_url, token, data)).findtext("STATUS") == "0"  # the server is still up


@pytest.mark.parametrize(("kind", "params", "status", "content_type", "text"), [
    ("http_500", {}, 500, "text/html", "Internal Server Error"),
    ("html", {}, 200, "text/html", "Servicio no disponible"),
    ("error_text", {}, 200, "text/plain", "Error 500"),
    ("error_text", {"status": 500}, 500, "text/plain", "Error 500"),
])
def test_error_pages_instead_of_soap(sii, kind, params, status, content_type, text):
    sii.app.inject_fault("getSeed", kind, **params)
    response = soap_post(sii.base_url, "CrSeed", "getSeed")
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith(content_type)
    assert text in response.text
    assert "getSeedReturn" not in response.text
    assert soap_post(sii.base_url, "CrSeed", "getSeed").status_code == 200  # one call, one fault


def test_rate_limit_says_when_to_come_back(sii):
    sii.app.inject_fault("boleta.semilla", "rate_limit", retry_after=3)
    response = requests.get(sii.base_url + "/recursos/v1/boleta.electronica.semilla", timeout=TIMEOUT)
    assert (response.status_code, response.headers["Retry-After"]) == (429, "3")


def test_expired_token_is_answered_as_the_sii_does(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    track_id = upload_ok(sii.base_url, token, envelope_of([issue(cafs, signer, "33_001_simple", 310)], signer))
    sii.app.inject_fault("getEstUp", "expired_token")
    answer = est_up(sii.base_url, token, track_id)
    assert (hdr(answer, "ESTADO"), hdr(answer, "GLOSA")) == ("002", "Token Inactivo")
    assert hdr(est_up(sii.base_url, token, track_id), "ESTADO") == "002"  # it stays expired
    fresh = soap_token(sii.base_url, signer)
    sii.app.inject_fault("DTEUpload", "expired_token")
    data = envelope_of([issue(cafs, signer, "33_001_simple", 311)], signer)
    assert recepcion(upload(sii.base_url, fresh, data)).findtext("STATUS") == "5"
    rest = rest_token(sii.base_url, signer)
    sii.app.inject_fault("boleta.estado_envio", "expired_token")
    assert rest_envelope_status(sii.base_url, rest, 1000).status_code == 401


def test_mislabelled_encoding(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    sii.app.inject_fault("DTEUpload", "mislabelled_encoding")
    data = envelope_of([issue(cafs, signer, "33_001_simple", 320)], signer)
    response = upload(sii.base_url, token, data, filename="envío.xml")
    assert "charset=UTF-8" in response.headers["Content-Type"]
    assert b"<FILE>env\xedo.xml</FILE>" in response.content
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    assert etree.fromstring(response.content.decode("iso-8859-1")).findtext("STATUS") == "0"  # a good answer


def test_forced_upload_status(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    data = envelope_of([issue(cafs, signer, "33_001_simple", 330)], signer)
    sii.app.inject_fault("DTEUpload", "upload_status", status=9)
    answer = recepcion(upload(sii.base_url, token, data))
    assert (answer.findtext("STATUS"), answer.find("TRACKID")) == ("9", None)
    rest = rest_token(sii.base_url, signer)
    sii.app.inject_fault("boleta.envio", "upload_status", status=99)
    assert rest_upload(sii.base_url, rest, data).status_code == 500
    with pytest.raises(ValueError):
        sii.app.inject_fault("getSeed", "upload_status", status=9)
    with pytest.raises(ValueError):
        sii.app.inject_fault("getSeed", "meteor_strike")


def test_wildcard_fault_and_counters(sii):
    sii.app.inject_fault("*", "http_500")
    assert requests.get(sii.base_url + "/recursos/v1/boleta.electronica.semilla", timeout=TIMEOUT).status_code == 500
    assert requests.get(sii.base_url + "/recursos/v1/boleta.electronica.semilla", timeout=TIMEOUT).status_code == 200
    assert requests.get(sii.base_url + "/DTEWS/CrSeed.jws?WSDL", timeout=TIMEOUT).status_code == 200
    assert sii.app.calls == {"boleta.semilla": 2, "wsdl": 1}
    assert sii.app.faults.pending() == 0


def test_stop_does_not_wait_for_a_sleeping_timeout_fault(authority):
    running = start_simulator(SiiSimulator(authority=authority))
    running.app.inject_fault("getSeed", "timeout", seconds=60)

    def call():
        with contextlib.suppress(requests.RequestException):
            soap_post(running.base_url, "CrSeed", "getSeed")

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    assert _wait_for(lambda: running.app.call_count("getSeed") == 1)
    started = time.monotonic()
    running.stop()
    assert time.monotonic() - started < 10


# --- persistence and the demo entry point --------------------------------------------------


def test_state_file_keeps_tokens_track_ids_and_folios(tmp_path, authority, cafs, signer):
    state_file = tmp_path / "state" / "sii.json"
    issued = issue(cafs, signer, "33_001_simple", 400)
    with start_simulator(SiiSimulator(authority=authority, state_file=state_file)) as first:
        token = soap_token(first.base_url, signer)
        track_id = upload_ok(first.base_url, token, envelope_of([issued], signer))
        first.app.force_outcome(COMPANY, 33, 402, "rejected")
    assert oct(state_file.stat().st_mode & 0o777) == "0o600"
    with start_simulator(SiiSimulator(authority=authority, state_file=state_file)) as second:
        states, _final = poll_est_up(second.base_url, token, track_id)  # the old token still works
        assert states == ["REC", "SOK", "EPR"]
        documents = [issued, issue(cafs, signer, "33_001_simple", 401), issue(cafs, signer, "33_001_simple", 402)]
        new_track_id = upload_ok(second.base_url, token, envelope_of(documents, signer))
        assert new_track_id == track_id + 1
        _states, final = poll_est_up(second.base_url, token, new_track_id)
        assert [body(final, tag) for tag in ("ACEPTADOS", "RECHAZADOS")] == ["1", "2"]  # 400 repeated, 402 forced


def test_module_entry_point_serves(tmp_path):
    state_file, key_file = tmp_path / "sim.json", tmp_path / "authority.pem"
    command = [sys.executable, "-m", "sii_engine.simulator", "--port", "0", "--state-file", str(state_file),
               "--authority-key", str(key_file)]
    environment = {**os.environ, "PYTHONPATH": str(ADDON_ROOT)}
    process = subprocess.Popen(command, cwd=ADDON_ROOT / "sii_engine", env=environment,
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        base_url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        response = requests.get(base_url + "/DTEWS/QueryEstUp.jws?WSDL", timeout=TIMEOUT)
        assert base_url + "/DTEWS/QueryEstUp.jws" in response.text
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- cost ---------------------------------------------------------------------------------


def test_cost_per_document(sii, cafs, signer):
    """The simulator's own time per received document (reported; bounded loosely)."""
    token = soap_token(sii.base_url, signer)
    documents = [issue(cafs, signer, "33_001_simple", 1000 + folio) for folio in range(100)]
    data = envelope_of(documents, signer)
    started = time.perf_counter()
    track_id = upload_ok(sii.base_url, token, data)
    request_seconds = time.perf_counter() - started
    _states, final = poll_est_up(sii.base_url, token, track_id)
    assert body(final, "ACEPTADOS") == "100"
    stats = sii.app.processing_stats()
    assert stats["documents"] == 100
    per_document = stats["seconds_per_document"]
    print(f"\nsimulator cost: {per_document * 1000:.2f} ms/document checked, "
          f"{request_seconds * 1000 / 100:.2f} ms/document end to end over HTTP ({len(data)} bytes)")
    assert per_document < 0.05
