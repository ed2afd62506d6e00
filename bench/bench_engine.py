"""Throughput of the SII engine on one core, against the machine's RSA-2048 signing rate.

Every DTE costs one RSA-2048 PKCS#1 v1.5 SHA-1 signature (its XMLDSig), so the
rate at which this machine makes those signatures is the physical limit of
DTEs per second; it is the baseline, measured in the same run, and every
figure is printed with its ratio to it.

    (a) RSA-2048 PKCS#1v1.5 SHA-1 signatures per second (cryptography): the baseline
        and, for reference, xmlsec signatures of a minimal document (xmlsec has its
        own OpenSSL, which may be faster than cryptography's)
    (b) facturas (type 33, 10 lines) per second through ``dte.issue``:
        build + TED + XMLDSig + schema validation      target >= 50 % of (a)
    (c) boletas (type 39, 1 line) per second through ``dte.issue``
    (d) an EnvioBOLETA of 500 boletas: 500 ``dte.issue`` + ``envelope.build_envelope``
                                                       target < 1.5 s
        and the envelope alone
    (e) an EnvioDTE of 2000 facturas: ``envelope.build_envelope`` (build, sign, validate)

(a)-(c) are measured in repetitions, each one running them in a row; the ratios
of (b) and (c) to (a) are taken within each repetition, so a change in the
machine's load during the run shifts both sides alike, and their medians are
reported. For (d) and (e) the ratio is the time the signatures alone would take
at the baseline rate (500 + 1, or 1) divided by the time measured.

After a warm-up, medians of several repetitions. The process pins itself to one
CPU when the OS allows it and times with its own CPU time (``--wall``: the wall
clock), so the figures are per core and leave out time spent waiting for it.

Run from the repository root::

    python bench/bench_engine.py           # full run, about 40 s
    python bench/bench_engine.py --quick   # a few seconds, coarser
"""

import argparse
import datetime
import gc
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

# The repository root is the Odoo addon; the engine is importable from it without Odoo.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402

from sii_engine import caf as caf_module  # noqa: E402
from sii_engine import certificate as certificate_module  # noqa: E402
from sii_engine import dte, envelope, identities, signature, xmlutil  # noqa: E402
from sii_engine.document import Document, Issuer, Line, Receiver  # noqa: E402

ISSUER_RUT = "76192083-9"
HOLDER_RUT = "11111111-1"
PASSWORD = "bench"
ISSUE_DATE = datetime.date(2024, 5, 15)
RESOLUTION_DATE = datetime.date(2014, 8, 22)
RESOLUTION_NUMBER = 80
LAST_FOLIO = 10_000_000

FACTURA_TARGET_RATIO = 0.50
ENVIO_BOLETA_TARGET_SECONDS = 1.5
ENVIO_BOLETA_SIZE = 500
ENVIO_DTE_SIZE = 2000


def pin_to_one_core():
    """Pin this process to the first CPU it may run on; return a sentence saying what happened."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (os.sched_setaffinity is not available here)"
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {allowed[0]})
    return f"pinned to CPU {allowed[0]} (of {len(allowed)} allowed)"


class Setup:
    """The identities and documents every measurement uses, made once."""

    def __init__(self):
        self.authority = authority = identities.TestAuthority()
        pkcs12 = identities.make_pkcs12(HOLDER_RUT, "Firmante Benchmark", PASSWORD, key_size=2048)
        self.certificate = certificate_module.load_pkcs12(pkcs12, PASSWORD)
        assert self.certificate.private_key.key_size == 2048
        self.cafs = {
            doc_type: caf_module.load_caf(
                authority.issue_caf(ISSUER_RUT, "Comercial Benchmark SpA", doc_type, 1, LAST_FOLIO),
                authority.trusted_keys(),
            )
            for doc_type in (33, 39)
        }
        self.issuer = Issuer(
            rut=ISSUER_RUT,
            name="Comercial Ñandú SpA",
            activity="Venta al por menor de artículos de ferretería",
            economic_activities=(475201,),
            address="Av. Providencia 1234, of. 56",
            commune="Providencia",
            city="Santiago",
        )
        self.customer = Receiver(
            rut="77777777-7",
            name="Cliente Ejemplo Limitada",
            activity="Comercio al por mayor",
            address="Calle Falsa 123",
            commune="Santiago",
            city="Santiago",
        )
        self.anonymous = Receiver(rut="66666666-6")
        self.next_folio = {33: 1, 39: 1}

    def _folio(self, doc_type):
        folio = self.next_folio[doc_type]
        self.next_folio[doc_type] = folio + 1
        return folio

    def factura(self):
        lines = [
            Line(f"Artículo de ferretería número {index}", Decimal(index + 1), Decimal(1000 + 37 * index), unit="UN")
            for index in range(10)
        ]
        return Document(33, self._folio(33), ISSUE_DATE, self.issuer, self.customer, lines=lines)

    def boleta(self):
        lines = [Line("Pan amasado kg", Decimal("1.5"), Decimal(2390))]
        return Document(39, self._folio(39), ISSUE_DATE, self.issuer, self.anonymous, lines=lines)

    def issue(self, document):
        return dte.issue(document, self.cafs[document.document_type], self.certificate)

    def build_envelope(self, dtes):
        return envelope.build_envelope(dtes, ISSUER_RUT, self.certificate, RESOLUTION_DATE, RESOLUTION_NUMBER)


def rsa_signs_per_second(setup, count, clock):
    key = setup.certificate.private_key
    # A SignedInfo is about this long; the length hardly matters next to the RSA operation.
    data = b"<SignedInfo>" + b"x" * 500 + b"</SignedInfo>"
    start = clock()
    for _ in range(count):
        key.sign(data, padding.PKCS1v15(), hashes.SHA1())
    return count / (clock() - start)


def xmlsec_signs_per_second(setup, count, clock):
    """For reference: ``signature.sign_reference`` (xmlsec) over a minimal document.

    xmlsec carries its own OpenSSL, which may sign faster than the one in
    ``cryptography`` (AVX-512 IFMA since OpenSSL 3): the floor of the signing step
    inside ``dte.issue``, next to the baseline (a).
    """
    data = b'<Minimal xmlns="http://www.sii.cl/SiiDte"><Documento ID="X">1</Documento></Minimal>'
    roots = [xmlutil.parse(data) for _ in range(count)]
    start = clock()
    for root in roots:
        signature.sign_reference(root, "X", setup.certificate)
    return count / (clock() - start)


def issue_rate(setup, make, count, clock):
    """Documents per second through ``dte.issue`` (the inputs are made before the clock starts)."""
    documents = [make() for _ in range(count)]
    start = clock()
    for document in documents:
        setup.issue(document)
    return count / (clock() - start)


def envio_boleta_seconds(setup, clock):
    """(500 dte.issue + build_envelope seconds, build_envelope alone seconds)."""
    documents = [setup.boleta() for _ in range(ENVIO_BOLETA_SIZE)]
    start = clock()
    dtes = [setup.issue(document).xml for document in documents]
    envelope_start = clock()
    setup.build_envelope(dtes)
    end = clock()
    return end - start, end - envelope_start


def envio_dte_seconds(setup, facturas, clock):
    start = clock()
    setup.build_envelope(facturas)
    return clock() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run: fewer documents and repetitions")
    parser.add_argument(
        "--wall", action="store_true", help="time with the wall clock instead of the process's CPU time"
    )
    options = parser.parse_args(argv)
    quick = options.quick
    repetitions = 5 if quick else 15
    rsa_count, factura_count, boleta_count = (100, 50, 50) if quick else (300, 150, 150)
    envio_boleta_repetitions = 2 if quick else 5
    envio_dte_repetitions = 1 if quick else 3
    clock = time.perf_counter if options.wall else time.process_time

    print(f"CPU: {pin_to_one_core()}")
    print(
        f"Clock: {'wall clock' if options.wall else 'CPU time of this process (--wall for the wall clock)'}"
    )
    print(
        f"Run: {'quick' if quick else 'full'}; (a)-(c) {repetitions} repetitions of "
        f"{rsa_count} RSA signatures, {rsa_count // 2} xmlsec signatures, {factura_count} facturas and "
        f"{boleta_count} boletas in a row, "
        f"each ratio taken within its repetition; (d) {envio_boleta_repetitions}, (e) {envio_dte_repetitions} "
        "repetitions; medians reported"
    )
    setup = Setup()

    # Warm-up: key loading, schema parsing, caches of lxml, OpenSSL and the engine.
    rsa_signs_per_second(setup, 50, clock)
    xmlsec_signs_per_second(setup, 50, clock)
    issue_rate(setup, setup.factura, 30, clock)
    issue_rate(setup, setup.boleta, 30, clock)

    # The baseline is measured next to each figure, in the same repetition, so that a
    # change in the machine's load during the run shifts both alike.
    rsa_rates, factura_rates, boleta_rates, factura_ratios, boleta_ratios = [], [], [], [], []
    xmlsec_rates, xmlsec_ratios = [], []
    for _ in range(repetitions):
        gc.collect()
        rsa_rate = rsa_signs_per_second(setup, rsa_count, clock)
        xmlsec_rate = xmlsec_signs_per_second(setup, rsa_count // 2, clock)
        factura_rate = issue_rate(setup, setup.factura, factura_count, clock)
        boleta_rate = issue_rate(setup, setup.boleta, boleta_count, clock)
        rsa_rates.append(rsa_rate)
        factura_rates.append(factura_rate)
        boleta_rates.append(boleta_rate)
        factura_ratios.append(factura_rate / rsa_rate)
        boleta_ratios.append(boleta_rate / rsa_rate)
        xmlsec_rates.append(xmlsec_rate)
        xmlsec_ratios.append(xmlsec_rate / rsa_rate)
    median = statistics.median
    rsa_rate = median(rsa_rates)
    factura_ratio = median(factura_ratios)

    results = []  # (label, figure, unit, ratio to baseline, target, passed or None)
    results.append(("(a) RSA-2048 SHA-1 signatures (baseline)", rsa_rate, "/s", 1.0, "", None))
    results.append((
        "    for reference: xmlsec, minimal document", median(xmlsec_rates), "/s", median(xmlsec_ratios), "", None,
    ))
    results.append((
        "(b) facturas 33, 10 lines (dte.issue)", median(factura_rates), "/s", factura_ratio,
        f">= {FACTURA_TARGET_RATIO:.0%} of (a)", factura_ratio >= FACTURA_TARGET_RATIO,
    ))
    results.append(("(c) boletas 39, 1 line (dte.issue)", median(boleta_rates), "/s", median(boleta_ratios), "", None))

    gc.collect()
    boleta_runs = [envio_boleta_seconds(setup, clock) for _ in range(envio_boleta_repetitions)]
    envio_boleta = median(total for total, _ in boleta_runs)
    envio_boleta_alone = median(alone for _, alone in boleta_runs)
    results.append((
        f"(d) EnvioBOLETA {ENVIO_BOLETA_SIZE}: issue all + envelope", envio_boleta, "s",
        (ENVIO_BOLETA_SIZE + 1) / rsa_rate / envio_boleta,
        f"< {ENVIO_BOLETA_TARGET_SECONDS} s", envio_boleta < ENVIO_BOLETA_TARGET_SECONDS,
    ))
    results.append((
        f"    EnvioBOLETA {ENVIO_BOLETA_SIZE}: envelope alone", envio_boleta_alone, "s",
        1 / rsa_rate / envio_boleta_alone, "", None,
    ))

    facturas = [setup.issue(setup.factura()).xml for _ in range(ENVIO_DTE_SIZE)]
    gc.collect()
    envio_dte = median(envio_dte_seconds(setup, facturas, clock) for _ in range(envio_dte_repetitions))
    results.append((
        f"(e) EnvioDTE {ENVIO_DTE_SIZE} facturas: envelope", envio_dte, "s", 1 / rsa_rate / envio_dte, "", None,
    ))

    print()
    print(f"{'measurement':<48} {'figure':>12}  {'ratio to (a)':>12}  {'target':<16} result")
    print("-" * 100)
    for label, figure, unit, ratio, target, passed in results:
        shown = f"{figure:,.0f} {unit}" if unit == "/s" else f"{figure:.3f} {unit}"
        verdict = "" if passed is None else ("PASS" if passed else "FAIL")
        print(f"{label:<48} {shown:>12}  {ratio:>11.1%}  {target:<16} {verdict}")
    print()
    print(
        f"(b), (c): median of the ratios of each repetition (range for (b): {min(factura_ratios):.1%} to "
        f"{max(factura_ratios):.1%}); (a) ranged {min(rsa_rates):,.0f} to {max(rsa_rates):,.0f} /s."
    )
    print("(d), (e): time the RSA-2048 signatures alone would take at rate (a), divided by the time measured.")
    print()
    all_passed = True
    for label, _figure, _unit, _ratio, target, passed in results:
        if passed is not None:
            all_passed &= passed
            print(f"{'PASS' if passed else 'FAIL'} target {label.split(' ', 1)[0]} {target}: {label.split(' ', 1)[1]}")
    return 0 if all_passed else 1


if __name__ == "__main__":
    sys.exit(main())
