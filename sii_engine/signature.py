"""XMLDSig as the SII profiles it, with xmlsec.

rsa-sha1, sha1 digest, inclusive C14N 2001-03-15, ``Reference URI="#ID"`` (or
``""`` enveloped for the getToken seed), ``KeyInfo`` with
``KeyValue/RSAKeyValue`` and ``X509Data/X509Certificate``.
"""

import base64
import threading
import weakref

import xmlsec
from lxml import etree

from .errors import SignatureError, SignatureVerificationError
from .xmlutil import DSIG_NS, local

_ID_ATTRIBUTE = "ID"
_key_cache = weakref.WeakKeyDictionary()
_key_cache_lock = threading.Lock()


def _xmlsec_key(certificate):
    """The certificate's key loaded into xmlsec once, reused across signatures."""
    with _key_cache_lock:
        key = _key_cache.get(certificate)
        if key is None:
            key = xmlsec.Key.from_memory(certificate.private_key_pem, xmlsec.constants.KeyDataFormatPem)
            key.load_cert_from_memory(certificate.certificate_pem, xmlsec.constants.KeyDataFormatPem)
            _key_cache[certificate] = key
        return key


def _append_signature_template(parent, uri, enveloped=False):
    signature = xmlsec.template.create(
        parent, xmlsec.constants.TransformInclC14N, xmlsec.constants.TransformRsaSha1
    )
    parent.append(signature)
    reference = xmlsec.template.add_reference(signature, xmlsec.constants.TransformSha1, uri=uri)
    if enveloped:
        xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
    else:
        xmlsec.template.add_transform(reference, xmlsec.constants.TransformInclC14N)
    key_info = xmlsec.template.ensure_key_info(signature)
    xmlsec.template.add_key_value(key_info)
    x509_data = xmlsec.template.add_x509_data(key_info)
    xmlsec.template.x509_data_add_certificate(x509_data)
    return signature


def sign_reference(root, reference_id, certificate, parent=None):
    """Sign the element of ``root`` whose ``ID`` is ``reference_id``.

    The ``<Signature>`` is appended to ``parent`` (default: ``root``), in place.
    """
    target = _find_by_id(root, reference_id)
    if target is None:
        raise SignatureError(reason=f"no element with ID {reference_id!r}")
    signature = _append_signature_template(root if parent is None else parent, f"#{reference_id}")
    context = xmlsec.SignatureContext()
    context.register_id(target, _ID_ATTRIBUTE)
    context.key = _xmlsec_key(certificate)
    try:
        context.sign(signature)
    except xmlsec.Error as error:
        raise SignatureError(reason=str(error)) from None
    _fill_key_value(signature, certificate)
    return root


def sign_enveloped(root, certificate):
    """Sign the whole document (``URI=""``), as the getToken seed request wants."""
    signature = _append_signature_template(root, "", enveloped=True)
    context = xmlsec.SignatureContext()
    context.key = _xmlsec_key(certificate)
    try:
        context.sign(signature)
    except xmlsec.Error as error:
        raise SignatureError(reason=str(error)) from None
    _fill_key_value(signature, certificate)
    return root


def _b64(number):
    return base64.b64encode(number.to_bytes((number.bit_length() + 7) // 8, "big")).decode("ascii")


def _fill_key_value(signature, certificate):
    """Write ``RSAKeyValue``: xmlsec built against OpenSSL 3 leaves ``<KeyValue/>`` empty.

    KeyInfo is outside SignedInfo, so writing it after signing changes no digest.
    """
    key_value = signature.find(f".//{{{DSIG_NS}}}KeyValue")
    if key_value is None or len(key_value):
        return
    numbers = certificate.private_key.public_key().public_numbers()
    rsa_key_value = etree.SubElement(key_value, f"{{{DSIG_NS}}}RSAKeyValue")
    etree.SubElement(rsa_key_value, f"{{{DSIG_NS}}}Modulus").text = _b64(numbers.n)
    etree.SubElement(rsa_key_value, f"{{{DSIG_NS}}}Exponent").text = _b64(numbers.e)


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
