"""``python -m sii_engine certification``: everything the SII's test set asks for, from its file (docs/cli.md).

Reads the set de pruebas, issues every case of the sets it can (SET BASICO,
factura exenta, guías, factura de compra) with the CAFs given, and writes
into a folder one signed EnvioDTE per set (to the SII), the sales book (IEV)
of the basic set, the purchase book (IEC) of the purchase set and the book of
guías, each signed and valid against its schema; then says which case became
which folio. The export sets are issued when a foreign receiver is given.
"""

import argparse
import datetime
import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .certification import books, guide_book, issue, setfile
from .document import document_from_dict

ISSUED_KINDS = (setfile.BASICO, setfile.FACTURA_EXENTA, setfile.GUIA_DESPACHO, setfile.FACTURA_COMPRA)
EXPORT_KINDS = (setfile.EXPORTACION_1, setfile.EXPORTACION_2)
MAX_PARTY_BYTES = 64 * 1024


def add_parser(commands):
    """Add the ``certification`` subcommand to :mod:`sii_engine.cli`'s parser (it uses that module's helpers)."""
    from . import cli  # the module calling this: loaded by now

    parser = commands.add_parser(
        "certification", help="issue the SII's test set (set de pruebas): envelopes and books into a folder",
        description="From the SII's set de pruebas, the CAFs and a certificate: every case issued with its "
                    "SET reference, one signed EnvioDTE per set, the sales, purchase and guías books.")
    parser.add_argument("set_file", metavar="SET.txt", help="the set de pruebas as the SII sent it")
    parser.add_argument("--caf", action="append", required=True, metavar="FILE",
                        help="a CAF (one per document type the set needs; repeatable)")
    parser.add_argument("--cert", required=True, metavar="FILE", help="the signer's PKCS#12 certificate")
    cli._add_password_options(parser)
    parser.add_argument("--issuer", required=True, metavar="FILE.json",
                        help="the company: JSON with the SII's Emisor tags (RUTEmisor, RznSoc, GiroEmis, Acteco, "
                             "DirOrigen, CmnaOrigen)")
    parser.add_argument("--receiver", required=True, metavar="FILE.json",
                        help="the customer of the cases: JSON with the Receptor tags (RUTRecep, RznSocRecep, "
                             "GiroRecep, DirRecep, CmnaRecep)")
    parser.add_argument("--foreign-receiver", metavar="FILE.json",
                        help="the foreign customer of the export sets (Receptor tags, RUTRecep 55555555-5); "
                             "without it the export sets are not issued")
    parser.add_argument("--exchange-rate", action="append", type=_exchange_rate, metavar="CURRENCY=RATE",
                        help="pesos per unit of an export's currency on the issue date, e.g. 'DOLAR USA=950.25' "
                             "(repeatable)")
    parser.add_argument("--resolution-date", required=True, type=cli._iso_date, metavar="YYYY-MM-DD",
                        help="FchResol: the date of the certification application")
    parser.add_argument("--resolution-number", type=int, default=0, metavar="N", help="NroResol (0 in certification)")
    parser.add_argument("--issue-date", type=cli._iso_date, metavar="YYYY-MM-DD",
                        help="FchEmis of every document (default today)")
    parser.add_argument("--first-folio", action="append", type=_first_folio, metavar="TYPE=FOLIO",
                        help="the first folio to use of a type (default the CAF's first; repeatable)")
    parser.add_argument("--supplier-rut", type=cli._rut,
                        help="RUTDoc of the purchase book's entries (default the receiver's)")
    parser.add_argument("--trust-test-key", metavar="[IDK=]PEM",
                        help="also trust this stand-in SII public key, to use test CAFs from make-test-identities")
    parser.add_argument("--out", required=True, metavar="DIR", help="the folder to write into (created if needed)")
    parser.set_defaults(handler=lambda args: _certification(args, cli))


def _first_folio(value):
    match = re.match(r"^\s*(\d+)\s*=\s*(\d+)\s*$", value)
    if not match:
        raise argparse.ArgumentTypeError(f"{value!r} is not TYPE=FOLIO (for example 33=101)")
    return int(match.group(1)), int(match.group(2))


def _exchange_rate(value):
    currency, _, rate = value.rpartition("=")
    try:
        rate = Decimal(rate.strip())
    except InvalidOperation:
        rate = None
    if not currency.strip() or rate is None or not rate.is_finite() or rate <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not CURRENCY=RATE (for example 'DOLAR USA=950.25')")
    return currency.strip().upper(), rate


def _parties(args, cli):
    """The issuer, the receiver and the foreign receiver (or None), read through the document reader."""
    encabezado = {"IdDoc": {"TipoDTE": 33}}
    for name, path in (("Emisor", args.issuer), ("Receptor", args.receiver)):
        encabezado[name] = _json(cli, path)
    document = document_from_dict({"Encabezado": encabezado}, folio=1)
    foreign = None
    if args.foreign_receiver:
        encabezado["Receptor"] = _json(cli, args.foreign_receiver)
        foreign = document_from_dict({"Encabezado": encabezado}, folio=1).receiver
    return document.issuer, document.receiver, foreign


def _json(cli, path):
    try:
        return json.loads(cli._read(path, MAX_PARTY_BYTES, "JSON").decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise cli.CliError(f"{path} is not valid JSON (UTF-8): {error}") from None


def _certification(args, cli):
    sets = setfile.parse_set_file(cli._read(args.set_file, setfile.MAX_BYTES, "set de pruebas"))
    issuer, receiver, foreign = _parties(args, cli)
    kinds = ISSUED_KINDS + (EXPORT_KINDS if foreign else ())
    cafs = {}
    for path in args.caf:
        caf = cli._load_caf(path, args.trust_test_key)
        if caf.document_type in cafs:
            raise cli.CliError(f"{path}: a second CAF for document type {caf.document_type}")
        if caf.rut != issuer.rut:
            raise cli.CliError(f"{path}: the CAF is for {caf.rut}, not for the issuer {issuer.rut}")
        cafs[caf.document_type] = caf
    certificate = cli._certificate(args)
    issue_date = args.issue_date or datetime.date.today()
    folios = issue.FolioSource(cafs, dict(args.first_folio or ()))
    common = {"issuer_rut": issuer.rut, "certificate": certificate, "resolution_date": args.resolution_date,
              "resolution_number": args.resolution_number}
    book_common = {**common, "sender_rut": certificate.holder_rut, "period": issue_date.strftime("%Y-%m")}
    # Everything is made before anything is written: a refused case leaves no half-written folder.
    files, by_kind, issued_by_kind = [], {test_set.kind: test_set for test_set in sets}, {}
    for test_set in sets:
        if not test_set.cases:
            continue
        if test_set.kind not in kinds:
            hint = "give --foreign-receiver to issue it" if test_set.kind in EXPORT_KINDS else "not a set it issues"
            cli._say(f"SET {test_set.title or test_set.kind} ({test_set.attention}): not issued ({hint})")
            continue
        issued = issue.issue_set(test_set, issuer=issuer, receiver=receiver, cafs=cafs, certificate=certificate,
                                 issue_date=issue_date, folios=folios, foreign_receiver=foreign,
                                 exchange_rates=dict(args.exchange_rate or ()))
        issued_by_kind[test_set.kind] = issued
        files.append((f"EnvioDTE-{test_set.kind}-{test_set.attention}.xml", issue.set_envelope(issued, **common)))
    files.extend(_books(args, by_kind, issued_by_kind, book_common, issue_date, receiver))
    folio_map = {case.case_id: {"TipoDTE": case.document_type, "Folio": case.folio, "MntTotal": str(case.total)}
                 for issued in issued_by_kind.values() for case in issued}
    files.append(("folios.json", json.dumps(folio_map, indent=2).encode()))
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise cli.CliError(f"cannot create {out}: {error.strerror or error}") from None
    for name, data in files:
        cli._say(f"wrote {cli._write(out / name, data)}")
    for case_id, issued in folio_map.items():
        cli._say(f"CASO {case_id}: T{issued['TipoDTE']}F{issued['Folio']}, MntTotal {issued['MntTotal']}")
    return cli.EXIT_OK


def _books(args, by_kind, issued_by_kind, book_common, issue_date, receiver):
    """``[(file name, bytes)]``: the books of the sets the file holds."""
    files = []
    sales_set, basic = by_kind.get(setfile.LIBRO_VENTAS), issued_by_kind.get(setfile.BASICO)
    if sales_set and basic:
        files.append((f"LibroVentas-{sales_set.attention}.xml", books.build_book(
            books.VENTA, books.sales_entries(basic), notification_folio=sales_set.attention, **book_common)))
    purchase_set = by_kind.get(setfile.LIBRO_COMPRAS)
    if purchase_set:
        entries = books.purchase_entries(purchase_set, date=issue_date, supplier_rut=args.supplier_rut or receiver.rut)
        files.append((f"LibroCompras-{purchase_set.attention}.xml", books.build_book(
            books.COMPRA, entries, notification_folio=purchase_set.attention,
            proportionality_factor=purchase_set.proportionality_factor, **book_common)))
    guide_set, guides = by_kind.get(setfile.LIBRO_GUIAS), issued_by_kind.get(setfile.GUIA_DESPACHO)
    if guide_set and guides:
        invoices = _guide_invoices(guide_set, basic, issue_date)
        files.append((f"LibroGuias-{guide_set.attention}.xml", guide_book.build_guide_book(
            guides, guide_set, invoices=invoices, **book_common)))
    return files


def _guide_invoices(guide_set, basic, issue_date):
    """The invoice of each guía the set says was invoiced: the basic set's first factura, issued the same day."""
    invoice = next((case for case in basic or () if case.document_type == 33), None)
    if invoice is None:
        return {}
    reference = guide_book.InvoiceReference(document_type=33, folio=invoice.folio, date=issue_date)
    return dict.fromkeys(guide_set.invoiced_cases, reference)
