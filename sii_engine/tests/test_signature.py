"""XMLDSig as the SII profiles it: structure, verification and its refusals, real DTEs."""

import base64
import copy
import hashlib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from sii_engine import certificate as certificate_module
from sii_engine import identities, signature, xmlutil
from sii_engine.errors import SignatureError, SignatureVerificationError

FIXTURES = Path(__file__).parent / "fixtures"
PRODUCTION = FIXTURES / "real_production"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"


@pytest.fixture(scope="module")
def other_certificate():
    data = identities.make_pkcs12("12345678-5", "Otra Persona", "x", key_size=1024)
    return certificate_module.load_pkcs12(data, "x")


@pytest.fixture()
def signed_factura(issued_by_type):
    """A freshly parsed signed factura (a new tree each time: tests change it)."""
    return xmlutil.parse(issued_by_type[33][1].xml)


def ds(element, path):
    return element.find(path.replace("ds:", DS))


def test_sii_profile(signed_factura, certificate):
    signatures = signature.signatures_of(signed_factura)
    assert len(signatures) == 1
    sig = signatures[0]
    assert sig.nsmap[None] == "http://www.w3.org/2000/09/xmldsig#"
    assert ds(sig, "ds:SignedInfo/ds:CanonicalizationMethod").get("Algorithm") == C14N
    assert ds(sig, "ds:SignedInfo/ds:SignatureMethod").get("Algorithm") == "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    references = sig.findall(f"{DS}SignedInfo/{DS}Reference")
    assert len(references) == 1
    reference = references[0]
    assert reference.get("URI") == f"#{signed_factura[0].get('ID')}"
    transforms = reference.findall(f"{DS}Transforms/{DS}Transform")
    assert [transform.get("Algorithm") for transform in transforms] == [C14N]
    assert ds(reference, "ds:DigestMethod").get("Algorithm") == "http://www.w3.org/2000/09/xmldsig#sha1"
    key_info = ds(sig, "ds:KeyInfo")
    assert [xmlutil.local(child.tag) for child in key_info] == ["KeyValue", "X509Data"]
    numbers = certificate.private_key.public_key().public_numbers()
    modulus = ds(key_info, "ds:KeyValue/ds:RSAKeyValue/ds:Modulus").text
    exponent = ds(key_info, "ds:KeyValue/ds:RSAKeyValue/ds:Exponent").text
    assert int.from_bytes(base64.b64decode(modulus), "big") == numbers.n
    assert int.from_bytes(base64.b64decode(exponent), "big") == numbers.e
    embedded = base64.b64decode(ds(key_info, "ds:X509Data/ds:X509Certificate").text)
    assert x509.load_der_x509_certificate(embedded, default_backend()) == certificate.certificate


def test_digest_and_signature_recomputed_independently(signed_factura, certificate):
    """SHA-1 of the inclusive C14N of <Documento> (standalone DTE), RSA-SHA1 over C14N SignedInfo."""
    # <Documento> as its own document: its only in-scope namespace is the DTE's default one,
    # which inclusive C14N declares on it (lxml's C14N of a sub-element adds spurious xmlns="").
    body = etree.fromstring(etree.tostring(signed_factura[0], with_tail=False))
    canonical = etree.tostring(body, method="c14n")
    assert canonical.startswith(b'<Documento xmlns="http://www.sii.cl/SiiDte" ID="T33F100"><Encabezado><IdDoc>')
    sig = signature.signatures_of(signed_factura)[0]
    digest = base64.b64encode(hashlib.sha1(canonical).digest())
    assert ds(sig, "ds:SignedInfo/ds:Reference/ds:DigestValue").text.encode() == digest
    signed_info = etree.tostring(
        etree.fromstring(etree.tostring(ds(sig, "ds:SignedInfo"), with_tail=False)), method="c14n"
    )
    certificate.certificate.public_key().verify(
        base64.b64decode(ds(sig, "ds:SignatureValue").text), signed_info, padding.PKCS1v15(), hashes.SHA1()
    )


def test_verify_returns_the_signer_certificate(signed_factura, certificate):
    pem = signature.verify(signed_factura)
    assert x509.load_pem_x509_certificate(pem, default_backend()) == certificate.certificate
    assert (
        certificate_module.holder_rut(x509.load_pem_x509_certificate(pem, default_backend())) == certificate.holder_rut
    )


def test_seed_is_signed_enveloped(certificate, fixtures_dir):
    seed = xmlutil.parse((fixtures_dir / "sii_responses" / "03_getToken_request_unsigned.xml").read_bytes())
    signature.sign_enveloped(seed, certificate)
    assert xmlutil.local(seed[-1].tag) == "Signature"  # in place, last child of the root
    # Inspect it as the SII reads it: serialized and parsed again.
    seed = xmlutil.parse(etree.tostring(seed))
    sig = signature.signatures_of(seed)[0]
    reference = ds(sig, "ds:SignedInfo/ds:Reference")
    assert reference.get("URI") == ""
    assert [transform.get("Algorithm") for transform in reference.iter(f"{DS}Transform")] == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    ]
    assert ds(sig, "ds:SignedInfo/ds:CanonicalizationMethod").get("Algorithm") == C14N
    assert ds(sig, "ds:KeyInfo/ds:KeyValue/ds:RSAKeyValue/ds:Modulus") is not None
    assert ds(sig, "ds:KeyInfo/ds:X509Data/ds:X509Certificate") is not None
    reparsed = xmlutil.parse(etree.tostring(seed))
    assert signature.verify(reparsed) == certificate.certificate_pem
    xmlutil.find(reparsed, "item/Semilla").text = "000000000079"
    with pytest.raises(SignatureVerificationError):
        signature.verify(reparsed)


def test_sign_reference_needs_the_id(certificate):
    root = etree.fromstring(f'<DTE xmlns="{xmlutil.SII_NS}"><Documento ID="A"/></DTE>')
    with pytest.raises(SignatureError):
        signature.sign_reference(root, "B", certificate)
    signature.sign_reference(root, "A", certificate)
    assert signature.verify(root) == certificate.certificate_pem


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("Documento/Encabezado/Totales/MntTotal", "1"),
        ("Documento/Encabezado/Receptor/RznSocRecep", "Otro cliente"),
        ("Documento/Detalle/NmbItem", "Tornillo hexagonal 3/8 "),
    ],
)
def test_changed_content_after_signing(signed_factura, path, value):
    element = xmlutil.find(signed_factura, path)
    assert element.text != value
    element.text = value
    with pytest.raises(SignatureVerificationError) as info:
        signature.verify(signed_factura)
    assert "does not match" in str(info.value)


def test_changed_attribute_or_id(signed_factura):
    signed_factura[0].set("extra", "1")
    with pytest.raises(SignatureVerificationError):
        signature.verify(signed_factura)


def test_renamed_id_loses_the_signed_element(signed_factura):
    signed_factura[0].set("ID", "T33F999")
    with pytest.raises(SignatureVerificationError) as info:
        signature.verify(signed_factura)
    assert "missing" in str(info.value)


def test_changed_signed_info(signed_factura):
    sig = signature.signatures_of(signed_factura)[0]
    digest = ds(sig, "ds:SignedInfo/ds:Reference/ds:DigestValue")
    digest.text = base64.b64encode(b"\x00" * 20).decode()
    with pytest.raises(SignatureVerificationError):
        signature.verify(signed_factura)


def test_removed_signature(signed_factura):
    signed_factura.remove(signature.signatures_of(signed_factura)[0])
    with pytest.raises(SignatureVerificationError) as info:
        signature.verify(signed_factura)
    assert "not signed" in str(info.value)


def test_replaced_certificate(signed_factura, other_certificate):
    node = ds(signature.signatures_of(signed_factura)[0], "ds:KeyInfo/ds:X509Data/ds:X509Certificate")
    node.text = base64.b64encode(other_certificate.certificate.public_bytes(encoding=_der())).decode()
    with pytest.raises(SignatureVerificationError):
        signature.verify(signed_factura)


def _der():
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def test_re_signed_with_another_key_but_original_certificate(signed_factura, certificate, other_certificate):
    # Someone re-signs the changed document with their own key, keeping the victim's certificate.
    xmlutil.find(signed_factura, "Documento/Encabezado/Totales/MntTotal").text = "1"
    original_certificate = ds(
        signature.signatures_of(signed_factura)[0], "ds:KeyInfo/ds:X509Data/ds:X509Certificate"
    ).text
    signed_factura.remove(signature.signatures_of(signed_factura)[0])
    signature.sign_reference(signed_factura, signed_factura[0].get("ID"), other_certificate)
    signed_factura = xmlutil.parse(etree.tostring(signed_factura))
    assert signature.verify(copy.deepcopy(signed_factura)) == other_certificate.certificate_pem
    ds(
        signature.signatures_of(signed_factura)[0], "ds:KeyInfo/ds:X509Data/ds:X509Certificate"
    ).text = original_certificate
    with pytest.raises(SignatureVerificationError):
        signature.verify(signed_factura)


def test_rsa_key_value_not_matching_the_certificate(signed_factura, other_certificate):
    modulus = ds(signature.signatures_of(signed_factura)[0], "ds:KeyInfo/ds:KeyValue/ds:RSAKeyValue/ds:Modulus")
    n = other_certificate.private_key.public_key().public_numbers().n
    modulus.text = base64.b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).decode()
    with pytest.raises(SignatureVerificationError) as info:
        signature.verify(signed_factura)
    assert "RSAKeyValue" in str(info.value)


@pytest.mark.parametrize("text", ["", "not base64!"])
def test_unreadable_rsa_key_value(signed_factura, text):
    modulus = ds(signature.signatures_of(signed_factura)[0], "ds:KeyInfo/ds:KeyValue/ds:RSAKeyValue/ds:Modulus")
    modulus.text = text
    with pytest.raises(SignatureVerificationError):
        signature.verify(signed_factura)


def test_missing_or_garbage_certificate(signed_factura):
    node = ds(signature.signatures_of(signed_factura)[0], "ds:KeyInfo/ds:X509Data/ds:X509Certificate")
    node.text = "AAAA"
    with pytest.raises(SignatureVerificationError):
        signature.verify(signed_factura)
    node.getparent().remove(node)
    with pytest.raises(SignatureVerificationError):
        signature.verify(signed_factura)


# --- real DTEs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "cert_filename"),
    [
        ("DTE--76354771-K--33--170--cleaned.xml", "DTE--76354771-K--33--170-cert.pem"),
        ("DTE--76399752-9--33--25568--cleaned.xml", "DTE--76399752-9--33--25568-cert.pem"),
        ("DTE--60910000-1--33--2336600.xml", "DTE--60910000-1--33--2336600-cert.pem"),
        ("DTE--96670340-7--61--110616.xml", "DTE--96670340-7--61--110616-cert.pem"),
        # The cleaned copies of DTEs signed without namespace verify once it is removed again.
        ("DTE--60910000-1--33--2336600--cleaned.xml", "DTE--60910000-1--33--2336600-cert.pem"),
        ("DTE--96670340-7--61--110616--cleaned.xml", "DTE--96670340-7--61--110616-cert.pem"),
    ],
)
def test_real_production_dtes_verify(filename, cert_filename):
    root = xmlutil.parse((PRODUCTION / filename).read_bytes())
    pem = signature.verify_dte(root)
    signer = x509.load_pem_x509_certificate(pem, default_backend())
    expected = x509.load_pem_x509_certificate((PRODUCTION / "certs" / cert_filename).read_bytes(), default_backend())
    assert signer == expected


def test_real_dte_signed_with_namespace_verifies_as_is():
    root = xmlutil.parse((PRODUCTION / "DTE--76354771-K--33--170--cleaned.xml").read_bytes())
    assert signature.verify(root)


@pytest.mark.parametrize(
    "filename",
    [
        "DTE--76354771-K--33--170--cleaned-mod-changed-monto.xml",
        "DTE--76354771-K--33--170--cleaned-mod-removed-signature.xml",
        "DTE--76354771-K--33--170--cleaned-mod-replaced-cert.xml",
    ],
)
def test_tampered_real_dtes_fail(filename):
    root = xmlutil.parse((PRODUCTION / filename).read_bytes())
    with pytest.raises(SignatureVerificationError):
        signature.verify_dte(root)
    with pytest.raises(SignatureVerificationError):
        signature.verify(root)


def test_official_sample_is_refused_its_key_is_not_its_certificate(fixtures_dir):
    # The SII's sample signs with a key unrelated to the certificate it carries
    # (see notes_official_sample.md): with the certificate's key it cannot verify.
    envelope = xmlutil.parse((fixtures_dir / "official" / "F60T33-ejemplo-oficial-SII.xml").read_bytes())
    with pytest.raises(SignatureVerificationError):
        signature.verify(envelope)
    dte_element = next(envelope.iter(f"{{{xmlutil.SII_NS}}}DTE"))
    with pytest.raises(SignatureVerificationError):
        signature.verify_dte(dte_element)


def test_standalone_and_without_namespace_helpers():
    envelope = etree.fromstring(
        f'<EnvioDTE xmlns="{xmlutil.SII_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<SetDTE><DTE version="1.0"><Documento ID="X"><Folio>1</Folio></Documento></DTE></SetDTE></EnvioDTE>'
    )
    inner = envelope[0][0]
    alone = signature.standalone(inner)
    assert alone.nsmap == {None: xmlutil.SII_NS}
    assert (
        etree.tostring(alone)
        == f'<DTE xmlns="{xmlutil.SII_NS}" version="1.0"><Documento ID="X"><Folio>1</Folio></Documento></DTE>'.encode()
    )
    bare = signature.without_sii_namespace(inner)
    assert etree.tostring(bare) == b'<DTE version="1.0"><Documento ID="X"><Folio>1</Folio></Documento></DTE>'
