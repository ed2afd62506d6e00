"""Getting a token: seed, seed signed with the certificate, token.

Both the SOAP services (CrSeed.getSeed, GetTokenFromSeed.getToken) and the
boleta REST API (GET boleta.electronica.semilla, POST
boleta.electronica.token) take the same signed document::

    <?xml version="1.0"?>
    <getToken><item><Semilla>000000000078</Semilla></item><Signature>…</Signature></getToken>

signed enveloped (``Reference URI=""``) as the authentication manual shows.
A seed serves once, so the whole exchange is the unit that is retried.
"""

import logging

from lxml import etree

from .. import signature as signature_module
from . import answers
from .environments import BOLETA_SEED_PATH, BOLETA_TOKEN_PATH
from .errors import AuthenticationError
from .httpclient import BOLETA_USER_AGENT, CLIENT_ERRORS

_logger = logging.getLogger(__name__)


def seed_document(seed, certificate):
    """The signed ``<getToken>`` document for ``seed``, as text."""
    root = etree.Element("getToken")
    item = etree.SubElement(root, "item")
    etree.SubElement(item, "Semilla").text = str(seed).strip()
    signature_module.sign_enveloped(root, certificate)
    return '<?xml version="1.0"?>\n' + etree.tostring(root, encoding="unicode")


def soap_token(seed_service, token_service, certificate, retry):
    """A token of the SOAP services (maullin / palena)."""

    def attempt():
        seed = answers.parse_seed(seed_service.call("getSeed"))
        _logger.debug("SII seed obtained from %s", seed_service.address)
        return answers.parse_token(token_service.call("getToken", pszXml=seed_document(seed, certificate)))

    return retry.call(attempt, service="CrSeed/GetTokenFromSeed", url=token_service.address)


def boleta_token(http, environment, certificate, retry):
    """A token of the boleta REST API (apicert / api)."""
    seed_url = environment.boleta_api_base + BOLETA_SEED_PATH
    token_url = environment.boleta_api_base + BOLETA_TOKEN_PATH
    headers = {"User-Agent": BOLETA_USER_AGENT, "Accept": "application/xml"}

    def attempt():
        response = http.request("GET", seed_url, headers=headers, service="boleta.electronica.semilla",
                                accept_statuses=CLIENT_ERRORS)
        _refuse_4xx(response, "boleta.electronica.semilla")
        seed = answers.parse_seed(response.content, service="boleta.electronica.semilla")
        body = seed_document(seed, certificate).encode("utf-8")
        response = http.request(
            "POST", token_url, data=body, service="boleta.electronica.token",
            headers={**headers, "Content-Type": "application/xml"}, accept_statuses=CLIENT_ERRORS,
        )
        _refuse_4xx(response, "boleta.electronica.token")
        return answers.parse_token(response.content, service="boleta.electronica.token")

    return retry.call(attempt, service="boleta.electronica.semilla/token", url=token_url)


def _refuse_4xx(response, service):
    if response.status_code >= 400:
        glosa = " ".join(answers.decode_text(response.content[:400]).split()) or response.reason or ""
        raise AuthenticationError(service=service, status=f"HTTP {response.status_code}", glosa=glosa)
