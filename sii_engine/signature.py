"""XMLDSig as the SII profiles it, with xmlsec.

rsa-sha1, sha1 digest, inclusive C14N 2001-03-15, ``Reference URI="#ID"`` (or
``""`` enveloped for the getToken seed), ``KeyInfo`` with
``KeyValue/RSAKeyValue`` and ``X509Data/X509Certificate``.
"""

import base64
from copy import deepcopy
from dataclasses import dataclass

import xmlsec
from cryptography.hazmat.primitives import serialization
from lxml import etree

from .errors import SignatureError, SignatureVerificationError
from .xmlutil import DSIG_NS, PerObjectCache, local

_REFERENCE = f"{{{DSIG_NS}}}SignedInfo/{{{DSIG_NS}}}Reference"
_KEY_VALUE = f"{{{DSIG_NS}}}KeyValue"
_X509_CERTIFICATE = f"{{{DSIG_NS}}}X509Data/{{{DSIG_NS}}}X509Certificate"

_ID_ATTRIBUTE = "ID"


def _create_signature_template(enveloped):
    """``(signature, key_info)``: the ``<Signature>`` template xmlsec makes, and apart
    from it its ``<KeyInfo>`` (``KeyValue`` and ``X509Data/X509Certificate``, empty)."""
    signature = xmlsec.template.create(
        etree.Element("template"), xmlsec.constants.TransformInclC14N, xmlsec.constants.TransformRsaSha1
    )
    reference = xmlsec.template.add_reference(signature, xmlsec.constants.TransformSha1, uri="")
    if enveloped:
        xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
    else:
        xmlsec.template.add_transform(reference, xmlsec.constants.TransformInclC14N)
    key_info = xmlsec.template.ensure_key_info(signature)
    xmlsec.template.add_key_value(key_info)
    x509_data = xmlsec.template.add_x509_data(key_info)
    xmlsec.template.x509_data_add_certificate(x509_data)
    signature.remove(key_info)  # (its tail goes with it, and comes back with each copy)
    return signature, key_info


# Made once; each signature starts from a copy (deepcopy is one call in C, the
# xmlsec.template calls a dozen). The templates have no <KeyInfo>: its content
# depends only on the certificate, so it is made once per certificate
# (:func:`_prepare_signing_key`) and appended after signing. KeyInfo is outside
# SignedInfo, so it changes no digest. Left in the template, xmlsec (built against
# OpenSSL 3) would export all the private key's numbers, some 15 µs per signature,
# only to leave ``<KeyValue/>`` empty.
_TEMPLATES = {enveloped: _create_signature_template(enveloped)[0] for enveloped in (False, True)}
_KEY_INFO_TEMPLATE = _create_signature_template(False)[1]


@dataclass(frozen=True)
class _SigningKey:
    """What signing with one certificate needs, prepared once and reused across signatures."""

    key: object  # xmlsec.Key: the private key alone, without the certificate
    key_info: object  # the complete <KeyInfo> element, to copy into each signature


def _prepare_signing_key(certificate):
    """The certificate's key loaded into xmlsec and its ``<KeyInfo>``, made once per certificate.

    The xmlsec key carries no certificate: ``SignatureContext.key = key`` duplicates the
    key for every signature, and duplicating an X.509 certificate took some 40 µs.
    ``X509Certificate`` is written here as xmlsec writes it (base64 DER in lines of 64
    characters, each ending with a line feed), and ``RSAKeyValue`` as this engine always did.
    """
    numbers = certificate.private_key.public_key().public_numbers()
    der = base64.b64encode(certificate.certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")
    key_info = deepcopy(_KEY_INFO_TEMPLATE)
    rsa_key_value = etree.SubElement(key_info.find(_KEY_VALUE), f"{{{DSIG_NS}}}RSAKeyValue")
    etree.SubElement(rsa_key_value, f"{{{DSIG_NS}}}Modulus").text = _b64(numbers.n)
    etree.SubElement(rsa_key_value, f"{{{DSIG_NS}}}Exponent").text = _b64(numbers.e)
    key_info.find(_X509_CERTIFICATE).text = "".join(der[i:i + 64] + "\n" for i in range(0, len(der), 64))
    return _SigningKey(
        key=xmlsec.Key.from_memory(certificate.private_key_pem, xmlsec.constants.KeyDataFormatPem),
        key_info=key_info,
    )


_signing_keys = PerObjectCache(_prepare_signing_key)


def _append_signature_template(parent, uri, enveloped=False):
    signature = deepcopy(_TEMPLATES[enveloped])
    signature.find(_REFERENCE).set("URI", uri)
    parent.append(signature)
    return signature


def sign_reference(root, reference_id, certificate, parent=None):
    """Sign the element of ``root`` whose ``ID`` is ``reference_id``.

    The ``<Signature>`` is appended to ``parent`` (default: ``root``), in place.
    """
    target = _find_by_id(root, reference_id)
    if target is None:
        raise SignatureError(reason=f"no element with ID {reference_id!r}")
    signature = _append_signature_template(root if parent is None else parent, f"#{reference_id}")
    _sign(signature, certificate, target)
    return root


def sign_enveloped(root, certificate):
    """Sign the whole document (``URI=""``), as the getToken seed request wants."""
    _sign(_append_signature_template(root, "", enveloped=True), certificate)
    return root


def _sign(signature, certificate, target=None):
    """Fill ``signature`` (a template) and append the certificate's KeyInfo."""
    signing_key = _signing_keys.get(certificate)
    context = xmlsec.SignatureContext()
    if target is not None:
        context.register_id(target, _ID_ATTRIBUTE)
    context.key = signing_key.key
    try:
        context.sign(signature)
    except xmlsec.Error as error:
        raise SignatureError(reason=str(error)) from None
    signature.append(deepcopy(signing_key.key_info))


def _b64(number):
    return base64.b64encode(number.to_bytes((number.bit_length() + 7) // 8, "big")).decode("ascii")


def _find_by_id(root, reference_id):
    if root.get(_ID_ATTRIBUTE) == reference_id:
        return root
    for element in root.iter():
        if isinstance(element.tag, str) and element.get(_ID_ATTRIBUTE) == reference_id:
            return element
    return None


def signatures_of(root):
    """The ``<Signature>`` elements that are direct children of ``root``."""
    return [child for child in root if isinstance(child.tag, str) and child.tag == f"{{{DSIG_NS}}}Signature"]


def verify(root, signature=None):
    """Verify one signature of ``root`` with the key its KeyInfo carries.

    Returns the signer's certificate (PEM bytes) or raises
    :class:`SignatureVerificationError` naming why.
    """
    if signature is None:
        found = signatures_of(root)
        if not found:
            raise SignatureVerificationError(reason=f"<{local(root.tag)}> is not signed")
        signature = found[-1]
    certificate_node = signature.find(f".//{{{DSIG_NS}}}X509Certificate")
    if certificate_node is None or not (certificate_node.text or "").strip():
        raise SignatureVerificationError(reason="the signature carries no X509Certificate")
    pem = _pem_from_base64(certificate_node.text)
    try:
        key = xmlsec.Key.from_memory(pem, xmlsec.constants.KeyDataFormatCertPem)
    except xmlsec.Error:
        raise SignatureVerificationError(reason="the X509Certificate in the signature cannot be read") from None
    context = xmlsec.SignatureContext()
    reference = signature.find(f".//{{{DSIG_NS}}}Reference")
    uri = reference.get("URI", "") if reference is not None else ""
    if uri.startswith("#"):
        target = _find_by_id(root, uri[1:])
        if target is None:
            raise SignatureVerificationError(reason=f"the signed element {uri} is missing")
        context.register_id(target, _ID_ATTRIBUTE)
    context.key = key
    try:
        context.verify(signature)
    except xmlsec.VerificationError:
        raise SignatureVerificationError(reason=f"the digest or signature over {uri or 'the document'} does not match") from None
    except xmlsec.Error as error:
        raise SignatureVerificationError(reason=str(error)) from None
    _check_key_value_matches(signature, pem)
    return pem


def _check_key_value_matches(signature, certificate_pem):
    """The RSAKeyValue must be the certificate's key: else KeyInfo lies about the signer."""
    from cryptography import x509

    modulus = signature.find(f".//{{{DSIG_NS}}}Modulus")
    if modulus is None:
        return
    try:
        declared = int.from_bytes(base64.b64decode("".join((modulus.text or "").split())), "big")
    except ValueError:
        raise SignatureVerificationError(reason="the RSAKeyValue Modulus is not base64") from None
    actual = x509.load_pem_x509_certificate(certificate_pem).public_key().public_numbers().n
    if declared != actual:
        raise SignatureVerificationError(reason="the RSAKeyValue is not the key of the X509Certificate")


def _pem_from_base64(text):
    body = "".join(text.split())
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n").encode()


def standalone(element):
    """``element`` re-parsed on its own, as the SII checks a DTE taken from an envelope.

    Namespace declarations inherited from the envelope and unused inside
    (``xmlns:xsi``) are dropped; re-parsing avoids lxml's spurious ``xmlns=""``.
    """
    copy = etree.fromstring(etree.tostring(element))
    etree.cleanup_namespaces(copy)
    return etree.fromstring(etree.tostring(copy))


def without_sii_namespace(element):
    """``element`` with the SII namespace removed: some issuers sign a DTE that way
    and add the namespace only when pasting it into the envelope (the SII's own
    example and some real production DTEs do)."""
    from .xmlutil import SII_NS

    copy = etree.fromstring(etree.tostring(element))
    prefix = f"{{{SII_NS}}}"
    for node in copy.iter():
        if isinstance(node.tag, str) and node.tag.startswith(prefix):
            node.tag = node.tag[len(prefix):]
    etree.cleanup_namespaces(copy)
    return etree.fromstring(etree.tostring(copy))


def verify_dte(dte):
    """Verify a DTE's own signature, as taken out of its envelope.

    Tries the DTE standalone and, failing that, without the SII namespace (the
    form some issuers sign in). Returns the signer's certificate PEM.
    """
    try:
        return verify(standalone(dte))
    except SignatureVerificationError as first_error:
        if etree.QName(dte).namespace is None:
            raise
        try:
            return verify(without_sii_namespace(dte))
        except SignatureVerificationError:
            raise first_error from None
