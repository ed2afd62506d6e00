"""``python -m sii_engine``: the engine on files, for integrators and for debugging rejections.

Commands: ``issue`` (JSON → signed DTE), ``envelope`` (DTEs → signed
EnvioDTE/EnvioBOLETA), ``verify`` (explain what is wrong with a DTE, an
envelope or a CAF), ``barcode`` (the TED as a PDF417 or QR PNG) and
``make-test-identities`` (test certificate, stand-in SII key and CAFs); ``respond`` and
``certification`` live in their own modules (cli_respond, cli_certification).
See docs/cli.md.

Exit codes: 0 success; 1 ``verify`` found a failed check; 2 the command could
not run (bad arguments, unreadable or oversized files, input the engine
refuses), reported as one line ``error: <message>`` on stderr — never a
traceback, not even for a defect of the engine itself (also 2, said so).

Every file is read through :func:`sii_engine.xmlutil.read_bounded`: its size is
capped while reading, never checked after reading it whole. Files that hold a
private key (the .pfx, the stand-in SII key, CAFs with their RSASK) are written
readable by their owner only (0600).

A certificate password is never an argument (it would show in ``ps``): it
comes from an environment variable, a file, or an interactive prompt.
"""

import argparse
import datetime
import getpass
import json
import os
import re
import secrets
import sys
from pathlib import Path

from . import cli_certification, cli_respond
from . import dte as dte_module
from . import rut as rut_module
from .caf import load_caf, load_trusted_key, sii_trusted_keys
from .certificate import load_pkcs12
from .document import document_from_dict
from .envelope import build_envelope
from .errors import CafUntrustedKeyError, SiiEngineError
from .identities import TEST_IDK, TestAuthority, make_pkcs12
from .ted import ted_barcode_text
from .verify import verify_file
from .xmlutil import MAX_INPUT_BYTES, find, local, parse, read_bounded, to_bytes

EXIT_OK = 0
EXIT_FAILED_CHECKS = 1
EXIT_ERROR = 2

TEST_LABEL = "TEST MATERIAL - never valid at the SII"

# What each input may weigh: far above any real one, far below what would hurt.
MAX_JSON_BYTES = 5 * 1024 * 1024
MAX_SMALL_FILE_BYTES = 1024 * 1024  # a CAF, a .pfx, a PEM key
MAX_PASSWORD_FILE_BYTES = 64 * 1024
SECRET_FILE_MODE = 0o600


class CliError(Exception):
    """A user-facing error of the command line (exit code 2)."""


# --- small helpers -----------------------------------------------------------------------------


def _read(path, max_bytes=MAX_INPUT_BYTES, what="file"):
    return read_bounded(path, max_bytes, what)


def _write(path, data, mode=None):
    if path in (None, "-"):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return "standard output"
    try:
        if mode is None:
            Path(path).write_bytes(data)
        else:  # secrets: never readable by others, not even for a moment
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(descriptor, "wb") as file:
                os.fchmod(file.fileno(), mode)
                file.write(data)
    except OSError as error:
        raise CliError(f"cannot write {path}: {error.strerror or error}") from None
    return str(path)


def _say(message):
    print(message, file=sys.stderr)


def _password(args):
    if args.password_env:
        value = os.environ.get(args.password_env)
        if value is None:
            raise CliError(f"the environment variable {args.password_env} (--password-env) is not set")
        return value
    if args.password_file:
        data = _read(args.password_file, MAX_PASSWORD_FILE_BYTES, "password file")
        try:
            lines = data.decode("utf-8").splitlines()
        except UnicodeDecodeError:
            raise CliError(f"the password file {args.password_file} is not UTF-8 text") from None
        return lines[0] if lines else ""
    if sys.stdin.isatty():
        return getpass.getpass("Certificate password: ")
    raise CliError("the certificate password is needed: give --password-env VAR or --password-file FILE")


def _certificate(args):
    return load_pkcs12(_read(args.cert, MAX_SMALL_FILE_BYTES, "certificate"), _password(args))


def _public_key(path):
    return load_trusted_key(_read(path, MAX_SMALL_FILE_BYTES, "trusted key"), path)


def _trusted_key_argument(value, default_idk=None):
    """``IDK=PEM`` (or just ``PEM`` when a default IDK applies) → (idk, key)."""
    match = re.match(r"^(\d+)=(.+)$", value)
    if match:
        return int(match.group(1)), _public_key(match.group(2))
    if default_idk is None:
        raise CliError(f"--trusted-key wants IDK=PEM (for example {TEST_IDK}=test-sii-idk{TEST_IDK}.pub.pem), "
                       f"not {value!r}")
    return default_idk, _public_key(value)


def _iso_date(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date YYYY-MM-DD") from None


def _rut(value):
    if not rut_module.is_valid(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a valid RUT")
    return rut_module.normalize(value)


def _types(value):
    try:
        types = [int(item) for item in value.split(",") if item.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a comma-separated list of document types") from None
    if not types:
        raise argparse.ArgumentTypeError("no document type given")
    return types


def _folio_range(value):
    match = re.match(r"^\s*(\d+)\s*-\s*(\d+)\s*$", value)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise argparse.ArgumentTypeError(f"{value!r} is not a folio range FIRST-LAST")
    return int(match.group(1)), int(match.group(2))


# --- issue -------------------------------------------------------------------------------------


def _issue(args):
    try:
        data = json.loads(_read(args.json, MAX_JSON_BYTES, "JSON document").decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:  # ValueError: also a 5,000-digit integer
        raise CliError(f"{args.json} is not valid JSON (UTF-8): {error}") from None
    document = document_from_dict(data, folio=args.folio)
    if document.folio is None:
        raise CliError(f"no folio: give --folio N or Encabezado/IdDoc/Folio in {args.json}")
    certificate = _certificate(args)
    caf = _load_caf(args.caf, args.trust_test_key)
    if caf.is_expired(document.issue_date):
        _say(f"warning: the CAF's unused folios expired on {caf.expires_on}; the SII will reject this document")
    issued = dte_module.issue(document, caf, certificate)
    where = _write(args.out, issued.xml)
    _say(f"{document.document_id}: stamped and signed, MntTotal {issued.total}, written to {where}")
    return EXIT_OK


def _load_caf(path, trust_test_key=None):
    """The CAF at ``path``, its FRMA checked with the SII's keys (and the stand-in key given, if any)."""
    trusted = sii_trusted_keys()
    if trust_test_key:
        idk, key = _trusted_key_argument(trust_test_key, default_idk=TEST_IDK)
        trusted = {**trusted, idk: key}
    try:
        return load_caf(_read(path, MAX_SMALL_FILE_BYTES, "CAF"), trusted)
    except CafUntrustedKeyError as error:
        if error.params.get("idk") != TEST_IDK:
            raise
        raise CliError(f"{error} (a test CAF from make-test-identities: add --trust-test-key "
                       f"test-sii-idk{TEST_IDK}.pub.pem)") from None


# --- envelope ----------------------------------------------------------------------------------


def _dte_bytes(path):
    data = _read(path)
    root = parse(data)
    if local(root.tag) != "DTE":
        raise CliError(f"{path} is not a DTE (its root is <{local(root.tag)}>)")
    encoding = (root.getroottree().docinfo.encoding or "").upper().replace("_", "-")
    if encoding not in ("ISO-8859-1", "ISO8859-1", "LATIN1", "LATIN-1") and any(byte > 127 for byte in data):
        # The envelope is ISO-8859-1 and takes each DTE byte for byte: re-encode this one
        # (same characters, same canonical form, so its signature still verifies).
        return to_bytes(root, declaration=True)
    return data


def _envelope(args):
    dtes = [_dte_bytes(path) for path in args.dtes]
    certificate = _certificate(args)
    xml = build_envelope(
        dtes,
        issuer_rut=args.issuer_rut,
        certificate=certificate,
        resolution_date=args.resolution_date,
        resolution_number=args.resolution_number,
        receiver_rut=args.receiver_rut,
    )
    where = _write(args.out, xml)
    kind = local(parse(xml).tag)
    _say(f"{kind} with {len(dtes)} document(s), signed by {certificate.holder_rut}, written to {where}")
    return EXIT_OK


# --- verify ------------------------------------------------------------------------------------


def _verify(args):
    trusted = dict(sii_trusted_keys(args.environment))
    for value in args.trusted_key or ():
        idk, key = _trusted_key_argument(value)
        trusted[idk] = key
    report = verify_file(_read(args.file), trusted)
    if args.json_output:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(report.format())
    return EXIT_OK if report.ok else EXIT_FAILED_CHECKS


# --- barcode -----------------------------------------------------------------------------------


def _barcode(args):
    root = parse(_read(args.file))
    ted = root if local(root.tag) == "TED" else next(root.iter("{*}TED", "TED"), None)
    if ted is None:
        raise CliError(f"{args.file} holds no <TED>")
    try:
        from . import barcode
    except ImportError as error:
        raise CliError(f"barcode rendering is not available: {error}") from None
    text = ted_barcode_text(ted)
    png = barcode.ted_qr_png(text) if args.qr else barcode.ted_pdf417_png(text)
    where = _write(args.out, png)
    dd = find(ted, "DD")
    which = f"T{find(dd, 'TD').text}F{find(dd, 'F').text}" if dd is not None and find(dd, "F") is not None else "TED"
    _say(f"{which}: {'QR code' if args.qr else 'PDF417'} written to {where}")
    return EXIT_OK


# --- make-test-identities ----------------------------------------------------------------------


def _example_document(document_type, rut, name, folio):
    """A minimal document of ``document_type`` issued by ``rut``, in the CLI's JSON format."""
    boleta = document_type in (39, 41)
    issuer = {"RUTEmisor": rut, "RznSoc": name, "GiroEmis": "Servicios de prueba", "Acteco": 726000,
              "DirOrigen": "Teatinos 120", "CmnaOrigen": "Santiago"}
    if boleta:
        receiver = {"RUTRecep": rut_module.GENERIC_RECEIVER_RUT}
    else:
        receiver = {"RUTRecep": "60803000-K", "RznSocRecep": "Servicio de Impuestos Internos",
                    "GiroRecep": "Gobierno", "DirRecep": "Teatinos 120", "CmnaRecep": "Santiago"}
    id_doc = {"TipoDTE": document_type, "Folio": folio}
    if document_type == 52:
        id_doc["IndTraslado"] = 1
    document = {
        "Encabezado": {"IdDoc": id_doc, "Emisor": issuer, "Receptor": receiver},
        "Detalle": [
            {"NmbItem": "Servicio de prueba", "QtyItem": 2, "PrcItem": 11900 if boleta else 10000},
            {"NmbItem": "Producto de prueba", "QtyItem": 1, "PrcItem": 5950 if boleta else 5000},
        ],
    }
    if document_type in (56, 61):
        document["Referencia"] = [{"TpoDocRef": 33, "FolioRef": 1, "CodRef": 1, "RazonRef": "Anula factura de prueba"}]
    return document


_EXAMPLE_TYPES = (33, 34, 39, 41, 46, 52, 56, 61)


def _make_test_identities(args):
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CliError(f"cannot create {out}: {error.strerror or error}") from None
    first, last = args.folios
    authority = TestAuthority()
    password = secrets.token_urlsafe(18)
    signer_rut = args.signer_rut or args.rut
    written = [
        _write(out / "test-cert.pfx", make_pkcs12(signer_rut, f"{args.name} (TEST)", password=password),
               SECRET_FILE_MODE),
        _write(out / "test-cert.password", password.encode() + b"\n", SECRET_FILE_MODE),
        _write(out / f"test-sii-idk{TEST_IDK}.pub.pem", authority.public_key_pem),
        _write(out / f"test-sii-idk{TEST_IDK}.key.pem", authority.private_key_pem, SECRET_FILE_MODE),
    ]
    for document_type in args.types:
        caf = authority.issue_caf(args.rut, args.name, document_type, first, last)
        # A CAF holds the folio private key (RSASK): a secret like the .pfx.
        written.append(_write(out / f"caf-T{document_type}-{first}-{last}.xml", caf, SECRET_FILE_MODE))
        if document_type in _EXAMPLE_TYPES:
            example = _example_document(document_type, args.rut, args.name, first)
            text = json.dumps(example, indent=2, ensure_ascii=False) + "\n"
            written.append(_write(out / f"example-T{document_type}.json", text.encode("utf-8")))
    readme = _test_readme(args, out, first, last)
    written.append(_write(out / "README.txt", readme.encode("utf-8")))
    print(f"{TEST_LABEL}. Written to {out}:")
    for path in written:
        print(f"  {path}")
    return EXIT_OK


def _test_readme(args, out, first, last):
    example_type = next((t for t in args.types if t in _EXAMPLE_TYPES), args.types[0])
    return f"""{TEST_LABEL}
{'=' * len(TEST_LABEL)}

Made by `python -m sii_engine make-test-identities` for RUT {args.rut} ({args.name}).
Nothing here is accepted by the SII, in certification or in production:

* test-cert.pfx / test-cert.password: a self-signed signing certificate for
  RUT {args.signer_rut or args.rut}, not issued by any certification authority.
* test-sii-idk{TEST_IDK}.pub.pem / .key.pem: a stand-in for the SII's CAF-signing key,
  under IDK {TEST_IDK} (the SII uses 100 in certification and 300 in production).
* caf-T<type>-{first}-{last}.xml: CAFs signed with that stand-in key. They load only
  where its public key is trusted explicitly.
* example-T<type>.json: documents in the CLI's JSON format.

Try:

  cd {out}
  python -m sii_engine issue --json example-T{example_type}.json --caf caf-T{example_type}-{first}-{last}.xml \\
      --cert test-cert.pfx --password-file test-cert.password \\
      --trust-test-key test-sii-idk{TEST_IDK}.pub.pem --out dte.xml
  python -m sii_engine envelope --cert test-cert.pfx --password-file test-cert.password \\
      --issuer-rut {args.rut} --resolution-date 2014-08-22 --resolution-number 80 dte.xml --out envio.xml
  python -m sii_engine verify envio.xml --trusted-key {TEST_IDK}=test-sii-idk{TEST_IDK}.pub.pem
  python -m sii_engine barcode dte.xml --out ted.png
"""


# --- parser ------------------------------------------------------------------------------------


def _add_password_options(parser):
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--password-env", metavar="VAR",
                       help="read the certificate password from environment variable VAR")
    group.add_argument("--password-file", metavar="FILE",
                       help="read the certificate password from FILE (its first line)")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m sii_engine",
        description="Chilean electronic tax documents (DTE): issue, envelope, verify, barcode.",
        epilog="Without --password-env or --password-file the certificate password is asked for "
               "interactively; it is never taken as a plain argument.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    issue = commands.add_parser("issue", help="stamp and sign one DTE from a JSON document",
                                description="Build, stamp (TED, with the CAF) and sign (with the certificate) one DTE.")
    issue.add_argument("--json", required=True, metavar="FILE", help="the document, JSON with the SII's tag names")
    issue.add_argument("--caf", required=True, metavar="FILE", help="the CAF file (AUTORIZACION) for its type")
    issue.add_argument("--cert", required=True, metavar="FILE", help="the signer's PKCS#12 certificate (.pfx/.p12)")
    _add_password_options(issue)
    issue.add_argument("--folio", type=int, metavar="N", help="the folio (overrides IdDoc/Folio of the JSON)")
    issue.add_argument("--out", metavar="FILE", help="where to write the signed DTE (default: standard output)")
    issue.add_argument("--trust-test-key", metavar="[IDK=]PEM",
                       help=f"also trust this stand-in SII public key (IDK {TEST_IDK} unless given), "
                            "to use test CAFs from make-test-identities")
    issue.set_defaults(handler=_issue)

    envelope = commands.add_parser("envelope", help="put signed DTEs into a signed EnvioDTE or EnvioBOLETA",
                                   description="Build and sign an EnvioDTE (or an EnvioBOLETA for boletas).")
    envelope.add_argument("dtes", nargs="+", metavar="DTE.xml", help="signed DTE files")
    envelope.add_argument("--cert", required=True, metavar="FILE", help="the sender's PKCS#12 certificate")
    _add_password_options(envelope)
    envelope.add_argument("--issuer-rut", required=True, type=_rut, help="RutEmisor: the issuing company")
    envelope.add_argument("--resolution-date", required=True, type=_iso_date, metavar="YYYY-MM-DD",
                          help="FchResol: date of the SII resolution authorising the issuer")
    envelope.add_argument("--resolution-number", required=True, type=int, metavar="N",
                          help="NroResol: its number (0 in certification)")
    envelope.add_argument("--receiver-rut", type=_rut, default=rut_module.SII_RUT,
                          help=f"RutReceptor: the SII ({rut_module.SII_RUT}, default) or the customer")
    envelope.add_argument("--out", metavar="FILE", help="where to write the envelope (default: standard output)")
    envelope.set_defaults(handler=_envelope)

    verify = commands.add_parser("verify", help="check a DTE, an envelope or a CAF and explain each failure",
                                 description="Verify a DTE, an EnvioDTE/EnvioBOLETA or a CAF file. "
                                             "Exit 0 when every check passes, 1 otherwise.")
    verify.add_argument("file", metavar="FILE")
    verify.add_argument("--trusted-key", action="append", metavar="IDK=PEM",
                        help="also trust this CAF-signing public key under IDK (repeatable), "
                             f"e.g. {TEST_IDK}=test-sii-idk{TEST_IDK}.pub.pem")
    verify.add_argument("--environment", choices=("certification", "production"),
                        help="trust only that environment's SII key (IDK 100 or 300); default both")
    verify.add_argument("--json", dest="json_output", action="store_true", help="print the report as JSON")
    verify.set_defaults(handler=_verify)

    barcode = commands.add_parser("barcode", help="render the TED as a PDF417 (or QR) PNG",
                                  description="Render the (first) TED of a DTE, an envelope or a bare TED file.")
    barcode.add_argument("file", metavar="DTE_OR_TED.xml")
    barcode.add_argument("--out", required=True, metavar="FILE.png", help="the PNG to write ('-': standard output)")
    barcode.add_argument("--qr", action="store_true", help="a QR code instead of the SII's PDF417")
    barcode.set_defaults(handler=_barcode)

    make = commands.add_parser(
        "make-test-identities",
        help="make a test certificate, a stand-in SII key and test CAFs (never valid at the SII)",
        description=f"Write test material to try the CLI without real files: a self-signed certificate "
                    f"(.pfx + password file), a stand-in SII key (IDK {TEST_IDK}) and CAFs signed with it. "
                    f"{TEST_LABEL}.",
    )
    make.add_argument("--out", required=True, metavar="DIR")
    make.add_argument("--rut", required=True, type=_rut, help="the issuing company's RUT")
    make.add_argument("--name", required=True, help="the issuing company's name")
    make.add_argument("--signer-rut", type=_rut, help="the certificate holder's RUT (default: --rut)")
    make.add_argument("--types", type=_types, default=[33, 39, 61], metavar="T,T,...",
                      help="document types to make CAFs for (default 33,39,61)")
    make.add_argument("--folios", type=_folio_range, default=(1, 100), metavar="FIRST-LAST",
                      help="folio range of each CAF (default 1-100)")
    make.set_defaults(handler=_make_test_identities)
    cli_respond.add_parser(commands)
    cli_certification.add_parser(commands)
    return parser


def main(argv=None):
    """Run the command line; returns the exit code (0 ok, 1 failed checks, 2 error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_ERROR
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        return args.handler(args)
    except (SiiEngineError, CliError) as error:
        _say(f"error: {error}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        _say("error: interrupted")
        return EXIT_ERROR
    except MemoryError:
        _say("error: out of memory")
        return EXIT_ERROR
    except Exception as error:  # a defect of the engine: still one line, still "could not run"
        _say(f"error: unexpected {type(error).__name__}: {error} (a defect of sii_engine, not of your input "
             "alone: please report it with the command that caused it)")
        return EXIT_ERROR
