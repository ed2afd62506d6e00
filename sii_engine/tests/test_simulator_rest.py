"""The simulator's boleta REST API: seed, token, envío, envío status, boleta status."""

import datetime
import json

import requests
from lxml import etree

from sii_engine.tests import conftest_simulator as kit
from sii_engine.tests.conftest_simulator import (
    COMPANY,
    SENDER,
    SII_NS,
    SII_RESPONSES,
    TIMEOUT,
    envelope_of,
    issue,
    rest_envelope_status,
    rest_token,
    rest_upload,
    rest_url,
    signed_seed,
    soap_token,
)

# fixtures shared by the simulator tests
authority, signer, cafs, sii = kit.authority, kit.signer, kit.cafs, kit.sii


def _structure(element):
    return [etree.QName(node).localname for node in element.iter() if isinstance(node.tag, str)]


def _sample(name):
    return (SII_RESPONSES / name).read_bytes()


def _poll(base_url, token, track_id, polls=6):
    answers = []
    for _ in range(polls):
        response = rest_envelope_status(base_url, token, track_id)
        assert response.status_code == 200, response.text
        answers.append(response.json())
        if answers[-1]["estado"] not in ("REC", "SOK", "CRT", "FOK", "PDR"):
            break
    return answers


def _boleta_estado(base_url, token, folio, total, receiver="66666666-6", issue_date=None, document_type=39):
    number, verifier = receiver.split("-")
    issue_date = (issue_date or datetime.date.today()).strftime("%d-%m-%Y")
    return requests.get(
        rest_url(base_url, f"boleta.electronica/{COMPANY}-{document_type}-{folio}/estado"),
        params={"rut_receptor": number, "dv_receptor": verifier, "monto": total, "fechaEmision": issue_date},
        headers={"Cookie": f"TOKEN={token}", "Accept": "application/json"}, timeout=TIMEOUT,
    )


def test_seed_and_token_answers_have_the_sii_shape(sii, signer):
    seed_response = requests.get(rest_url(sii.base_url, "boleta.electronica.semilla"), timeout=TIMEOUT)
    assert seed_response.headers["Content-Type"].startswith("application/xml")
    seed_answer = etree.fromstring(seed_response.content)
    assert _structure(seed_answer) == _structure(etree.fromstring(_sample("10_boleta_rest_semilla_response.xml")))
    assert seed_answer.findtext(f"{{{SII_NS}}}RESP_HDR/ESTADO") == "0"
    seed = seed_answer.findtext(f"{{{SII_NS}}}RESP_BODY/SEMILLA")
    token_response = requests.post(rest_url(sii.base_url, "boleta.electronica.token"),
                                   data=signed_seed(seed, signer).encode(),
                                   headers={"Content-Type": "application/xml"}, timeout=TIMEOUT)
    token_answer = etree.fromstring(token_response.content)
    assert _structure(token_answer) == _structure(etree.fromstring(_sample("12_boleta_rest_token_response.xml")))
    assert token_answer.findtext(f"{{{SII_NS}}}RESP_HDR/GLOSA") == "Token Creado"


def test_boleta_envio_is_received_processed_and_queryable(sii, cafs, signer):
    token = rest_token(sii.base_url, signer)
    boletas = [issue(cafs, signer, "39_001_simple", 1), issue(cafs, signer, "39_002_descuento_global", 2)]
    response = rest_upload(sii.base_url, token, envelope_of(boletas, signer), filename="boletas.xml")
    assert response.status_code == 200, response.text
    received = response.json()
    assert list(received) == list(json.loads(_sample("13_boleta_rest_envio_response.json")))
    assert (received["rut_emisor"], received["rut_envia"], received["estado"], received["file"]) == (
        COMPANY, SENDER, "REC", "boletas.xml")
    datetime.datetime.strptime(received["fecha_recepcion"], "%Y-%m-%d %H:%M:%S")

    answers = _poll(sii.base_url, token, received["trackid"])
    assert [answer["estado"] for answer in answers] == ["REC", "SOK", "EPR"]
    assert answers[0]["estadistica"] is None and answers[0]["detalle_rep_rech"] is None
    final = answers[-1]
    assert list(final) == list(json.loads(_sample("14_boleta_rest_estado_envio_response.json")))
    datetime.datetime.strptime(final["fecha_recepcion"], "%d/%m/%Y %H:%M:%S")
    assert final["estadistica"] == [{"tipo": 39, "informados": 2, "aceptados": 2, "rechazados": 0, "reparos": 0}]
    assert final["detalle_rep_rech"] == []

    estado = _boleta_estado(sii.base_url, token, 1, int(boletas[0].total))
    assert estado.json() == {"codigo": "DOK",
                             "descripcion": "Documento Recibido por el SII. Datos Coinciden con los Registrados"}
    mismatch = _boleta_estado(sii.base_url, token, 1, int(boletas[0].total) + 1).json()
    assert mismatch == json.loads(_sample("15_boleta_rest_estado_boleta_response.json"))
    assert _boleta_estado(sii.base_url, token, 99, 1000).json()["codigo"] == "FAU"


def test_rejected_and_objected_boletas_are_detailed(sii, cafs, signer):
    sii.app.force_outcome(COMPANY, 39, 11, "rejected", reason="Boleta observada")
    sii.app.force_outcome(COMPANY, 39, 12, "objected_minor", reason="Detalle")
    token = rest_token(sii.base_url, signer)
    boletas = [issue(cafs, signer, "39_001_simple", folio) for folio in (10, 11, 12)]
    received = rest_upload(sii.base_url, token, envelope_of(boletas, signer)).json()
    final = _poll(sii.base_url, token, received["trackid"])[-1]
    assert final["estadistica"] == [{"tipo": 39, "informados": 3, "aceptados": 1, "rechazados": 1, "reparos": 1}]
    details = {entry["folio"]: entry for entry in final["detalle_rep_rech"]}
    assert sorted(details) == [11, 12]
    assert (details[11]["estado"], details[11]["descripcion"]) == ("RCH", "Dte Rechazado")
    assert details[11]["error"][0] == {"seccion": "HED", "linea": None, "nivel": 3, "codigo": 900,
                                       "descripcion": "Rechazo Forzado (simulador)", "detalle": "Boleta observada"}
    assert details[12]["estado"] == "RLV"


def test_envio_rejected_as_a_whole(sii, cafs, signer):
    token = rest_token(sii.base_url, signer)
    data = envelope_of([issue(cafs, signer, "39_001_simple", 20)], signer)
    received = rest_upload(sii.base_url, token, data.replace(b"<NroResol>80</NroResol>", b"<NroResol>8</NroResol>"))
    final = _poll(sii.base_url, token, received.json()["trackid"])[-1]
    assert final["estado"] == "RFR"
    assert final["estadistica"] == []
    assert [(entry["folio"], entry["estado"]) for entry in final["detalle_rep_rech"]] == [(None, "RCH")]


def test_an_envio_dte_is_not_a_boleta_envio(sii, cafs, signer):
    token = rest_token(sii.base_url, signer)
    data = envelope_of([issue(cafs, signer, "33_001_simple", 1)], signer)
    final = _poll(sii.base_url, token, rest_upload(sii.base_url, token, data).json()["trackid"])[-1]
    assert final["estado"] == "RSC"


def test_tokens_are_per_api(sii, cafs, signer):
    soap = soap_token(sii.base_url, signer)
    rest = rest_token(sii.base_url, signer)
    data = envelope_of([issue(cafs, signer, "39_001_simple", 30)], signer)
    refused = rest_upload(sii.base_url, soap, data)
    assert refused.status_code == 401
    assert refused.headers["Content-Type"].startswith("text/plain")
    assert rest_envelope_status(sii.base_url, "NoToken123456", 1000).status_code == 401
    track_id = rest_upload(sii.base_url, rest, data).json()["trackid"]
    assert rest_envelope_status(sii.base_url, rest, track_id).status_code == 200
    assert rest_envelope_status(sii.base_url, rest, track_id + 1000).status_code == 404
    assert rest_envelope_status(sii.base_url, rest, track_id, company="96670340-7").status_code == 404
