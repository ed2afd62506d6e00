"""Benchmark: what the boleta adds to a POS sale, and the time from payment to receipt.

Run it through ``odoo-bin shell --no-http`` (stdin), in a throwaway database with l10n_cl, point_of_sale and
l10n_cl_dte installed; bench/run_odoo_pos.sh does all of that, and starts an Odoo server on 127.0.0.1 for the
HTTP part. Like a POS server, the bench COMMITS each synchronised order (one request = one transaction); the
runner drops the database at the end.

Setup: one Chilean company (chart ``cl``) as the tests set it up (bench/odoo_harness.py): a stand-in SII
key (simulator environment), a 2048-bit signing certificate, a CAF of type 39 (512-bit key, as the SII's), three
products with IVA 19% included in the shelf price, a cash payment method, one pos.config whose session is open,
and a cashier who synchronises the orders: an internal user with only the POS user group, as a shop's cashiers are.
That cashier is probed first with one boleta in a savepoint rolled back; should it be refused (the boleta reading
records only invoicing users may read: fixed in 808aa12), the bench says so and measures with a second cashier who
also has Invoicing/Billing.

Measured, for the same pos.config, with the company's ``l10n_cl_dte_environment`` switched between batches:

* ON ("simulator"): every paid order takes a folio, its boleta 39 is built, stamped, signed, schema-validated and
  attached while ``sync_from_ui`` runs; the answer carries the receipt's PDF417 stamp as a PNG data URL;
* OFF (False): the same company without electronic documents: plain point_of_sale synchronisation.

1. Throughput: BENCH_ORDERS paid orders per mode (3 lines, cash), one order per ``sync_from_ui`` call as the POS
   sends them, called in this process as the cashier with a cold record cache; each order is timed through
   ``sync_from_ui`` (which reads the answer), ``cr.flush()``, ``cr.commit()`` and the JSON encoding of the answer
   (what the server's request does, minus HTTP). Modes alternate in batches of BENCH_BATCH in ABBA order after a
   warm-up of BENCH_WARMUP orders per mode. Target: the boleta adds <= BENCH_TARGET_MS (30) ms per order (mean).
2. Where the boleta's time goes: BENCH_STEP_ORDERS more orders per mode, alternating, with wall-clock timers around
   the addon's steps (folio, engine issue and its stages, attachment, receipt PNG, the read of the answer).
3. Payment to receipt ready: the round trip the POS waits for between Validate and the receipt. Over real HTTP
   when the runner gives BENCH_HTTP_URL (JSON-RPC ``/web/dataset/call_kw/pos.order/sync_from_ui``, logged in as
   the cashier, against the odoo-bin server the runner started): BENCH_HTTP_ORDERS per mode, ABBA batches, client
   clock around the POST and the decoding of the answer. In-process figures of part 1 are printed beside them.

Settings (environment): BENCH_QUICK=1 (small run), BENCH_ORDERS (200), BENCH_BATCH (20), BENCH_WARMUP (10),
BENCH_STEP_ORDERS (40), BENCH_HTTP_ORDERS (100), BENCH_HTTP_URL (unset: no HTTP part), BENCH_TARGET_MS (30).
"""

import json
import os
import statistics
import sys
import time
from datetime import date

import requests

from odoo import Command
from odoo.addons.l10n_cl_dte.bench import odoo_harness as harness
from odoo.addons.l10n_cl_dte.bench.odoo_harness import log, ms
from odoo.addons.l10n_cl_dte.sii_engine import identities
from odoo.addons.l10n_cl_dte.tests.pos_order_data import pos_order_data
from odoo.tools import json_default

env = globals().get("env")
if env is None:
    sys.exit("Run this through odoo-bin shell with a database: bench/run_odoo_pos.sh")

N_ORDERS = harness.setting("BENCH_ORDERS", 200, quick=40)
BATCH = harness.setting("BENCH_BATCH", 20, quick=10)
WARMUP = harness.setting("BENCH_WARMUP", 10, quick=5)
N_STEPS = harness.setting("BENCH_STEP_ORDERS", 40, quick=10)
N_HTTP = harness.setting("BENCH_HTTP_ORDERS", 100, quick=20)
HTTP_URL = os.environ.get("BENCH_HTTP_URL", "").rstrip("/")
TARGET_MS = float(os.environ.get("BENCH_TARGET_MS", "30"))

CASHIER_PASSWORD = "bench-pos-cashier"
# login: groups. The first is the cashier of the measurements unless the probe finds it cannot issue a boleta.
CASHIERS = {
    "bench_pos_cashier": ["base.group_user", "point_of_sale.group_pos_user"],
    "bench_pos_billing": ["base.group_user", "point_of_sale.group_pos_user", "account.group_account_invoice"],
}
ON, OFF = "on", "off"
MODE_LABEL = {ON: "boleta ON (simulator)", OFF: "boleta OFF (no DTE)"}
# (product index, quantity): 3 lines per order.
ORDER_LINES = [(0, 2), (1, 1), (2, 3)]

cr = env.cr
harness.start_sql_counters()


# --- setup -----------------------------------------------------------------------------------------


def setup():
    """The Chilean company and its DTE identities, products, a POS with an open session, its cashier."""
    started = time.perf_counter()
    authority = identities.TestAuthority()
    boletas = 2 * WARMUP + N_ORDERS + N_STEPS + N_HTTP + 10
    # Plenty of folios left: the low-folio warning stays quiet, as it does most of a CAF's life.
    company, vat_19 = harness.bench_company(
        env, authority, "Bench POS SpA", cafs={39: boletas + 5000},
        l10n_cl_activity_description="Venta al por menor de alimentos", l10n_cl_dte_resolution_number=80,
        l10n_cl_dte_resolution_date="2014-08-22", l10n_cl_sii_regional_office="Santiago Centro",
        l10n_cl_dte_uf_value=39000.0,  # the anonymous boleta limit (135 UF) is checked, as in a shop
    )
    # Outside tests a new company gets its warehouse (and the POS its operation type) from the user.
    env["stock.warehouse"].create({"name": "Bodega Bench", "code": "BNCH", "company_id": company.id})
    cenv = env(context=dict(env.context, allowed_company_ids=[company.id], tz="America/Santiago"))
    caf = env["l10n_cl_dte.caf"].search([("company_id", "=", company.id)])
    # Chilean shelf prices include VAT.
    vat_included = vat_19.copy({"price_include_override": "tax_included", "name": "IVA 19% incl. (bench)"})
    products = cenv["product.product"].create([
        {"name": name, "default_code": code, "available_in_pos": True, "lst_price": price, "type": "consu",
         "company_id": company.id, "taxes_id": [Command.set(vat_included.ids)]}
        for name, code, price in [
            ("Empanada de pino", "EMP01", 2500.0), ("Bebida 500 ml", "BEB01", 1290.0),
            ("Marraqueta (kg)", "PAN01", 2990.0),
        ]
    ])
    sale_journal = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "sale")], order="sequence, id", limit=1
    )
    sale_journal.l10n_latam_use_documents = True
    cash_journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "cash")], limit=1)
    cash = cenv["pos.payment.method"].create({
        "name": "Efectivo", "journal_id": cash_journal.id, "company_id": company.id,
    })
    users = env["res.users"].with_context(no_reset_password=True)
    cashiers = users.create([
        {
            "name": f"Cajera {login}",
            "login": login,
            "email": f"{login}@bench-pos.example",
            "password": CASHIER_PASSWORD,
            "company_id": company.id,
            "company_ids": [Command.set(company.ids)],
            "groups_id": [Command.set([env.ref(xmlid).id for xmlid in groups])],
            "tz": "America/Santiago",
        }
        for login, groups in CASHIERS.items()
    ])
    config = cenv["pos.config"].create({
        "name": "Caja Bench",
        "company_id": company.id,
        "invoice_journal_id": sale_journal.id,
        "payment_method_ids": [Command.set(cash.ids)],
    })
    uenv = env(user=cashiers[0], context={
        "lang": "en_US", "tz": "America/Santiago", "allowed_company_ids": [company.id],
        "config_id": config.id, "login_number": 1,
    })
    config.with_env(uenv).open_ui()
    session = config.current_session_id
    session.with_env(uenv).set_opening_control(0, None)
    lines = [(products[index], quantity) for index, quantity in ORDER_LINES]
    cr.commit()
    return {
        "company": company,
        "caf": caf,
        "config": config,
        "session": session,
        "cashiers": cashiers,
        "cashier": cashiers[0],
        "cash": cash,
        "lines": lines,
        "uenv": uenv,
        "sequence": 0,
        "seconds": time.perf_counter() - started,
    }


def order_data(ctx):
    """What the POS sends for a paid order (as the tests build it): 3 lines, paid in cash."""
    ctx["sequence"] += 1
    return pos_order_data(ctx["session"], ctx["lines"], ctx["cash"], ctx["cashier"], sequence=ctx["sequence"])


def set_mode(ctx, mode):
    harness.set_electronic_documents(env, ctx["company"], mode == ON)
    cr.commit()
    env.invalidate_all()


def check_answer(answer, mode):
    """The POS got a paid order; with boletas ON, a folio and the receipt's stamp image."""
    received = answer["pos.order"][0]
    if received["state"] != "paid":
        raise AssertionError(f"order {received['id']} is {received['state']}")
    barcode = received.get("l10n_cl_dte_receipt_barcode") or ""
    stamped = bool(received.get("l10n_cl_dte_receipt_folio")) and barcode.startswith("data:image/png;base64,")
    if stamped != (mode == ON):
        raise AssertionError(f"order {received['id']} ({mode}): folio {received.get('l10n_cl_dte_receipt_folio')!r}, "
                             f"barcode {barcode[:30]!r}")


# --- 1. throughput, in process ---------------------------------------------------------------------


def sync_in_process(ctx, mode, sample=None):
    """One order through ``sync_from_ui`` as the cashier, as one request would: cold cache, flush, commit, JSON."""
    data = order_data(ctx)
    orders = ctx["uenv"]["pos.order"]
    env.invalidate_all()
    queries, sql = harness.sql_counters()
    cpu = time.process_time()
    t0 = time.perf_counter()
    answer = orders.sync_from_ui([data])
    t1, q1 = time.perf_counter(), harness.sql_counters()[0]
    cr.flush()
    t2, q2 = time.perf_counter(), harness.sql_counters()[0]
    cr.commit()
    t3, q3 = time.perf_counter(), harness.sql_counters()[0]
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": answer}, ensure_ascii=False, default=json_default)
    t4 = time.perf_counter()
    if sample is not None:
        queries_now, sql_now = harness.sql_counters()
        sample.add(
            t4 - t0, cpu=time.process_time() - cpu, queries=queries_now - queries, sql=sql_now - sql,
            answer_bytes=len(body.encode()), sync_from_ui=t1 - t0, flush=t2 - t1, commit=t3 - t2, json=t4 - t3,
            flush_queries=q2 - q1, commit_queries=q3 - q2,
        )
    check_answer(answer, mode)
    ctx.setdefault("answers", {})[mode] = answer
    return answer


def largest_fields(answer, count=4):
    """The largest fields of the order the POS receives, as (name, JSON bytes)."""
    received = answer["pos.order"][0]
    sizes = [(name, len(json.dumps(value, default=json_default).encode())) for name, value in received.items()]
    return sorted(sizes, key=lambda item: item[1], reverse=True)[:count]


def use_cashier(ctx, cashier):
    ctx["cashier"] = cashier
    ctx["uenv"] = ctx["uenv"](user=cashier)


def probe_cashier(ctx):
    """One boleta synchronised by the cashier, rolled back: does it work?"""
    set_mode(ctx, ON)
    data = order_data(ctx)
    orders = ctx["uenv"]["pos.order"]
    try:
        with cr.savepoint():
            check_answer(orders.sync_from_ui([data]), ON)
            env.flush_all()
            raise RuntimeError("rollback")
    except RuntimeError as error:
        if str(error) != "rollback":
            raise
        outcome = "OK"
    except Exception as error:
        outcome = f"FAILS with {type(error).__name__}: {str(error).strip().splitlines()[0][:140]}"
    env.invalidate_all()
    return outcome


def bench_throughput(ctx):
    for mode in (ON, OFF):  # parse the CAF and the certificate, load the schemas, fill the ormcaches
        set_mode(ctx, mode)
        for _index in range(WARMUP):
            sync_in_process(ctx, mode)
    samples = {ON: harness.Sample(), OFF: harness.Sample()}
    batches = (N_ORDERS + BATCH - 1) // BATCH
    done = {ON: 0, OFF: 0}
    started = time.perf_counter()
    for mode in harness.abba(batches, ON, OFF):
        set_mode(ctx, mode)
        count = min(BATCH, N_ORDERS - done[mode])
        for _index in range(count):
            sync_in_process(ctx, mode, samples[mode])
        samples[mode].batches.append(statistics.fmean(samples[mode].seconds[-count:]))
        done[mode] += count
    return samples, time.perf_counter() - started


# --- 2. where the time goes ------------------------------------------------------------------------

# (label, module under odoo.addons, class name or None for a module function, attribute).
STEPS = [
    ("pos.order.sync_from_ui (whole call)", "point_of_sale.models.pos_order", "PosOrder", "sync_from_ui"),
    ("  _process_order (create order, lines, payment)", "point_of_sale.models.pos_order", "PosOrder",
     "_process_order"),
    ("    l10n_cl_dte _process_saved_order", "l10n_cl_dte.models.pos_order", "PosOrder", "_process_saved_order"),
    ("      _l10n_cl_dte_prepare (boleta limit check)", "l10n_cl_dte.models.pos_order", "PosOrder",
     "_l10n_cl_dte_prepare"),
    ("      point_of_sale _process_saved_order (paid)", "point_of_sale.models.pos_order", "PosOrder",
     "_process_saved_order"),
    ("      _l10n_cl_dte_issue (the mixin's one path)", "l10n_cl_dte.models.l10n_cl_dte_sii_document_issue",
     "L10nClDteSiiDocument", "_l10n_cl_dte_issue"),
    ("        _l10n_cl_dte_document_type (39 or 41)", "l10n_cl_dte.models.pos_order", "PosOrder",
     "_l10n_cl_dte_document_type"),
    ("        certificate._l10n_cl_dte_signing_certificate", "l10n_cl_dte.models.l10n_cl_dte_certificate",
     "L10nClDteCertificate", "_l10n_cl_dte_signing_certificate"),
    ("        caf._l10n_cl_dte_take_folio (folio take)", "l10n_cl_dte.models.l10n_cl_dte_caf", "L10nClDteCaf",
     "_l10n_cl_dte_take_folio"),
    ("        _l10n_cl_dte_document (Odoo -> engine)", "l10n_cl_dte.models.pos_order_dte_document", "PosOrder",
     "_l10n_cl_dte_document"),
    ("        caf._l10n_cl_dte_engine_caf (cached)", "l10n_cl_dte.models.l10n_cl_dte_caf", "L10nClDteCaf",
     "_l10n_cl_dte_engine_caf"),
    ("        certificate._l10n_cl_dte_engine_certificate", "l10n_cl_dte.models.l10n_cl_dte_certificate",
     "L10nClDteCertificate", "_l10n_cl_dte_engine_certificate"),
    ("        sii_engine.dte.issue (engine issue/sign)", "l10n_cl_dte.sii_engine.dte", None, "issue"),
    ("          build_dte", "l10n_cl_dte.sii_engine.dte", None, "build_dte"),
    ("          _stamp (TED, CAF RSA signature)", "l10n_cl_dte.sii_engine.dte", None, "_stamp"),
    ("          signature.sign_reference (XMLDSig)", "l10n_cl_dte.sii_engine.signature", None, "sign_reference"),
    ("          schema.validate (boleta XSD)", "l10n_cl_dte.sii_engine.schema", None, "validate"),
    ("        ir.attachment.create (attachment create)", "base.models.ir_attachment", "IrAttachment", "create"),
    ("        caf._l10n_cl_dte_warn_low_folios", "l10n_cl_dte.models.l10n_cl_dte_caf", "L10nClDteCaf",
     "_l10n_cl_dte_warn_low_folios"),
    ("  read_pos_data (read of the answer)", "point_of_sale.models.pos_order", "PosOrder", "read_pos_data"),
    ("    _compute_l10n_cl_dte_receipt", "l10n_cl_dte.models.pos_order", "PosOrder",
     "_compute_l10n_cl_dte_receipt"),
    ("      _compute_l10n_cl_dte_barcode (mixin)", "l10n_cl_dte.models.l10n_cl_dte_sii_document",
     "L10nClDteSiiDocument", "_compute_l10n_cl_dte_barcode"),
    ("        barcode.ted_pdf417_png (PDF417 PNG)", "l10n_cl_dte.sii_engine.barcode", None, "ted_pdf417_png"),
]
ISSUE = "      _l10n_cl_dte_issue (the mixin's one path)"
ISSUE_CHILDREN = [label for label, *_rest in STEPS[6:19]]


def time_steps(ctx):
    samples = {ON: harness.Sample(), OFF: harness.Sample()}
    with harness.StepClock(STEPS) as clock:
        for index in range(N_STEPS):
            for mode in ((ON, OFF) if index % 2 == 0 else (OFF, ON)):
                set_mode(ctx, mode)
                clock.mode = mode
                sync_in_process(ctx, mode, samples[mode])
    return clock, samples


# --- 3. payment to receipt over HTTP ---------------------------------------------------------------


class RpcError(Exception):
    pass


def rpc(http, path, params):
    response = http.post(f"{HTTP_URL}{path}", json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params},
                         timeout=120)
    response.raise_for_status()
    body = response.json()
    if "error" in body:
        error = body["error"]
        raise RpcError(f"{path}: {error.get('data', {}).get('message') or error.get('message')}")
    return body["result"], len(response.content)


def bench_http(ctx):
    http = requests.Session()
    user, _size = rpc(http, "/web/session/authenticate",
                      {"db": cr.dbname, "login": ctx["cashier"].login, "password": CASHIER_PASSWORD})
    if user.get("uid") != ctx["cashier"].id:
        raise RpcError(f"logged in as {user.get('uid')}, not the cashier {ctx['cashier'].id}")
    context = {"lang": "en_US", "tz": "America/Santiago", "uid": ctx["cashier"].id,
               "allowed_company_ids": [ctx["company"].id], "config_id": ctx["config"].id, "login_number": 1}

    def call(mode, sample=None):
        data = order_data(ctx)
        params = {"model": "pos.order", "method": "sync_from_ui", "args": [[data]], "kwargs": {"context": context}}
        started = time.perf_counter()
        answer, size = rpc(http, "/web/dataset/call_kw/pos.order/sync_from_ui", params)
        elapsed = time.perf_counter() - started
        check_answer(answer, mode)
        if sample is not None:
            sample.add(elapsed, answer_bytes=size)

    warm = max(WARMUP // 2, 3)
    for mode in (ON, OFF):  # the server process loads the CAF, the certificate and the schemas once
        set_mode(ctx, mode)
        for _index in range(warm):
            call(mode)
    samples = {ON: harness.Sample(), OFF: harness.Sample()}
    batch = min(BATCH, N_HTTP)
    done = {ON: 0, OFF: 0}
    for mode in harness.abba((N_HTTP + batch - 1) // batch, ON, OFF):
        set_mode(ctx, mode)
        count = min(batch, N_HTTP - done[mode])
        for _index in range(count):
            call(mode, samples[mode])
        done[mode] += count
    return samples


# --- output ----------------------------------------------------------------------------------------


def print_throughput(ctx, samples, seconds):
    on, off = samples[ON], samples[OFF]
    log()
    log(f"1. sync_from_ui, one paid order per call (3 lines, IVA 19% included, cash), in this process as the "
        f"cashier, {on.count} + {off.count} orders, ABBA batches of {BATCH} ({seconds:.1f} s)")
    log("   per order: sync_from_ui (incl. read of the answer) + flush + COMMIT + JSON encoding of the answer")
    log(f"  {'mode':<24} {'orders/s':>9} {'mean ms':>8} {'median':>7} {'p95':>7} {'CPU ms':>7} {'SQL ms':>7} "
        f"{'queries':>8} {'answer KB':>10}")
    for mode in (OFF, ON):
        sample = samples[mode]
        log(f"  {MODE_LABEL[mode]:<24} {1 / sample.mean():>9.1f} {ms(sample.mean()):>8.1f} "
            f"{ms(sample.median()):>7.1f} {ms(sample.quantile(95)):>7.1f} {ms(sample.per_item('cpu')):>7.1f} "
            f"{ms(sample.per_item('sql')):>7.1f} {sample.per_item('queries'):>8.1f} "
            f"{sample.per_item('answer_bytes') / 1024:>10.1f}")
    log(f"  {'split (mean ms)':<24} " + "  ".join(
        f"{part} {ms(off.per_item(part)):.1f} -> {ms(on.per_item(part)):.1f}"
        for part in ("sync_from_ui", "flush", "commit", "json")))
    added = ms(on.mean() - off.mean())
    ratio = on.mean() / off.mean()
    log(f"  the boleta adds {added:.1f} ms per order (mean; median {ms(on.median() - off.median()):.1f} ms), "
        f"ratio ON / OFF {ratio:.2f} (time per order), throughput {1 / on.mean():.1f} vs {1 / off.mean():.1f} "
        f"orders/s ({off.mean() / on.mean():.2f} x)")
    pairs = [ms(a - b) for a, b in zip(on.batches, off.batches, strict=True)]
    if len(pairs) > 1:
        log(f"  added per batch pair (ON batch - OFF batch, mean ms per order): median {statistics.median(pairs):.1f}, "
            f"range {min(pairs):.1f} .. {max(pairs):.1f} over {len(pairs)} pairs")
    log(f"  CPU of this process: ON {ms(on.per_item('cpu')):.1f} ms, OFF {ms(off.per_item('cpu')):.1f} ms per "
        f"order (+{ms(on.per_item('cpu') - off.per_item('cpu')):.1f} ms); SQL ms = wall time of the queries, "
        f"PostgreSQL included")
    answers = ctx["answers"]
    received = {mode: answers[mode]["pos.order"][0] for mode in (ON, OFF)}
    log(f"  the answer (pos.order read with all its fields, lines, payment): ON "
        f"{on.per_item('answer_bytes') / 1024:.1f} KB, OFF {off.per_item('answer_bytes') / 1024:.1f} KB; "
        f"{len(received[ON])} fields of the order; largest in ON: "
        + ", ".join(f"{name} {size / 1024:.1f} KB" for name, size in largest_fields(answers[ON])))
    verdict = "PASS" if added <= TARGET_MS else "FAIL"
    log(f"  {verdict}: boleta adds {added:.1f} ms per order, target <= {TARGET_MS:.0f} ms")
    return added, ratio, verdict


def print_steps(clock, samples):
    n = {mode: samples[mode].count for mode in (ON, OFF)}
    log()
    log(f"2. Where the boleta's time goes: wall-clock timers (outermost call), {n[ON]} + {n[OFF]} more orders, "
        f"modes alternating (ms and SQL queries per order; calls per order ON)")
    log(f"  {'':<54} {'OFF':>7} {'ON':>7} {'added':>7} {'queries OFF/ON':>15}")
    log(f"  {'whole order (sync + flush + commit + json)':<54} {ms(samples[OFF].mean()):>7.1f} "
        f"{ms(samples[ON].mean()):>7.1f} {ms(samples[ON].mean() - samples[OFF].mean()):>7.1f} "
        f"{samples[OFF].per_item('queries'):>7.1f}/{samples[ON].per_item('queries'):<7.1f}")
    for label, *_rest in STEPS:
        values = {mode: clock.seconds.get((mode, label), 0.0) / n[mode] for mode in (ON, OFF)}
        queries = {mode: clock.queries.get((mode, label), 0) / n[mode] for mode in (ON, OFF)}
        calls = clock.calls.get((ON, label), 0) / n[ON]
        if not values[ON] and not values[OFF]:
            continue
        log(f"  {label:<54} {ms(values[OFF]):>7.2f} {ms(values[ON]):>7.2f} {ms(values[ON] - values[OFF]):>7.2f} "
            f"{queries[OFF]:>7.1f}/{queries[ON]:<7.1f} ({calls:.1f}x)")
        if label == "        caf._l10n_cl_dte_warn_low_folios":
            issue = clock.seconds.get((ON, ISSUE), 0.0)
            issue_queries = clock.queries.get((ON, ISSUE), 0)
            direct = [child for child in ISSUE_CHILDREN if not child.startswith("          ")]
            children = sum(clock.seconds.get((ON, child), 0.0) for child in direct)
            children_queries = sum(clock.queries.get((ON, child), 0) for child in direct)
            rest = ms((issue - children) / n[ON])
            log(f"  {'        rest of issue (2 writes, checks, context_timestamp)':<54} {'':>7} {rest:>7.2f} {rest:>7.2f} "
                f"{'':>7}/{(issue_queries - children_queries) / n[ON]:<7.1f}")
    for part in ("flush", "commit", "json"):
        values = {mode: samples[mode].per_item(part) for mode in (ON, OFF)}
        queries = {mode: samples[mode].per_item(f"{part}_queries") for mode in (ON, OFF)}
        log(f"  {part + ' (timed around the call)':<54} {ms(values[OFF]):>7.2f} {ms(values[ON]):>7.2f} "
            f"{ms(values[ON] - values[OFF]):>7.2f} {queries[OFF]:>7.1f}/{queries[ON]:<7.1f}")
    log("  (indented rows are inside the row above; the first step to touch a record pays for fetching it;")
    log("   ir.attachment.create counts every attachment created, in both modes)")


def print_latency(http, samples):
    log()
    log("3. Payment to receipt ready: the server round trip the POS waits for between Validate and the receipt")
    log(f"  {'how':<58} {'mode':<22} {'n':>4} {'median':>7} {'p95':>7} {'mean':>7} {'KB':>6}")
    rows = []
    if http:
        rows.append(("HTTP JSON-RPC call_kw/pos.order/sync_from_ui (client)", http))
    rows.append(("in process: sync + flush + commit + JSON (no HTTP)", samples))
    for label, figures in rows:
        for mode in (OFF, ON):
            sample = figures[mode]
            log(f"  {label:<58} {MODE_LABEL[mode]:<22} {sample.count:>4} {ms(sample.median()):>7.1f} "
                f"{ms(sample.quantile(95)):>7.1f} {ms(sample.mean()):>7.1f} {sample.per_item('answer_bytes') / 1024:>6.1f}")
    if http:
        log(f"  over HTTP the boleta adds {ms(http[ON].median() - http[OFF].median()):.1f} ms (median), "
            f"{ms(http[ON].quantile(95) - http[OFF].quantile(95)):.1f} ms (p95); median HTTP - in process: "
            f"{ms(http[OFF].median() - samples[OFF].median()):+.1f} ms (OFF), "
            f"{ms(http[ON].median() - samples[ON].median()):+.1f} ms (ON): measured minutes apart, the machine's load")
        log("  moves that difference more than HTTP, routing and the session check do")
        log(f"  (server: odoo-bin --workers=0 at {HTTP_URL}, same machine; the client's clock covers the POST and "
            f"decoding the answer; the POS then renders the receipt from it)")
    else:
        log("  measured IN PROCESS ONLY (no BENCH_HTTP_URL): no HTTP server, routing, session check or network;")
        log("  run bench/run_odoo_pos.sh for the HTTP figures")


def main():
    harness.banner(env, "l10n_cl_dte POS boleta benchmark", ", QUICK" if harness.QUICK else "")
    ctx = setup()
    log(f"setup: Chilean company, chart cl, certificate, CAF 39, 3 products (IVA 19% included), POS "
        f"'{ctx['config'].name}' with an open session "
        f"({ctx['seconds']:.1f} s)")
    if not ctx["config"].l10n_cl_dte_enabled:
        raise AssertionError("the POS does not issue electronic documents")
    for cashier in ctx["cashiers"]:
        use_cashier(ctx, cashier)
        outcome = probe_cashier(ctx)
        log(f"probe: one boleta synchronised by {cashier.login} ({' + '.join(CASHIERS[cashier.login])}), "
            f"rolled back: {outcome}")
        if outcome == "OK":
            break
    else:
        raise AssertionError("no cashier can synchronise a boleta")
    log(f"the cashier of the measurements is {cashier.login}")
    folio = ctx["caf"].next_folio

    samples, seconds = bench_throughput(ctx)
    added, ratio, verdict = print_throughput(ctx, samples, seconds)
    clock, step_samples = time_steps(ctx)
    print_steps(clock, step_samples)
    http = None
    if HTTP_URL and N_HTTP:
        http = bench_http(ctx)
    print_latency(http, samples)

    set_mode(ctx, ON)
    issued = ctx["caf"].next_folio - folio
    cr.execute("SELECT count(*) FROM pos_order WHERE session_id = %s AND l10n_cl_dte_status = 'to_send'",
               (ctx["session"].id,))
    boletas = cr.fetchone()[0]
    log()
    log(f"boletas issued: {boletas} (folios taken {issued}); load average at the end: {harness.load_average()} "
        f"(other processes on this machine share its CPUs)")
    on, off = samples[ON], samples[OFF]
    summary = (f"{verdict}: ON {1 / on.mean():.1f} orders/s ({ms(on.mean()):.1f} ms), OFF {1 / off.mean():.1f} "
               f"orders/s ({ms(off.mean()):.1f} ms), boleta adds {added:.1f} ms/order (target <= {TARGET_MS:.0f}), "
               f"ratio {ratio:.2f}")
    if http:
        summary += (f"; payment to receipt over HTTP median/p95 ON {ms(http[ON].median()):.0f}/"
                    f"{ms(http[ON].quantile(95)):.0f} ms, OFF {ms(http[OFF].median()):.0f}/"
                    f"{ms(http[OFF].quantile(95)):.0f} ms")
    log(f"{summary} ({date.today().isoformat()})")
    if boletas != issued:
        raise AssertionError(f"{issued} folios taken for {boletas} boletas")
    if verdict != "PASS":
        sys.exit(1)


main()
