"""Verifying a received EnvioDTE of 2,000 facturas: time per document and memory, on one core.

Every document of a received envelope costs at least one RSA-2048 PKCS#1 v1.5
SHA-1 signature *verification* (its XMLDSig), so that rate, measured in the same
run, is the baseline of the per-document figure; the schema validation of the
whole envelope, also measured here, is the baseline of the whole.

    (a) RSA-2048 SHA-1 signature verifications per second (cryptography): the baseline
    (b) schema validation alone of the EnvioDTE (``schema.validation_errors``)
    (c) ``verify.verify_file`` of the EnvioDTE of 2,000 facturas (10 lines each):
        schema, envelope signature, sender, cover, then per document its XMLDSig,
        TED (CAF FRMA, FRMT), TED data and totals          target < 5 s
        per document, and its ratio to one verification (a)
    (d) the same envelope made of 2,001 documents, refused because of the count
        before any document is checked (the SII's limit is 2,000)
    (e) memory: peak RSS of a fresh process that parses the envelope only, and of
        one that verifies it, for 500 and 2,000 documents. Verification holds one
        document's copy at a time, so what it adds to the parsed tree must not grow
        with the documents ("flat")

(c) runs after a warm-up, median of several repetitions. The process pins itself to
one CPU when the OS allows it and times with its own CPU time (``--wall``: the
wall clock). (e) runs each case in its own process (a peak only grows).

Run from the repository root::

    .venv/bin/python bench/bench_verify.py           # full run, about 1 min
    .venv/bin/python bench/bench_verify.py --quick   # 200 documents, a few seconds
"""

import argparse
import gc
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_engine import Setup, pin_to_one_core  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402

from sii_engine import caf, identities, schema, verify, xmlutil  # noqa: E402

ENVELOPE_SIZE = 2000
TARGET_SECONDS = 5.0
MEMORY_SIZES = (500, 2000)


def make_envelope(setup, count):
    return setup.build_envelope([setup.issue(setup.factura()).xml for _ in range(count)])


def rsa_verifications_per_second(setup, count, clock):
    key = setup.certificate.private_key
    data = b"<SignedInfo>" + b"x" * 500 + b"</SignedInfo>"  # about a SignedInfo's length
    value = key.sign(data, padding.PKCS1v15(), hashes.SHA1())
    public_key = key.public_key()
    start = clock()
    for _ in range(count):
        public_key.verify(value, data, padding.PKCS1v15(), hashes.SHA1())
    return count / (clock() - start)


def schema_seconds(envelope, clock):
    root = xmlutil.parse(envelope)
    start = clock()
    errors = schema.validation_errors(root, schema.schema_for(root))
    elapsed = clock() - start
    assert not errors, errors[:3]
    return elapsed


def verify_seconds(envelope, trusted, clock):
    start = clock()
    report = verify.verify_file(envelope, trusted)
    elapsed = clock() - start
    assert report.ok, report.format()[-2000:]
    return elapsed, report


def over_the_limit(envelope, size):
    """The envelope with copies of its last DTE up to 2,001 documents, one over the SII's limit."""
    end = envelope.rindex(b"</SetDTE>")
    last = envelope.rindex(b"<DTE ", 0, end)
    return envelope[:end] + envelope[last:end] * (ENVELOPE_SIZE + 1 - size) + envelope[end:]


def peak_rss_kib():
    """This process's peak resident set (VmHWM). Not ru_maxrss: Linux carries that one over
    fork and exec, so a child would report its parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(mode, path, key_path):
    """In a fresh process: read, then parse only or verify; print peak RSS in KiB."""
    data = Path(path).read_bytes()
    trusted = {identities.TEST_IDK: caf.load_trusted_key(Path(key_path).read_bytes(), key_path)}
    before = peak_rss_kib()
    if mode == "parse":
        root = xmlutil.parse(data)
        assert root is not None
    else:
        assert verify.verify_file(data, trusted).ok
    print(before, peak_rss_kib())


def peak_memory(envelope, key_path, mode):
    with tempfile.NamedTemporaryFile(suffix=".xml") as file:
        file.write(envelope)
        file.flush()
        done = subprocess.run([sys.executable, __file__, "--child", mode, file.name, str(key_path)],
                              capture_output=True, text=True, check=True)
    before, after = (int(value) for value in done.stdout.split())
    return before / 1024, after / 1024


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 documents, fewer repetitions")
    parser.add_argument("--wall", action="store_true", help="time with the wall clock instead of CPU time")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "FILE", "KEY"), help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        child(*options.child)
        return 0
    quick = options.quick
    size = 200 if quick else ENVELOPE_SIZE
    repetitions = 2 if quick else 5
    clock = time.perf_counter if options.wall else time.process_time

    print(f"CPU: {pin_to_one_core()}")
    print(f"Clock: {'wall clock' if options.wall else 'CPU time of this process (--wall for the wall clock)'}")
    setup = Setup()
    authority = setup.authority
    trusted = authority.trusted_keys()
    print(f"Building an EnvioDTE of {size} facturas (10 lines each)...", flush=True)
    envelope = make_envelope(setup, size)
    print(f"  {len(envelope) / 1e6:.1f} MB")

    # Warm-up: schemas, caches of lxml, OpenSSL and the engine.
    verify_seconds(make_envelope(setup, 20), trusted, clock)
    rsa_verifications_per_second(setup, 200, clock)

    rsa_rates, schema_times, verify_times, per_document_ratios = [], [], [], []
    for _ in range(repetitions):
        gc.collect()
        rsa_rate = rsa_verifications_per_second(setup, 2000, clock)
        schema_time = schema_seconds(envelope, clock)
        verify_time, report = verify_seconds(envelope, trusted, clock)
        rsa_rates.append(rsa_rate)
        schema_times.append(schema_time)
        verify_times.append(verify_time)
        per_document_ratios.append((verify_time / size) * rsa_rate)
    median = statistics.median
    rsa_rate, schema_time, verify_time = median(rsa_rates), median(schema_times), median(verify_times)
    per_document_ms = verify_time / size * 1000

    refused = over_the_limit(envelope, size)
    refusal_times = []
    for _ in range(repetitions):
        start = clock()
        refusal = verify.verify_file(refused, trusted)
        refusal_times.append(clock() - start)
    assert not refusal.ok and len(refusal.checks) == 1, refusal.format()

    print()
    print(f"{'measurement':<58} {'figure':>12}  {'baseline ratio':>16}")
    print("-" * 92)
    print(f"{'(a) RSA-2048 SHA-1 verifications (baseline)':<58} {rsa_rate:>10,.0f}/s  "
          f"{1e6 / rsa_rate:>11.1f} µs each")
    print(f"{f'(b) schema validation alone, {size} documents':<58} {schema_time:>10.3f} s")
    verdict = "PASS" if verify_time < TARGET_SECONDS else "FAIL"
    print(f"{f'(c) verify_file, EnvioDTE of {size} facturas':<58} {verify_time:>10.3f} s  "
          f"{verify_time / schema_time:>10.1f} x (b)   target < {TARGET_SECONDS:.0f} s: {verdict}")
    print(f"{'    per document':<58} {per_document_ms:>9.3f} ms  {median(per_document_ratios):>10.1f} x (a)")
    print(f"{f'(d) {ENVELOPE_SIZE + 1} documents refused by the count':<58} {median(refusal_times) * 1000:>9.1f} ms  "
          f"{median(refusal_times) / verify_time:>11.1%} of (c)")
    print(f"    ({len(report.checks)} checks in (c); the checks of (d): "
          f"{refusal.checks[0].detail[:60]}...)")

    sizes = (200,) if quick else MEMORY_SIZES
    print()
    print(f"{'(e) peak RSS of a fresh process, MiB':<40} {'start':>8} {'parse only':>11} {'verify':>8} "
          f"{'verify - parse':>15}")
    key_path = Path(tempfile.mkdtemp()) / "stand-in-sii.pub.pem"
    key_path.write_bytes(authority.public_key_pem)
    added = []
    for count in sizes:
        data = envelope if count == size else make_envelope(setup, count)
        start, parsed = peak_memory(data, key_path, "parse")
        _start, verified = peak_memory(data, key_path, "verify")
        added.append(verified - parsed)
        print(f"{f'    {count} documents ({len(data) / 1e6:.1f} MB)':<40} {start:>8.1f} {parsed:>11.1f} "
              f"{verified:>8.1f} {verified - parsed:>15.1f}")
    if len(added) > 1:
        print(f"    what verification adds to the parsed tree: {added[0]:.1f} MiB for {sizes[0]} documents, "
              f"{added[-1]:.1f} MiB for {sizes[-1]} ({sizes[-1] / sizes[0]:.0f} x the documents)")
    print()
    print(f"(a) ranged {min(rsa_rates):,.0f} to {max(rsa_rates):,.0f} /s; (c) ranged {min(verify_times):.3f} to "
          f"{max(verify_times):.3f} s over {repetitions} repetitions.")
    print(f"{verdict} target (c) < {TARGET_SECONDS:.0f} s")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
