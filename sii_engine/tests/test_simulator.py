"""The SII simulator over real HTTP: authentication, DTEUpload, getEstUp/getEstDte.

Every answer is compared with the SII's transcribed answers
(fixtures/sii_responses) and every rejection with the SII's code for it.
"""

import dataclasses
import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from lxml import etree

from sii_engine import identities
from sii_engine import signature as signature_module
from sii_engine.simulator import SiiSimulator, start_simulator
from sii_engine.simulator.wsdl import SERVICES
from sii_engine.tests import conftest_simulator as kit
from sii_engine.tests.conftest_simulator import (
    COMPANY,
    SENDER,
    SII_NS,
    SII_RESPONSES,
    TIMEOUT,
    body,
    envelope_of,
    est_dte,
    est_up,
    hdr,
    issue,
    make_document,
    poll_est_up,
    recepcion,
    resign_dte,
    signed_seed,
    soap_answer,
    soap_call,
    soap_post,
    soap_seed,
    soap_token,
    upload,
    upload_ok,
)
from sii_engine.totals import compute_totals, round_amount

WSDL_NS = {"wsdl": "http://schemas.xmlsoap.org/wsdl/", "soap": "http://schemas.xmlsoap.org/wsdl/soap/"}

# fixtures shared by the simulator tests
authority, signer, cafs, sii = kit.authority, kit.signer, kit.cafs, kit.sii


def _structure(element):
    """Tag names in document order, without text: what two SII answers must share."""
    return [etree.QName(node).localname for node in element.iter() if isinstance(node.tag, str)]


def _sample(name):
    return etree.fromstring((SII_RESPONSES / name).read_bytes())


# --- WSDL and authentication ---------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(SERVICES))
def test_wsdl_is_served_with_the_simulator_address(sii, path):
    suffix = "?wsdl" if path.endswith("wsDTECorreo") else "?WSDL"
    response = requests.get(sii.base_url + path + suffix, timeout=TIMEOUT)
    assert response.status_code == 200
    wsdl = etree.fromstring(response.content)
    locations = wsdl.xpath("//soap:address/@location", namespaces=WSDL_NS)
    assert locations == [sii.base_url + path]
    rcv_service = path.endswith("/registroreclamodteservice")  # the addon's own WSDL, another namespace
    expected = "http://ws.registroreclamodte.diii.sdi.sii.cl" if rcv_service else "https://maullin.sii.cl/DTEWS/"
    assert wsdl.get("targetNamespace").startswith(expected)


def test_seed_answer_has_the_sii_shape(sii):
    response = soap_post(sii.base_url, "CrSeed", "getSeed")
    envelope = etree.fromstring(response.content)
    assert response.headers["Content-Type"].startswith("text/xml")
    assert _structure(envelope) == _structure(_sample("01_CrSeed_getSeed_soap_response.xml"))
    returned = envelope.find(".//getSeedReturn")
    assert returned.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "xsd:string"
    assert returned.text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<SII:RESPUESTA')
    answer = soap_answer(response, "getSeed")
    assert _structure(answer) == _structure(_sample("02_CrSeed_decoded.xml"))
    assert hdr(answer, "ESTADO") == "00"
    assert len(body(answer, "SEMILLA")) == 12 and body(answer, "SEMILLA").isdigit()


def test_signed_seed_gives_a_token_like_the_sii(sii, signer):
    seed = soap_seed(sii.base_url)
    response = soap_post(sii.base_url, "GetTokenFromSeed", "getToken", {"pszXml": signed_seed(seed, signer)})
    assert _structure(etree.fromstring(response.content)) == _structure(
        _sample("05_GetTokenFromSeed_getToken_soap_response.xml"))
    answer = soap_answer(response, "getToken")
    assert (hdr(answer, "ESTADO"), hdr(answer, "GLOSA")) == ("00", "Token Creado")
    assert len(body(answer, "TOKEN")) == 13 and body(answer, "TOKEN").isalnum()


def test_a_seed_is_good_once(sii, signer):
    seed = soap_seed(sii.base_url)
    soap_call(sii.base_url, "GetTokenFromSeed", "getToken", {"pszXml": signed_seed(seed, signer)})
    again = soap_call(sii.base_url, "GetTokenFromSeed", "getToken", {"pszXml": signed_seed(seed, signer)})
    assert (hdr(again, "ESTADO"), hdr(again, "GLOSA")) == ("08", "NO Existe SEED")
    assert body(again, "TOKEN") is None


def test_a_seed_expires_after_two_minutes(authority, signer):
    now = [1_000_000.0]
    simulator = SiiSimulator(authority=authority, clock=lambda: now[0])
    with start_simulator(simulator) as running:
        seed = soap_seed(running.base_url)
        now[0] += 121
        answer = soap_call(running.base_url, "GetTokenFromSeed", "getToken", {"pszXml": signed_seed(seed, signer)})
    assert (hdr(answer, "ESTADO"), hdr(answer, "GLOSA")) == ("08", "TIME-OUT DEL SEED")


def test_token_requests_with_bad_signatures_get_the_sii_codes(sii, signer):
    seed = soap_seed(sii.base_url)
    unsigned = f"<getToken><item><Semilla>{seed}</Semilla></item></getToken>"
    assert hdr(soap_call(sii.base_url, "GetTokenFromSeed", "getToken", {"pszXml": unsigned}), "ESTADO") == "04"
    tampered = signed_seed(seed, signer).replace(f"<Semilla>{seed}</Semilla>", "<Semilla>000000000001</Semilla>")
    assert hdr(soap_call(sii.base_url, "GetTokenFromSeed", "getToken", {"pszXml": tampered}), "ESTADO") == "05"
    assert hdr(soap_call(sii.base_url, "GetTokenFromSeed", "getToken", {"pszXml": "<getToken"}), "ESTADO") == "02"
    # the seed survived the failed attempts: a good signature still gets a token
    good = soap_call(sii.base_url, "GetTokenFromSeed", "getToken", {"pszXml": signed_seed(seed, signer)})
    assert hdr(good, "ESTADO") == "00"


def test_a_certificate_without_rut_gets_no_token(sii):
    from cryptography.hazmat.primitives.serialization import pkcs12

    from sii_engine.certificate import Certificate

    data = identities.make_pkcs12(SENDER, "Sin RUT", with_rut=False, key_size=1024)
    key, x509_certificate, _chain = pkcs12.load_key_and_certificates(data, b"test")
    anonymous = Certificate(private_key=key, certificate=x509_certificate, holder_rut="", holder_name="Sin RUT",
                            not_before=x509_certificate.not_valid_before, not_after=x509_certificate.not_valid_after)
    seed = soap_seed(sii.base_url)
    answer = soap_call(sii.base_url, "GetTokenFromSeed", "getToken", {"pszXml": signed_seed(seed, anonymous)})
    assert hdr(answer, "ESTADO") == "-07"


def test_unknown_operation_is_a_soap_fault(sii):
    response = soap_post(sii.base_url, "CrSeed", "getNothing")
    assert response.status_code == 500
    assert etree.fromstring(response.content).find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault") is not None


# --- upload and processing -----------------------------------------------------------------


def test_valid_envio_dte_is_accepted_after_the_processing_polls(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    issued = issue(cafs, signer, "33_001_simple", 1)
    response = upload(sii.base_url, token, envelope_of([issued], signer), filename="EnvioEjemplo.xml")
    answer = recepcion(response)
    assert [child.tag for child in answer] == [child.tag for child in _sample("06_DTEUpload_RECEPCIONDTE_status0.xml")]
    assert answer.findtext("STATUS") == "0"
    assert (answer.findtext("RUTSENDER"), answer.findtext("RUTCOMPANY")) == (SENDER, COMPANY)
    assert answer.findtext("FILE") == "EnvioEjemplo.xml"
    track_id = int(answer.findtext("TRACKID"))

    states, final = poll_est_up(sii.base_url, token, track_id)
    assert states == ["REC", "SOK", "EPR"]
    assert _structure(final) == _structure(_sample("08_QueryEstUp_getEstUp_EPR_decoded.xml"))
    assert hdr(final, "TRACKID") == f"{track_id:010d}"
    assert hdr(final, "GLOSA") == "Envio Procesado"
    assert [body(final, tag) for tag in ("TIPO_DOCTO", "INFORMADOS", "ACEPTADOS", "RECHAZADOS", "REPAROS")] == [
        "33", "1", "1", "0", "0"]
    assert sii.app.upload_count("DTEUpload", status=0) == 1

    dok = est_dte(sii.base_url, token, 33, 1, issued.total)
    assert (hdr(dok, "ESTADO"), hdr(dok, "ERR_CODE")) == ("DOK", "0")
    assert hdr(est_dte(sii.base_url, token, 33, 1, issued.total + 1), "ESTADO") == "DNK"
    assert hdr(est_dte(sii.base_url, token, 33, 2, issued.total), "ESTADO") == "FAU"


def test_several_types_are_counted_per_type(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    documents = [issue(cafs, signer, "33_001_simple", 10), issue(cafs, signer, "33_004_descuento_global", 11),
                 issue(cafs, signer, "34_001_simple", 12)]
    track_id = upload_ok(sii.base_url, token, envelope_of(documents, signer))
    _states, final = poll_est_up(sii.base_url, token, track_id)
    groups = [element.text for element in final.find(f"{{{SII_NS}}}RESP_BODY")]
    assert groups == ["33", "2", "2", "0", "0", "34", "1", "1", "0", "0"]


def test_upload_without_token_is_status_5(sii, cafs, signer):
    data = envelope_of([issue(cafs, signer, "33_001_simple", 20)], signer)
    for token in (None, "NotAToken1234"):
        answer = recepcion(upload(sii.base_url, token, data))
        assert answer.findtext("STATUS") == "5"
        assert answer.find("TRACKID") is None
    assert sii.app.upload_count(status=0) == 0


def test_upload_refusals_before_a_track_id(authority, cafs, signer):
    with start_simulator(SiiSimulator(authority=authority, unauthorized_companies=["96670340-7"])) as running:
        token = soap_token(running.base_url, signer)
        data = envelope_of([issue(cafs, signer, "33_001_simple", 21)], signer)
        other_person = recepcion(upload(running.base_url, token, data, sender="22222222-2"))
        assert other_person.findtext("STATUS") == "1"
        unauthorized = recepcion(upload(running.base_url, token, data, company="96670340-7"))
        assert unauthorized.findtext("STATUS") == "6"
        empty = recepcion(upload(running.base_url, token, b""))
        assert empty.findtext("STATUS") == "2"
        truncated = requests.post(
            running.base_url + "/cgi_dte/UPL/DTEUpload",
            data=b'--XyZ\r\nContent-Disposition: form-data; name="rutSender"\r\n\r\n11111111\r\n--XyZ\r\n'
                 b'Content-Disposition: form-data; name="archivo"; filename="a.xml"\r\n\r\n<EnvioDTE',
            headers={"Content-Type": "multipart/form-data: boundary=XyZ", "Cookie": f"TOKEN={token}"},
            timeout=TIMEOUT,
        )
        assert recepcion(truncated).findtext("STATUS") == "3"
        not_xml = recepcion(upload(running.base_url, token, b"this is not XML"))
        assert not_xml.findtext("STATUS") == "7"
        assert not_xml.find("DETAIL/ERROR") is not None
        assert hdr(est_dte(running.base_url, token, 33, 21, 1, company="96670340-7"), "ESTADO") == "EMP"
        assert running.app.upload_count("DTEUpload") == 5 and running.app.upload_count(status=0) == 0


def test_files_over_the_size_limit_are_status_2(authority, cafs, signer):
    with start_simulator(SiiSimulator(authority=authority, max_upload_bytes=4000)) as running:
        token = soap_token(running.base_url, signer)
        data = envelope_of([issue(cafs, signer, "33_001_simple", 22)], signer)
        assert 4000 < len(data) < 64 * 1024
        assert recepcion(upload(running.base_url, token, data)).findtext("STATUS") == "2"
        huge = recepcion(upload(running.base_url, token, data * 20))  # over the limit: not even read
        assert (huge.findtext("STATUS"), huge.findtext("RUTCOMPANY")) == ("2", "")
        assert running.app.upload_count(status=2) == 2


def _schema_invalid_envelope(cafs, signer):
    data = envelope_of([issue(cafs, signer, "33_001_simple", 30)], signer)
    return data.replace(b"<NroResol>80</NroResol>", b"<NroResol>ochenta</NroResol>")


def test_schema_invalid_envelope_is_rsc(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    track_id = upload_ok(sii.base_url, token, _schema_invalid_envelope(cafs, signer))
    states, final = poll_est_up(sii.base_url, token, track_id)
    assert states == ["REC", "REC", "RSC"]
    assert _structure(final) == _structure(_sample("09_QueryEstUp_getEstUp_RSC_decoded.xml"))
    assert hdr(final, "GLOSA") == "Rechazado por Error en Schema"
    assert "NroResol" in " ".join(sii.app.envelope(track_id)["errors"])
    assert hdr(est_dte(sii.base_url, token, 33, 30, 1), "ESTADO") == "FAU"


def test_strict_upload_refuses_schema_errors_with_status_7(authority, cafs, signer):
    with start_simulator(SiiSimulator(authority=authority, strict_upload=True)) as running:
        token = soap_token(running.base_url, signer)
        answer = recepcion(upload(running.base_url, token, _schema_invalid_envelope(cafs, signer)))
        assert [child.tag for child in answer] == [
            child.tag for child in _sample("07_DTEUpload_RECEPCIONDTE_status7_schema.xml")]
        assert answer.findtext("STATUS") == "7"
        assert any("NroResol" in error.text for error in answer.iterfind("DETAIL/ERROR"))
        signed = envelope_of([issue(cafs, signer, "33_001_simple", 31)], signer)
        tampered = signed.replace(b"<NroResol>80</NroResol>", b"<NroResol>81</NroResol>")
        assert recepcion(upload(running.base_url, token, tampered)).findtext("STATUS") == "8"


def test_envelope_signature_error_is_rfr(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    data = envelope_of([issue(cafs, signer, "33_001_simple", 32)], signer)
    track_id = upload_ok(sii.base_url, token, data.replace(b"<NroResol>80</NroResol>", b"<NroResol>81</NroResol>"))
    states, final = poll_est_up(sii.base_url, token, track_id)
    assert states == ["REC", "SOK", "RFR"]
    assert hdr(final, "GLOSA") == "Rechazado por Error en Firma"


def test_cover_for_another_company_is_rct(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    data = envelope_of([issue(cafs, signer, "33_001_simple", 33)], signer)
    track_id = upload_ok(sii.base_url, token, data, company="96670340-7")
    assert hdr(est_up(sii.base_url, token, track_id), "ESTADO") == "-11"  # not the company the caratula names
    states, _final = poll_est_up(sii.base_url, token, track_id, company="96670340-7")
    assert states == ["REC", "SOK", "RCT"]
    assert "RUT Emisor" in sii.app.envelope(track_id)["errors"][0]


def test_wrong_resolution_is_rct(authority, cafs, signer):
    settings = {"resolutions": {COMPANY: ("2014-08-22", 99)}, "processing_polls": 0}
    with start_simulator(SiiSimulator(authority=authority, **settings)) as running:
        token = soap_token(running.base_url, signer)
        track_id = upload_ok(running.base_url, token, envelope_of([issue(cafs, signer, "33_001_simple", 34)], signer))
        assert hdr(est_up(running.base_url, token, track_id), "ESTADO") == "RCT"
        assert "(CRT-3-19)" in running.app.envelope(track_id)["errors"][0]


# --- document rejections -------------------------------------------------------------------


def _document_result(sii, token, data):
    track_id = upload_ok(sii.base_url, token, data)
    _states, final = poll_est_up(sii.base_url, token, track_id)
    assert hdr(final, "ESTADO") == "EPR"
    return final, sii.app.envelope(track_id)["documents"]


def test_dte_altered_after_signing_is_rejected(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    issued = issue(cafs, signer, "33_001_simple", 40)
    altered = issued.xml.replace(b"<GiroRecep>Gobierno</GiroRecep>", b"<GiroRecep>Otro giro</GiroRecep>")
    assert altered != issued.xml
    final, documents = _document_result(sii, token, envelope_of([altered], signer, check_documents=False))
    assert (body(final, "ACEPTADOS"), body(final, "RECHAZADOS")) == ("0", "1")
    assert documents[0]["outcome"] == "RCH"
    assert [found["section"] for found in documents[0]["issues"]] == ["FIR"]
    assert hdr(est_dte(sii.base_url, token, 33, 40, issued.total), "ESTADO") == "FAU"


def test_dte_signed_with_another_key_is_rejected(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    issued = issue(cafs, signer, "33_001_simple", 41)
    stranger = identities.make_pkcs12("22222222-2", "Otra Persona", key_size=1024)
    from sii_engine.certificate import load_pkcs12

    other = load_pkcs12(stranger, "test")
    root = etree.fromstring(issued.xml)
    value = root.find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureValue")
    resigned = etree.fromstring(resign_dte(issued.xml, other))
    value.text = resigned.findtext(".//{http://www.w3.org/2000/09/xmldsig#}SignatureValue")
    forged = etree.tostring(root, encoding="ISO-8859-1", xml_declaration=True)
    _final, documents = _document_result(sii, token, envelope_of([forged], signer, check_documents=False))
    assert documents[0]["outcome"] == "RCH"
    assert documents[0]["issues"][0]["description"] == "Firma del DTE Incorrecta"


def test_tampered_ted_is_rejected(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    issued = issue(cafs, signer, "33_001_simple", 42)
    root = etree.fromstring(issued.xml)
    frmt = root.find(".//{http://www.sii.cl/SiiDte}FRMT")
    frmt.text = ("A" if frmt.text[0] != "A" else "B") + frmt.text[1:]
    data = resign_dte(etree.tostring(root, encoding="ISO-8859-1", xml_declaration=True), signer)
    _final, documents = _document_result(sii, token, envelope_of([data], signer))
    assert documents[0]["outcome"] == "RCH"
    assert [(found["section"], found["code"]) for found in documents[0]["issues"]] == [("TED", 2)]


def test_folio_outside_the_caf_is_rejected_and_not_authorized(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    stretched = dataclasses.replace(cafs[33], last_folio=10_000)  # the CAF says 1-5000
    issued = issue(cafs, signer, "33_001_simple", 7000, caf=stretched)
    _final, documents = _document_result(sii, token, envelope_of([issued], signer))
    assert documents[0]["outcome"] == "RCH"
    assert documents[0]["issues"][0]["description"] == "Folio Fuera del Rango Autorizado (CAF)"
    assert hdr(est_dte(sii.base_url, token, 33, 7000, issued.total), "ESTADO") == "FNA"


def test_caf_not_signed_by_the_trusted_sii_key_is_rejected(sii, signer):
    from sii_engine.caf import load_caf

    impostor = identities.TestAuthority()
    caf = load_caf(impostor.issue_caf(COMPANY, "SASCO SpA", 33, 1, 100), impostor.trusted_keys())
    token = soap_token(sii.base_url, signer)
    issued = issue({33: caf}, signer, "33_001_simple", 50)
    _final, documents = _document_result(sii, token, envelope_of([issued], signer))
    assert documents[0]["issues"][0]["description"] == "CAF No Autorizado por el SII"
    assert hdr(est_dte(sii.base_url, token, 33, 50, issued.total), "ESTADO") == "FNA"


def test_repeated_folio_is_rejected_and_identical_resend_is_rpt(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    issued = issue(cafs, signer, "33_001_simple", 60)
    first = envelope_of([issued], signer)
    _states, _final = poll_est_up(sii.base_url, token, upload_ok(sii.base_url, token, first))
    # the same document in a new envelope: processed, the document rejected as repeated
    second = envelope_of([issued, issue(cafs, signer, "33_001_simple", 61)], signer)
    final, documents = _document_result(sii, token, second)
    assert (body(final, "INFORMADOS"), body(final, "ACEPTADOS"), body(final, "RECHAZADOS")) == ("2", "1", "1")
    assert documents[0]["issues"][0]["description"].startswith("DTE Repetido")
    assert hdr(est_dte(sii.base_url, token, 33, 60, issued.total), "ESTADO") == "DOK"
    # the very same file again (a client retrying blindly): RPT
    states, final = poll_est_up(sii.base_url, token, upload_ok(sii.base_url, token, first))
    assert states[-1] == "RPT"
    assert len(sii.app.duplicate_uploads()) == 1


def test_same_document_twice_in_one_envelope_breaks_the_schema(sii, cafs, signer):
    from sii_engine import envelope as envelope_module

    token = soap_token(sii.base_url, signer)
    issued = issue(cafs, signer, "33_001_simple", 62)
    data = envelope_module.build_envelope([issued.xml, issued.xml], COMPANY, signer, datetime.date(2014, 8, 22), 80,
                                          validate=False)
    states, _final = poll_est_up(sii.base_url, token, upload_ok(sii.base_url, token, data))
    assert states[-1] == "RSC"  # two <Documento ID="T33F62">: xs:ID must be unique


def _issue_with_totals(cafs, signer, name, folio, change):
    """Issue a DTE whose amounts were changed after computing them (signed and stamped anyway)."""
    from sii_engine import dte as dte_module
    from sii_engine import schema
    from sii_engine.ted import StampData, build_ted
    from sii_engine.xmlutil import to_bytes

    document = make_document(name, folio)
    totals = compute_totals(document)
    change(totals)
    tree, totals = dte_module.build_dte(document, totals)
    stamp = StampData(document.document_type, folio, document.issue_date, document.receiver.rut,
                      document.receiver.name, int(totals.total), document.lines[0].name)
    moment = datetime.datetime.now().replace(microsecond=0)
    tree[0].append(build_ted(cafs[document.document_type], document.issuer.rut, stamp, moment))
    etree.SubElement(tree[0], "{http://www.sii.cl/SiiDte}TmstFirma").text = moment.isoformat()
    signature_module.sign_reference(tree, document.document_id, signer)
    schema.validate(tree)
    return to_bytes(tree, declaration=True)


def test_wrong_vat_is_rejected(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)

    def wrong_vat(totals):
        totals.vat += 100
        totals.total += 100

    data = _issue_with_totals(cafs, signer, "33_001_simple", 70, wrong_vat)
    _final, documents = _document_result(sii, token, envelope_of([data], signer))
    assert documents[0]["outcome"] == "RCH"
    assert [found["description"] for found in documents[0]["issues"]] == ["Monto IVA Distinto al Calculado"]


def test_total_that_is_not_the_sum_is_rejected(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)

    def wrong_total(totals):
        totals.total += 1

    data = _issue_with_totals(cafs, signer, "33_004_descuento_global", 71, wrong_total)
    _final, documents = _document_result(sii, token, envelope_of([data], signer))
    assert [found["code"] for found in documents[0]["issues"]] == [24]


def test_wrong_line_amount_is_an_objection(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)

    def wrong_line(totals):
        totals.lines[0].amount += 10
        totals.net += 10
        totals.vat = round_amount(totals.net * Decimal("0.19"))
        totals.total = totals.net + totals.vat

    data = _issue_with_totals(cafs, signer, "33_001_simple", 72, wrong_line)
    final, documents = _document_result(sii, token, envelope_of([data], signer))
    assert (body(final, "ACEPTADOS"), body(final, "REPAROS")) == ("0", "1")
    assert documents[0]["outcome"] == "RPR"
    assert documents[0]["issues"][0]["description"] == "Valor Detalle Distinto a Precio * Cantidad"
    total = etree.fromstring(data).findtext(".//{http://www.sii.cl/SiiDte}MntTotal")
    assert hdr(est_dte(sii.base_url, token, 33, 72, total), "ESTADO") == "DOK"


@pytest.mark.parametrize("name", ["33_002_factura_guia", "33_003_iva_anticipado", "33_005_descuento_item_monto",
                                  "33_006_descuento_item_porcentaje", "33_007_contado_observacion",
                                  "33_008_impuesto_adicional", "34_001_simple"])
def test_engine_documents_pass_the_amount_checks(sii, cafs, signer, name):
    token = soap_token(sii.base_url, signer)
    folio = 100 + int(name.split("_")[1]) + (50 if name.startswith("34") else 0)
    _final, documents = _document_result(sii, token, envelope_of([issue(cafs, signer, name, folio)], signer))
    assert documents[0]["outcome"] == "DOK", documents[0]["issues"]


def test_forced_outcomes(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    sii.app.force_outcome(COMPANY, 33, 80, "objected", reason="Giro no corresponde")
    sii.app.force_outcome(COMPANY, 33, 81, "rejected", reason="Contribuyente con observaciones")
    documents = [issue(cafs, signer, "33_001_simple", folio) for folio in (80, 81, 82)]
    final, results = _document_result(sii, token, envelope_of(documents, signer))
    assert [body(final, tag) for tag in ("INFORMADOS", "ACEPTADOS", "RECHAZADOS", "REPAROS")] == ["3", "1", "1", "1"]
    assert [result["outcome"] for result in results] == ["RPR", "RCH", "DOK"]
    assert results[1]["issues"][-1]["detail"] == "Contribuyente con observaciones"


def test_credit_note_marks_the_invoice(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    invoice = issue(cafs, signer, "33_001_simple", 90)
    _document_result(sii, token, envelope_of([invoice], signer))

    def refer_to_invoice(data):
        data["Referencia"]["FolioRef"] = 90
        data["Referencia"]["FchRef"] = datetime.date.today().isoformat()

    note = issue(cafs, signer, "61_001_anula_factura", 1, edit=refer_to_invoice)
    final, _documents = _document_result(sii, token, envelope_of([note], signer))
    assert (body(final, "TIPO_DOCTO"), body(final, "ACEPTADOS")) == ("61", "1")
    assert hdr(est_dte(sii.base_url, token, 33, 90, invoice.total), "ESTADO") == "ANC"


@pytest.mark.parametrize(("name", "outcome"), [
    ("DTE--60910000-1--33--2336600--cleaned.xml", "DOK"),
    ("DTE--96670340-7--61--110616--cleaned.xml", "DOK"),
    ("DTE--76354771-K--33--170--cleaned.xml", "DOK"),
    ("DTE--76354771-K--33--170--cleaned-mod-changed-monto.xml", "RCH"),
    ("DTE--76354771-K--33--170--cleaned-mod-replaced-cert.xml", "RCH"),
])
def test_real_documents_the_sii_accepted_are_accepted(signer, name, outcome):
    """Real production DTEs (CAFs signed by the SII's IDK 300 key) in an envelope of ours."""
    from sii_engine.caf import sii_trusted_keys
    from sii_engine.envelope import build_envelope

    data = (Path(__file__).parent / "fixtures" / "real_production" / name).read_bytes()
    company = name.split("--")[1]
    with start_simulator(SiiSimulator(trusted_keys=sii_trusted_keys(), processing_polls=0)) as running:
        token = soap_token(running.base_url, signer)
        # The tampered ones reach the SII only past the builder's own check of each DTE's signature.
        envelope = build_envelope([data], company, signer, datetime.date(2014, 8, 22), 80,
                                  check_documents=outcome == "DOK")
        track_id = upload_ok(running.base_url, token, envelope, company=company)
        assert hdr(est_up(running.base_url, token, track_id, company=company), "ESTADO") == "EPR"
        document = running.app.envelope(track_id)["documents"][0]
    assert document["outcome"] == outcome, document["issues"]


# --- status queries -----------------------------------------------------------------------


def test_status_queries_check_the_token_and_the_company(sii, cafs, signer):
    token = soap_token(sii.base_url, signer)
    track_id = upload_ok(sii.base_url, token, envelope_of([issue(cafs, signer, "33_001_simple", 95)], signer))
    assert hdr(est_up(sii.base_url, "", track_id), "ESTADO") == "001"
    assert hdr(est_up(sii.base_url, "NoSuchToken12", track_id), "ESTADO") == "003"
    other = est_up(sii.base_url, token, track_id, company="96670340-7")
    assert (hdr(other, "ESTADO"), hdr(other, "ERR_CODE")) == ("-11", "1")
    assert hdr(est_up(sii.base_url, token, 999999), "ESTADO") == "-11"
    sii.app.expire_tokens()
    assert (hdr(est_up(sii.base_url, token, track_id), "ESTADO"), hdr(est_up(sii.base_url, token, track_id), "GLOSA")) \
        == ("002", "Token Inactivo")
    assert hdr(est_dte(sii.base_url, token, 33, 95, 1), "ESTADO") == "002"
    assert sii.app.envelope(track_id)["polls"] == 0  # refused queries do not advance the processing


def test_concurrent_uploads_get_distinct_track_ids(sii, cafs, signer):
    from concurrent.futures import ThreadPoolExecutor

    token = soap_token(sii.base_url, signer)
    envelopes = [envelope_of([issue(cafs, signer, "33_001_simple", 200 + index)], signer) for index in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        track_ids = list(pool.map(lambda data: upload_ok(sii.base_url, token, data), envelopes))
    assert len(set(track_ids)) == 8
    for track_id in track_ids:
        assert poll_est_up(sii.base_url, token, track_id)[0][-1] == "EPR"
    assert sii.app.upload_count("DTEUpload", status=0) == 8 and not sii.app.duplicate_uploads()
