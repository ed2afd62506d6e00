"""Issue 4 benchmark: what the DTE step adds to posting an invoice, and what printing one costs.

Run it through ``odoo-bin shell`` (stdin), in a throwaway database with l10n_cl and l10n_cl_dte installed;
bench/run_odoo_posting.sh does all of that. Everything happens in one transaction, rolled back at the end.

Posting. One Chilean company (chart ``cl``, IVA 19%) set up as the tests do (bench/odoo_harness.py): a stand-in SII key
(simulator environment), a 2048-bit signing certificate, a CAF of type 33 (512-bit key, as the SII's). The
same BENCH_INVOICES invoice contents (BENCH_LINES product lines each, IVA 19%, quantities and prices drawn
with a fixed seed) are created twice, as draft type-33 invoices of two identical sale journals, and posted
one by one with ``action_post`` as the administrator (not the superuser), as users do:

* DTE: the company's ``l10n_cl_dte_environment`` is "simulator": posting reserves a folio, builds, stamps,
  signs and schema-validates the DTE, stores its XML;
* baseline: the same company with ``l10n_cl_dte_environment`` False, the configuration of a Chilean company
  that does not issue electronic documents: plain l10n_cl posting (the journal sequence numbers the move).

The two journals only keep the two numberings apart (a DTE takes its CAF folio as name, a baseline posting
the next number of the sequence: in one journal they would collide). The two modes alternate in blocks of
BENCH_BLOCK invoices in ABBA order (DTE, baseline, baseline, DTE, ...) so warm-up and drift fall on both.
Before each posting the record cache is emptied (each posting is a new request); the timing covers
``action_post`` and ``cr.flush()``, i.e. everything the request's commit runs before the SQL COMMIT
(pending writes and the precommit hooks: mail tracking). Batch posting (``action_post`` on BENCH_BATCH
invoices at once, ABBA again) is measured too.

Printing. BENCH_PDF posted invoices of each mode rendered with the standard "Invoice PDF" report
(``account.account_invoices``), one by one and in one batch, as PDF (QWeb HTML + wkhtmltopdf, which fetches
the report CSS from the Odoo server at BENCH_REPORT_URL) and as QWeb HTML alone.

When the DTE/baseline ratio misses BENCH_TARGET (or BENCH_PROFILE=1), BENCH_PROFILE_INVOICES more invoices per
mode are posted (modes alternating) with wall-clock timers around the addon's steps and core posting, then as
many under cProfile: the addon's functions, what its steps call, and the largest differences with baseline.
"""

import cProfile
import io
import logging
import os
import pstats
import random
import re
import subprocess
import sys
import time
import urllib.request
from datetime import date

from odoo import Command, fields
from odoo.addons.base.models.ir_actions_report import IrActionsReport, _get_wkhtmltopdf_bin
from odoo.addons.l10n_cl_dte.bench import odoo_harness as harness
from odoo.addons.l10n_cl_dte.bench.odoo_harness import log, ms
from odoo.addons.l10n_cl_dte.sii_engine import identities
from odoo.tools.pdf import PdfFileReader

env = globals().get("env")
if env is None:
    sys.exit("Run this through odoo-bin shell with a database: bench/run_odoo_posting.sh")

N_INVOICES = harness.setting("BENCH_INVOICES", 300)
N_LINES = harness.setting("BENCH_LINES", 5)
BLOCK = harness.setting("BENCH_BLOCK", 1)
WARMUP = harness.setting("BENCH_WARMUP", 5)
BATCH = harness.setting("BENCH_BATCH", 50)
N_PDF = harness.setting("BENCH_PDF", 20)
PROFILE = os.environ.get("BENCH_PROFILE", "auto")
N_PROFILE = harness.setting("BENCH_PROFILE_INVOICES", 40)
TARGET = float(os.environ.get("BENCH_TARGET", "1.25"))
SEED = harness.setting("BENCH_SEED", 18)
REPORT_URL = os.environ.get("BENCH_REPORT_URL", "")
REPORT = "account.account_invoices"

DTE, BASE = "dte", "baseline"
MODE_LABEL = {DTE: "DTE on (stamp + sign)", BASE: "baseline (DTE off)"}

cr = env.cr
harness.start_sql_counters()


# --- setup -----------------------------------------------------------------------------------------


def setup():
    """The Chilean company, its DTE identities, customers, products and the two sale journals."""
    started = time.perf_counter()
    authority = identities.TestAuthority()
    dte_invoices = N_INVOICES + 2 * WARMUP + BATCH + N_PROFILE + 10
    company, vat_19 = harness.bench_company(
        env, authority, "Bench DTE SpA", cafs={33: dte_invoices + 100}, l10n_cl_dte_resolution_number=80,
        l10n_cl_dte_resolution_date="2014-08-22", l10n_cl_sii_regional_office="Santiago Centro",
    )
    admin = env.ref("base.user_admin")
    customers = harness.chilean_customers(env, 12, "Bench")
    customers.write({"email": "dte@cliente.example"})
    products = env["product.product"].create([
        {
            "name": name,
            "default_code": f"BEN{index:03d}",
            "type": kind,
            "list_price": price,
            "company_id": False,
        }
        for index, (name, kind, price) in enumerate([
            ("Asesoria en sistemas", "service", 25000),
            ("Licencia anual de software", "service", 180000),
            ("Notebook 14 pulgadas", "consu", 649990),
            ("Monitor 27 pulgadas", "consu", 189990),
            ("Cable HDMI 2 m", "consu", 4990),
            ("Soporte tecnico (hora)", "service", 32000),
            ("Mouse inalambrico", "consu", 12990),
            ("Teclado mecanico", "consu", 54990),
        ])
    ])
    journals = {
        mode: env["account.journal"].create({
            "name": f"Ventas bench {label}",
            "code": code,
            "type": "sale",
            "company_id": company.id,
            "l10n_latam_use_documents": True,
        })
        for mode, label, code in ((DTE, "DTE", "BDTE"), (BASE, "base", "BBAS"))
    }
    user_env = env(user=admin, context=dict(env.context, allowed_company_ids=[company.id], tz="America/Santiago"))
    env.flush_all()
    return {
        "company": company,
        "authority": authority,
        "customers": customers,
        "products": products,
        "vat": vat_19,
        "journals": journals,
        "doc_33": env.ref("l10n_cl.dc_a_f_dte"),
        "user_env": user_env,
        "seconds": time.perf_counter() - started,
    }


QUANTITIES = [1, 1, 1, 2, 2, 3, 4, 5, 6, 10, 12, 24, 0.5, 1.5, 2.5]


def invoice_specs(count, rng, ctx):
    """``count`` invoice contents: (customer, [(product, quantity, price)] * N_LINES)."""
    specs = []
    for _index in range(count):
        customer = rng.choice(ctx["customers"])
        lines = []
        for _line in range(N_LINES):
            product = rng.choice(ctx["products"])
            factor = rng.choice([0.5, 0.8, 1, 1, 1, 1.1, 1.25])
            price = max(10, round(product.list_price * factor / 10) * 10)
            lines.append((product, rng.choice(QUANTITIES), float(price)))
        specs.append((customer, lines))
    return specs


def create_invoices(ctx, mode, specs):
    today = fields.Date.context_today(ctx["user_env"]["account.move"])
    vals_list = [
        {
            "move_type": "out_invoice",
            "partner_id": customer.id,
            "journal_id": ctx["journals"][mode].id,
            "invoice_date": today,
            "l10n_latam_document_type_id": ctx["doc_33"].id,
            "invoice_line_ids": [
                Command.create({
                    "product_id": product.id,
                    "quantity": quantity,
                    "price_unit": price,
                    "tax_ids": [Command.set(ctx["vat"].ids)],
                })
                for product, quantity, price in lines
            ],
        }
        for customer, lines in specs
    ]
    moves = ctx["user_env"]["account.move"]
    for start in range(0, len(vals_list), 50):
        moves |= moves.create(vals_list[start:start + 50])
    env.flush_all()
    return moves


def set_mode(ctx, mode):
    harness.set_electronic_documents(env, ctx["company"], mode == DTE)


def check_posted(move, mode):
    if move.state != "posted":
        raise AssertionError(f"{move.display_name} is {move.state}")
    stamped = bool(move.l10n_cl_dte_ted) and move.l10n_cl_dte_status == "to_send"
    if stamped != (mode == DTE):
        raise AssertionError(f"{move.display_name} ({mode}): DTE status {move.l10n_cl_dte_status!r}")


# --- posting ---------------------------------------------------------------------------------------


def timed_post(moves):
    """Post ``moves`` in one ``action_post`` as one request would: cold record cache, flush at the end."""
    env.flush_all()
    env.invalidate_all()
    with harness.Measure() as measure:
        moves.action_post()
        cr.flush()
    return measure


def bench_posting(ctx, rng):
    specs = invoice_specs(N_INVOICES, rng, ctx)
    warm_specs = invoice_specs(WARMUP, rng, ctx)
    moves = {mode: create_invoices(ctx, mode, specs) for mode in (DTE, BASE)}
    warm = {mode: create_invoices(ctx, mode, warm_specs) for mode in (DTE, BASE)}
    for mode in (DTE, BASE):  # parse the CAF and the certificate, load the schemas, fill the ormcaches
        set_mode(ctx, mode)
        for move in warm[mode]:
            timed_post(move)
            check_posted(move, mode)

    samples = {DTE: harness.Sample(), BASE: harness.Sample()}
    blocks = (N_INVOICES + BLOCK - 1) // BLOCK
    position = {DTE: 0, BASE: 0}
    for mode in harness.abba(blocks, DTE, BASE):
        set_mode(ctx, mode)
        start = position[mode]
        for move in moves[mode][start:start + BLOCK]:
            samples[mode].add_measure(timed_post(move))
        position[mode] = start + BLOCK
    for mode in (DTE, BASE):
        for move in moves[mode]:
            check_posted(move, mode)
    return samples, moves


def bench_batch(ctx, rng):
    half = max(BATCH // 2, 1)
    specs = invoice_specs(2 * half, rng, ctx)
    moves = {mode: create_invoices(ctx, mode, specs) for mode in (DTE, BASE)}
    samples = {DTE: harness.Sample(), BASE: harness.Sample()}
    position = {DTE: 0, BASE: 0}
    for mode in harness.abba(2, DTE, BASE):
        set_mode(ctx, mode)
        batch = moves[mode][position[mode]:position[mode] + half]
        position[mode] += half
        samples[mode].add_measure(timed_post(batch), count=len(batch))
        for move in batch:
            check_posted(move, mode)
    return samples


# --- where the time goes --------------------------------------------------------------------------

# (label, module under odoo.addons, class name or None, attribute): wall-clock timers, no profiler.
STEPS = [
    ("l10n_cl_dte AccountMove._post (all of posting)", "l10n_cl_dte.models.account_move", "AccountMove", "_post"),
    ("  account AccountMove._post (core posting)", "account.models.account_move", "AccountMove", "_post"),
    ("  _l10n_cl_dte_required (filter, x moves)", "l10n_cl_dte.models.account_move", "AccountMove",
     "_l10n_cl_dte_required"),
    ("  _l10n_cl_dte_check_before_posting", "l10n_cl_dte.models.account_move", "AccountMove",
     "_l10n_cl_dte_check_before_posting"),
    ("  _l10n_cl_dte_add_reversal_reference", "l10n_cl_dte.models.account_move", "AccountMove",
     "_l10n_cl_dte_add_reversal_reference"),
    ("  _l10n_cl_dte_reserve_folio", "l10n_cl_dte.models.account_move", "AccountMove", "_l10n_cl_dte_reserve_folio"),
    ("    caf._l10n_cl_dte_take_folio", "l10n_cl_dte.models.l10n_cl_dte_caf", "L10nClDteCaf",
     "_l10n_cl_dte_take_folio"),
    ("  _l10n_cl_dte_issue (the mixin's one path)", "l10n_cl_dte.models.l10n_cl_dte_sii_document_issue",
     "L10nClDteSiiDocument", "_l10n_cl_dte_issue"),
    ("    certificate._l10n_cl_dte_signing_certificate", "l10n_cl_dte.models.l10n_cl_dte_certificate",
     "L10nClDteCertificate", "_l10n_cl_dte_signing_certificate"),
    ("    _l10n_cl_dte_document (Odoo -> engine)", "l10n_cl_dte.models.account_move_dte_document", "AccountMove",
     "_l10n_cl_dte_document"),
    ("    sii_engine.dte.issue", "l10n_cl_dte.sii_engine.dte", None, "issue"),
    ("      build_dte", "l10n_cl_dte.sii_engine.dte", None, "build_dte"),
    ("      _stamp (TED, CAF RSA signature)", "l10n_cl_dte.sii_engine.dte", None, "_stamp"),
    ("      signature.sign_reference (XMLDSig)", "l10n_cl_dte.sii_engine.signature", None, "sign_reference"),
    ("      schema.validate (DTE_v10.xsd)", "l10n_cl_dte.sii_engine.schema", None, "validate"),
    ("    caf._l10n_cl_dte_warn_low_folios", "l10n_cl_dte.models.l10n_cl_dte_caf", "L10nClDteCaf",
     "_l10n_cl_dte_warn_low_folios"),
]


def alternate(ctx, moves, before=None, after=None):
    """Post ``moves[mode]`` one by one, the modes alternating ABBA; returns the seconds per mode."""
    total = {DTE: 0.0, BASE: 0.0}
    count = min(len(moves[DTE]), len(moves[BASE]))
    for index, mode in enumerate(harness.abba(count, DTE, BASE)):
        move = moves[mode][index // 2]
        set_mode(ctx, mode)
        env.flush_all()
        env.invalidate_all()
        if before:
            before(mode)
        started = time.perf_counter()
        move.action_post()
        cr.flush()
        total[mode] += time.perf_counter() - started
        if after:
            after(mode)
        check_posted(move, mode)
    return total


def time_steps(ctx, rng):
    """Wall time of the addon's steps (and of core posting) per invoice, posting one by one."""
    specs = invoice_specs(N_PROFILE, rng, ctx)
    moves = {mode: create_invoices(ctx, mode, specs) for mode in (DTE, BASE)}
    with harness.StepClock(STEPS) as clock:
        totals = alternate(ctx, moves, before=lambda mode: setattr(clock, "mode", mode))
    n = N_PROFILE
    log(f"\nWhere the time goes: wall clock, no profiler, {n} invoices per mode alternating (ms per invoice)")
    log(f"  {'':<52} {'baseline':>9} {'DTE':>9}")
    log(f"  {'action_post + flush (whole request)':<52} {ms(totals[BASE] / n):>9.1f} {ms(totals[DTE] / n):>9.1f}")
    for label, *_rest in STEPS:
        values = [clock.seconds.get((mode, label)) for mode in (BASE, DTE)]
        if values == [None, None]:
            continue
        texts = [f"{ms(value / n):>9.1f}" if value is not None else f"{'-':>9}" for value in values]
        calls = clock.calls.get((DTE, label), 0) / n
        log(f"  {label:<52} {texts[0]} {texts[1]}   ({calls:.1f} calls)")
    log("  (the first step to touch a record pays for fetching it: in DTE mode the folio reservation's write")
    log("   syncs the invoice's lines before core posting does, which is then cheaper; compare totals)")


# --- profile ---------------------------------------------------------------------------------------

ADDON_FILE = re.compile(r"[/\\]l10n_cl_dte[/\\](models|sii_engine|wizard)[/\\]")


def profile_posting(ctx, rng):
    specs = invoice_specs(N_PROFILE, rng, ctx)
    moves = {mode: create_invoices(ctx, mode, specs) for mode in (DTE, BASE)}
    profilers = {DTE: cProfile.Profile(), BASE: cProfile.Profile()}
    alternate(ctx, moves, before=lambda mode: profilers[mode].enable(), after=lambda mode: profilers[mode].disable())
    return {mode: pstats.Stats(profiler) for mode, profiler in profilers.items()}


def short(key):
    filename, line, name = key
    if filename == "~":
        return name
    match = re.search(r"(l10n_cl_dte/.*|odoo/addons/.*|odoo/odoo/.*|site-packages/.*|lib/python3[^/]*/.*)$", filename)
    path = match.group(1) if match else filename
    path = path.replace("site-packages/", "").replace("odoo/odoo/", "odoo/").replace("odoo/addons/", "addons/")
    return f"{path}:{line}({name})"


def report_profile(stats, n):
    dte, base = stats[DTE].stats, stats[BASE].stats
    total = {mode: stats[mode].total_tt / n * 1000 for mode in stats}
    log(f"\ncProfile, {n} invoices per mode posted one by one (profiler overhead inflates Python-heavy code):")
    log(f"  total per invoice: DTE {total[DTE]:.1f} ms, baseline {total[BASE]:.1f} ms, "
        f"difference {total[DTE] - total[BASE]:.1f} ms")

    log("\n  The addon's functions on the DTE path (cumulative ms per invoice, calls per invoice):")
    rows = [
        (value[3] / n * 1000, value[1] / n, key) for key, value in dte.items() if ADDON_FILE.search(key[0])
    ]
    rows.sort(key=lambda row: row[0], reverse=True)
    for cumulative, calls, key in rows[:22]:
        if cumulative < 0.05:
            break
        log(f"  {cumulative:8.2f} ms {calls:6.1f}x  {short(key)}")

    stats[DTE].calc_callees()
    for name in ("_l10n_cl_dte_reserve_folio", "_l10n_cl_dte_issue", "_l10n_cl_dte_check_before_posting"):
        for key in dte:
            if key[2] == name and ADDON_FILE.search(key[0]):
                callees = stats[DTE].all_callees.get(key, {})
                log(f"\n  {name} calls (cumulative ms per invoice, calls per invoice):")
                for callee, value in sorted(callees.items(), key=lambda item: item[1][3], reverse=True)[:8]:
                    log(f"  {value[3] / n * 1000:8.2f} ms {value[0] / n:6.1f}x  {short(callee)}")

    keys = set(dte) | set(base)
    log("\n  Largest own-time differences DTE - baseline (tottime ms per invoice; calls per invoice DTE/base):")
    log_differences(dte, base, n, TOTTIME, keys, 20)
    log("\n  Largest cumulative differences DTE - baseline outside the addon (ms per invoice):")
    log_differences(dte, base, n, CUMTIME, [key for key in keys if not ADDON_FILE.search(key[0])], 25)


TOTTIME, CUMTIME = 2, 3  # columns of pstats' (primitive calls, calls, tottime, cumtime, callers)


def log_differences(dte, base, n, column, keys, count):
    """The ``count`` functions whose ``column`` grew most from baseline to DTE, per invoice."""
    diffs = []
    for key in keys:
        d = dte.get(key, (0, 0, 0, 0))
        b = base.get(key, (0, 0, 0, 0))
        diffs.append(((d[column] - b[column]) / n * 1000, d[1] / n, b[1] / n, key))
    diffs.sort(key=lambda row: row[0], reverse=True)
    for delta, calls_dte, calls_base, key in diffs[:count]:
        log(f"  {delta:+8.2f} ms {calls_dte:7.1f}/{calls_base:<7.1f} {short(key)}")


# --- printing --------------------------------------------------------------------------------------


class WkhtmltopdfClock:
    """Accumulates the time spent in ``_run_wkhtmltopdf`` (the subprocess and its temporary files)."""

    def __init__(self):
        self.seconds = 0.0
        self.calls = 0
        self.original = IrActionsReport._run_wkhtmltopdf

    def __enter__(self):
        clock, original = self, self.original

        def timed(report, *args, **kwargs):
            started = time.perf_counter()
            try:
                return original(report, *args, **kwargs)
            finally:
                clock.seconds += time.perf_counter() - started
                clock.calls += 1

        IrActionsReport._run_wkhtmltopdf = timed
        return self

    def __exit__(self, *exc):
        IrActionsReport._run_wkhtmltopdf = self.original


def check_report_css(reports, move):
    """The rendered HTML links the report CSS; wkhtmltopdf must be able to fetch it from the server."""
    html = reports._render_qweb_html(REPORT, move.ids)[0].decode()
    links = re.findall(r'<link[^>]+href="([^"]+\.css)"', html)
    if not links:
        return "no stylesheet link in the report HTML"
    base = REPORT_URL or reports._get_report_url()
    results = []
    for link in links:
        url = link if link.startswith("http") else base.rstrip("/") + link
        try:
            with urllib.request.urlopen(url, timeout=120) as response:
                results.append(f"{response.status} {len(response.read()) // 1024} KiB")
        except Exception as error:
            results.append(f"FAILED ({error})")
    return ", ".join(results)


class WarningCollector(logging.Handler):
    """Keeps the distinct warnings Odoo logs about wkhtmltopdf instead of printing each one."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = {}

    def emit(self, record):
        text = " ".join(record.getMessage().split()).removeprefix("wkhtmltopdf: ")
        text = re.sub(r"QStandardPaths: XDG_RUNTIME_DIR not set, defaulting to '[^']*'", " ", text)
        for part in re.split(r"(?<=ignored\.)|(?<=error\.)", text):
            part = part.strip()
            if part:
                self.messages[part] = self.messages.get(part, 0) + 1


def wkhtmltopdf_version():
    try:
        binary = _get_wkhtmltopdf_bin()
        output = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout
    except Exception as error:
        return f"unknown ({error})"
    return " ".join(output.split())


ROWS = [
    ("html", "one", "QWeb HTML, one by one"),
    ("html", "batch", "QWeb HTML, one batch"),
    ("pdf", "one", "PDF, one by one"),
    ("pdf", "batch", "PDF, one batch"),
    ("pdf0", "one", "PDF, one by one, print_delay 0"),
]


def bench_printing(ctx, posted):
    """Render the invoice report of N_PDF posted invoices per mode; returns {(kind, how, mode): figures}."""
    reports = ctx["user_env"]["ir.actions.report"]
    parameters = env["ir.config_parameter"].sudo()
    if REPORT_URL:
        parameters.set_param("report.url", REPORT_URL)
    moves = {mode: posted[mode][:N_PDF] for mode in (DTE, BASE)}
    css = check_report_css(reports, moves[DTE][:1])
    # Warm-up: QWeb compiles the templates, the server compiles the CSS bundle on its first request.
    for mode in (DTE, BASE):
        reports._render_qweb_pdf(REPORT, moves[mode][:1].ids)
    results = {}

    def run(kind, how, mode, ids):
        figures = results.setdefault((kind, how, mode), {"seconds": 0.0, "wk": 0.0, "count": 0, "pages": 0})
        env.invalidate_all()
        with WkhtmltopdfClock() as clock:
            started = time.perf_counter()
            try:
                if kind == "html":
                    content = reports._render_qweb_html(REPORT, ids)[0]
                else:
                    content = reports._render_qweb_pdf(REPORT, ids)[0]
            except Exception as error:
                figures["error"] = f"{type(error).__name__}: {' '.join(str(error).split())[:70]}"
                return
            figures["seconds"] += time.perf_counter() - started
        figures["wk"] += clock.seconds
        figures["count"] += len(ids)
        if kind != "html":
            if not content.startswith(b"%PDF"):
                raise AssertionError("wkhtmltopdf returned no PDF")
            figures["pages"] += len(PdfFileReader(io.BytesIO(content)).pages)

    for kind in ("html", "pdf", "pdf0"):
        if kind == "pdf0":
            delay = parameters.get_param("report.print_delay", "1000")
            parameters.set_param("report.print_delay", "0")
        # One by one, alternating DTE and baseline invoices.
        for index in range(N_PDF):
            for mode in ((DTE, BASE) if index % 2 == 0 else (BASE, DTE)):
                run(kind, "one", mode, moves[mode][index:index + 1].ids)
        # All at once, per mode, ABBA (HTML is cheap: twice as many rounds).
        if kind != "pdf0":
            for mode in harness.abba(2 if kind == "pdf" else 4, DTE, BASE):
                run(kind, "batch", mode, moves[mode].ids)
        if kind == "pdf0":
            parameters.set_param("report.print_delay", delay)
    return results, css


def print_printing(results, css, collector):
    version = wkhtmltopdf_version()
    if "patched qt" not in version:
        version += ", unpatched Qt: it ignores header/footer and cannot merge several documents"
    log(f"\nPrinting '{REPORT}', {N_PDF} posted invoices per mode ({version})")
    log(f"  report CSS fetched from {REPORT_URL or 'report.url/web.base.url'}: {css}")
    delay = env["ir.config_parameter"].sudo().get_param("report.print_delay", "1000")
    log(f"  {'what':<32} {'mode':<24} {'ms/inv':>8} {'wkhtmltopdf':>12} {'Odoo':>8} {'pages':>6}")
    for kind, how, label in ROWS:
        for mode in (BASE, DTE):
            figures = results.get((kind, how, mode))
            if not figures:
                continue
            if figures.get("error") and not figures["count"]:
                log(f"  {label:<32} {MODE_LABEL[mode]:<24} FAILED {figures['error']}")
                continue
            count = figures["count"]
            wk_text = f"{ms(figures['wk'] / count):>12.1f}" if kind != "html" else f"{'-':>12}"
            pages = str(figures["pages"]) if kind != "html" else "-"
            log(f"  {label:<32} {MODE_LABEL[mode]:<24} {ms(figures['seconds'] / count):>8.1f} {wk_text} "
                f"{ms((figures['seconds'] - figures['wk']) / count):>8.1f} {pages:>6}")
    for (kind, how), mode_pair in (((kind, how), (BASE, DTE)) for kind, how, _label in ROWS):
        base, dte = (results.get((kind, how, mode)) for mode in mode_pair)
        if base and dte and base["count"] and dte["count"] and kind == "pdf" and how == "one":
            log(f"  PDF one by one, DTE / baseline: {dte['seconds'] / dte['count'] / (base['seconds'] / base['count']):.2f}"
                f" (the DTE report adds the PDF417 stamp)")
    log(f"  wkhtmltopdf waits --javascript-delay {delay} ms per call (Odoo's report.print_delay) except in the "
        f"'print_delay 0' row; 'Odoo' = rendering and PDF handling in this process")
    for message, count in collector.messages.items():
        log(f"  wkhtmltopdf said ({count}x): {message[:150]}")


# --- output ----------------------------------------------------------------------------------------


def main():
    rng = random.Random(SEED)
    harness.banner(env, "l10n_cl_dte issue-4 benchmark")
    installed = env["ir.module.module"].search([("state", "=", "installed")]).mapped("name")
    log(f"{len(installed)} modules installed (baseline cost depends on them): "
        f"{', '.join(name for name in installed if name.startswith(('point_of_sale', 'sale', 'stock', 'l10n_cl')))}")
    ctx = setup()
    log(f"setup: Chilean company, chart cl, certificate, CAF, {len(ctx['customers'])} customers, "
        f"{len(ctx['products'])} products ({ctx['seconds']:.1f} s)")

    started = time.perf_counter()
    samples, posted = bench_posting(ctx, rng)
    log(f"posting: {N_INVOICES} + {N_INVOICES} invoices of {N_LINES} lines, ABBA blocks of {BLOCK} "
        f"({time.perf_counter() - started:.1f} s including creation)")
    batch = bench_batch(ctx, rng) if BATCH else None

    dte, base = samples[DTE], samples[BASE]
    ratio = dte.mean() / base.mean()
    ratio_median = dte.median() / base.median()
    log("")
    log(f"Posting one invoice ({N_LINES} lines, IVA 19%) with action_post, cold record cache, incl. flush/precommit")
    log(f"  {'mode':<24} {'n':>4} {'mean ms':>9} {'median':>8} {'p90':>8} {'CPU ms':>8} {'SQL ms':>8} {'queries':>8}")
    for mode, sample in ((BASE, base), (DTE, dte)):
        log(f"  {MODE_LABEL[mode]:<24} {sample.count:>4} {ms(sample.mean()):>9.1f} {ms(sample.median()):>8.1f} "
            f"{ms(sample.quantile(90)):>8.1f} {ms(sample.per_item('cpu')):>8.1f} "
            f"{ms(sample.per_item('sql')):>8.1f} {sample.per_item('queries'):>8.1f}")
    log(f"  DTE step adds {ms(dte.mean() - base.mean()):.1f} ms per invoice (mean), "
        f"{ms(dte.median() - base.median()):.1f} ms (median)")
    verdict = "meets" if ratio <= TARGET else "MISSES"
    log(f"  ratio DTE / baseline: {ratio:.2f} (mean), {ratio_median:.2f} (median), "
        f"{dte.per_item('cpu') / base.per_item('cpu'):.2f} (Odoo process CPU); "
        f"target <= {TARGET:.2f}: {verdict}")
    log("  (CPU ms: this Odoo process only; SQL ms: wall time of the queries, PostgreSQL included)")
    if batch:
        bd, bb = batch[DTE], batch[BASE]
        log(f"\nBatch posting: action_post on {bd.count // 2} invoices at once, 2 batches per mode (ABBA)")
        log(f"  {'mode':<24} {'n':>4} {'ms/inv':>9} {'CPU ms':>8} {'SQL ms':>8} {'queries':>8}")
        for mode, sample in ((BASE, bb), (DTE, bd)):
            log(f"  {MODE_LABEL[mode]:<24} {sample.count:>4} {ms(sample.mean()):>9.1f} "
                f"{ms(sample.per_item('cpu')):>8.1f} {ms(sample.per_item('sql')):>8.1f} "
                f"{sample.per_item('queries'):>8.1f}")
        log(f"  ratio DTE / baseline: {bd.mean() / bb.mean():.2f}")

    if N_PDF and env["ir.actions.report"].get_wkhtmltopdf_state() in ("ok", "upgrade", "workers"):
        collector = WarningCollector()
        report_logger = logging.getLogger("odoo.addons.base.models.ir_actions_report")
        report_logger.addHandler(collector)
        report_logger.propagate = False
        try:
            results, css = bench_printing(ctx, posted)
        finally:
            report_logger.removeHandler(collector)
            report_logger.propagate = True
        print_printing(results, css, collector)
    elif N_PDF:
        log("\nPrinting: wkhtmltopdf is not installed, skipped")

    if PROFILE == "1" or (PROFILE == "auto" and ratio > TARGET):
        time_steps(ctx, rng)
        report_profile(profile_posting(ctx, rng), N_PROFILE)
    cr.rollback()
    log(f"\nload average at the end: {harness.load_average()} (other processes on this machine share its CPUs)")
    log(f"rolled back; figures: DTE {ms(dte.mean()):.1f} ms/invoice, baseline {ms(base.mean()):.1f} ms/invoice, "
        f"ratio {ratio:.2f} (target <= {TARGET:.2f}, {date.today().isoformat()})")


main()
