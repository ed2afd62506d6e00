"""python -m sii_engine: in-process through cli.main, and once as a real subprocess."""

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sii_engine import cli

ROOT = Path(__file__).resolve().parents[2]  # the addon root, where `python -m sii_engine` runs
FIXTURES = Path(__file__).parent / "fixtures"
RUT = "76192083-9"
TEST_KEY = "test-sii-idk9999.pub.pem"


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    """make-test-identities, run once for the module."""
    out = tmp_path_factory.mktemp("identities")
    code = cli.main(["make-test-identities", "--out", str(out), "--rut", RUT, "--name", "Comercial Ñandú SpA",
                     "--types", "33,39,61", "--folios", "1-50"])
    assert code == 0
    return out


def _issue(material, out, *extra, folio=None, password=("--password-file",)):
    args = ["issue", "--json", str(material / "example-T33.json"), "--caf", str(material / "caf-T33-1-50.xml"),
            "--cert", str(material / "test-cert.pfx"), "--trust-test-key", str(material / TEST_KEY),
            "--out", str(out), *extra]
    if password == ("--password-file",):
        args += ["--password-file", str(material / "test-cert.password")]
    else:
        args += list(password)
    if folio is not None:
        args += ["--folio", str(folio)]
    return cli.main(args)


def _certificate_args(material):
    return ["--cert", str(material / "test-cert.pfx"), "--password-file", str(material / "test-cert.password")]


@pytest.fixture(scope="module")
def signed_dte(material, tmp_path_factory):
    out = tmp_path_factory.mktemp("dte") / "dte.xml"
    assert _issue(material, out) == 0
    return out


def test_make_test_identities_is_labelled_test_material(material, capsys):
    names = {path.name for path in material.iterdir()}
    assert {"test-cert.pfx", "test-cert.password", TEST_KEY, "test-sii-idk9999.key.pem", "README.txt",
            "caf-T33-1-50.xml", "caf-T39-1-50.xml", "caf-T61-1-50.xml", "example-T33.json"} <= names
    readme = (material / "README.txt").read_text()
    assert "TEST MATERIAL - never valid at the SII" in readme and "IDK 9999" in readme
    assert (material / "test-cert.password").stat().st_mode & 0o077 == 0
    # The CAFs are not trusted by default: the real SII keys do not sign them.
    assert cli.main(["verify", str(material / "caf-T33-1-50.xml")]) == 1
    assert "IDK 9999" in capsys.readouterr().out
    assert cli.main(["verify", str(material / "caf-T33-1-50.xml"), "--trusted-key", f"9999={material / TEST_KEY}"]) == 0


def test_issue_envelope_verify_round_trip(material, tmp_path, monkeypatch, capsys):
    first, second, boleta = tmp_path / "t33f1.xml", tmp_path / "t33f2.xml", tmp_path / "t39f1.xml"
    assert _issue(material, first) == 0
    monkeypatch.setenv("SII_TEST_PASSWORD", (material / "test-cert.password").read_text().strip())
    assert _issue(material, second, folio=2, password=("--password-env", "SII_TEST_PASSWORD")) == 0
    assert "T33F2: stamped and signed" in capsys.readouterr().err

    envio = tmp_path / "envio.xml"
    code = cli.main(["envelope", "--cert", str(material / "test-cert.pfx"), "--password-env", "SII_TEST_PASSWORD",
                     "--issuer-rut", RUT, "--resolution-date", "2014-08-22", "--resolution-number", "80",
                     str(first), str(second), "--out", str(envio)])
    assert code == 0
    assert b"<EnvioDTE" in envio.read_bytes()

    code = cli.main(["verify", str(envio), "--trusted-key", f"9999={material / TEST_KEY}"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("EnvioDTE:") and "OK: all 15 checks passed." in out

    code = cli.main(["verify", str(envio), "--trusted-key", f"9999={material / TEST_KEY}", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["ok"] is True and data["kind"] == "EnvioDTE"

    # Boletas go in an EnvioBOLETA.
    code = cli.main(["issue", "--json", str(material / "example-T39.json"), "--caf", str(material / "caf-T39-1-50.xml"),
                     "--cert", str(material / "test-cert.pfx"), "--password-env", "SII_TEST_PASSWORD",
                     "--trust-test-key", f"9999={material / TEST_KEY}", "--out", str(boleta)])
    assert code == 0
    envio_boleta = tmp_path / "envio-boleta.xml"
    code = cli.main(["envelope", "--cert", str(material / "test-cert.pfx"), "--password-env", "SII_TEST_PASSWORD",
                     "--issuer-rut", RUT, "--resolution-date", "2014-08-22", "--resolution-number", "80",
                     str(boleta), "--out", str(envio_boleta)])
    assert code == 0
    assert cli.main(["verify", str(envio_boleta), "--trusted-key", f"9999={material / TEST_KEY}"]) == 0
    assert "EnvioBOLETA:" in capsys.readouterr().out


def test_verify_of_a_tampered_file_exits_1_and_names_the_check(material, signed_dte, tmp_path, capsys):
    data = signed_dte.read_bytes()
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(data.replace(b"<MntNeto>25000</MntNeto>", b"<MntNeto>20000</MntNeto>"))
    assert tampered.read_bytes() != data
    code = cli.main(["verify", str(tampered), "--trusted-key", f"9999={material / TEST_KEY}"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  T33F1  signature" in out and "changed after signing" in out
    assert "FAILED:" in out.splitlines()[-1]


def test_verify_as_a_subprocess(material, signed_dte, tmp_path):
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(signed_dte.read_bytes().replace(b"<MntTotal>29750<", b"<MntTotal>29751<"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "sii_engine", "verify", "--trusted-key", f"9999={material / TEST_KEY}"]
    good = subprocess.run([*command, str(signed_dte)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stderr
    assert "OK: all 6 checks passed." in good.stdout
    bad = subprocess.run([*command, str(tampered)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1, bad.stderr
    assert "signature" in bad.stdout and "changed after signing" in bad.stdout
    assert "TED data" in bad.stdout and "MNT" in bad.stdout
    assert "Traceback" not in bad.stderr


def test_bad_password_is_one_clear_line(material, tmp_path, capsys):
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password\n")
    code = _issue(material, tmp_path / "x.xml", password=("--password-file", str(wrong)))
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == "error: The certificate password is wrong"
    assert not (tmp_path / "x.xml").exists()


def test_password_sources(material, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NO_SUCH_PASSWORD_VAR", raising=False)
    assert _issue(material, tmp_path / "x.xml", password=("--password-env", "NO_SUCH_PASSWORD_VAR")) == 2
    assert "NO_SUCH_PASSWORD_VAR" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal: no prompt
    assert _issue(material, tmp_path / "x.xml", password=()) == 2
    assert "--password-env VAR or --password-file FILE" in capsys.readouterr().err
    # There is no way to give the password itself on the command line.
    assert "--password " not in cli.build_parser().format_help()
    assert cli.main(["issue", "--json", "a", "--caf", "b", "--cert", "c", "--password", "secret"]) == 2


def test_engine_and_input_errors_exit_2_without_traceback(material, signed_dte, tmp_path, capsys):
    # A test CAF without --trust-test-key: the error says what to add.
    code = cli.main(["issue", "--json", str(material / "example-T33.json"), "--caf", str(material / "caf-T33-1-50.xml"),
                     *_certificate_args(material)])
    err = capsys.readouterr().err
    assert code == 2 and "IDK 9999" in err and "--trust-test-key" in err

    # A folio outside the CAF.
    assert _issue(material, tmp_path / "x.xml", folio=51) == 2
    assert capsys.readouterr().err.strip() == "error: Folio 51 is outside the CAF range 1-50"

    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    code = cli.main(["issue", "--json", str(bad_json), "--caf", str(material / "caf-T33-1-50.xml"),
                     *_certificate_args(material)])
    assert code == 2 and "is not valid JSON" in capsys.readouterr().err

    assert cli.main(["verify", str(tmp_path / "missing.xml")]) == 2
    assert "cannot read" in capsys.readouterr().err

    code = cli.main(["envelope", "--cert", str(material / "test-cert.pfx"), "--password-file",
                     str(material / "test-cert.password"), "--issuer-rut", RUT, "--resolution-date", "2014-08-22",
                     "--resolution-number", "80", str(material / "caf-T33-1-50.xml")])
    assert code == 2 and "is not a DTE" in capsys.readouterr().err

    assert cli.main(["envelope", "--cert", "x", "--issuer-rut", "1-1", "--resolution-date", "2014-08-22",
                     "--resolution-number", "80", str(signed_dte)]) == 2
    assert cli.main([]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_verify_environment_option():
    official = str(FIXTURES / "official" / "F60T33-ejemplo-oficial-SII.xml")
    real = str(FIXTURES / "real_production" / "DTE--76399752-9--33--25568--cleaned.xml")
    assert cli.main(["verify", real]) == 0
    assert cli.main(["verify", real, "--environment", "production"]) == 0
    assert cli.main(["verify", real, "--environment", "certification"]) == 1
    assert cli.main(["verify", official, "--environment", "certification"]) == 1  # its XML signatures


def test_barcode(signed_dte, tmp_path, capsys):
    pytest.importorskip("sii_engine.barcode")
    pdf417, qr = tmp_path / "ted.png", tmp_path / "ted-qr.png"
    assert cli.main(["barcode", str(signed_dte), "--out", str(pdf417)]) == 0
    assert cli.main(["barcode", str(signed_dte), "--out", str(qr), "--qr"]) == 0
    assert pdf417.read_bytes().startswith(b"\x89PNG") and qr.read_bytes().startswith(b"\x89PNG")
    assert "T33F1: PDF417" in capsys.readouterr().err
    assert cli.main(["barcode", str(FIXTURES / "sii_responses" / "02_CrSeed_decoded.xml"), "--out",
                     str(tmp_path / "none.png")]) == 2
    assert "holds no <TED>" in capsys.readouterr().err


def test_envelope_takes_a_dte_saved_as_utf8(material, signed_dte, tmp_path, capsys):
    """A DTE re-saved as UTF-8 (accents as two bytes) still verifies inside the ISO-8859-1 envelope."""
    from lxml import etree

    from sii_engine import xmlutil

    root = xmlutil.parse(signed_dte.read_bytes())
    utf8 = tmp_path / "utf8.xml"
    utf8.write_bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True))
    assert any(byte > 127 for byte in utf8.read_bytes())  # the issuer is "Comercial Ñandú SpA"
    envio = tmp_path / "envio.xml"
    assert cli.main(["envelope", *_certificate_args(material), "--issuer-rut", RUT, "--resolution-date",
                     "2014-08-22", "--resolution-number", "0", str(utf8), "--out", str(envio)]) == 0
    assert cli.main(["verify", str(envio), "--trusted-key", f"9999={material / TEST_KEY}"]) == 0, \
        capsys.readouterr().out


def test_the_examples_of_the_documentation_issue_and_verify(material, tmp_path, capsys):
    """docs/cli.md's JSON examples are real: each issues, verifies, and the factura has the stated totals."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    examples = re.findall(r"```json\n(.*?)```", text, re.S)
    assert len(examples) == 3
    for index, example in enumerate(examples):
        data = json.loads(example)
        document_type = data["Encabezado"]["IdDoc"]["TipoDTE"]
        source, out = tmp_path / f"example{index}.json", tmp_path / f"example{index}.xml"
        source.write_text(example, encoding="utf-8")
        code = cli.main(["issue", "--json", str(source), "--caf", str(material / f"caf-T{document_type}-1-50.xml"),
                         *_certificate_args(material), "--trust-test-key", str(material / TEST_KEY),
                         "--out", str(out)])
        assert code == 0, capsys.readouterr().err
        assert cli.main(["verify", str(out), "--trusted-key", f"9999={material / TEST_KEY}"]) == 0
    factura = (tmp_path / "example0.xml").read_bytes()
    for amount in (b"<MntNeto>140932<", b"<MntExe>50000<", b"<IVA>26777<", b"<MntTotal>217709<"):
        assert amount in factura
