"""Reading the SII's answers as transcribed from its manuals and API documentation.

The fixtures are in ``fixtures/sii_responses`` (see the reference README); a
few variants below are the same answers with one field changed, or with the
byte-level defects the SII is known for (ISO-8859-1 declared as UTF-8).
"""

import json

import pytest
from lxml import etree

from sii_engine.transport import answers
from sii_engine.transport.errors import (
    AnswerUnreadable,
    AuthenticationError,
    RetryableFault,
    StatusQueryError,
    TokenInvalid,
    UploadAlreadyReceived,
    UploadRejected,
)
from sii_engine.transport.status import DOCUMENT, ENVELOPE, State, TypeCount


@pytest.fixture(scope="module")
def responses(fixtures_dir):
    folder = fixtures_dir / "sii_responses"
    return lambda name: (folder / name).read_bytes()


def soap_return(data, operation):
    """What zeep hands back: the text of ``<{operation}Return>``."""
    return etree.fromstring(data).find(f".//{operation}Return").text


# --- authentication --------------------------------------------------------------------


def test_seed_from_the_soap_answer(responses):
    inner = soap_return(responses("01_CrSeed_getSeed_soap_response.xml"), "getSeed")
    assert inner.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert answers.parse_seed(inner) == "000000000078"


def test_seed_decoded_and_boleta_rest(responses):
    assert answers.parse_seed(responses("02_CrSeed_decoded.xml")) == "000000000078"
    # the boleta API writes ESTADO 0, not 00, and puts the body first
    assert answers.parse_seed(responses("10_boleta_rest_semilla_response.xml")) == "030530912644"


def test_token_from_the_soap_and_rest_answers(responses):
    inner = soap_return(responses("05_GetTokenFromSeed_getToken_soap_response.xml"), "getToken")
    assert answers.parse_token(inner) == "XAuSbYXiNh9Ik"
    assert answers.parse_token(responses("12_boleta_rest_token_response.xml")) == "XAuSbYXiNh9Ik"


def _auth_error(status, glosa):
    return (
        '<SII:RESPUESTA xmlns:SII="http://www.sii.cl/XMLSchema"><SII:RESP_HDR>'
        f"<ESTADO>{status}</ESTADO><GLOSA>{glosa}</GLOSA></SII:RESP_HDR></SII:RESPUESTA>"
    )


def test_token_refusals_are_typed_with_the_sii_estado():
    with pytest.raises(AuthenticationError) as caught:
        answers.parse_token(_auth_error("05", "XML Invalido, firma invalida, funcion valSignedXml"))
    assert caught.value.code == "sii_authentication"
    assert caught.value.params["status"] == "05"
    assert "firma invalida" in str(caught.value)


def test_seed_timeout_is_worth_a_new_seed():
    with pytest.raises(RetryableFault):
        answers.parse_token(_auth_error("08", "TIME-OUT DEL SEED"))
    with pytest.raises(RetryableFault):
        answers.parse_seed(_auth_error("-2", "ERROR RETORNO"))


# --- DTEUpload ---------------------------------------------------------------------------


def test_upload_ok(responses):
    result = answers.parse_upload(responses("06_DTEUpload_RECEPCIONDTE_status0.xml"), "EnvioEjemplo.xml")
    assert result.track_id == "39"
    assert isinstance(result.track_id, str)
    assert result.status == "0"
    assert result.file_name == "EnvioEjemplo.xml"
    assert result.received_at == "2002-11-25 18:51:44"


def test_upload_track_id_keeps_its_digits():
    data = b"<RECEPCIONDTE><STATUS>0</STATUS><TRACKID>0260003916</TRACKID></RECEPCIONDTE>"
    assert answers.parse_upload(data, "f.xml").track_id == "0260003916"


def test_upload_schema_error_carries_status_meaning_and_details(responses):
    with pytest.raises(UploadRejected) as caught:
        answers.parse_upload(responses("07_DTEUpload_RECEPCIONDTE_status7_schema.xml"), "ENVFIN_100_sign.xml")
    error = caught.value
    assert error.code == "sii_upload_rejected"
    assert error.status == "7"
    assert error.meaning == "invalid schema"
    assert len(error.errors) == 2 and error.errors[0].startswith("LSX-00265")
    assert not error.transient


@pytest.mark.parametrize(
    "status, meaning, transient",
    [
        ("1", "the sender has no permission to send", False),
        ("2", "file size error (too large or too small)", False),
        ("3", "incomplete file (size differs from the size parameter)", False),
        ("6", "the company is not authorised to send files", False),
        ("7", "invalid schema", False),
        ("8", "signature error", False),
        ("9", "system locked", True),
        ("4", "internal error of the SII", True),
        ("42", "internal error of the SII", True),
    ],
)
def test_upload_status_meanings(status, meaning, transient):
    data = f"<RECEPCIONDTE><FILE>f.xml</FILE><STATUS>{status}</STATUS></RECEPCIONDTE>".encode()
    with pytest.raises(UploadRejected) as caught:
        answers.parse_upload(data, "f.xml")
    assert caught.value.status == status
    assert caught.value.meaning == meaning
    assert caught.value.transient is transient
    assert f"STATUS {status}" in str(caught.value)


def test_upload_status_99_already_received():
    with pytest.raises(UploadAlreadyReceived) as caught:
        answers.parse_upload(b"<RECEPCIONDTE><STATUS>99</STATUS></RECEPCIONDTE>", "f.xml")
    assert isinstance(caught.value, UploadRejected)
    assert caught.value.code == "sii_upload_already_received"


def test_upload_status_5_is_a_token_problem_that_ends_as_a_rejection():
    with pytest.raises(TokenInvalid) as caught:
        answers.parse_upload(b"<RECEPCIONDTE><STATUS>5</STATUS></RECEPCIONDTE>", "f.xml")
    final = caught.value.give_up()
    assert isinstance(final, UploadRejected)
    assert final.status == "5" and final.meaning == "not authenticated"


def test_upload_answer_without_track_id_is_unreadable():
    with pytest.raises(AnswerUnreadable):
        answers.parse_upload(b"<RECEPCIONDTE><STATUS>0</STATUS></RECEPCIONDTE>", "f.xml")


@pytest.mark.parametrize(
    "body",
    [
        b"Error 500",
        b"<html><head><title>Error</title></head><body>Servicio no disponible</body></html>",
        b"<!DOCTYPE html>\n<html><body>Mantencion</body></html>",
        b"",
        b"<RECEPCIONDTE><STATUS>0</STA",
    ],
)
def test_what_is_not_an_answer_is_unreadable(body):
    with pytest.raises(AnswerUnreadable):
        answers.parse_upload(body, "f.xml")


# --- mislabelled encodings -----------------------------------------------------------------


def test_latin1_bytes_declared_utf8_are_read_as_latin1():
    text = '<?xml version="1.0" encoding="UTF-8"?><SII:RESPUESTA xmlns:SII="http://www.sii.cl/XMLSchema">' \
           "<SII:RESP_HDR><TRACKID>7</TRACKID><ESTADO>RCT</ESTADO><GLOSA>Rechazado por Error en Carátula" \
           "</GLOSA></SII:RESP_HDR></SII:RESPUESTA>"
    status = answers.parse_est_up(text.encode("latin-1"))
    assert status.description == "Rechazado por Error en Carátula"
    assert status.state == State.REJECTED


def test_utf8_bytes_declared_latin1_are_read_as_utf8():
    text = '<?xml version="1.0" encoding="ISO-8859-1"?><RECEPCIONDTE><FILE>envío.xml</FILE>' \
           "<STATUS>0</STATUS><TRACKID>12</TRACKID></RECEPCIONDTE>"
    assert answers.parse_upload(text.encode("utf-8"), "x").file_name == "envío.xml"


def test_json_in_latin1_served_as_utf8():
    body = json.dumps({"codigo": "DNK", "descripcion": "Datos NO coinciden; envío"}, ensure_ascii=False)
    status = answers.parse_boleta_document_status(body.encode("latin-1"), declared="utf-8")
    assert status.description.endswith("envío")


def test_decode_text_falls_back_to_latin1():
    assert answers.decode_text("Ñandú".encode("latin-1"), "utf-8") == "Ñandú"
    assert answers.decode_text("Ñandú".encode(), "iso-8859-1") == "Ñandú"
    assert answers.decode_text("Ñandú".encode()) == "Ñandú"


# --- getEstUp ---------------------------------------------------------------------------


def test_est_up_epr_with_counts(responses):
    status = answers.parse_est_up(responses("08_QueryEstUp_getEstUp_EPR_decoded.xml"))
    assert status.scope == ENVELOPE
    assert status.code == "EPR"
    assert status.description == "Envio Procesado"
    assert status.track_id == "0260003916"
    assert status.counts == (TypeCount(33, informed=1, accepted=1, rejected=0, objected=0),)
    assert status.state == State.ACCEPTED and status.final and status.accepted
    assert status.attention == "34909 ( 2026/09/23 16:29:53)"


def test_est_up_rsc_rejected(responses):
    status = answers.parse_est_up(responses("09_QueryEstUp_getEstUp_RSC_decoded.xml"), track_id="532")
    assert status.code == "RSC"
    assert status.description == "Rechazado por Error en Schema"
    assert status.state == State.REJECTED and status.final and status.rejected
    assert status.track_id == "532"


def _est_up(estado, body="", extra=""):
    return (
        '<SII:RESPUESTA xmlns:SII="http://www.sii.cl/XMLSchema">'
        f"<SII:RESP_BODY>{body}</SII:RESP_BODY>"
        f"<SII:RESP_HDR><TRACKID>99</TRACKID><ESTADO>{estado}</ESTADO>{extra}</SII:RESP_HDR></SII:RESPUESTA>"
    )


def _group(doc_type, informed, accepted, rejected, objected):
    return (f"<TIPO_DOCTO>{doc_type}</TIPO_DOCTO><INFORMADOS>{informed}</INFORMADOS><ACEPTADOS>{accepted}"
            f"</ACEPTADOS><RECHAZADOS>{rejected}</RECHAZADOS><REPAROS>{objected}</REPAROS>")


def test_est_up_several_document_types():
    status = answers.parse_est_up(_est_up("EPR", _group(33, 2, 2, 0, 0) + _group(61, 1, 0, 1, 0)))
    assert status.counts == (TypeCount(33, 2, 2, 0, 0), TypeCount(61, 1, 0, 1, 0))
    assert status.state == State.MIXED and status.final and not status.accepted
    assert status.totals() == TypeCount(0, 3, 2, 1, 0)


def test_epr_alone_is_not_an_acceptance():
    status = answers.parse_est_up(_est_up("EPR"))
    assert status.state == State.IN_PROCESS
    assert not status.final and not status.accepted


def test_epr_all_rejected_and_all_objected():
    assert answers.parse_est_up(_est_up("EPR", _group(33, 1, 0, 1, 0))).state == State.REJECTED
    objected = answers.parse_est_up(_est_up("EPR", _group(33, 2, 1, 0, 1)))
    assert objected.state == State.OBJECTED and objected.accepted and objected.final


@pytest.mark.parametrize("code", ["REC", "SOK", "CRT", "FOK", "PDR", "PRD"])
def test_est_up_codes_in_process(code):
    status = answers.parse_est_up(_est_up(code))
    assert status.state == State.IN_PROCESS and not status.final


@pytest.mark.parametrize("code", ["RSC", "RFR", "RCT", "RCH", "RPT", "VOF"])
def test_est_up_codes_rejected(code):
    status = answers.parse_est_up(_est_up(code))
    assert status.state == State.REJECTED and status.final


def test_est_up_minus_11_is_in_process_unless_the_envelope_is_not_the_company_s():
    pending = answers.parse_est_up(_est_up("-11", extra="<ERR_CODE>2</ERR_CODE><SQL_CODE>0</SQL_CODE>"))
    assert pending.state == State.IN_PROCESS and not pending.final
    with pytest.raises(StatusQueryError) as caught:
        answers.parse_est_up(_est_up("-11", extra="<ERR_CODE>1</ERR_CODE>"))
    assert caught.value.params["status"] == "-11"


@pytest.mark.parametrize("code, glosa", [("001", "Cookie Inactivo"), ("002", "Token Inactivo"),
                                         ("003", "TOKEN NO EXISTE"), ("-3", "ERROR: RUT USUARIO NO EXISTE")])
def test_token_errors_are_not_document_errors(code, glosa):
    with pytest.raises(TokenInvalid) as caught:
        answers.parse_est_up(_est_up(code, extra=f"<GLOSA>{glosa}</GLOSA>"))
    assert caught.value.params["status"] == code
    with pytest.raises(TokenInvalid):
        answers.parse_est_dte(_est_up(code, extra=f"<GLOSA>{glosa}</GLOSA>"))


def test_unknown_envelope_code_is_not_final():
    status = answers.parse_est_up(_est_up("XYZ"))
    assert status.state == State.UNKNOWN and not status.final


def test_lookup_errors_of_the_sii_are_retried():
    with pytest.raises(RetryableFault):
        answers.parse_est_up(_est_up("-2", extra="<GLOSA>ERROR RETORNO</GLOSA>"))


# --- getEstDte ----------------------------------------------------------------------------


def _est_dte(estado, err_code="0", glosa_err=""):
    return (
        '<SII:RESPUESTA xmlns:SII="http://www.sii.cl/XMLSchema"><SII:RESP_HDR>'
        f"<SRV_CODE>0</SRV_CODE><SQL_CODE>0</SQL_CODE><ESTADO>{estado}</ESTADO>"
        f"<GLOSA_ESTADO>texto {estado}</GLOSA_ESTADO><ERR_CODE>{err_code}</ERR_CODE>"
        f"<GLOSA_ERR>{glosa_err}</GLOSA_ERR><NUM_ATENCION>12 ( 2024/05/15 10:00:00)</NUM_ATENCION>"
        "</SII:RESP_HDR></SII:RESPUESTA>"
    )


@pytest.mark.parametrize(
    "code, state, final",
    [
        ("DOK", State.ACCEPTED, True),
        ("MMC", State.ACCEPTED, True),
        ("ANC", State.ACCEPTED, True),
        ("DNK", State.MISMATCH, True),
        ("FAU", State.NOT_FOUND, False),
        ("FNA", State.REJECTED, True),
        ("FAN", State.REJECTED, True),
        ("EMP", State.REJECTED, True),
    ],
)
def test_est_dte_codes(code, state, final):
    status = answers.parse_est_dte(_est_dte(code))
    assert status.scope == DOCUMENT
    assert (status.code, status.state, status.final) == (code, state, final)
    assert status.description == f"texto {code}"
    assert status.attention == "12 ( 2024/05/15 10:00:00)"


def test_est_dte_keeps_the_sii_error_text():
    status = answers.parse_est_dte(_est_dte("DNK", "1", "Monto no coincide"))
    assert status.errors == ("Monto no coincide",)


# --- boleta REST ------------------------------------------------------------------------------


def test_boleta_upload(responses):
    result = answers.parse_boleta_upload(responses("13_boleta_rest_envio_response.json"), "b.xml")
    assert (result.track_id, result.status, result.kind) == ("1014", "REC", "EnvioBOLETA")
    real = answers.parse_boleta_upload(responses("16_boleta_rest_envio_response_real_2022.json"), "b.xml")
    assert real.track_id == "19658149"
    assert real.file_name == "ENVDTE76040308F9T39.xml"
    assert real.received_at == "2022-10-21 11:37:21"


def test_boleta_upload_without_track_id_is_rejected():
    with pytest.raises(UploadRejected):
        answers.parse_boleta_upload(b'{"estado": "RSC", "error": [{"descripcion": "schema"}]}', "b.xml")


def test_boleta_envelope_status(responses):
    status = answers.parse_boleta_envelope_status(responses("14_boleta_rest_estado_envio_response.json"))
    assert status.code == "EPR" and status.track_id == "1014"
    assert status.counts == (TypeCount(39, 3, 2, 1, 0), TypeCount(41, 1, 0, 0, 1))
    assert status.state == State.MIXED and status.final
    rejected = status.document(39, 1202)
    assert rejected.state == State.REJECTED and rejected.code == "RCH"
    assert rejected.errors[0] == "CRT-11 RUT envia diferente al Upload ([155]LSX-00291 value 0.52 is not declared)"
    objected = status.document(41, 3500)  # the SII's detail omits the type: matched on the folio
    assert objected.state == State.OBJECTED and objected.document_type is None


def test_boleta_envelope_in_process_and_rejected():
    assert answers.parse_boleta_envelope_status(b'{"estado": "REC", "trackid": 5}').state == State.IN_PROCESS
    rejected = answers.parse_boleta_envelope_status(json.dumps({
        "estado": "RSC", "trackid": 5,
        "detalle_rep_rech": [{"folio": None, "estado": "RCH", "error": [{"descripcion": "Schema invalido"}]}],
    }).encode())
    assert rejected.state == State.REJECTED and rejected.errors == ("Schema invalido",)


def test_boleta_document_status(responses):
    status = answers.parse_boleta_document_status(responses("15_boleta_rest_estado_boleta_response.json"))
    assert status.scope == DOCUMENT
    assert status.code == "DNK" and status.state == State.MISMATCH
    assert status.description.startswith("Documento Recibido por el SII pero Datos NO Coinciden")
    assert answers.parse_boleta_document_status(b'{"codigo": "DOK", "descripcion": "ok"}').accepted


def test_json_html_and_garbage_are_unreadable():
    for body in (b"<html><body>Error</body></html>", b"Error 500", b"[1, 2]", b""):
        with pytest.raises(AnswerUnreadable):
            answers.parse_boleta_envelope_status(body)


def test_errors_are_engine_errors_with_code_and_params():
    from sii_engine.errors import SiiEngineError
    from sii_engine.transport.errors import TokenRejected, UploadOutcomeUnknown

    error = answers.upload_error("8", "envio.xml", ["firma invalida"])
    assert isinstance(error, SiiEngineError)
    assert error.params == {"status": "8", "meaning": "signature error", "file_name": "envio.xml",
                            "detail": ": firma invalida"}
    unknown = UploadOutcomeUnknown(url="https://maullin.sii.cl/cgi_dte/UPL/DTEUpload", file_name="e.xml",
                                   reason="read timeout")
    assert unknown.code == "sii_upload_outcome_unknown" and unknown.params["reason"] == "read timeout"
    refused = TokenInvalid("QueryEstUp.getEstUp", "002", "Token Inactivo").give_up()
    assert isinstance(refused, TokenRejected) and refused.params["status"] == "002"
