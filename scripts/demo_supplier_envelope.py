"""Make a supplier's EnvioDTE addressed to the demo company, to receive in the demo (*Upload XML*).

Another company, made with the engine as a real supplier would be: its CAFs signed by the demo's stand-in SII
key (``.demo/sii-authority-key.pem``, IDK 9999, the one the demo trusts), its own self-signed certificate, a
few signed facturas to the demo company. The same documents are first sent to the demo's SII simulator, as
the supplier sends them to the SII, so that the company can accept or claim them in the SII's registry (RCV).

    python scripts/demo_supplier_envelope.py                     # writes EnvioDTE_96874030-K_<folio>.xml
    python scripts/demo_supplier_envelope.py --documents 5 --out proveedor.xml
    python scripts/demo_supplier_envelope.py --no-sii            # the SII never hears of them (RCV refuses)

Run it with the demo's Python (it needs only the addon's engine), with the demo running (scripts/run) unless
``--no-sii``.
"""

import argparse
import datetime
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the addon's engine, as `python -m sii_engine` imports it

from sii_engine import document, errors, identities  # noqa: E402
from sii_engine.stand_in_supplier import SII_RUT, StandInSupplier  # noqa: E402
from sii_engine.transport import SiiClient, TransportError  # noqa: E402

DEMO_COMPANY = ("22060449-7", "CL Company")  # l10n_cl's demo company, the one scripts/run sets up
LINES = [
    ("Tornillo hexagonal 3/8 x 2", 200, 85, "TOR-382"),
    ("Tuerca hexagonal 3/8", 200, 40, "TUE-38"),
    ("Cañería de cobre 1/2 pulgada (6 m)", 12, 18990, "CAN-12"),
    ("Llave de paso 1/2", 6, 7490, "LLA-12"),
    ("Servicio de despacho a obra", 1, 25000, None),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=2, help="facturas in the envelope (default 2)")
    parser.add_argument("--rut", default=DEMO_COMPANY[0], help="the receiving company's RUT (the demo company's)")
    parser.add_argument("--name", default=DEMO_COMPANY[1], help="the receiving company's name")
    parser.add_argument("--key", default=os.environ.get("DEMO_DIR", str(ROOT / ".demo")) + "/sii-authority-key.pem",
                        help="the stand-in SII key (default: the demo's, in DEMO_DIR or .demo)")
    parser.add_argument("--sii-url", default=f"http://127.0.0.1:{os.environ.get('DEMO_SII_PORT', '8090')}",
                        help="the demo's SII simulator (default http://127.0.0.1:$DEMO_SII_PORT, else 8090)")
    parser.add_argument("--no-sii", action="store_true", help="do not send the documents to the SII simulator")
    parser.add_argument("--out", help="where to write the envelope (default EnvioDTE_<supplier>_<folio>.xml)")
    args = parser.parse_args(argv)
    if not 1 <= args.documents <= 50:
        parser.error("--documents must be between 1 and 50")
    try:
        pem = Path(args.key).read_bytes()
    except OSError as error:
        parser.error(f"cannot read the stand-in SII key {args.key} ({error.strerror}): start the demo once "
                     "(scripts/run) to create it, or give --key")
    try:
        authority = identities.TestAuthority.from_private_key_pem(pem)
        supplier = StandInSupplier(authority)
        receiver = document.Receiver(args.rut, args.name, "Servicios informaticos", "Av. Apoquindo 3000",
                                     "Las Condes", "Santiago")
        first = int(time.time()) % 90000 + 1  # a new folio at each run: the SII takes each document once
        today = datetime.date.today()
        dtes = []
        for index in range(args.documents):
            lines = [document.Line(name, Decimal(quantity), Decimal(price), unit="UN",
                                   item_code=("INT1", code) if code else None)
                     for name, quantity, price, code in LINES[index % 2:][:4]]
            dtes.append(supplier.issue(supplier.document(33, first + index, receiver, lines=lines, issue_date=today,
                                                         payment_form=2,
                                                         due_date=today + datetime.timedelta(days=30))))
        envelope = supplier.envelope(dtes, args.rut)
    except (ValueError, TypeError, errors.SiiEngineError) as error:
        parser.error(str(error))
    if not args.no_sii:
        try:
            with SiiClient("certification", supplier.certificate, supplier.rut, base_url=args.sii_url) as client:
                receipt = client.upload_envelope(supplier.envelope(dtes, SII_RUT))
        except (TransportError, errors.SiiEngineError) as error:
            parser.error(f"the SII simulator at {args.sii_url} did not take the documents ({error}); is the demo "
                         "running? (--no-sii to skip)")
        print(f"sent to the SII simulator as the supplier would: track ID {receipt.track_id}")
    out = Path(args.out or f"EnvioDTE_{supplier.rut}_{first}.xml")
    out.write_bytes(envelope)
    print(f"{out}: EnvioDTE of {supplier.name} (RUT {supplier.rut}) to {args.name} (RUT {args.rut}), "
          f"{args.documents} factura(s) 33, folios {first}-{first + args.documents - 1}: upload it in Invoicing › "
          "Vendors › DTE Inbox › Upload XML")
    return 0


if __name__ == "__main__":
    sys.exit(main())
