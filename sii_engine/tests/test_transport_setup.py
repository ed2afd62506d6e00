"""Environments, shipped WSDLs, the signed seed document: what needs no server."""

import pytest
from lxml import etree

from sii_engine import signature
from sii_engine.transport import environments
from sii_engine.transport.auth import seed_document
from sii_engine.transport.client import SiiClient, envelope_kind
from sii_engine.transport.httpclient import Http
from sii_engine.transport.soap import SoapService

SERVICES = ("CrSeed", "GetTokenFromSeed", "QueryEstUp", "QueryEstDte")


def test_hosts_of_each_environment():
    cert = environments.resolve("certification")
    prod = environments.resolve("production")
    assert cert.soap_url("CrSeed") == "https://maullin.sii.cl/DTEWS/CrSeed.jws"
    assert cert.upload_url == "https://maullin.sii.cl/cgi_dte/UPL/DTEUpload"
    assert (cert.boleta_api_base, cert.boleta_upload_base) == ("https://apicert.sii.cl", "https://pangal.sii.cl")
    assert prod.soap_url("QueryEstUp") == "https://palena.sii.cl/DTEWS/QueryEstUp.jws"
    assert prod.upload_url == "https://palena.sii.cl/cgi_dte/UPL/DTEUpload"
    assert (prod.boleta_api_base, prod.boleta_upload_base) == ("https://api.sii.cl", "https://rahue.sii.cl")
    assert environments.resolve("prod") == prod


def test_a_base_url_serves_every_service():
    sim = environments.resolve("certification", base_url="http://127.0.0.1:8090/")
    assert sim.soap_url("GetTokenFromSeed") == "http://127.0.0.1:8090/DTEWS/GetTokenFromSeed.jws"
    assert sim.upload_url == "http://127.0.0.1:8090/cgi_dte/UPL/DTEUpload"
    assert sim.boleta_api_base == sim.boleta_upload_base == "http://127.0.0.1:8090"
    assert sim.wsdl_set == "certification"
    # tokens of a simulator never mix with the real SII's
    assert sim.cache_name != environments.resolve("certification").cache_name


def test_unknown_environment():
    with pytest.raises(ValueError):
        environments.resolve("staging-42")


@pytest.mark.parametrize("wsdl_set, host", [("certification", "maullin.sii.cl"), ("production", "palena.sii.cl")])
def test_shipped_wsdls_name_their_environment_only(wsdl_set, host):
    other = "palena.sii.cl" if host == "maullin.sii.cl" else "maullin.sii.cl"
    env = environments.resolve(wsdl_set)
    for service in SERVICES:
        with open(env.wsdl_path(service), encoding="utf-8") as handle:
            text = handle.read()
        assert f'location="https://{host}/DTEWS/{service}.jws"' in text
        assert other not in text


@pytest.mark.parametrize("wsdl_set", ["certification", "production"])
def test_wsdls_load_offline_with_the_endpoint_overridden(wsdl_set):
    env = environments.resolve(wsdl_set, base_url="http://127.0.0.1:9")
    for service in SERVICES:
        soap = SoapService(service, env.wsdl_path(service), env.soap_url(service), Http())
        proxy = soap._service_proxy()
        assert proxy._binding_options["address"] == f"http://127.0.0.1:9/DTEWS/{service}.jws"


def test_get_est_up_parameters_come_from_the_wsdl():
    env = environments.resolve("production")
    soap = SoapService("QueryEstUp", env.wsdl_path("QueryEstUp"), env.soap_url("QueryEstUp"), Http())
    operation = soap._service_proxy()._binding._operations["getEstUp"]
    assert [name for name, _ in operation.input.body.type.elements] == ["RutCompania", "DvCompania", "TrackId",
                                                                         "Token"]


def test_no_wsdl_is_fetched_from_the_network():
    env = environments.resolve("certification")
    soap = SoapService("CrSeed", "https://maullin.sii.cl/DTEWS/CrSeed.jws?WSDL", env.soap_url("CrSeed"), Http())
    with pytest.raises(RuntimeError, match="shipped with the addon"):
        soap._service_proxy()


def test_the_seed_document_is_signed_enveloped(certificate):
    text = seed_document("000000000078", certificate)
    assert text.startswith('<?xml version="1.0"?>\n<getToken><item><Semilla>000000000078</Semilla></item>')
    root = etree.fromstring(text.encode())
    reference = root.find(".//{http://www.w3.org/2000/09/xmldsig#}Reference")
    assert reference.get("URI") == ""
    assert signature.verify(root)  # returns the signer's certificate
    assert b"PRIVATE" not in text.encode()


def test_envelope_kind():
    assert envelope_kind(b'<?xml version="1.0"?>\n<EnvioDTE xmlns="http://www.sii.cl/SiiDte">') == "EnvioDTE"
    assert envelope_kind(b"<EnvioBOLETA version='1.0'>") == "EnvioBOLETA"
    from sii_engine.errors import EnvelopeError

    with pytest.raises(EnvelopeError):
        envelope_kind(b"<DTE/>")


def test_client_needs_certificate_and_company(certificate):
    with pytest.raises(ValueError):
        SiiClient("certification", None, "76192083-9")
    client = SiiClient("certification", certificate, "76.192.083-9")
    assert client.company_rut == "76192083-9"
    assert "76192083-9" in repr(client)
    client.close()


@pytest.mark.parametrize("wsdl_set", ["certification", "production"])
@pytest.mark.parametrize("service, operation, sample, expected", [
    ("CrSeed", "getSeed", "01_CrSeed_getSeed_soap_response.xml", "000000000078"),
    ("GetTokenFromSeed", "getToken", "05_GetTokenFromSeed_getToken_soap_response.xml", "XAuSbYXiNh9Ik"),
])
def test_the_sii_soap_answers_are_read_through_the_shipped_wsdls(fixtures_dir, wsdl_set, service, operation,
                                                                 sample, expected):
    """zeep reads the SII's real answers (palena namespaces, http or https) with either WSDL set."""
    import requests

    from sii_engine.transport import answers

    env = environments.resolve(wsdl_set)
    proxy = SoapService(service, env.wsdl_path(service), env.soap_url(service), Http())._service_proxy()
    response = requests.Response()
    response.status_code = 200
    response._content = (fixtures_dir / "sii_responses" / sample).read_bytes()
    response.headers["Content-Type"] = "text/xml; charset=utf-8"
    inner = proxy._binding.process_reply(proxy._client, proxy._binding.get(operation), response)
    parse = answers.parse_seed if operation == "getSeed" else answers.parse_token
    assert parse(inner) == expected
