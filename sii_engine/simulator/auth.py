"""Seed and token: the SII's "Autenticación Automática".

A seed is good once, for ``seed_ttl`` seconds (the SII says 2 minutes). The
token request is the ``<getToken><item><Semilla>…</Semilla></item>`` document
signed enveloped (``Reference URI=""``) with the person's certificate; its
signature is verified with :func:`sii_engine.signature.verify` and the token is
bound to the RUT in that certificate. Answers carry the ESTADO codes of the
SII's manual (00 ok, 02 bad XML, 04 no Signature, 05 bad signature, 06 no
Semilla, 08 unknown/expired seed, 11 no certificate, -07 no RUT, -3 expired
certificate).
"""

import datetime
from dataclasses import dataclass

from cryptography import x509

from .. import signature as signature_module
from ..certificate import holder_rut
from ..errors import CertificateNoRutError, SignatureVerificationError, XmlInputError
from ..xmlutil import DSIG_NS, findtext, local, parse
from . import codes
from . import state as state_module

MAX_TOKEN_REQUEST_BYTES = 256 * 1024


@dataclass(frozen=True)
class TokenResult:
    estado: str
    glosa: str
    token: str = None


def _failure(estado, glosa=None):
    return TokenResult(estado=estado, glosa=glosa or codes.AUTH_TEXT[estado])


def issue_token(signed_xml, state, realm, seed_ttl):
    """Check a signed getToken document; return the token or the SII's error ESTADO."""
    try:
        root = parse(signed_xml, max_bytes=MAX_TOKEN_REQUEST_BYTES)
    except XmlInputError:
        return _failure("02")
    seed = (findtext(root, "item/Semilla") or "").strip()
    if local(root.tag) != "getToken" or not seed:
        return _failure("06")
    signatures = signature_module.signatures_of(root)
    if not signatures:
        return _failure("04")
    reference = signatures[-1].find(f".//{{{DSIG_NS}}}Reference")
    if reference is None or reference.get("URI", "") != "":
        return _failure("05")
    if signatures[-1].find(f".//{{{DSIG_NS}}}X509Certificate") is None:
        return _failure("11")
    try:
        pem = signature_module.verify(root, signatures[-1])
    except SignatureVerificationError:
        return _failure("05")
    certificate = x509.load_pem_x509_certificate(pem)
    try:
        rut = holder_rut(certificate)
    except CertificateNoRutError:
        return _failure("-07")
    now = datetime.datetime.utcnow()
    if not certificate.not_valid_before <= now <= certificate.not_valid_after:
        return _failure("-3")
    verdict = state.take_seed(seed, realm, seed_ttl)
    if verdict == state_module.SEED_UNKNOWN:
        return _failure("08", codes.SEED_UNKNOWN)
    if verdict == state_module.SEED_EXPIRED:
        return _failure("08", codes.SEED_EXPIRED)
    return TokenResult(estado=codes.AUTH_OK, glosa=codes.AUTH_TEXT[codes.AUTH_OK], token=state.new_token(rut, realm))
