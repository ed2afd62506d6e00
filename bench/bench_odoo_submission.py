"""Benchmark: posted invoices sent to the SII and polled to accepted by the scheduled actions.

Run it through ``odoo-bin shell --no-http`` (stdin), in a throwaway database with l10n_cl and l10n_cl_dte
installed; bench/run_odoo_submission.sh does all of that. Unlike bench_odoo_posting.py this one COMMITS: the
scheduled actions commit each batch themselves (``_commit`` commits outside tests). The runner drops the
database at the end.

Setup: one Chilean company (chart ``cl``, IVA 19%) as the tests set it up (bench/odoo_harness.py): a stand-in SII key
(simulator environment), a 2048-bit signing certificate, a CAF of type 33, customers with RUT, giro and
address, a sale journal using documents, customer exchange e-mail "never". The SII is the local simulator
(sii_engine.simulator) started in this process on 127.0.0.1 (ephemeral port) with ``processing_polls=1``: the
first status query of an envelope answers "in process", the second one the final answer.

Measured:

* posting: BENCH_INVOICES invoices (1 to 3 lines each, fixed seed) created, then posted with ``action_post`` in
  batches of BENCH_POST_BATCH, each batch committed (posting stamps and signs: status "to send");
* send + poll: ``_cron_l10n_cl_dte_send()`` once, then rounds of ``_cron_l10n_cl_dte_poll()`` until no document
  is waiting. Between rounds the waiting envelopes' ``next_poll_at`` is set in the past (the poller would
  otherwise wait 30 s after an upload, then longer): the figures are the work done, not the SII's delays;
* the SII calls the simulator counted, by endpoint, per document and per envelope; and the simulator's own
  checking of the envelopes (``processing_stats()``: parsing, schema, signatures, CAFs, amounts), which runs in
  this same process and is the baseline to subtract to get what the Odoo side costs.

Settings (environment): BENCH_INVOICES (2000), BENCH_POST_BATCH (100), BENCH_SEED (4), BENCH_MAX_POLL_ROUNDS (10).
"""

import random
import sys
import time
from datetime import timedelta

from odoo import Command, fields
from odoo.addons.l10n_cl_dte.bench import odoo_harness as harness
from odoo.addons.l10n_cl_dte.bench.odoo_harness import log
from odoo.addons.l10n_cl_dte.models import l10n_cl_dte_envelope as envelope_model
from odoo.addons.l10n_cl_dte.models import l10n_cl_dte_sii_document as document
from odoo.addons.l10n_cl_dte.sii_engine import identities
from odoo.addons.l10n_cl_dte.sii_engine.simulator import start_simulator

env = globals().get("env")
if env is None:
    sys.exit("Run this through odoo-bin shell with a database: bench/run_odoo_submission.sh")

N_INVOICES = harness.setting("BENCH_INVOICES", 2000)
POST_BATCH = harness.setting("BENCH_POST_BATCH", 100)
SEED = harness.setting("BENCH_SEED", 4)
MAX_POLL_ROUNDS = harness.setting("BENCH_MAX_POLL_ROUNDS", 10)

cr = env.cr
harness.start_sql_counters()


# --- setup -----------------------------------------------------------------------------------------


def setup(simulator, authority):
    company, vat_19 = harness.bench_company(
        env, authority, "Bench Envio SpA", cafs={33: N_INVOICES + 100}, l10n_cl_dte_simulator_url=simulator.base_url,
    )
    customers = harness.chilean_customers(env, 12, "Envio")
    products = env["product.product"].create([
        {"name": name, "type": kind, "list_price": price, "company_id": False}
        for name, kind, price in [
            ("Asesoria en sistemas", "service", 25000),
            ("Licencia anual de software", "service", 180000),
            ("Notebook 14 pulgadas", "consu", 649990),
            ("Cable HDMI 2 m", "consu", 4990),
            ("Soporte tecnico (hora)", "service", 32000),
        ]
    ])
    journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "sale")], limit=1)
    journal.l10n_latam_use_documents = True
    cr.commit()
    return {
        "company": company,
        "customers": customers,
        "products": products,
        "vat": vat_19,
        "journal": journal,
        "doc_33": env.ref("l10n_cl.dc_a_f_dte"),
        "env": env(context=dict(env.context, allowed_company_ids=[company.id], tz="America/Santiago")),
    }


def create_invoices(ctx, rng):
    moves_env = ctx["env"]["account.move"]
    today = fields.Date.context_today(moves_env)
    vals_list = []
    for _index in range(N_INVOICES):
        lines = []
        for _line in range(rng.randint(1, 3)):
            product = rng.choice(ctx["products"])
            lines.append(Command.create({
                "product_id": product.id,
                "quantity": rng.choice([1, 1, 2, 3, 5, 10]),
                "price_unit": float(max(10, round(product.list_price * rng.choice([0.8, 1, 1, 1.1]) / 10) * 10)),
                "tax_ids": [Command.set(ctx["vat"].ids)],
            }))
        vals_list.append({
            "move_type": "out_invoice",
            "partner_id": rng.choice(ctx["customers"]).id,
            "journal_id": ctx["journal"].id,
            "invoice_date": today,
            "l10n_latam_document_type_id": ctx["doc_33"].id,
            "invoice_line_ids": lines,
        })
    moves = moves_env.browse()
    for start in range(0, len(vals_list), 100):
        moves |= moves_env.create(vals_list[start:start + 100])
        cr.commit()
    return moves


def post_invoices(moves):
    """``action_post`` in batches, each committed: wall and process CPU seconds, SQL queries and seconds."""
    with harness.Measure() as measure:
        for start in range(0, len(moves), POST_BATCH):
            batch = moves[start:start + POST_BATCH]
            batch.action_post()
            cr.commit()
            env.invalidate_all()
    return measure


# --- timing of the steps ---------------------------------------------------------------------------

# (label, module under odoo.addons, class name or None, attribute): wall-clock timers, no profiler.
STEPS = [
    ("_l10n_cl_dte_lock_pending (SELECT ... FOR UPDATE SKIP LOCKED)", "l10n_cl_dte.models.l10n_cl_dte_sii_document",
     "L10nClDteSiiDocument", "_l10n_cl_dte_lock_pending"),
    ("_l10n_cl_dte_sendable (read + XSD-check each signed DTE)", "l10n_cl_dte.models.l10n_cl_dte_sii_document",
     "L10nClDteSiiDocument", "_l10n_cl_dte_sendable"),
    ("build_envelope (EnvioDTE, signed)", "l10n_cl_dte.sii_engine.envelope", None, "build_envelope"),
    ("SiiClient.upload_envelope (HTTP + simulator check)", "l10n_cl_dte.sii_engine.transport.client", "SiiClient",
     "upload_envelope"),
    ("_l10n_cl_dte_lock_due_envelopes", "l10n_cl_dte.models.l10n_cl_dte_submission", "L10nClDteEnvelope",
     "_l10n_cl_dte_lock_due_envelopes"),
    ("SiiClient.envelope_status (getEstUp)", "l10n_cl_dte.sii_engine.transport.client", "SiiClient",
     "envelope_status"),
    ("SiiClient.document_status (getEstDte)", "l10n_cl_dte.sii_engine.transport.client", "SiiClient",
     "document_status"),
    ("_l10n_cl_dte_set_outcome (write + chatter)", "l10n_cl_dte.models.l10n_cl_dte_sii_document",
     "L10nClDteSiiDocument", "_l10n_cl_dte_set_outcome"),
    ("commit_batch (COMMIT after each batch)", "l10n_cl_dte.models.l10n_cl_dte_submission", None, "commit_batch"),
    ("commit_batch (COMMIT before each upload)", "l10n_cl_dte.models.l10n_cl_dte_sii_document", None,
     "commit_batch"),
]


# --- send and poll ---------------------------------------------------------------------------------


def status_counts(company):
    cr.execute(
        "SELECT l10n_cl_dte_status, count(*) FROM account_move WHERE company_id = %s AND state = 'posted'"
        " GROUP BY 1 ORDER BY 1",
        (company.id,),
    )
    return dict(cr.fetchall())


def send_and_poll(ctx):
    envelopes_model = env["l10n_cl_dte.envelope"]
    company = ctx["company"]
    timings = {}
    cr.commit()
    env.invalidate_all()
    with harness.StepClock(STEPS) as clock:
        cpu = time.process_time()
        with harness.Measure() as send:
            envelopes_model._cron_l10n_cl_dte_send()
            cr.commit()
        timings["send"], timings["send_queries"], timings["send_sql"] = send.seconds, send.queries, send.sql
        after_send = status_counts(company)
        rounds = 0
        poll_seconds = poll_sql = 0.0
        poll_queries = 0
        while status_counts(company).get("sent") and rounds < MAX_POLL_ROUNDS:
            # Not timed: make every waiting envelope due now (the poller waits 30 s after an upload otherwise).
            cr.execute(
                "UPDATE l10n_cl_dte_envelope SET next_poll_at = %s WHERE company_id = %s AND state IN %s",
                (fields.Datetime.now() - timedelta(seconds=1), company.id, envelope_model.WAITING_STATES),
            )
            cr.commit()
            env.invalidate_all()
            with harness.Measure() as poll:
                envelopes_model._cron_l10n_cl_dte_poll()
                cr.commit()
            poll_seconds += poll.seconds
            poll_queries += poll.queries
            poll_sql += poll.sql
            rounds += 1
        timings["poll"], timings["poll_queries"], timings["poll_sql"] = poll_seconds, poll_queries, poll_sql
        timings["cpu"] = time.process_time() - cpu
    timings["rounds"] = rounds
    return timings, clock, after_send


# --- output ----------------------------------------------------------------------------------------


def main():
    rng = random.Random(SEED)
    harness.banner(env, "l10n_cl_dte submission benchmark")
    authority = identities.TestAuthority()
    simulator = start_simulator(authority=authority, host="127.0.0.1", port=0, processing_polls=1)
    sii = simulator.app
    try:
        started = time.perf_counter()
        ctx = setup(simulator, authority)
        log(f"setup: company, chart cl, certificate, CAF, {len(ctx['customers'])} customers; SII simulator at "
            f"{simulator.base_url} ({time.perf_counter() - started:.1f} s)")
        started = time.perf_counter()
        moves = create_invoices(ctx, rng)
        lines = sum(len(move.invoice_line_ids) for move in moves)
        log(f"created {len(moves)} draft invoices, {lines} lines ({time.perf_counter() - started:.1f} s)")

        posting = post_invoices(moves)
        post_wall = posting.seconds
        counts = status_counts(ctx["company"])
        if counts != {"to_send": N_INVOICES}:
            raise AssertionError(f"after posting: {counts}")

        sii.reset()
        timings, clock, after_send = send_and_poll(ctx)
        counts = status_counts(ctx["company"])
        calls = sii.calls
        uploads = sii.uploads
        stats = sii.processing_stats()
        cr.execute(
            "SELECT count(*), count(*) FILTER (WHERE state = 'accepted') FROM l10n_cl_dte_envelope"
            " WHERE company_id = %s", (ctx["company"].id,),
        )
        envelopes, accepted_envelopes = cr.fetchone()
        received = sum(len(sii.envelope(u["track_id"])["documents"]) for u in uploads if u["track_id"] is not None)
    finally:
        simulator.stop()

    n = N_INVOICES
    total = timings["send"] + timings["poll"]
    sim = stats["seconds"]
    log()
    log(f"Posting {n} invoices (1-3 lines, IVA 19%), action_post in batches of {POST_BATCH}, each committed")
    log(f"  {'wall s':>8} {'ms/invoice':>11} {'invoices/s':>11} {'CPU ms/inv':>11} {'SQL ms/inv':>11} "
        f"{'queries/inv':>12}")
    log(f"  {post_wall:>8.1f} {post_wall / n * 1000:>11.1f} {n / post_wall:>11.1f} "
        f"{posting.cpu / n * 1000:>11.1f} {posting.sql / n * 1000:>11.1f} {posting.queries / n:>12.1f}")
    log()
    log(f"Send + poll to accepted: _cron_l10n_cl_dte_send once, _cron_l10n_cl_dte_poll x {timings['rounds']} "
        f"(next_poll_at set in the past between rounds, untimed)")
    log(f"  {'phase':<36} {'wall s':>8} {'ms/doc':>8} {'docs/s':>8} {'SQL s':>7} {'queries':>8}")
    rows = [
        ("send (build, record, upload)", timings["send"], timings["send_sql"], timings["send_queries"]),
        ("poll (status, outcome, chatter)", timings["poll"], timings["poll_sql"], timings["poll_queries"]),
        ("send + poll", total, timings["send_sql"] + timings["poll_sql"],
         timings["send_queries"] + timings["poll_queries"]),
        ("  simulator's own checking", sim, None, None),
        ("  send + poll - simulator checking", total - sim, None, None),
    ]
    for label, seconds, sql, queries in rows:
        extra = f" {sql:>7.2f} {queries:>8}" if sql is not None else ""
        log(f"  {label:<36} {seconds:>8.2f} {seconds / n * 1000:>8.2f} {n / seconds if seconds else 0:>8.0f}{extra}")
    log(f"  process CPU during send + poll: {timings['cpu']:.1f} s (Odoo and the simulator share this process)")
    log(f"  after send: {after_send}; at the end: {counts}")
    log(f"  envelopes: {envelopes} ({accepted_envelopes} accepted; SEND_BATCH {document.SEND_BATCH['EnvioDTE']}),"
        f" uploads received {len(uploads)}, documents received {received}, "
        f"duplicate uploads {len(sii.duplicate_uploads())}")
    log(f"  simulator processing_stats: {stats['envelopes']} envelopes, {stats['documents']} documents, "
        f"{stats['seconds']:.2f} s, {(stats['seconds_per_document'] or 0) * 1000:.2f} ms/document (baseline)")
    log()
    call_total = sum(calls.values())
    log(f"SII calls (counted by the simulator): {call_total} for {n} documents in {envelopes} envelopes")
    log(f"  {'endpoint':<12} {'calls':>6} {'per document':>13} {'per envelope':>13}")
    for endpoint, count in sorted(calls.items(), key=lambda item: (-item[1], item[0])):
        log(f"  {endpoint:<12} {count:>6} {count / n:>13.4f} {count / max(envelopes, 1):>13.2f}")
    log(f"  {'total':<12} {call_total:>6} {call_total / n:>13.4f} {call_total / max(envelopes, 1):>13.2f}")
    log()
    log("Where the send + poll time goes (wall clock, outermost calls):")
    log(f"  {'step':<62} {'s':>7} {'ms/doc':>7} {'calls':>6}")
    for label, *_where in STEPS:
        if clock.calls[None, label]:
            seconds = clock.seconds[None, label]
            log(f"  {label:<62} {seconds:>7.2f} {seconds / n * 1000:>7.2f} {clock.calls[None, label]:>6}")
    log()
    ok = counts == {"accepted": n} and not sii.duplicate_uploads() and received == n
    log(f"load average at the end: {harness.load_average()}")
    log(f"{'OK' if ok else 'PROBLEM'}: {n} documents, {counts}; posting {n / post_wall:.1f} invoices/s; "
        f"send + poll {n / total:.0f} docs/s ({(total - sim) / n * 1000:.2f} ms/doc without the simulator's "
        f"checking); {call_total / n:.4f} SII calls per document in {envelopes} envelopes")
    if not ok:
        sys.exit(1)


main()
