"""``python -m sii_engine.simulator``: run the simulated SII for the demo.

The stand-in SII key that signs (and is trusted for) the demo's CAFs is kept
in ``--authority-key`` (created, mode 0600, if missing), so CAFs issued with it
stay valid across restarts; ``--state-file`` keeps tokens, track ids and
received folios.
"""

import argparse
import logging
import os
import signal
from pathlib import Path

from .. import rut as rut_module
from ..caf import sii_trusted_keys
from ..identities import TestAuthority
from .app import SiiSimulator
from .server import start_simulator


def _authority(path):
    if path is None:
        return TestAuthority()
    path = Path(path)
    if path.exists():
        return TestAuthority.from_private_key_pem(path.read_bytes())
    authority = TestAuthority()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(authority.private_key_pem)
    return authority


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sii_engine.simulator", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--state-file", help="JSON file keeping tokens, track ids and folios across restarts")
    parser.add_argument("--authority-key", help="PEM of the stand-in SII key (IDK 9999); created if missing")
    parser.add_argument("--trust-sii-certification", action="store_true",
                        help="also accept CAFs signed by the real SII certification key (IDK 100)")
    parser.add_argument("--processing-polls", type=int, default=2,
                        help="status queries that see an envelope still in process (default 2)")
    parser.add_argument("--strict-upload", action="store_true",
                        help="refuse schema/signature errors at upload (STATUS 7/8) instead of RSC/RFR later")
    parser.add_argument("--company-user", action="append", default=[], metavar="COMPANY_RUT=PERSON_RUT",
                        help="PERSON_RUT may act for COMPANY_RUT in the RCV (repeatable; see PROTOCOL.md §9)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    company_users = {}
    for value in args.company_user:
        company, _sep, person = value.partition("=")
        if not (rut_module.is_valid(company) and rut_module.is_valid(person)):
            parser.error(f"--company-user {value!r}: write COMPANY_RUT=PERSON_RUT, two valid RUTs")
        company_users.setdefault(company, []).append(person)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s")

    trusted = sii_trusted_keys("certification") if args.trust_sii_certification else None
    simulator = SiiSimulator(
        authority=_authority(args.authority_key),
        trusted_keys=trusted,
        state_file=args.state_file,
        processing_polls=args.processing_polls,
        strict_upload=args.strict_upload,
        company_users=company_users,
    )
    signal.signal(signal.SIGTERM, _interrupt)
    running = start_simulator(simulator, host=args.host, port=args.port)
    logging.info("SII simulator listening on %s (CAF key IDK %s)", running.base_url, simulator.authority.idk)
    running.serve_forever()


if __name__ == "__main__":
    main()
