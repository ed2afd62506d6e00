"""python -m sii_engine respond: the receiver's answers to a supplier's EnvioDTE, from the command line."""

import datetime

import pytest

from sii_engine import cli, dte, envelope, identities
from sii_engine.exchange import CommercialStatus, DocumentStatus, EnvelopeStatus, read_answer, read_receipts

ISSUER = "76192083-9"
RECEIVER = "77777777-7"  # conftest's documents are issued to it


@pytest.fixture(scope="module")
def files(tmp_path_factory, authority, document_factory, caf_factory, certificate):
    """A supplier's EnvioDTE to RECEIVER (two invoices), the receiver's certificate and the stand-in SII key."""
    out = tmp_path_factory.mktemp("respond")
    dtes = [dte.issue(document_factory(33, folio=folio), caf_factory(33), certificate).xml for folio in (61, 62)]
    (out / "envio.xml").write_bytes(envelope.build_envelope(dtes, ISSUER, certificate, datetime.date(2014, 8, 22), 80,
                                                            receiver_rut=RECEIVER))
    (out / "receiver.pfx").write_bytes(identities.make_pkcs12("12345678-5", "Receptor", "clave"))
    (out / "receiver.password").write_text("clave\n")
    (out / "sii.pem").write_bytes(authority.public_key_pem)
    return out


def _respond(files, *extra, envio="envio.xml"):
    out = files / f"answer-{len(extra)}-{extra[:1]}.xml"
    code = cli.main(["respond", str(files / envio), "--company-rut", RECEIVER, "--cert", str(files / "receiver.pfx"),
                     "--password-file", str(files / "receiver.password"), "--trusted-key", f"9999={files / 'sii.pem'}",
                     "--envelope-code", "7", "--out", str(out), *extra])
    return code, out


def test_reception(files, capsys):
    code, out = _respond(files)
    assert code == 0
    answer = read_answer(out.read_bytes())
    assert answer.verified and answer.cover.recipient_rut == ISSUER
    (reception,) = answer.receptions
    assert (reception.status, reception.envelope_code, reception.file_name) == (EnvelopeStatus.OK, 7, "envio.xml")
    assert [(item.document.folio, item.status) for item in reception.documents] == [
        (61, DocumentStatus.OK), (62, DocumentStatus.OK)]
    assert "T33F61: DTE Recibido OK" in capsys.readouterr().err


def test_reception_without_the_sii_key_refuses_the_documents(files):
    code = cli.main(["respond", str(files / "envio.xml"), "--company-rut", RECEIVER, "--cert",
                     str(files / "receiver.pfx"), "--password-file", str(files / "receiver.password"),
                     "--environment", "production", "--out", str(files / "strict.xml")])
    assert code == 0
    documents = read_answer((files / "strict.xml").read_bytes()).receptions[0].documents
    assert {item.status for item in documents} == {DocumentStatus.OTHER}  # the CAF is not the SII's


def test_result(files):
    code, out = _respond(files, "--result", "rejected", "--reason", "Precio no convenido")
    assert code == 0
    answer = read_answer(out.read_bytes())
    assert answer.verified
    assert [(r.document.folio, r.status, r.glosa, r.envelope_code) for r in answer.results] == [
        (61, CommercialStatus.REJECTED, "Precio no convenido", 7), (62, CommercialStatus.REJECTED,
                                                                   "Precio no convenido", 7)]


def test_receipt(files):
    code, out = _respond(files, "--receipt", "Bodega 3")
    assert code == 0
    received = read_receipts(out.read_bytes())
    assert received.verified
    assert [(r.document.folio, r.place, r.signer_rut) for r in received.receipts] == [
        (61, "Bodega 3", "12345678-5"), (62, "Bodega 3", "12345678-5")]


def test_nothing_received_nothing_to_accept(files, capsys):
    code = cli.main(["respond", str(files / "envio.xml"), "--company-rut", "96790240-3", "--cert",
                     str(files / "receiver.pfx"), "--password-file", str(files / "receiver.password"),
                     "--result", "accepted", "--out", str(files / "none.xml")])
    assert code == 2
    assert "nothing to accept or reject" in capsys.readouterr().err
    assert not (files / "none.xml").exists()
