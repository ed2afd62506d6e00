"""Received input is hostile: one test per class of attack, not per example.

Each class comes from issue 12 (about 120 hostile inputs against the engine and the CLI):
signatures that make the verifier fetch or read, signatures that leave what matters
unsigned, resource bounds that came too late, tracebacks instead of typed errors, and
input that came out quietly wrong. Nothing here touches the network: the one http
reference points at a socket the test opens on 127.0.0.1, and the test asserts that
nobody connects to it.
"""

import base64
import copy
import datetime
import json
import os
import select
import socket
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from lxml import etree

from sii_engine import cli, dte, identities, signature, xmlutil
from sii_engine.caf import load_caf
from sii_engine.certificate import RUT_OID, holder_rut, load_pkcs12
from sii_engine.document import document_from_dict
from sii_engine.envelope import build_envelope
from sii_engine.errors import (
    AmountError,
    CafTrustedKeyError,
    CertificateKeyTypeError,
    DocumentFieldError,
    EnvelopeError,
    InputFileError,
    RutError,
    SignatureProfileError,
    SignatureVerificationError,
)
from sii_engine.verify import FORMAT, SIGNATURE, TOTALS, UNSIGNED, verify_file

ROOT = Path(__file__).resolve().parents[2]
DS = f"{{{xmlutil.DSIG_NS}}}"
ISSUER = "76192083-9"
RESOLUTION = (datetime.date(2014, 8, 22), 80)


@pytest.fixture(scope="module")
def trusted(authority):
    return authority.trusted_keys()


@pytest.fixture(scope="module")
def issue(document_factory, caf_factory, certificate):
    """``issue(folio, doc_type=33, **fields)`` → the signed DTE's bytes."""

    def make(folio, doc_type=33, **fields):
        document = document_factory(doc_type, folio=folio, **fields)
        return dte.issue(document, caf_factory(doc_type), certificate).xml

    return make


@pytest.fixture(scope="module")
def envelope(issue, certificate):
    return build_envelope([issue(901), issue(902)], ISSUER, certificate, *RESOLUTION)


def _reference(root):
    return signature.signatures_of(root)[-1].find(f"{DS}SignedInfo/{DS}Reference")


def _with_reference_uri(dte_xml, uri):
    root = xmlutil.parse(dte_xml)
    _reference(root).set("URI", uri)
    return root


# --- 1. a signature never makes the verifier fetch or read anything ------------------------------


def test_a_file_reference_is_refused_unread(issue, trusted):
    root = _with_reference_uri(issue(1), "file:///etc/passwd")
    with pytest.raises(SignatureProfileError, match="not \"#ID\""):
        signature.verify(root)
    report = verify_file(etree.tostring(root), trusted)
    check = report.get(SIGNATURE)
    assert not check.ok and "outside the SII's signature profile" in check.detail
    first_line = Path("/etc/passwd").read_text().splitlines()[0]
    assert first_line not in report.format()


class _Listener:
    """A socket on 127.0.0.1 that only counts who connects: nothing is ever served."""

    def __enter__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.socket.setblocking(False)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/key"
        return self

    def connections(self, wait=0.3):
        readable, _, _ = select.select([self.socket], [], [], wait)
        return len(readable)

    def __exit__(self, *exc):
        self.socket.close()


def test_an_http_reference_is_never_fetched(issue, trusted):
    with _Listener() as listener:
        root = _with_reference_uri(issue(2), listener.url)
        with pytest.raises(SignatureProfileError):
            signature.verify(root)
        report = verify_file(etree.tostring(root), trusted)
        assert not report.get(SIGNATURE).ok
        assert listener.connections() == 0


def test_xmlsec_itself_opens_no_uri_even_past_the_profile_check(issue, certificate):
    """The second wall: this process's xmlsec has no IO callbacks, so even a context
    handed an external reference directly (the profile check bypassed) opens nothing."""
    with _Listener() as listener:
        root = _with_reference_uri(issue(3), listener.url)
        key = xmlsec.Key.from_memory(certificate.certificate_pem, xmlsec.constants.KeyDataFormatCertPem)
        context = signature._verification_context(key)
        with pytest.raises(xmlsec.Error):
            context.verify(signature.signatures_of(root)[-1])
        assert listener.connections() == 0


def test_a_dev_zero_reference_is_refused_at_once(issue, tmp_path):
    """Run apart, with a deadline: were /dev/zero followed, this would never end."""
    target = tmp_path / "dev-zero.xml"
    target.write_bytes(etree.tostring(_with_reference_uri(issue(4), "file:///dev/zero")))
    code = ("import sys; from sii_engine import signature, xmlutil\n"
            "from sii_engine.errors import SignatureProfileError\n"
            "root = xmlutil.parse(open(sys.argv[1], 'rb').read())\n"
            "try:\n    signature.verify(root)\nexcept SignatureProfileError as error:\n    print('refused:', error)\n")
    done = subprocess.run([sys.executable, "-c", code, str(target)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused:") and "file:///dev/zero" in done.stdout


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda root: _reference(root).set("URI", "#xpointer(/)"), "not \"#ID\""),
        (lambda root: _reference(root).set("URI", "#xpointer(id('T33F5'))"), "not \"#ID\""),
        (lambda root: _reference(root).set("URI", ""), "not \"#ID\""),  # a DTE signs its Documento, not the file
        (lambda root: _reference(root).set("URI", "T33F5"), "not \"#ID\""),
        (lambda root: _set_transform(root, "http://www.w3.org/TR/1999/REC-xslt-19991116"), "is not one the SII uses"),
        (lambda root: _set_transform(root, "http://www.w3.org/TR/1999/REC-xpath-19991116"), "is not one the SII uses"),
        (lambda root: _add_transform_child(root), "carries parameters"),
        (lambda root: _add_to_key_info(root, "RetrievalMethod", URI="http://127.0.0.1:9/key"), "RetrievalMethod"),
        (lambda root: _add_to_signature(root, "Object"), "<Object>"),
        (lambda root: etree.SubElement(root.find(f"{DS}Signature/{DS}SignedInfo"), f"{DS}Reference"), "<Reference>"),
    ],
    ids=["xpointer-root", "xpointer-id", "whole-document", "relative-uri", "xslt", "xpath", "transform-parameters",
         "retrieval-method", "object", "second-reference"],
)
def test_what_lies_outside_the_sii_profile_is_refused_before_xmlsec(issue, mutate, expected):
    root = xmlutil.parse(issue(5))
    mutate(root)
    with pytest.raises(SignatureProfileError, match=expected):
        signature.verify(root)


def _set_transform(root, algorithm):
    transforms = _reference(root).find(f"{DS}Transforms")
    if transforms is None:
        transforms = etree.Element(f"{DS}Transforms")
        _reference(root).insert(0, transforms)
    etree.SubElement(transforms, f"{DS}Transform", Algorithm=algorithm)


def _add_transform_child(root):
    _set_transform(root, "http://www.w3.org/TR/2001/REC-xml-c14n-20010315")
    transform = _reference(root).find(f"{DS}Transforms/{DS}Transform")
    etree.SubElement(transform, f"{DS}XPath").text = "not(ancestor-or-self::Encabezado)"


def _add_to_key_info(root, name, **attributes):
    etree.SubElement(root.find(f"{DS}Signature/{DS}KeyInfo"), f"{DS}{name}", **attributes)


def _add_to_signature(root, name):
    etree.SubElement(root.find(f"{DS}Signature"), f"{DS}{name}").text = "x"


# --- 2. what a signature covers is what the SII wants covered -----------------------------------


def test_an_envelope_signature_over_a_documento_leaves_the_caratula_unsigned(envelope, certificate, trusted):
    root = xmlutil.parse(envelope)
    root.remove(signature.signatures_of(root)[0])
    signature.sign_reference(root, "T33F901", certificate)  # valid, but over a DTE's Documento
    xmlutil.find(root, "SetDTE/Caratula/RutReceptor").text = "96790240-3"  # the Caratula, edited
    with pytest.raises(SignatureProfileError, match="signed by nobody"):
        signature.verify(root)
    report = verify_file(etree.tostring(root), trusted)
    check = report.get(SIGNATURE, "envelope")
    assert not report.ok and not check.ok
    assert "covers <Documento> #T33F901, not the <SetDTE>" in check.detail


def test_a_dte_signature_over_a_part_of_its_documento_is_refused(issue, certificate, trusted):
    root = xmlutil.parse(issue(6))
    root.remove(signature.signatures_of(root)[0])
    xmlutil.find(root, "Documento/Encabezado").set("ID", "E")
    signature.sign_reference(root, "E", certificate)  # covers the header only: the lines are free
    with pytest.raises(SignatureProfileError, match="not the <Documento>"):
        signature.verify_dte(root)
    assert not verify_file(etree.tostring(root), trusted).get(SIGNATURE).ok


def test_an_id_declared_twice_is_refused(envelope, certificate):
    # xml:id is an ID to libxml2 by itself: the copy would be what xmlsec digests.
    root = xmlutil.parse(envelope)
    copy_of_set = copy.deepcopy(xmlutil.find(root, "SetDTE"))
    copy_of_set.set("{http://www.w3.org/XML/1998/namespace}id", "SetDoc")
    xmlutil.find(root, "SetDTE/Caratula").append(copy_of_set)
    root = xmlutil.parse(etree.tostring(root))
    with pytest.raises(SignatureProfileError, match="another element declares xml:id 'SetDoc'"):
        signature.verify(root)
    # Where no structure fixes the signed part, a repeated ID is ambiguous.
    seed = etree.fromstring('<getToken><item ID="S"><Semilla>1</Semilla></item><item ID="S"/></getToken>')
    signature.sign_reference(seed, "S", certificate)
    with pytest.raises(SignatureProfileError, match="2 elements carry the ID 'S'"):
        signature.verify(seed)


def test_what_nobody_signed_is_reported(envelope, trusted):
    root = xmlutil.parse(envelope)
    etree.SubElement(root, f"{{{xmlutil.SII_NS}}}Instrucciones").text = "pagar a otra cuenta"
    root.append(copy.deepcopy(signature.signatures_of(root)[0]))  # and a second signature
    report = verify_file(etree.tostring(root), trusted)
    unsigned = report.get(UNSIGNED, "envelope")
    assert unsigned is not None and not unsigned.ok
    assert "<Instrucciones>" in unsigned.detail and "signed by nobody" in unsigned.detail
    assert not report.ok
    # A valid envelope has no such line.
    assert verify_file(envelope, trusted).get(UNSIGNED) is None


# --- 3. bounds come first: size, counts, amounts ------------------------------------------------


def _run_limited(args, cwd, memory_mib=768, timeout=60):
    """``python -m sii_engine ARGS`` with its address space capped: reading a whole
    3 GB file, or /dev/zero, cannot succeed there, only a bounded read can."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (memory_mib * 1024 ** 2,) * 2)

    return subprocess.run([sys.executable, "-m", "sii_engine", *args], cwd=cwd, preexec_fn=limit,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=timeout)


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path):
    huge = tmp_path / "huge.xml"
    with open(huge, "wb") as file:  # sparse: 3 GB that take no disk
        file.truncate(3 * 1024 ** 3)
    with pytest.raises(InputFileError, match="3,221,225,472 bytes"):
        xmlutil.read_bounded(huge)
    done = _run_limited(["verify", str(huge)], tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().endswith("3,221,225,472 bytes; at most 52,428,800 bytes are accepted")


def test_an_endless_stream_is_read_only_up_to_the_cap(tmp_path):
    # Only in a capped process: a read-everything would take this machine's memory.
    done = _run_limited(["verify", "/dev/zero"], tmp_path)
    assert done.returncode == 2, done.stderr
    assert "/dev/zero: cannot read this file: it holds more; at most 52,428,800 bytes" in done.stderr


@pytest.mark.parametrize(("kind", "doc_type", "limit"), [("EnvioDTE", 33, 2000), ("EnvioBOLETA", 39, 500)])
def test_too_many_documents_are_counted_before_any_is_verified(issue, trusted, kind, doc_type, limit):
    one = xmlutil.strip_declaration(issue(10 + doc_type, doc_type))
    body = (f'<{kind} xmlns="{xmlutil.SII_NS}" version="1.0"><SetDTE ID="SetDoc"><Caratula version="1.0"/>'
            .encode() + one * (limit + 1) + f"</SetDTE></{kind}>".encode())
    report = verify_file(body, trusted)
    assert [(check.name, check.ok) for check in report.checks] == [(FORMAT, False)]
    assert f"{limit + 1} documents" in report.checks[0].detail and f"at most {limit}" in report.checks[0].detail


@pytest.mark.parametrize("amount", ["1E+999999999", "NaN", "Infinity", "-Infinity", "1E30", "sNaN"])
def test_absurd_amounts_in_received_xml_are_named_not_computed(issue, trusted, amount):
    data = issue(20).replace(b"<PrcItem>85</PrcItem>", f"<PrcItem>{amount}</PrcItem>".encode())
    assert data != issue(20)
    report = verify_file(data, trusted)
    check = report.get(TOTALS)
    assert not check.ok
    assert "Detalle[1]/PrcItem" in check.detail and repr(amount) in check.detail


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "1E30", "1E+999999999", float("inf"), 10 ** 40])
def test_absurd_amounts_in_json_are_typed_errors_naming_the_field(amount):
    data = _json_document()
    data["Detalle"][0]["PrcItem"] = amount
    with pytest.raises(AmountError, match=r"Detalle\[1\]/PrcItem"):
        document_from_dict(data)


def test_keys_too_large_to_check_cheaply_are_refused_unused(issue, trusted):
    # A TED may carry any <CAF>: a 16,384-bit RSAPK with a 64-bit exponent would make every
    # document's FRMT check cost milliseconds. The SII's CAF keys are RSA-512, exponent 3.
    root = xmlutil.parse(issue(70))
    huge = (1 << 16383) | 1
    xmlutil.find(root, "Documento/TED/DD/CAF/DA/RSAPK/M").text = base64.b64encode(huge.to_bytes(2048, "big")).decode()
    xmlutil.find(root, "Documento/TED/DD/CAF/DA/RSAPK/E").text = base64.b64encode((2 ** 64 - 1).to_bytes(8, "big")).decode()
    check = verify_file(etree.tostring(root), trusted).get("TED")
    assert not check.ok and "16384-bit key" in check.detail
    # Numbers that make no RSA key at all: said of the CAF, not taken for an unreadable signature.
    xmlutil.find(root, "Documento/TED/DD/CAF/DA/RSAPK/M").text = "AQ=="
    xmlutil.find(root, "Documento/TED/DD/CAF/DA/RSAPK/E").text = "Aw=="
    check = verify_file(etree.tostring(root), trusted).get("TED")
    assert not check.ok and "its RSAPK is not an RSA public key" in check.detail


def test_a_signer_key_too_large_is_refused_unused(issue):
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(65537, 4608)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Big")])
    now = datetime.datetime.utcnow()
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(3).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                   .sign(key, hashes.SHA256()))
    root = xmlutil.parse(issue(71))
    root.find(f"{DS}Signature/{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate").text = base64.b64encode(
        certificate.public_bytes(serialization.Encoding.DER)).decode()
    with pytest.raises(SignatureProfileError, match="RSA-4608 key; signers' keys have at most 4096 bits"):
        signature.verify(root)


# --- 4. typed errors, never a traceback ----------------------------------------------------------


def _ec_certificate(common_name="EC holder"):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.utcnow()
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.OtherName(RUT_OID, b"\x16\x0a11111111-1")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def test_an_ec_key_inside_a_pfx_is_a_typed_error():
    key, certificate = _ec_certificate()
    data = pkcs12.serialize_key_and_certificates(b"ec", key, certificate, None,
                                                 serialization.BestAvailableEncryption(b"pw"))
    with pytest.raises(CertificateKeyTypeError, match=r"EC \(secp256r1\)"):
        load_pkcs12(data, "pw")


def test_an_ec_key_as_the_trusted_sii_key_is_a_typed_error(authority, tmp_path, capsys):
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    caf_xml = authority.issue_caf(ISSUER, "Comercial", 33, 1, 10)
    with pytest.raises(CafTrustedKeyError, match="EC"):
        load_caf(caf_xml, {authority.idk: ec_key})
    report = verify_file(caf_xml, {authority.idk: ec_key})  # a report, not an exception
    assert not report.ok and "EC (secp256r1)" in report.format()
    pem = tmp_path / "ec.pub.pem"
    pem.write_bytes(ec_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    caf_file = tmp_path / "caf.xml"
    caf_file.write_bytes(caf_xml)
    assert cli.main(["verify", str(caf_file), "--trusted-key", f"{authority.idk}={pem}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: The SII key") and str(pem) in err and "Traceback" not in err


def test_an_ec_certificate_in_a_received_signature_is_refused(issue):
    root = xmlutil.parse(issue(30))
    _key, certificate = _ec_certificate()
    der = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()
    root.find(f"{DS}Signature/{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate").text = der
    with pytest.raises(SignatureProfileError, match="EC"):
        signature.verify(root)


def _json_document():
    return {
        "Encabezado": {
            "IdDoc": {"TipoDTE": 33, "Folio": 1},
            "Emisor": {"RUTEmisor": ISSUER, "RznSoc": "Comercial", "GiroEmis": "Comercio", "Acteco": 726000},
            "Receptor": {"RUTRecep": "60803000-K", "RznSocRecep": "SII", "GiroRecep": "Gobierno"},
        },
        "Detalle": [{"NmbItem": "Servicio", "QtyItem": 1, "PrcItem": 1000}],
    }


def _set(path, value):
    def change(data):
        *parents, last = path
        target = data
        for key in parents:
            target = target[key]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return change


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (_set(("Encabezado", "Receptor"), [{"RUTRecep": "60803000-K"}]), "Encabezado/Receptor"),
        (_set(("Encabezado", "Emisor"), "76192083-9"), "Encabezado/Emisor"),
        (_set(("Encabezado", "Emisor"), KeyError), "Encabezado/Emisor"),
        (_set(("Encabezado", "IdDoc", "TipoDTE"), KeyError), "Encabezado/IdDoc/TipoDTE"),
        (_set(("Encabezado", "IdDoc", "TipoDTE"), "factura"), "Encabezado/IdDoc/TipoDTE"),
        (_set(("Encabezado",), [1, 2]), "Encabezado"),
        (_set(("Detalle",), "Servicio"), "Detalle[1]"),
        (_set(("Detalle",), [{"NmbItem": "A"}, 7]), "Detalle[2]"),
        (_set(("Detalle", 0, "NmbItem"), {"es": "Servicio"}), "Detalle[1]/NmbItem"),
        (_set(("Detalle", 0, "QtyItem"), [1]), "Detalle[1]/QtyItem"),
        (_set(("Detalle", 0, "CdgItem"), "INT1"), "Detalle[1]/CdgItem"),
        (_set(("Encabezado", "IdDoc", "FchEmis"), 20240515), "Encabezado/IdDoc/FchEmis"),
        (_set(("Encabezado", "IdDoc", "Folio"), float("inf")), "Encabezado/IdDoc/Folio"),
    ],
)
def test_json_of_the_wrong_shape_names_the_path(change, field):
    data = _json_document()
    change(data)
    with pytest.raises(DocumentFieldError) as raised:
        document_from_dict(data)
    assert raised.value.params["field"] == field
    assert str(raised.value).startswith(f"{field}: ")


def test_a_factura_without_receiver_names_the_field(document_factory, caf_factory, certificate):
    document = document_from_dict({**_json_document(), "Encabezado": {
        **_json_document()["Encabezado"], "Receptor": {}}})
    with pytest.raises(RutError) as raised:
        dte.issue(document, caf_factory(33), certificate)
    assert str(raised.value).startswith("Receptor/RUTRecep: '' is not a valid Chilean RUT")
    assert raised.value.code == "rut_invalid"  # translated as any RUT error by the Odoo layer


@pytest.mark.parametrize("type_text", [b"factura", b"", b"33.0", b"1" * 50, b"999"])
def test_an_envelope_of_a_dte_without_a_numeric_known_type_is_refused(issue, certificate, type_text):
    data = issue(40).replace(b"<TipoDTE>33</TipoDTE>", b"<TipoDTE>" + type_text + b"</TipoDTE>")
    with pytest.raises(EnvelopeError, match="TipoDTE"):
        build_envelope([data], ISSUER, certificate, *RESOLUTION)


# --- 5. nothing quietly wrong ---------------------------------------------------------------------


def test_decomposed_accents_are_composed_before_folding_to_latin1(issue):
    assert xmlutil.clean_text("Jose\u0301 N\u0303un\u0303ez") == "José Ñuñez"
    assert xmlutil.clean_text("Jose\u0301 \u2014 \u00f1") == "José - ñ"  # what Latin-1 lacks still folds
    data = issue(50, receiver=identities_receiver("Jose\u0301 Pe\u0301rez"))
    assert "José Pérez".encode("latin-1") in data and b"Jose?" not in data


def identities_receiver(name):
    from sii_engine.document import Receiver

    return Receiver(rut="77777777-7", name=name, activity="Comercio", address="Calle 1", commune="Santiago")


def test_the_envelope_builder_refuses_another_issuers_dte(issue, document_factory, caf_factory, certificate):
    from sii_engine.document import Issuer

    other = Issuer(rut="96790240-3", name="Otra SpA", activity="Comercio", economic_activities=(475201,))
    foreign = dte.issue(document_factory(33, folio=60, issuer=other), caf_factory(33, rut="96790240-3"), certificate)
    with pytest.raises(EnvelopeError, match="issued by '96790240-3', not by the envelope's issuer 76192083-9"):
        build_envelope([issue(61), foreign.xml], ISSUER, certificate, *RESOLUTION)


def test_the_envelope_builder_refuses_a_dte_edited_after_signing(issue, certificate):
    signed = issue(62)
    edited = signed.replace(b"<RznSocRecep>Cliente Ejemplo Limitada</RznSocRecep>",
                            b"<RznSocRecep>Cliente Ejemplo Ltda</RznSocRecep>")
    assert edited != signed
    with pytest.raises(EnvelopeError, match="T33F62.*own signature does not verify"):
        build_envelope([edited], ISSUER, certificate, *RESOLUTION)
    assert build_envelope([signed], ISSUER, certificate, *RESOLUTION).startswith(b"<?xml")


def test_files_holding_private_keys_are_written_0600(tmp_path):
    out = tmp_path / "identities"
    assert cli.main(["make-test-identities", "--out", str(out), "--rut", ISSUER, "--name", "Prueba",
                     "--types", "33,39"]) == 0
    secrets = ["test-cert.pfx", "test-cert.password", "test-sii-idk9999.key.pem", "caf-T33-1-100.xml",
               "caf-T39-1-100.xml"]
    for name in secrets:
        assert b"PRIVATE KEY" in (out / name).read_bytes() or name.endswith((".pfx", ".password"))
        assert (out / name).stat().st_mode & 0o777 == 0o600, name
    assert (out / "test-sii-idk9999.pub.pem").stat().st_mode & 0o044  # public: readable


def test_certificates_carry_the_rut_as_real_ones_and_both_shapes_are_read(small_key):
    rut = b"11111111-1"
    generated = load_pkcs12(identities.make_pkcs12("11111111-1", "Firmante", "pw", private_key=small_key), "pw")
    assert b"\xa0\x0c\x16\x0a" + rut in generated.certificate.tbs_certificate_bytes
    assert b"\xa0\x0e\xa0\x0c" not in generated.certificate.tbs_certificate_bytes
    real = x509.load_pem_x509_certificate(
        (ROOT / "sii_engine/tests/fixtures/real_production/certs/DTE--60910000-1--33--2336600-cert.pem").read_bytes())
    assert b"\xa0\x0b\x16\x09" in real.tbs_certificate_bytes  # the shape the generated one now has
    assert holder_rut(real) == "8480437-1"
    for value in (b"\x16\x0a" + rut, b"\xa0\x0c\x16\x0a" + rut):  # real shape, and the one this engine once wrote
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "X")])
        now = datetime.datetime.utcnow()
        certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(small_key.public_key())
            .serial_number(2).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.OtherName(RUT_OID, value)]), critical=False)
            .sign(small_key, hashes.SHA256())
        )
        assert holder_rut(certificate) == "11111111-1"


@pytest.fixture(scope="module")
def small_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(65537, 1024)


# --- 6. exit codes: checks failed (1) is not could not run (2) ---------------------------------------


def test_cli_exit_codes_as_a_subprocess(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(*args):
        done = subprocess.run([sys.executable, "-m", "sii_engine", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert "Traceback" not in done.stderr, done.stderr
        return done.returncode, done.stdout + done.stderr

    material = tmp_path / "m"
    assert run("make-test-identities", "--out", str(material), "--rut", ISSUER, "--name", "Prueba",
               "--types", "33")[0] == 0
    trust = ["--trusted-key", f"9999={material / 'test-sii-idk9999.pub.pem'}"]
    certificate = ["--cert", str(material / "test-cert.pfx"), "--password-file", str(material / "test-cert.password")]
    signed = tmp_path / "dte.xml"
    assert run("issue", "--json", str(material / "example-T33.json"), "--caf", str(material / "caf-T33-1-100.xml"),
               "--trust-test-key", str(material / "test-sii-idk9999.pub.pem"), "--out", str(signed),
               *certificate)[0] == 0
    assert run("verify", str(signed), *trust)[0] == 0
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(signed.read_bytes().replace(b"<RznSocRecep>", b"<RznSocRecep>X"))
    assert run("verify", str(tampered), *trust)[0] == 1  # checks failed
    code, output = run("verify", str(tmp_path / "missing.xml"))
    assert code == 2 and "missing.xml: cannot read this file" in output  # could not run
    assert run("verify")[0] == 2  # usage
    wrong = tmp_path / "wrong.json"
    data = json.loads((material / "example-T33.json").read_text())
    data["Encabezado"]["Receptor"] = [data["Encabezado"]["Receptor"]]
    wrong.write_text(json.dumps(data))
    code, output = run("issue", "--json", str(wrong), "--caf", str(material / "caf-T33-1-100.xml"),
                       "--trust-test-key", str(material / "test-sii-idk9999.pub.pem"), *certificate)
    assert code == 2 and "Encabezado/Receptor: it must be a JSON object, not a list" in output
    code, output = run("envelope", *certificate, "--issuer-rut", "96790240-3", "--resolution-date", "2014-08-22",
                       "--resolution-number", "80", str(signed))
    assert code == 2 and "not by the envelope's issuer 96790240-3" in output


def test_valid_documents_verify_as_before(envelope, trusted):
    report = verify_file(envelope, trusted)
    assert report.ok, report.format()
    assert report.get(UNSIGNED) is None and report.get(SIGNATURE, "envelope").detail.startswith("valid, signed by")


def test_amount_bounds_keep_what_the_sii_writes():
    from sii_engine.amounts import parse_amount

    assert parse_amount("123456789012345678", "MntTotal") == Decimal("123456789012345678")
    assert parse_amount("0.000001", "QtyItem") == Decimal("0.000001")
    assert parse_amount(1e3, "PrcItem") == Decimal(1000)
    with pytest.raises(AmountError):
        parse_amount("1234567890123456789", "MntTotal")


def test_signature_verification_error_stays_the_base_class():
    # Callers (the simulator, the Odoo layer) catch SignatureVerificationError: a refusal is one.
    assert issubclass(SignatureProfileError, SignatureVerificationError)
