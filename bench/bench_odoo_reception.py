"""Issue 13 benchmark: a supplier's EnvioDTE turned into verified draft vendor bills, against posting an invoice.

Run it through ``odoo-bin shell`` (stdin), in a throwaway database with l10n_cl and l10n_cl_dte installed;
bench/run_odoo_reception.sh does all of that. Everything happens in one transaction, rolled back at the end.

One Chilean company set up as tests/common.py does (stand-in SII key in the simulator environment, 2048-bit
certificate, CAF 33). A stand-in supplier (sii_engine.stand_in_supplier: another company, its own certificate
and CAFs from the same stand-in SII) issues BENCH_DOCUMENTS (500) facturas of BENCH_LINES (10) lines to the
company and puts them in one EnvioDTE; the supplier's products are half known to the company (by the supplier's
code), half not. Built before any clock starts.

* **Reception** (the figure of the issue): the envelope goes through the DTE inbox as an upload would
  (``l10n_cl_dte.received.file._l10n_cl_dte_intake``): kept, read by the engine's verifier (schema,
  signatures, TED, CAF), every document recorded with its XML, a draft vendor bill per document (partner,
  products, taxes, totals checked against the DTE's), the deadline's activity, the signed reception answer
  e-mailed (queued). Timed with a cold record cache and a flush at the end, per document. The engine's part
  alone (``receive_envelope`` on the same bytes) is timed apart, for the split.
* **Baseline**, in the same run: BENCH_INVOICES (60) invoices of the same BENCH_LINES lines posted one by one
  with ``action_post`` with the DTE step (folio, TED, signature, schema), as bench_odoo_posting.py does: cold
  cache, flush included. The reception is run in two halves around the posting, so the machine's load falls
  on both.

Target: reception per document / posting per invoice <= BENCH_TARGET (1.0). The exit status says whether it holds.
"""

import os
import random
import statistics
import sys
import threading
import time
from decimal import Decimal

from odoo import Command, fields
from odoo.addons.l10n_cl_dte.sii_engine import document as engine_document
from odoo.addons.l10n_cl_dte.sii_engine import exchange as engine_exchange
from odoo.addons.l10n_cl_dte.sii_engine import identities
from odoo.addons.l10n_cl_dte.sii_engine.stand_in_supplier import StandInSupplier
from odoo.addons.l10n_cl_dte.tests.chilean_company import COMPANY_RUT, setup_chilean_company, vat_19

env = globals().get("env")
if env is None:
    sys.exit("Run this through odoo-bin shell with a database: bench/run_odoo_reception.sh")

N_DOCUMENTS = int(os.environ.get("BENCH_DOCUMENTS", 500))
N_LINES = int(os.environ.get("BENCH_LINES", 10))
N_INVOICES = int(os.environ.get("BENCH_INVOICES", 60))
WARMUP = int(os.environ.get("BENCH_WARMUP", 3))
TARGET = float(os.environ.get("BENCH_TARGET", "1.0"))
SEED = int(os.environ.get("BENCH_SEED", 13))
PROFILE = int(os.environ.get("BENCH_PROFILE", 0))  # documents of an extra envelope received under cProfile
STEP_DOCUMENTS = int(os.environ.get("BENCH_STEPS", 100))  # documents of an extra envelope timed step by step

cr = env.cr
thread = threading.current_thread()
thread.query_count = 0
thread.query_time = 0.0


def log(message):
    print(message, flush=True)


def ms(seconds):
    return seconds * 1000.0


def load():
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def setup():
    authority = identities.TestAuthority()
    company = setup_chilean_company(env, authority, "Receptora Bench SpA", cafs={33: N_INVOICES + WARMUP + 10},
                                    l10n_cl_dte_email="dte@receptora.example")
    env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "purchase")]).write(
        {"l10n_latam_use_documents": True})
    admin = env.ref("base.user_admin")
    admin.write({"company_ids": [Command.link(company.id)]})
    user_env = env(user=admin, context=dict(env.context, allowed_company_ids=[company.id], tz="America/Santiago"))
    supplier = StandInSupplier(authority)
    rng = random.Random(SEED)
    catalogue = [(f"Articulo de ferreteria {index:03d}", f"FER-{index:03d}", rng.choice([990, 1490, 4990, 12990]))
                 for index in range(40)]
    known = env["product.product"].create([{"name": name, "type": "consu", "default_code": code}
                                           for name, code, _price in catalogue[:20]])
    customer = env["res.partner"].create({
        "name": "Cliente Bench SpA", "is_company": True, "country_id": env.ref("base.cl").id,
        "l10n_latam_identification_type_id": env.ref("l10n_cl.it_RUT").id, "vat": "60803000-K",
        "l10n_cl_sii_taxpayer_type": "1", "l10n_cl_activity_description": "Comercio", "street": "Teatinos 120",
        "city": "Santiago",
    })
    sale_journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "sale")], limit=1)
    sale_journal.l10n_latam_use_documents = True
    env.flush_all()
    return {"sale_journal": sale_journal, "authority": authority, "company": company, "supplier": supplier,
            "catalogue": catalogue, "known": known, "user_env": user_env, "rng": rng, "customer": customer,
            "vat": vat_19(env, company)}


def supplier_envelope(ctx, first_folio, count):
    supplier, rng = ctx["supplier"], ctx["rng"]
    receiver = engine_document.Receiver(COMPANY_RUT, ctx["company"].name, "Servicios informaticos", "Teatinos 120",
                                        "Santiago", "Santiago")
    dtes = []
    for folio in range(first_folio, first_folio + count):
        lines = [engine_document.Line(name, Decimal(rng.choice([1, 2, 3, 5, 10, 24])), Decimal(price),
                                      item_code=("INT1", code))
                 for name, code, price in rng.sample(ctx["catalogue"], N_LINES)]
        dtes.append(supplier.issue(supplier.document(33, folio, receiver, lines=lines,
                                                     issue_date=fields.Date.today())))
    return supplier.envelope(dtes, COMPANY_RUT)


def measured(function):
    env.flush_all()
    env.invalidate_all()
    queries, sql_time = thread.query_count, thread.query_time
    cpu = time.process_time()
    started = time.perf_counter()
    result = function()
    cr.flush()
    return result, {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                    "queries": thread.query_count - queries, "sql": thread.query_time - sql_time}


def receive(ctx, envelope, name):
    File = ctx["user_env"]["l10n_cl_dte.received.file"].sudo()
    files, measure = measured(lambda: File._l10n_cl_dte_intake([(name, envelope)], company_id=ctx["company"].id,
                                                                source="upload"))
    received = files.received_ids
    bills = received.move_id
    if files.state != "done" or len(bills) != len(received) or set(received.mapped("state")) != {"received"}:
        raise AssertionError(f"{name}: {files.state} {files.reason} ({len(bills)} bills of {len(received)})")
    wrong = [(record.display_name, record.booking_message) for record in received if record.booking_message]
    if wrong:
        raise AssertionError(f"bills that differ from their DTE: {wrong[:3]}")
    return len(received), measure


def post_invoices(ctx, count):
    rng, products = ctx["rng"], ctx["known"]
    journal = ctx["sale_journal"]
    moves = ctx["user_env"]["account.move"].create([{
        "move_type": "out_invoice", "partner_id": ctx["customer"].id, "journal_id": journal.id,
        "invoice_date": fields.Date.today(), "l10n_latam_document_type_id": env.ref("l10n_cl.dc_a_f_dte").id,
        "invoice_line_ids": [Command.create({"product_id": product.id, "quantity": rng.choice([1, 2, 3, 5]),
                                             "price_unit": rng.choice([990, 1490, 4990, 12990]),
                                             "tax_ids": [Command.set(ctx["vat"].ids)]})
                             for product in rng.sample(list(products), N_LINES)],
    } for _index in range(count)])
    samples = []
    for move in moves:
        _result, measure = measured(move.action_post)
        if not (move.state == "posted" and move.l10n_cl_dte_status == "to_send"):
            raise AssertionError(f"{move.display_name}: {move.state} {move.l10n_cl_dte_status}")
        samples.append(measure)
    return samples


def main():
    log(f"== l10n_cl_dte reception bench: {N_DOCUMENTS} supplier facturas of {N_LINES} lines vs posting "
        f"{N_INVOICES} invoices (load {load()})")
    started = time.perf_counter()
    ctx = setup()
    half = N_DOCUMENTS // 2
    warm = supplier_envelope(ctx, 1, WARMUP)
    first = supplier_envelope(ctx, 100, half)
    second = supplier_envelope(ctx, 100 + half, N_DOCUMENTS - half)
    log(f"setup and {N_DOCUMENTS + WARMUP} supplier DTEs built in {time.perf_counter() - started:.1f} s "
        f"(envelopes {len(first) / 1e6:.1f} + {len(second) / 1e6:.1f} MB)")

    trusted = ctx["authority"].trusted_keys()
    engine_started = time.perf_counter()
    for envelope in (first, second):
        delivery = engine_exchange.receive_envelope(
            engine_exchange.sniff(envelope).root, company_rut=COMPANY_RUT, envelope_code=1, file_name="e.xml",
            trusted_keys=trusted)
        assert all(document.received for document in delivery.documents)
    engine_seconds = time.perf_counter() - engine_started

    receive(ctx, warm, "warm.xml")
    post_invoices(ctx, WARMUP)
    count_1, reception_1 = receive(ctx, first, "EnvioDTE_1.xml")
    postings = post_invoices(ctx, N_INVOICES)
    count_2, reception_2 = receive(ctx, second, "EnvioDTE_2.xml")
    documents = count_1 + count_2
    reception = {key: reception_1[key] + reception_2[key] for key in reception_1}
    per_document = reception["seconds"] / documents
    posting = statistics.fmean(sample["seconds"] for sample in postings)
    ratio = per_document / posting

    log("")
    log(f"{'':42}{'ms/doc':>10}{'CPU ms':>10}{'SQL ms':>10}{'queries':>10}")
    log(f"{'reception (inbox → verified draft bill)':42}{ms(per_document):10.1f}"
        f"{ms(reception['cpu'] / documents):10.1f}{ms(reception['sql'] / documents):10.1f}"
        f"{reception['queries'] / documents:10.1f}")
    log(f"{'  of which the engine (receive_envelope)':42}{ms(engine_seconds / documents):10.1f}")
    log(f"{'  first / second half':42}{ms(reception_1['seconds'] / count_1):10.1f}"
        f"{ms(reception_2['seconds'] / count_2):10.1f}")
    log(f"{'posting an invoice with the DTE step':42}{ms(posting):10.1f}"
        f"{ms(statistics.fmean(s['cpu'] for s in postings)):10.1f}"
        f"{ms(statistics.fmean(s['sql'] for s in postings)):10.1f}"
        f"{statistics.fmean(s['queries'] for s in postings):10.1f}")
    log(f"{'  median / p90':42}{ms(statistics.median(s['seconds'] for s in postings)):10.1f}"
        f"{ms(statistics.quantiles([s['seconds'] for s in postings], n=10)[-1]):10.1f}")
    log("")
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    cpu_ratio = (reception["cpu"] / documents) / statistics.fmean(sample["cpu"] for sample in postings)
    log(f"ratio reception per document / posting per invoice: {ratio:.2f} ({verdict}, target <= {TARGET}); "
        f"in this process's CPU time: {cpu_ratio:.2f}")
    log(f"{documents} documents received, {len(postings)} invoices posted; load {load()}; "
        f"{time.perf_counter() - started:.0f} s in all")
    if STEP_DOCUMENTS:
        timed_steps(ctx, STEP_DOCUMENTS)
    if PROFILE:
        profile(ctx)
    cr.rollback()
    return 0 if ratio <= TARGET else 1


STEPS = (
    ("l10n_cl_dte.received", "_l10n_cl_dte_record_documents", "record the documents and their XML"),
    ("l10n_cl_dte.received", "_l10n_cl_dte_bill_values", "bill values (partner, products, taxes)"),
    ("l10n_cl_dte.received", "_l10n_cl_dte_create_bills", "account.move create (batches)"),
    ("l10n_cl_dte.received", "_l10n_cl_dte_bill_made", "link, totals check, XML on the bill"),
    ("l10n_cl_dte.received", "_l10n_cl_dte_schedule_deadline", "deadline activities"),
    ("l10n_cl_dte.received.file", "_l10n_cl_dte_send_reception_answer", "signed reception answer e-mailed"),
)


def timed_steps(ctx, documents):
    """Wall-clock time of the reception's steps, per document, over one more envelope (methods wrapped)."""
    totals = {}
    originals = []
    for model, name, _label in STEPS:
        cls = type(env[model])
        original = getattr(cls, name)

        def wrapper(self, *args, _original=original, _name=name, **kwargs):
            started = time.perf_counter()
            try:
                return _original(self, *args, **kwargs)
            finally:
                totals[_name] = totals.get(_name, 0.0) + time.perf_counter() - started

        setattr(cls, name, wrapper)
        originals.append((cls, name, original))
    try:
        count, measure = receive(ctx, supplier_envelope(ctx, 200 + N_DOCUMENTS + PROFILE, documents), "steps.xml")
    finally:
        for cls, name, original in originals:
            setattr(cls, name, original)
    log(f"where the time goes ({count} documents, ms per document):")
    for _model, name, label in STEPS:
        log(f"  {label:44}{ms(totals.get(name, 0.0) / count):8.1f}")
    log(f"  {'all of the reception':44}{ms(measure['seconds'] / count):8.1f}")


def profile(ctx):
    """Where the reception's time goes: one more envelope of BENCH_PROFILE documents under cProfile."""
    import cProfile
    import io
    import pstats

    envelope = supplier_envelope(ctx, 100 + N_DOCUMENTS, PROFILE)
    profiler = cProfile.Profile()
    profiler.enable()
    receive(ctx, envelope, "profile.xml")
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(45)
    log(out.getvalue())


status = main()
sys.exit(status)
