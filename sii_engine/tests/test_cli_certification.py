"""python -m sii_engine certification: the real test set, from its file to envelopes and books in a folder."""

import json

import pytest
from lxml import etree

from sii_engine import cli, identities, schema, verify
from sii_engine.tests.conftest import ISSUER_NAME, ISSUER_RUT
from sii_engine.tests.test_certification_issue import REAL_SET

TYPES = (33, 46, 52, 56, 61)
EXPORT_TYPES = (110, 111, 112)


@pytest.fixture(scope="module")
def files(tmp_path_factory, authority):
    out = tmp_path_factory.mktemp("certification")
    for document_type in TYPES + EXPORT_TYPES:
        (out / f"caf{document_type}.xml").write_bytes(authority.issue_caf(ISSUER_RUT, ISSUER_NAME, document_type, 1, 50))
    (out / "cert.pfx").write_bytes(identities.make_pkcs12("11111111-1", "Firmante", "clave"))
    (out / "cert.password").write_text("clave\n")
    (out / "sii.pem").write_bytes(authority.public_key_pem)
    (out / "issuer.json").write_text(json.dumps({
        "RUTEmisor": ISSUER_RUT, "RznSoc": ISSUER_NAME, "GiroEmis": "Ferreteria", "Acteco": 475201,
        "DirOrigen": "Calle 1", "CmnaOrigen": "Santiago"}))
    (out / "receiver.json").write_text(json.dumps({
        "RUTRecep": "77777777-7", "RznSocRecep": "Cliente SpA", "GiroRecep": "Comercio", "DirRecep": "Calle 2",
        "CmnaRecep": "Santiago"}))
    (out / "foreign.json").write_text(json.dumps({
        "RUTRecep": "55555555-5", "RznSocRecep": "Importadora del Pacifico", "GiroRecep": "Importador",
        "DirRecep": "Av. 1"}))
    return out


def _run(files, out, *extra, types=TYPES):
    cafs = [arg for document_type in types for arg in ("--caf", str(files / f"caf{document_type}.xml"))]
    return cli.main(["certification", str(REAL_SET), *cafs, "--cert", str(files / "cert.pfx"),
                     "--password-file", str(files / "cert.password"), "--issuer", str(files / "issuer.json"),
                     "--receiver", str(files / "receiver.json"), "--resolution-date", "2026-11-30",
                     "--issue-date", "2026-12-03", "--trust-test-key", str(files / "sii.pem"), "--out", str(out),
                     *extra])


def test_writes_every_envelope_and_book(files, authority, capsys):
    out = files / "out"
    assert _run(files, out, "--first-folio", "33=21") == 0
    said = capsys.readouterr().err
    assert "CASO 4352553-1: T33F21, MntTotal 1188861" in said
    assert "CASO 4352560-2: T61F4" in said  # the 61 folios continue after the basic set's three
    assert "EXPORTACION (1) (4352558): not issued" in said
    assert sorted(path.name for path in out.iterdir()) == [
        "EnvioDTE-basico-4352553.xml", "EnvioDTE-factura_compra-4352560.xml", "EnvioDTE-guia_despacho-4352556.xml",
        "LibroCompras-4352555.xml", "LibroGuias-4352557.xml", "LibroVentas-4352554.xml", "folios.json"]
    for name in ("basico-4352553", "factura_compra-4352560", "guia_despacho-4352556"):
        report = verify.verify_file((out / f"EnvioDTE-{name}.xml").read_bytes(), authority.trusted_keys())
        assert report.ok, report.format()
    for name, schema_name in (("LibroVentas-4352554", "LibroCV_v10.xsd"), ("LibroCompras-4352555", "LibroCV_v10.xsd"),
                              ("LibroGuias-4352557", "LibroGuia_v10.xsd")):
        assert schema.validation_errors(etree.parse(str(out / f"{name}.xml")).getroot(), schema_name) == []
    folios = json.loads((out / "folios.json").read_text())
    assert folios["4352553-8"] == {"TipoDTE": 56, "Folio": 1, "MntTotal": "0"}
    assert len(folios) == 14


def test_a_missing_caf_is_refused_before_anything_is_written(files, capsys):
    out = files / "missing"
    assert _run(files, out, types=(33, 52, 56)) == 2
    assert "needs a CAF for document type 61" in capsys.readouterr().err
    assert not out.exists()


def test_a_malformed_set_names_its_line(files, capsys, tmp_path):
    broken = tmp_path / "set.txt"
    broken.write_bytes(REAL_SET.read_bytes().replace(b"   3490", b"   34x0", 1))
    code = cli.main(["certification", str(broken), "--caf", str(files / "caf33.xml"), "--cert", str(files / "cert.pfx"),
                     "--password-file", str(files / "cert.password"), "--issuer", str(files / "issuer.json"),
                     "--receiver", str(files / "receiver.json"), "--resolution-date", "2026-11-30",
                     "--out", str(tmp_path / "out")])
    assert code == 2
    assert "line 20" in capsys.readouterr().err


def test_export_sets_with_a_foreign_receiver_and_rates(files, authority, capsys):
    out = files / "exports"
    assert _run(files, out, "--foreign-receiver", str(files / "foreign.json"), "--exchange-rate", "DOLAR USA=950.25",
                "--exchange-rate", "euro=1050.5", types=TYPES + EXPORT_TYPES) == 0
    said = capsys.readouterr().err
    assert "CASO 4352558-1: T110F1, MntTotal 30455.64" in said
    assert "not issued" not in said
    for name in ("exportacion_1-4352558", "exportacion_2-4352559"):
        report = verify.verify_file((out / f"EnvioDTE-{name}.xml").read_bytes(), authority.trusted_keys())
        assert report.ok, report.format()
    assert len(json.loads((out / "folios.json").read_text())) == 20


def test_a_bad_exchange_rate_is_a_usage_error(files, capsys):
    assert _run(files, files / "bad-rate", "--exchange-rate", "DOLAR USA=mucho") == 2
    assert "CURRENCY=RATE" in capsys.readouterr().err
