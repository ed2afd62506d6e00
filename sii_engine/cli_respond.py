"""``python -m sii_engine respond``: answer a supplier's EnvioDTE (see docs/cli.md).

Writes, for a received EnvioDTE, one of the exchange documents a receiver
sends back: the reception (``RespuestaDTE``/``RecepcionEnvio``, codes decided
by :func:`sii_engine.exchange.assess_envelope`), the commercial result
(``ResultadoDTE``) or the receipt of goods (``EnvioRecibos``). The result and
the receipt name only the documents the reception accepted.
"""

from .caf import sii_trusted_keys
from .exchange import (
    CommercialResult,
    CommercialStatus,
    Receipt,
    assess_envelope,
    build_receipts,
    build_reception_answer,
    build_result_answer,
)
from .exchange.codes import DocumentStatus

RESULTS = {
    "accepted": CommercialStatus.ACCEPTED,
    "discrepancies": CommercialStatus.ACCEPTED_WITH_DISCREPANCIES,
    "rejected": CommercialStatus.REJECTED,
}


def add_parser(commands):
    """Add the ``respond`` subcommand to :mod:`sii_engine.cli`'s parser (it uses that module's helpers)."""
    from . import cli  # the module calling this: loaded by now

    parser = commands.add_parser(
        "respond", help="answer a received EnvioDTE: reception, commercial result or receipt of goods",
        description="Write the signed answer to a supplier's EnvioDTE: its reception (RespuestaDTE, default), "
                    "the commercial result of its documents (--result) or the receipt of their goods "
                    "(--receipt, EnvioRecibos, Ley 19.983).")
    parser.add_argument("envelope", metavar="ENVIO.xml", help="the EnvioDTE received")
    parser.add_argument("--company-rut", required=True, type=cli._rut, help="this company, the receiver")
    parser.add_argument("--cert", required=True, metavar="FILE", help="the answering person's PKCS#12 certificate")
    cli._add_password_options(parser)
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--result", choices=sorted(RESULTS), help="the commercial result of every document received")
    what.add_argument("--receipt", metavar="PLACE", help="the receipt of goods, received at PLACE (Recinto)")
    parser.add_argument("--reason", metavar="TEXT", help="the glosa of the result (why rejected or discrepant)")
    parser.add_argument("--envelope-code", type=int, default=1, metavar="N",
                        help="CodEnvio: this company's number for the envelope (default 1)")
    parser.add_argument("--response-id", type=int, default=1, metavar="N", help="IdRespuesta (default 1)")
    parser.add_argument("--environment", choices=("certification", "production"),
                        help="trust only that environment's SII key for the CAFs; default both")
    parser.add_argument("--trusted-key", action="append", metavar="IDK=PEM",
                        help="also trust this CAF-signing public key under IDK (repeatable)")
    parser.add_argument("--out", metavar="FILE", help="where to write the answer (default: standard output)")
    parser.set_defaults(handler=lambda args: _respond(args, cli))


def _respond(args, cli):
    trusted = sii_trusted_keys(args.environment)
    for value in args.trusted_key or ():
        idk, key = cli._trusted_key_argument(value)
        trusted[idk] = key
    reception = assess_envelope(cli._read(args.envelope), company_rut=args.company_rut,
                                envelope_code=args.envelope_code, file_name=_file_name(args.envelope),
                                trusted_keys=trusted)
    received = [item.document for item in reception.documents if item.status == DocumentStatus.OK]
    for item in reception.documents:
        cli._say(f"T{item.document.document_type}F{item.document.folio}: {item.glosa}")
    cli._say(f"envelope: {reception.glosa}")
    if reception.issuer_rut is None:
        raise cli.CliError(f"{args.envelope} names no valid issuer (RutEmisor): there is no one to answer")
    certificate = cli._certificate(args)
    common = {"responder_rut": args.company_rut, "recipient_rut": reception.issuer_rut, "certificate": certificate}
    if args.result or args.receipt:
        if not received:
            raise cli.CliError("no document of the envelope was received: there is nothing to accept or reject")
        if args.result:
            results = [CommercialResult(document, args.envelope_code, RESULTS[args.result], args.reason)
                       for document in received]
            data = build_result_answer(results, response_id=args.response_id, **common)
        else:
            data = build_receipts([Receipt(document, args.receipt) for document in received], **common)
    else:
        data = build_reception_answer([reception], response_id=args.response_id, **common)
    where = cli._write(args.out, data)
    cli._say(f"answer written to {where}")
    return cli.EXIT_OK


def _file_name(path):
    return str(path).replace("\\", "/").rsplit("/", 1)[-1][:80] or "envio.xml"
