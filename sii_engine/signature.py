"""XMLDSig as the SII profiles it, with xmlsec.

rsa-sha1, sha1 digest, inclusive C14N 2001-03-15, ``Reference URI="#ID"`` (or
``""`` enveloped for the getToken seed), ``KeyInfo`` with
``KeyValue/RSAKeyValue`` and ``X509Data/X509Certificate``.
"""

import base64
import functools
import re
from copy import deepcopy
from dataclasses import dataclass

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from .certificate import key_kind
from .errors import SignatureError, SignatureProfileError, SignatureVerificationError
from .xmlutil import DSIG_NS, PerObjectCache, local

_DSIG_PREFIX = f"{{{DSIG_NS}}}"
_SIGNATURE_TAG = f"{{{DSIG_NS}}}Signature"
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
    return [child for child in root if isinstance(child.tag, str) and child.tag == _SIGNATURE_TAG]


def verify(root, signature=None):
    """Verify one signature of ``root`` with the key its KeyInfo carries.

    Before xmlsec sees anything, the signature must keep to the SII's profile
    (:func:`check_profile`): one same-document reference, known algorithms, nothing
    that points outside the document, and on a DTE or an envelope the reference must
    be the part the SII wants signed (what lies beside it: :func:`unsigned_content`).

    Returns the signer's certificate (PEM bytes) or raises
    :class:`SignatureVerificationError` naming why (:class:`SignatureProfileError`
    when the signature was refused unprocessed).
    """
    if signature is None:
        found = signatures_of(root)
        if not found:
            raise SignatureVerificationError(reason=f"<{local(root.tag)}> is not signed")
        signature = found[-1]
    target = check_profile(root, signature)
    certificate_node = signature.find(f"{{{DSIG_NS}}}KeyInfo/{{{DSIG_NS}}}X509Data/{{{DSIG_NS}}}X509Certificate")
    if certificate_node is None or not (certificate_node.text or "").strip():
        raise SignatureVerificationError(reason="the signature carries no X509Certificate")
    verifying_key = _verifying_key("".join(certificate_node.text.split()))
    uri = signature.find(_REFERENCE).get("URI")
    context = _verification_context(verifying_key.key)
    if target is not None:
        context.register_id(target, _ID_ATTRIBUTE)
    try:
        context.verify(signature)
    except xmlsec.VerificationError:
        raise SignatureVerificationError(reason=f"the digest or signature over {uri or 'the document'} does not match") from None
    except xmlsec.Error as error:
        raise SignatureVerificationError(reason=str(error)) from None
    _check_key_value_matches(signature, verifying_key.modulus)
    return verifying_key.pem


# --- the SII's XMLDSig profile, checked before xmlsec ---------------------------------------------
#
# xmlsec follows whatever a Reference names: an http:// URI is fetched, file:///etc/passwd
# read, file:///dev/zero read forever; an XPointer or XSLT transform runs. None of that
# is in the SII's profile, so a received signature is read as data first and refused,
# unprocessed, unless it is what the SII signs: inclusive (or exclusive) C14N, rsa-sha1
# or rsa-sha256, sha1 or sha256 digests, one Reference to "#ID" of an element of the
# same document (or "" with the enveloped transform, as the getToken seed is signed),
# and a KeyInfo of KeyValue and X509Data only.

_C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
_EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_CANONICALIZATIONS = frozenset({_C14N, _C14N + "#WithComments", _EXC_C14N, _EXC_C14N + "WithComments"})
_TRANSFORMS = _CANONICALIZATIONS | {_ENVELOPED}
_SIGNATURE_METHODS = frozenset({
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
})
_DIGEST_METHODS = frozenset({"http://www.w3.org/2000/09/xmldsig#sha1", "http://www.w3.org/2001/04/xmlenc#sha256"})
_MAX_TRANSFORMS = 2
MAX_SIGNER_KEY_BITS = 4096
# "#" and an XML name (what an ID attribute holds); "#xpointer(...)" is not one.
_SAME_DOCUMENT_REFERENCE = re.compile(r"#([A-Za-z_][A-Za-z0-9_.\-]{0,99})")
# Every element carrying the ID, as ID or xml:id; and those libxml2 knows by that ID
# (xml:id, which it registers by itself, or an ID registered for xmlsec before).
_elements_with_id = etree.XPath("//*[@ID=$id or @xml:id=$id]")
_registered_ids = etree.XPath("id($id)")
ENVELOPE_TAGS = ("EnvioDTE", "EnvioBOLETA")
DTE_BODY_TAGS = ("Documento", "Exportaciones", "Liquidacion")

# xmlsec resolves a URI through its IO callbacks (file, http, ftp); the engine never
# needs one, so this process's xmlsec has none: even a reference that slipped past
# check_profile could open nothing.
xmlsec.cleanup_callbacks()

_REFERENCE_TRANSFORMS = (
    xmlsec.constants.TransformInclC14N, xmlsec.constants.TransformInclC14NWithComments,
    xmlsec.constants.TransformExclC14N, xmlsec.constants.TransformExclC14NWithComments,
    xmlsec.constants.TransformEnveloped, xmlsec.constants.TransformSha1, xmlsec.constants.TransformSha256,
)
_SIGNATURE_TRANSFORMS = (
    xmlsec.constants.TransformInclC14N, xmlsec.constants.TransformInclC14NWithComments,
    xmlsec.constants.TransformExclC14N, xmlsec.constants.TransformExclC14NWithComments,
    xmlsec.constants.TransformRsaSha1, xmlsec.constants.TransformRsaSha256,
)


def _verification_context(key):
    """An xmlsec context that knows one key (no keys manager: KeyInfo is never followed)
    and only the profile's transforms."""
    context = xmlsec.SignatureContext()
    for transform in _REFERENCE_TRANSFORMS:
        context.enable_reference_transform(transform)
    for transform in _SIGNATURE_TRANSFORMS:
        context.enable_signature_transform(transform)
    context.key = key
    return context


def dte_body(dte):
    """The ``<Documento>`` (``<Exportaciones>``, ``<Liquidacion>``) of a ``<DTE>``, or None."""
    return next((child for child in dte if isinstance(child.tag, str) and local(child.tag) in DTE_BODY_TAGS), None)


def signed_part(root):
    """``(element, what)``: the part of ``root`` its signature must cover, by the SII's rules.

    An envelope's signature covers its ``SetDTE``, a DTE's its ``Documento``; for any
    other root, ``(None, None)``: whichever element the reference names, or the whole
    document.
    """
    name = local(root.tag)
    if name in ENVELOPE_TAGS:
        set_dte = next((child for child in root if isinstance(child.tag, str) and local(child.tag) == "SetDTE"), None)
        if set_dte is None:
            raise SignatureProfileError(reason=f"the <{name}> has no <SetDTE> for its signature to cover")
        return set_dte, "<SetDTE>"
    if name == "DTE":
        body = dte_body(root)
        if body is None:
            raise SignatureProfileError(reason="the <DTE> has no <Documento> for its signature to cover")
        return body, f"<{local(body.tag)}>"
    return None, None


def check_profile(root, signature):
    """Check ``signature`` (of ``root``) against the SII's profile, without processing it.

    Returns the element its reference names (None for ``URI=""``, the whole
    document) or raises :class:`SignatureProfileError` naming what is outside.
    """
    signed_info, _value, key_info = _expect_children(
        signature, "Signature", ("SignedInfo", "SignatureValue"), optional=("KeyInfo",)
    )
    canonicalization, method, reference = _expect_children(
        signed_info, "SignedInfo", ("CanonicalizationMethod", "SignatureMethod", "Reference")
    )
    _expect_algorithm(canonicalization, _CANONICALIZATIONS)
    _expect_algorithm(method, _SIGNATURE_METHODS)
    transforms, digest_method, _digest = _expect_children(
        reference, "Reference", ("DigestMethod", "DigestValue"), leading_optional=("Transforms",)
    )
    _expect_algorithm(digest_method, _DIGEST_METHODS)
    algorithms = []
    if transforms is not None:
        items = _dsig_children(transforms, "Transforms")
        if not items or len(items) > _MAX_TRANSFORMS or any(name != "Transform" for name, _ in items):
            raise SignatureProfileError(
                reason=f"<Transforms> must hold one or {_MAX_TRANSFORMS} <Transform> (C14N, enveloped-signature)"
            )
        algorithms = [_expect_algorithm(item, _TRANSFORMS) for _, item in items]
    if key_info is not None:
        _check_key_info(key_info)

    uri = reference.get("URI")
    part, what = signed_part(root)
    if uri == "" and part is None and _ENVELOPED in algorithms:
        return None
    match = _SAME_DOCUMENT_REFERENCE.fullmatch(uri or "")
    if match is None:
        raise SignatureProfileError(
            reason=f"the Reference URI {_shown(uri)} is not \"#ID\" of an element of this document "
            "(the SII signs no other: no network, file, XPointer or whole-document reference is followed)"
        )
    reference_id = match.group(1)
    if part is not None:
        # The part is fixed by the structure; what the URI names must be it, found without
        # scanning a 2,000-document envelope (the scan only says what it names instead).
        if part.get(_ID_ATTRIBUTE) == reference_id:
            target = part
        else:
            named = _elements_with_id(root, id=reference_id)
            if not named:
                raise SignatureVerificationError(reason=f"the signed element {uri} is missing")
            target = named[0]
    else:
        named = _elements_with_id(root, id=reference_id)
        if not named:
            raise SignatureVerificationError(reason=f"the signed element {uri} is missing")
        if len(named) > 1:
            raise SignatureProfileError(
                reason=f"{len(named)} elements carry the ID {reference_id!r}: a signature must name one element"
            )
        target = named[0]
    # libxml2 takes xml:id for an ID by itself: another element declaring it would be what
    # xmlsec digests, while the checks here look at the target.
    if any(element is not target for element in _registered_ids(root, id=reference_id)):
        raise SignatureProfileError(
            reason=f"another element declares xml:id {reference_id!r}: the reference would not name the signed element"
        )
    if part is not None and target is not part:
        raise SignatureProfileError(
            reason=f"the signature covers <{local(target.tag)}> {uri}, not the {what}"
            + (f" (ID {part.get(_ID_ATTRIBUTE)!r})" if part.get(_ID_ATTRIBUTE) else "")
            + f": the {what} is signed by nobody"
        )
    return target


def unsigned_content(root, signature=None):
    """The children of ``root`` that no signature of it covers: beside the signed part of a
    DTE or an envelope (:func:`signed_part`), anything but that part and ``signature``
    (default: the last one); elsewhere, any second ``<Signature>``.

    Not an error of the signature, which verifies what it covers: the verifier reports
    them, since nobody vouches for them.
    """
    signatures = signatures_of(root)
    if signature is None:
        if not signatures:
            return []
        signature = signatures[-1]
    try:
        part, _what = signed_part(root)
    except SignatureProfileError:
        return []
    if part is None:
        return [other for other in signatures if other is not signature]
    return [child for child in root if isinstance(child.tag, str) and child is not part and child is not signature]


def _dsig_children(element, name):
    children = []
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if not child.tag.startswith(_DSIG_PREFIX):
            raise SignatureProfileError(reason=f"<{name}> holds <{local(child.tag)}>, outside the XMLDSig namespace")
        children.append((child.tag[len(_DSIG_PREFIX):], child))
    return children


def _expect_children(element, name, required, optional=(), leading_optional=()):
    """The children of ``element``, exactly ``[leading_optional] required [optional]`` in that
    order; returns them (None for an absent optional one)."""
    children = _dsig_children(element, name)
    names = [child_name for child_name, _ in children]
    found = {}
    position = 0
    for expected in leading_optional:
        if position < len(names) and names[position] == expected:
            found[expected] = children[position][1]
            position += 1
    for expected in required:
        if position >= len(names) or names[position] != expected:
            break
        found[expected] = children[position][1]
        position += 1
    else:
        for expected in optional:
            if position < len(names) and names[position] == expected:
                found[expected] = children[position][1]
                position += 1
        if position == len(names):
            return [found.get(key) for key in (*leading_optional, *required, *optional)]
    shape = " ".join([f"[{n}]" for n in leading_optional] + list(required) + [f"[{n}]" for n in optional])
    raise SignatureProfileError(
        reason=f"<{name}> holds {', '.join(f'<{n}>' for n in names) or 'nothing'}; the SII profile has {shape}"
    )


def _expect_algorithm(element, allowed):
    algorithm = element.get("Algorithm", "")
    if algorithm not in allowed:
        raise SignatureProfileError(
            reason=f"<{local(element.tag)}> Algorithm {_shown(algorithm)} is not one the SII uses"
        )
    if any(isinstance(child.tag, str) for child in element):
        raise SignatureProfileError(reason=f"<{local(element.tag)}> carries parameters, which the SII profile has not")
    return algorithm


_KEY_INFO_CONTENT = {
    "KeyValue": {"RSAKeyValue"},
    "X509Data": {"X509Certificate", "X509IssuerSerial", "X509SubjectName", "X509SKI"},
}


def _check_key_info(key_info):
    """KeyValue and X509Data only: no RetrievalMethod (a URI to fetch a key from), nothing else."""
    for name, child in _dsig_children(key_info, "KeyInfo"):
        allowed = _KEY_INFO_CONTENT.get(name)
        if allowed is None:
            raise SignatureProfileError(reason=f"<KeyInfo> holds <{name}>; the SII profile has KeyValue and X509Data")
        for inner, _element in _dsig_children(child, name):
            if inner not in allowed:
                raise SignatureProfileError(reason=f"<{name}> holds <{inner}>, outside the SII profile")


def _shown(uri):
    if uri is None:
        return "(none)"
    return repr(uri if len(uri) <= 80 else uri[:60] + "...")


@dataclass(frozen=True)
class _VerifyingKey:
    pem: bytes
    key: object  # xmlsec.Key
    modulus: int


@functools.lru_cache(maxsize=64)
def _verifying_key(certificate_base64):
    """The X509Certificate of a signature read once: an envelope's DTEs are mostly
    signed by one or two people, and loading a certificate costs more than checking
    a signature with it."""
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(certificate_base64, validate=True))
    except (ValueError, TypeError):
        raise SignatureVerificationError(reason="the X509Certificate in the signature cannot be read") from None
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SignatureProfileError(
            reason=f"the X509Certificate holds an {key_kind(public_key)} key; the SII profile signs with RSA"
        )
    if public_key.key_size > MAX_SIGNER_KEY_BITS:  # checking costs with the key's size
        raise SignatureProfileError(
            reason=f"the X509Certificate holds an {key_kind(public_key)} key; signers' keys have at most "
            f"{MAX_SIGNER_KEY_BITS} bits"
        )
    # The public key alone: xmlsec copies the key into every context, and a key that
    # carries its certificate took 30 times as long to copy.
    public_pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        key = xmlsec.Key.from_memory(public_pem, xmlsec.constants.KeyDataFormatPem)
    except xmlsec.Error:
        raise SignatureVerificationError(reason="the X509Certificate in the signature cannot be read") from None
    return _VerifyingKey(pem=_pem_from_base64(certificate_base64), key=key, modulus=public_key.public_numbers().n)


def _check_key_value_matches(signature, modulus):
    """The RSAKeyValue must be the certificate's key: else KeyInfo lies about the signer."""
    declared_modulus = signature.find(f".//{{{DSIG_NS}}}Modulus")
    if declared_modulus is None:
        return
    try:
        declared = int.from_bytes(base64.b64decode("".join((declared_modulus.text or "").split())), "big")
    except ValueError:
        raise SignatureVerificationError(reason="the RSAKeyValue Modulus is not base64") from None
    if declared != modulus:
        raise SignatureVerificationError(reason="the RSAKeyValue is not the key of the X509Certificate")


def _pem_from_base64(text):
    body = "".join(text.split())
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n").encode()


def standalone(element):
    """``element`` re-parsed on its own, as the SII checks a DTE taken from an envelope.

    Namespace declarations inherited from the envelope and unused inside
    (``xmlns:xsi``) are dropped. The copy is canonicalized as it is (by xmlsec),
    never serialized again: that is where lxml would add a spurious ``xmlns=""``,
    so one round trip suffices (it was two, a third of a DTE's verification).
    """
    copy = etree.fromstring(etree.tostring(element))
    etree.cleanup_namespaces(copy)
    return copy


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
