"""Issue a CAF signed by the demo's stand-in SII key, to load through *Load CAF* in the demo.

The demo (``scripts/run``) trusts, in its simulator environment only, the stand-in "SII" key it
keeps in ``.demo/sii-authority-key.pem`` (IDK 9999). A CAF file made here is accepted by the demo
exactly like one the SII hands out, and by nothing else: the real SII never trusts that key.

    python scripts/demo_caf.py 33 501 1000               # writes CAF_33_501-1000.xml (mode 0600)
    python scripts/demo_caf.py 39 1 100 --out caf39.xml --rut 22060449-7 --name "CL Company"

The file holds the folio range's private key, as a real CAF does: it is written readable by its
owner only. Run it with the demo's Python (it needs only the addon's engine).
"""

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the addon's engine, as `python -m sii_engine` imports it

from sii_engine import errors, identities  # noqa: E402

DEMO_COMPANY = ("22060449-7", "CL Company")  # l10n_cl's demo company, the one scripts/run sets up


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("document_type", type=int, help="SII document type code, e.g. 33, 39, 61")
    parser.add_argument("first", type=int, help="first folio of the range")
    parser.add_argument("last", type=int, help="last folio of the range")
    parser.add_argument("--rut", default=DEMO_COMPANY[0], help="the company's RUT (default: the demo company's)")
    parser.add_argument("--name", default=DEMO_COMPANY[1], help="the company's name as on the CAF")
    parser.add_argument("--key", default=os.environ.get("DEMO_DIR", str(ROOT / ".demo")) + "/sii-authority-key.pem",
                        help="the stand-in SII key (default: the demo's, in DEMO_DIR or .demo)")
    parser.add_argument("--out", help="where to write the CAF (default CAF_<type>_<first>-<last>.xml)")
    args = parser.parse_args(argv)
    if not 1 <= args.first <= args.last:
        parser.error("the range must satisfy 1 <= first <= last")
    try:
        pem = Path(args.key).read_bytes()
    except OSError as error:
        parser.error(f"cannot read the stand-in SII key {args.key} ({error.strerror}): start the demo once "
                     "(scripts/run) to create it, or give --key")
    try:
        authority = identities.TestAuthority.from_private_key_pem(pem)
        caf = authority.issue_caf(args.rut, args.name, args.document_type, args.first, args.last)
    except (ValueError, TypeError, errors.SiiEngineError) as error:
        parser.error(str(error))
    out = Path(args.out or f"CAF_{args.document_type}_{args.first}-{args.last}.xml")
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(caf)
    os.chmod(out, 0o600)
    print(f"{out}: CAF for type {args.document_type}, folios {args.first}-{args.last}, RUT {args.rut}, "
          f"signed by the demo's stand-in SII (IDK {authority.idk})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
