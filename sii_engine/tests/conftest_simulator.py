"""Helpers and fixtures for the SII simulator tests.

They speak to the simulator the way any SII client must: plain ``requests``,
hand-built SOAP envelopes, a seed signed with ``signature.sign_enveloped``,
the multipart upload of the SII's manual. Nothing here uses the transport
client, so these tests pin the wire protocol itself.
"""

import copy
import datetime
import json
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import requests
from lxml import etree

from sii_engine import caf as caf_module
from sii_engine import certificate as certificate_module
from sii_engine import document as document_module
from sii_engine import dte as dte_module
from sii_engine import envelope as envelope_module
from sii_engine import identities, signature
from sii_engine.simulator import SiiSimulator, start_simulator
from sii_engine.tests import libredte_inputs

FIXTURES = Path(__file__).parent / "fixtures"
INPUTS = FIXTURES / "libredte_inputs"
SII_RESPONSES = FIXTURES / "sii_responses"
COMPANY = "76192083-9"
SENDER = "11111111-1"
SII_NS = "http://www.sii.cl/XMLSchema"
PROG_USER_AGENT = "Mozilla/4.0 (compatible; PROG 1.0; Windows NT 5.0; YComp 5.0.2.4)"
RESOLUTION = (datetime.date(2014, 8, 22), 80)
TIMEOUT = 10


# --- identities -----------------------------------------------------------------


@pytest.fixture(scope="session")
def authority():
    return identities.TestAuthority()


@pytest.fixture(scope="session")
def signer():
    return certificate_module.load_pkcs12(identities.make_pkcs12(SENDER, "Juan Perez"), "test")


@pytest.fixture(scope="session")
def cafs(authority):
    return {
        document_type: caf_module.load_caf(
            authority.issue_caf(COMPANY, "SASCO SpA", document_type, 1, 5000), authority.trusted_keys()
        )
        for document_type in (33, 34, 39, 41, 61)
    }


@pytest.fixture
def sii(authority):
    with start_simulator(SiiSimulator(authority=authority, processing_polls=2)) as running:
        yield running


# --- documents ------------------------------------------------------------------------


def load_input(name):
    document_type = name.split("_")[0]
    return json.loads((INPUTS / document_type / f"{name}.json").read_text(encoding="utf-8"))


def make_document(name, folio, edit=None):
    data = copy.deepcopy(load_input(name))
    if edit is not None:
        edit(data)
    return document_module.document_from_dict(libredte_inputs.as_issued(data), folio=folio)


def issue(cafs, signer, name, folio, edit=None, caf=None):
    document = make_document(name, folio, edit)
    return dte_module.issue(document, caf or cafs[document.document_type], signer)


def envelope_of(dtes, signer, company=COMPANY, check_documents=True):
    """``check_documents=False``: let the builder pass a DTE it would refuse (the SII must reject it)."""
    return envelope_module.build_envelope(
        [item if isinstance(item, bytes) else item.xml for item in dtes], company, signer, *RESOLUTION,
        check_documents=check_documents,
    )


def resign_dte(dte_xml, signer):
    """Drop a DTE's signature and sign it again (after an edit made on purpose)."""
    root = etree.fromstring(dte_xml)
    for node in signature.signatures_of(root):
        root.remove(node)
    body = root[0]
    signature.sign_reference(root, body.get("ID"), signer)
    return etree.tostring(root, encoding="ISO-8859-1", xml_declaration=True)


# --- SOAP -------------------------------------------------------------------------------


def soap_envelope(operation, params=None):
    body = "".join(f'<{name} xsi:type="xsd:string">{escape(value)}</{name}>' for name, value in (params or {}).items())
    return (
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"'
        ' xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
        ' SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">'
        f'<SOAP-ENV:Body><m:{operation} xmlns:m="https://maullin.sii.cl/DTEWS/x.jws">{body}</m:{operation}>'
        "</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )


def soap_post(base_url, service, operation, params=None):
    return requests.post(
        f"{base_url}/DTEWS/{service}.jws",
        data=soap_envelope(operation, params).encode("utf-8"),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": ""},
        timeout=TIMEOUT,
    )


def soap_answer(response, operation):
    """The SII answer carried (escaped) in ``<{operation}Return>``, parsed."""
    assert response.status_code == 200, response.text
    inner = etree.fromstring(response.content).findtext(f".//{operation}Return")
    assert inner is not None, response.text
    return etree.fromstring(inner.encode("utf-8"))


def soap_call(base_url, service, operation, params=None):
    return soap_answer(soap_post(base_url, service, operation, params), operation)


def hdr(answer, tag):
    return answer.findtext(f"{{{SII_NS}}}RESP_HDR/{tag}")


def body(answer, tag):
    return answer.findtext(f"{{{SII_NS}}}RESP_BODY/{tag}")


def signed_seed(seed, signer):
    root = etree.fromstring(f"<getToken><item><Semilla>{seed}</Semilla></item></getToken>".encode())
    signature.sign_enveloped(root, signer)
    return etree.tostring(root).decode()


def soap_seed(base_url):
    return body(soap_call(base_url, "CrSeed", "getSeed"), "SEMILLA")


def soap_token(base_url, signer):
    answer = soap_call(base_url, "GetTokenFromSeed", "getToken", {"pszXml": signed_seed(soap_seed(base_url), signer)})
    assert hdr(answer, "ESTADO") == "00", etree.tostring(answer)
    return body(answer, "TOKEN")


def est_up(base_url, token, track_id, company=COMPANY):
    number, verifier = company.split("-")
    return soap_call(base_url, "QueryEstUp", "getEstUp",
                     {"RutCompania": number, "DvCompania": verifier, "TrackId": str(track_id), "Token": token})


def poll_est_up(base_url, token, track_id, polls=6, company=COMPANY):
    """ESTADO of successive getEstUp calls until a final one; returns (states, last answer)."""
    states = []
    for _ in range(polls):
        answer = est_up(base_url, token, track_id, company)
        states.append(hdr(answer, "ESTADO"))
        if states[-1] not in ("REC", "SOK", "CRT", "FOK", "PDR"):
            return states, answer
    return states, answer


def est_dte(base_url, token, document_type, folio, total, issue_date=None, receiver="60803000-K", company=COMPANY):
    company_number, company_verifier = company.split("-")
    receiver_number, receiver_verifier = receiver.split("-")
    issue_date = issue_date or datetime.date.today()
    return soap_call(base_url, "QueryEstDte", "getEstDte", {
        "RutConsultante": SENDER.split("-")[0], "DvConsultante": SENDER.split("-")[1],
        "RutCompania": company_number, "DvCompania": company_verifier,
        "RutReceptor": receiver_number, "DvReceptor": receiver_verifier,
        "TipoDte": str(document_type), "FolioDte": str(folio),
        "FechaEmisionDte": issue_date.strftime("%d%m%Y"), "MontoDte": str(total), "Token": token,
    })


# --- uploads ------------------------------------------------------------------------------


def upload_form(data, sender=SENDER, company=COMPANY, filename="envio.xml"):
    sender_number, sender_verifier = sender.split("-")
    company_number, company_verifier = company.split("-")
    return {
        "rutSender": (None, sender_number),
        "dvSender": (None, sender_verifier),
        "rutCompany": (None, company_number),
        "dvCompany": (None, company_verifier),
        "archivo": (filename, data, "text/xml"),
    }


def upload(base_url, token, data, timeout=TIMEOUT, **form):
    headers = {"User-Agent": PROG_USER_AGENT}
    if token is not None:
        headers["Cookie"] = f"TOKEN={token}"
    return requests.post(f"{base_url}/cgi_dte/UPL/DTEUpload", files=upload_form(data, **form), headers=headers,
                         timeout=timeout)


def recepcion(response):
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    assert root.tag == "RECEPCIONDTE"
    return root


def upload_ok(base_url, token, data, **form):
    answer = recepcion(upload(base_url, token, data, **form))
    assert answer.findtext("STATUS") == "0", etree.tostring(answer)
    return int(answer.findtext("TRACKID"))


# --- boleta REST ----------------------------------------------------------------------------


def rest_url(base_url, path):
    return f"{base_url}/recursos/v1/{path}"


def rest_token(base_url, signer):
    seed_response = requests.get(rest_url(base_url, "boleta.electronica.semilla"), timeout=TIMEOUT)
    seed_answer = etree.fromstring(seed_response.content)
    seed = seed_answer.findtext(f"{{{SII_NS}}}RESP_BODY/SEMILLA")
    response = requests.post(rest_url(base_url, "boleta.electronica.token"), data=signed_seed(seed, signer).encode(),
                             headers={"Content-Type": "application/xml", "Accept": "application/xml"}, timeout=TIMEOUT)
    answer = etree.fromstring(response.content)
    assert hdr(answer, "ESTADO") == "00", response.text
    return body(answer, "TOKEN")


def rest_upload(base_url, token, data, **form):
    return requests.post(rest_url(base_url, "boleta.electronica.envio"), files=upload_form(data, **form),
                         headers={"Cookie": f"TOKEN={token}", "Accept": "application/json",
                                  "User-Agent": "Mozilla/4.0 ( compatible; PROG 1.0; Windows NT)"}, timeout=TIMEOUT)


def rest_envelope_status(base_url, token, track_id, company=COMPANY):
    return requests.get(rest_url(base_url, f"boleta.electronica.envio/{company}-{track_id}"),
                        headers={"Cookie": f"TOKEN={token}", "Accept": "application/json"}, timeout=TIMEOUT)
