#!/usr/bin/env python3
"""Issue 3 benchmark: the SII transport against the local simulator.

    python bench/bench_transport.py           # full run (2-4 min)
    python bench/bench_transport.py --quick   # small run (5-10 s)

One process: the simulator serves on 127.0.0.1 (ephemeral port) in a thread,
the :class:`~sii_engine.transport.SiiClient` talks to it over real HTTP.
Every figure is printed next to the baseline it is compared with, both
measured in this run (no timed assertions anywhere).

(a) Documents per second through ``upload_envelope`` + ``envelope_status``
    (polled until final; the simulator's ``processing_polls`` is 0, so one
    status query). Signed DTEs and envelopes are built beforehand, outside the
    timing; their cost is printed on its own. Baseline: the simulator's own
    checking cost (``processing_stats()``: parse, schema, signatures, TED/CAF,
    amounts, registration), so ``overhead = total - simulator checking`` is the
    price of the transport (client + HTTP + the simulator's request handling).

(b) Status of many documents spread over envelopes of 500: ONE status request
    per envelope (getEstUp for EnvioDTE, the boleta API's envelope status for
    EnvioBOLETA), per-document states derived from it, HTTP calls counted by
    the simulator. Baseline: the naive one query per document (getEstDte /
    boleta estado), timed on a sample and EXTRAPOLATED to all documents.
    Then one envelope holding one rejected document shows what the SII's
    answers allow: the boleta API names the rejected document, getEstUp only
    counts it, so that EnvioDTE falls back to getEstDte per document.
"""

import argparse
import datetime
import gc
import os
import platform
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lxml import etree  # noqa: E402

from sii_engine import caf as caf_module  # noqa: E402
from sii_engine import certificate as certificate_module  # noqa: E402
from sii_engine import document as document_module  # noqa: E402
from sii_engine import dte as dte_module  # noqa: E402
from sii_engine import envelope as envelope_module  # noqa: E402
from sii_engine import identities, schema  # noqa: E402
from sii_engine.simulator import SiiSimulator, start_simulator  # noqa: E402
from sii_engine.transport import MemoryTokenCache, SiiClient, State  # noqa: E402

ISSUER_RUT = "76192083-9"
HOLDER_RUT = "11111111-1"
RESOLUTION = (datetime.date(2014, 8, 22), 80)
ISSUE_DATE = datetime.date(2024, 5, 15)
STAMP_TIME = datetime.datetime(2024, 5, 15, 10, 0, 0)
ENVELOPE_TIME = datetime.datetime(2024, 5, 15, 10, 5, 0)
ENVIO_DTE, ENVIO_BOLETA = envelope_module.ENVIO_DTE, envelope_module.ENVIO_BOLETA
FACTURA, BOLETA = 33, 39
KIND_OF = {FACTURA: ENVIO_DTE, BOLETA: ENVIO_BOLETA}
VALID = (State.ACCEPTED, State.OBJECTED)

FULL = {
    "a_plan": [(FACTURA, 1, 20), (FACTURA, 50, 5), (FACTURA, 500, 3), (BOLETA, 1, 20), (BOLETA, 500, 3)],
    "envelopes": 20, "per_envelope": 500, "sample": 200,
}
QUICK = {
    "a_plan": [(FACTURA, 1, 5), (FACTURA, 50, 3), (BOLETA, 50, 3)],
    "envelopes": 4, "per_envelope": 50, "sample": 40,
}


# --- what is built beforehand -----------------------------------------------------------


@dataclass(frozen=True)
class Built:
    """One signed DTE and what a per-document status query needs."""

    document_type: int
    folio: int
    total: int
    receiver_rut: str
    xml: bytes

    @property
    def key(self):
        return self.document_type, self.folio


ISSUER = document_module.Issuer(
    rut=ISSUER_RUT, name="Comercial Benchmark SpA", activity="Venta al por menor de articulos de ferreteria",
    economic_activities=(475201,), address="Av. Providencia 1234", commune="Providencia", city="Santiago",
)
FACTURA_RECEIVER = document_module.Receiver(
    rut="77777777-7", name="Cliente Ejemplo Limitada", activity="Comercio al por mayor",
    address="Calle Falsa 123", commune="Santiago", city="Santiago",
)
BOLETA_RECEIVER = document_module.Receiver(rut="66666666-6")
FACTURA_LINES = [
    document_module.Line("Tornillo hexagonal 3/8", Decimal(120), Decimal(85), unit="UN"),
    document_module.Line("Servicio de instalacion", Decimal(1), Decimal(45000), description="Mano de obra"),
]
BOLETA_LINES = [
    document_module.Line("Pan amasado kg", Decimal("1.5"), Decimal(2390)),
    document_module.Line("Bebida 1,5 L", Decimal(2), Decimal(1790)),
]


def issue_documents(document_type, count, caf, certificate):
    """``count`` signed DTEs of one type, folios 1..count; and the seconds it took."""
    receiver, lines = (BOLETA_RECEIVER, BOLETA_LINES) if document_type == BOLETA else (FACTURA_RECEIVER, FACTURA_LINES)
    built = []
    started = time.perf_counter()
    for folio in range(1, count + 1):
        document = document_module.Document(document_type=document_type, folio=folio, issue_date=ISSUE_DATE,
                                            issuer=ISSUER, receiver=receiver, lines=lines)
        issued = dte_module.issue(document, caf, certificate, timestamp=STAMP_TIME)
        built.append(Built(document_type, folio, int(issued.total), receiver.rut, issued.xml))
    return built, time.perf_counter() - started


class EnvelopeBuilder:
    """build_envelope, timing itself (a client-side cost, kept out of the transport timings)."""

    def __init__(self, certificate):
        self.certificate = certificate
        self.seconds = Counter()
        self.documents = Counter()

    def __call__(self, documents):
        started = time.perf_counter()
        data = envelope_module.build_envelope([item.xml for item in documents], ISSUER_RUT, self.certificate,
                                              *RESOLUTION, timestamp=ENVELOPE_TIME)
        kind = KIND_OF[documents[0].document_type]
        self.seconds[kind] += time.perf_counter() - started
        self.documents[kind] += len(documents)
        return data


# --- the simulator, observed ------------------------------------------------------------


class TimedApp:
    """The simulator's WSGI app, with the wall time spent inside it summed (read body + handle)."""

    def __init__(self, inner):
        self.inner = inner
        self.seconds = 0.0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        try:
            return self.inner(environ, start_response)
        finally:
            elapsed = time.perf_counter() - started
            with self._lock:
                self.seconds += elapsed

    # RunningSimulator sets base_url and uses stopping
    @property
    def base_url(self):
        return self.inner.base_url

    @base_url.setter
    def base_url(self, value):
        self.inner.base_url = value

    @property
    def stopping(self):
        return self.inner.stopping


@dataclass
class Snapshot:
    wall: float
    cpu: float  # process CPU time: the client's and the simulator's threads together
    checking: float  # processing_stats()["seconds"]
    checked: int  # processing_stats()["documents"]
    in_app: float
    calls: Counter


def snapshot(timed_app):
    stats = timed_app.inner.processing_stats()
    return Snapshot(time.perf_counter(), time.process_time(), stats["seconds"], stats["documents"], timed_app.seconds,
                    Counter(timed_app.inner.calls))


def delta(before, after):
    calls = after.calls.copy()
    calls.subtract(before.calls)
    return {
        "wall": after.wall - before.wall,
        "cpu": after.cpu - before.cpu,
        "checking": after.checking - before.checking,
        "checked": after.checked - before.checked,
        "in_app": after.in_app - before.in_app,
        "calls": +calls,
    }


def fresh_simulator(timed_app, client):
    """Forget every envelope and folio (so built DTEs can be sent again); new tokens, outside any timing."""
    timed_app.inner.reset()
    client.authenticate(ENVIO_DTE, renew=True)
    client.authenticate(ENVIO_BOLETA, renew=True)


def poll_until_final(client, track_id, kind, limit=50):
    for polls in range(1, limit + 1):
        status = client.envelope_status(track_id, kind)
        if status.final:
            return status, polls
    raise RuntimeError(f"envelope {track_id} still in process after {limit} queries: {status.summary()}")


# --- (a) upload + status -------------------------------------------------------------------


def bench_upload(timed_app, client, pools, make_envelope, plan):
    rows = []
    for document_type, size, repetitions in plan:
        kind = KIND_OF[document_type]
        repetitions = max(1, min(repetitions, len(pools[document_type]) // size))
        fresh_simulator(timed_app, client)
        envelopes = [make_envelope(pools[document_type][i * size:(i + 1) * size]) for i in range(repetitions)]
        runs = []
        for data in envelopes:
            gc.collect()
            before = snapshot(timed_app)
            receipt = client.upload_envelope(data)
            uploaded = time.perf_counter()
            status, polls = poll_until_final(client, receipt.track_id, kind)
            change = delta(before, snapshot(timed_app))
            if status.state != State.ACCEPTED or status.totals().accepted != size or change["checked"] != size:
                raise RuntimeError(f"unexpected outcome for {kind} of {size}: {status.summary()}")
            runs.append({
                "total": change["wall"],
                "cpu": change["cpu"],
                "upload": uploaded - before.wall,
                "status": change["wall"] - (uploaded - before.wall),
                "checking": change["checking"],
                "in_app": change["in_app"],
                "calls": sum(change["calls"].values()),
                "polls": polls,
                "bytes": len(data),
            })
        rows.append((kind, size, runs))
    return rows


def print_upload(rows):
    print("(a) upload_envelope + envelope_status until final, per document (median of the repetitions)")
    print("    baseline = the simulator's own checking (processing_stats): parse, XSD, signatures, TED/CAF, amounts")
    header = (f"    {'envelope':<12}{'docs':>5}{'reps':>5}{'KB':>7}{'docs/s':>9}{'total':>9}{'upload':>9}{'status':>9}"
              f"{'sim chk':>9}{'overhead':>9}{'tot/chk':>8}{'srv app':>9}{'client':>9}{'HTTP':>6}{'cpu':>9}")
    print(header)
    print(f"    {'':<12}{'':>5}{'':>5}{'':>7}{'':>9}{'ms/doc':>9}{'ms/doc':>9}{'ms/doc':>9}{'ms/doc':>9}{'ms/doc':>9}"
          f"{'ratio':>8}{'ms/doc':>9}{'ms/doc':>9}{'calls':>6}{'ms/doc':>9}")
    for kind, size, runs in rows:
        def med(name, runs=runs, size=size):
            return statistics.median(run[name] for run in runs) * 1000 / size

        total, checking = med("total"), med("checking")
        in_app = med("in_app")
        print(f"    {kind:<12}{size:>5}{len(runs):>5}{statistics.median(r['bytes'] for r in runs) / 1024:>7.0f}"
              f"{1000 / total:>9.0f}{total:>9.3f}{med('upload'):>9.3f}{med('status'):>9.3f}{checking:>9.3f}"
              f"{total - checking:>9.3f}{total / checking:>8.2f}{in_app - checking:>9.3f}{total - in_app:>9.3f}"
              f"{statistics.median(r['calls'] for r in runs):>6.0f}{med('cpu'):>9.3f}")
    print("    overhead = total - sim chk; it splits into 'srv app' (simulator time in its WSGI app outside the")
    print("    check: reading the body, multipart, bookkeeping, answers) + 'client' (everything outside the app:")
    print("    client code, requests/zeep, sockets, wsgiref). HTTP calls = upload + status queries counted by the")
    print("    simulator (processing_polls=0: one status query gives the final state). cpu = process CPU time")
    print("    (client + simulator threads) over the same span: wall >> cpu means waiting for a CPU (other load).")


# --- (b) status of many documents -------------------------------------------------------------


def states_from_envelope(client, status, documents, kind):
    """Per-document state from one envelope's status; where the answer does not name the documents
    (getEstUp counts rejections per type, no folios), ask getEstDte for that type's documents.
    Returns ({(type, folio): State}, number of per-document fallback queries)."""
    if not status.final:
        raise RuntimeError(f"not final: {status.summary()}")
    if status.code != "EPR":  # the envelope itself was rejected: none of its documents is valid
        return {item.key: State.REJECTED for item in documents}, 0
    if kind == ENVIO_BOLETA:  # the API lists every rejected/objected document; the others are accepted
        named = {(result.document_type, result.folio): result.state for result in status.documents}
        return {item.key: named.get(item.key, State.ACCEPTED) for item in documents}, 0
    counts = {count.document_type: count for count in status.counts}
    states, fallback = {}, 0
    for item in documents:
        count = counts.get(item.document_type)
        if count is not None and count.rejected == 0 and count.informed > 0:
            states[item.key] = State.ACCEPTED  # every document of the type valid (accepted or objected)
        else:
            states[item.key] = document_status(client, item).state
            fallback += 1
    return states, fallback


def document_status(client, item):
    return client.document_status(item.document_type, item.folio, ISSUE_DATE, item.total, item.receiver_rut)


def bench_status(timed_app, client, pools, make_envelope, envelopes, per_envelope, sample_size):
    results = {}
    for document_type in (FACTURA, BOLETA):
        kind = KIND_OF[document_type]
        pool = pools[document_type][:envelopes * per_envelope]
        groups = [pool[i * per_envelope:(i + 1) * per_envelope] for i in range(envelopes)]
        fresh_simulator(timed_app, client)
        data = [make_envelope(group) for group in groups]

        gc.collect()
        before = snapshot(timed_app)
        track_ids = [client.upload_envelope(item).track_id for item in data]
        uploaded = delta(before, snapshot(timed_app))

        gc.collect()
        before = snapshot(timed_app)
        states, fallback, polls = {}, 0, 0
        for track_id, group in zip(track_ids, groups, strict=True):
            status, count = poll_until_final(client, track_id, kind)
            polls += count
            found, extra = states_from_envelope(client, status, group, kind)
            states.update(found)
            fallback += extra
        batched = delta(before, snapshot(timed_app))

        step = max(1, len(pool) // sample_size)
        sample = pool[::step][:sample_size]
        gc.collect()
        before = snapshot(timed_app)
        naive_states = {item.key: document_status(client, item).state for item in sample}
        naive = delta(before, snapshot(timed_app))

        agree = sum((states[key] in VALID) == (state in VALID) for key, state in naive_states.items())
        results[kind] = {
            "documents": len(pool), "envelopes": envelopes, "uploaded": uploaded, "batched": batched,
            "polls": polls, "fallback": fallback, "accepted": sum(state in VALID for state in states.values()),
            "sample": len(sample), "naive": naive, "agree": agree,
            "mixed": bench_mixed(timed_app, client, groups[0], data[0], kind),
        }
    return results


def bench_mixed(timed_app, client, group, data, kind):
    """One envelope again, one of its documents forced rejected: what one status query tells."""
    fresh_simulator(timed_app, client)
    rejected = group[len(group) // 2]
    timed_app.inner.force_outcome(ISSUER_RUT, rejected.document_type, rejected.folio, "rejected",
                                  reason="benchmark: forced rejection")
    track_id = client.upload_envelope(data).track_id
    gc.collect()
    before = snapshot(timed_app)
    status, _polls = poll_until_final(client, track_id, kind)
    states, fallback = states_from_envelope(client, status, group, kind)
    change = delta(before, snapshot(timed_app))
    wrong = [key for key, state in states.items() if (state in VALID) == (key == rejected.key)]
    return {"documents": len(group), "change": change, "fallback": fallback, "wrong": wrong,
            "rejected": rejected.key, "state": states[rejected.key]}


def print_status(results):
    print("(b) status of every document, envelopes of up to 500 (processing_polls=0)")
    for kind, r in results.items():
        batched, naive, n, s = r["batched"], r["naive"], r["documents"], r["sample"]
        per_doc_naive = naive["wall"] / s
        extrapolated = per_doc_naive * n
        naive_calls = sum(naive["calls"].values())
        batched_calls = sum(batched["calls"].values())
        query = "getEstUp" if kind == ENVIO_DTE else "boleta envelope status"
        single = "getEstDte" if kind == ENVIO_DTE else "boleta estado"
        up = r["uploaded"]
        print(f"  {kind}: {n} documents in {r['envelopes']} envelopes")
        print(f"    uploads (setup, not the measure): {up['wall']:.2f} s, of which simulator checking "
              f"{up['checking']:.2f} s ({n / up['wall']:.0f} docs/s)")
        print(f"    one {query} per envelope: {batched['wall'] * 1000:.1f} ms (cpu {batched['cpu'] * 1000:.1f} ms) "
              f"for all {n} documents ({batched['wall'] / n * 1e6:.1f} us/doc); HTTP calls {batched_calls} = "
              f"{batched_calls / n:.4f} per document {dict(batched['calls'])}; polls {r['polls']}, "
              f"per-document fallback queries {r['fallback']}; valid documents {r['accepted']}/{n}")
        print(f"    baseline, one {single} per document: measured on {s} documents: {naive['wall'] * 1000:.1f} ms "
              f"(cpu {naive['cpu'] * 1000:.1f} ms; {per_doc_naive * 1000:.3f} ms/doc, {naive_calls / s:.2f} HTTP "
              f"calls/doc {dict(naive['calls'])})")
        print(f"      EXTRAPOLATED to {n} documents: {extrapolated:.2f} s (cpu {naive['cpu'] / s * n:.2f} s), "
              f"{naive_calls / s * n:.0f} HTTP calls")
        print(f"    ratio baseline (extrapolated) / per envelope: wall x{extrapolated / batched['wall']:.0f}, "
              f"cpu x{naive['cpu'] / s * n / batched['cpu']:.0f}, HTTP calls x{naive_calls / s * n / batched_calls:.0f}; "
              f"per-document states agree on {r['agree']}/{s} sampled documents")
        m = r["mixed"]
        calls = sum(m["change"]["calls"].values())
        verdict = "all documents classified right" if not m["wrong"] else f"WRONG for {m['wrong'][:5]}"
        print(f"    one envelope of {m['documents']} with document {m['rejected']} forced rejected: "
              f"{m['change']['wall'] * 1000:.1f} ms, HTTP calls {calls} {dict(m['change']['calls'])}, "
              f"fallback queries {m['fallback']}; rejected one seen as {m['state'].value}; {verdict}")


# --- small measurements -------------------------------------------------------------------------


def xsd_compile_cost(envelopes):
    """Seconds a thread's first validation costs over its second (the XSD compile): the simulator's
    server runs each request in a new thread, and schema.py caches compiled XSDs per thread."""
    costs = {}
    for kind, data in envelopes.items():
        root = etree.fromstring(data)
        first, second = [], []

        def run(root=root, first=first, second=second):
            for timings in (first, second):
                started = time.perf_counter()
                schema.validation_errors(root)
                timings.append(time.perf_counter() - started)

        for _ in range(5):  # the fastest of 5 fresh threads: the least disturbed by other load
            thread = threading.Thread(target=run)
            thread.start()
            thread.join()
        costs[kind] = min(first) - min(second)
    return costs


def _load():
    try:
        return "/".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run (seconds, not minutes)")
    args = parser.parse_args()
    config = QUICK if args.quick else FULL
    envelopes, per_envelope, sample_size = config["envelopes"], config["per_envelope"], config["sample"]
    pool_size = max(envelopes * per_envelope, *(size * reps for _t, size, reps in config["a_plan"]))

    print(f"bench_transport{' --quick' if args.quick else ''}: Python {platform.python_version()}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs, load average {_load()}; simulator on 127.0.0.1 in this "
          "process")
    started = time.perf_counter()
    authority = identities.TestAuthority()
    certificate = certificate_module.load_pkcs12(identities.make_pkcs12(HOLDER_RUT, "Firmante Bench", "pw"), "pw")
    cafs = {
        document_type: caf_module.load_caf(authority.issue_caf(ISSUER_RUT, "Comercial Benchmark SpA", document_type,
                                                               1, pool_size), authority.trusted_keys())
        for document_type in (FACTURA, BOLETA)
    }
    print(f"setup (authority, certificate, 2 CAFs of {pool_size} folios): {time.perf_counter() - started:.2f} s")

    print("\nbuilt beforehand (client side, excluded from the transport timings)")
    pools = {}
    for document_type in (FACTURA, BOLETA):
        pools[document_type], seconds = issue_documents(document_type, pool_size, cafs[document_type], certificate)
        print(f"    dte.issue type {document_type}: {pool_size} documents in {seconds:.2f} s = "
              f"{seconds / pool_size * 1000:.3f} ms/doc ({pool_size / seconds:.0f} docs/s)")
    make_envelope = EnvelopeBuilder(certificate)

    simulator = SiiSimulator(authority=authority, processing_polls=0)
    timed_app = TimedApp(simulator)
    with start_simulator(timed_app) as running, SiiClient(
        "certification", certificate, ISSUER_RUT, base_url=running.base_url, token_cache=MemoryTokenCache(),
    ) as client:
        # first contact: tokens (SOAP and REST), zeep reading the WSDLs; then everything is warm
        before = snapshot(timed_app)
        for document_type in (FACTURA, BOLETA):
            kind = KIND_OF[document_type]
            poll_until_final(client, client.upload_envelope(make_envelope(pools[document_type][:1])).track_id, kind)
        cold = delta(before, snapshot(timed_app))
        print(f"    first contact (2 tokens, WSDLs, 1 EnvioDTE + 1 EnvioBOLETA of 1 document, untimed below): "
              f"{cold['wall'] * 1000:.0f} ms, {sum(cold['calls'].values())} HTTP calls")
        xsd = xsd_compile_cost({kind: make_envelope(pools[t][:1]) for t, kind in KIND_OF.items()})
        print("    simulator: XSD compiled again in each request thread (schema.py caches per thread; "
              "the server starts a thread per request): "
              + ", ".join(f"{kind} {seconds * 1000:.1f} ms/upload" for kind, seconds in xsd.items()))

        print()
        rows = bench_upload(timed_app, client, pools, make_envelope, config["a_plan"])
        print_upload(rows)

        print()
        results = bench_status(timed_app, client, pools, make_envelope, envelopes, per_envelope, sample_size)
        print_status(results)

    print("\nenvelope building (client side, excluded above): "
          + ", ".join(f"{kind} {make_envelope.seconds[kind] / make_envelope.documents[kind] * 1000:.3f} ms/doc"
                      for kind in make_envelope.seconds))
    print(f"total run time: {time.perf_counter() - started:.1f} s; load average now {_load()}")


if __name__ == "__main__":
    main()
