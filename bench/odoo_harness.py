"""What the Odoo benchmarks share: settings, output, the Chilean company, the ABBA order, samples, step timers.

The benchmarks run inside ``odoo-bin shell`` (bench/run_odoo_*.sh pipe them in) and import this module from
the addon (``odoo.addons.l10n_cl_dte.bench.odoo_harness``). The company is the one the Odoo tests use
(tests/chilean_company.py): chart ``cl``, a stand-in SII key trusted by the simulator environment, a
2048-bit signing certificate and CAFs with 512-bit keys, as the SII's.

Timing: ``time.perf_counter`` for wall time, ``time.process_time`` for this process's CPU, and the SQL
counters Odoo's cursor keeps on the current thread (queries and their wall time, PostgreSQL included).
Each benchmark measures its baseline in the same run, the modes alternating in ABBA order so that warm-up,
caches and the machine's load fall on both.
"""

import functools
import importlib
import os
import platform
import statistics
import threading
import time
from collections import Counter

from stdnum.cl import rut as stdnum_rut

import odoo
from odoo import Command

from ..tests.chilean_company import setup_chilean_company, vat_19

QUICK = os.environ.get("BENCH_QUICK") == "1"
COMMUNES = ["Santiago", "Providencia", "Las Condes", "Valparaiso", "Concepcion", "Temuco", "Antofagasta"]


def setting(name, default, quick=None):
    """The integer setting ``name`` from the environment; ``quick`` is its default in a BENCH_QUICK run."""
    return int(os.environ.get(name, quick if QUICK and quick is not None else default))


def log(message=""):
    print(message, flush=True)


def ms(seconds):
    return seconds * 1000.0


def load_average():
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def banner(env, title, extra=""):
    """The first line of every benchmark: what ran, where, and how busy the machine was."""
    log(f"{title}: Odoo {odoo.release.version}, Python {platform.python_version()}, database {env.cr.dbname}, "
        f"{os.cpu_count()} CPUs, load average {load_average()}{extra}")


# --- SQL counters ----------------------------------------------------------------------------------


def start_sql_counters():
    """Make Odoo's cursor count this thread's queries (it adds to these attributes when they exist)."""
    thread = threading.current_thread()
    thread.query_count = 0
    thread.query_time = 0.0


def sql_counters():
    """``(queries, seconds)`` run by this thread so far."""
    thread = threading.current_thread()
    return thread.query_count, thread.query_time


class Measure:
    """Wall time, process CPU and SQL of a block: ``with Measure() as measure: ...``, then its attributes."""

    def __enter__(self):
        self._queries, self._sql = sql_counters()
        self._cpu = time.process_time()
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._started
        self.cpu = time.process_time() - self._cpu
        queries, sql = sql_counters()
        self.queries, self.sql = queries - self._queries, sql - self._sql


# --- the company -----------------------------------------------------------------------------------


def valid_rut(number):
    return f"{number}-{stdnum_rut.calc_check_digit(str(number))}"


def bench_company(env, authority, name, cafs, **company_values):
    """The Chilean company of the benchmark, as the tests set it up; the administrator may use it.

    Returns ``(company, vat)``: the company and its sale IVA 19% (price excluded).
    """
    company = setup_chilean_company(env, authority, name, cafs=cafs, **company_values)
    env.ref("base.user_admin").write({"company_ids": [Command.link(company.id)]})
    return company, vat_19(env, company)


def chilean_customers(env, count, label, **values):
    """``count`` customers with a RUT, a giro and an address, as a factura needs them."""
    chile, rut_type = env.ref("base.cl"), env.ref("l10n_cl.it_RUT")
    return env["res.partner"].create([
        {
            "name": f"Cliente {label} {index:02d} Limitada",
            "is_company": True,
            "country_id": chile.id,
            "l10n_latam_identification_type_id": rut_type.id,
            "vat": valid_rut(76000000 + 1379 * index),
            "l10n_cl_sii_taxpayer_type": "1",
            "l10n_cl_activity_description": "Comercio al por menor",
            "street": f"Avenida {label} {100 + index}",
            "city": COMMUNES[index % len(COMMUNES)],
            **values,
        }
        for index in range(count)
    ])


def set_electronic_documents(env, company, on):
    """Switch the company between issuing DTEs (the simulator environment) and not issuing them (baseline)."""
    company.sudo().l10n_cl_dte_environment = "simulator" if on else False
    env.flush_all()


# --- order of the runs and their figures -----------------------------------------------------------


def abba(count, first, second):
    """``first, second, second, first, first, second, ...``: ``count`` blocks of each mode."""
    order = []
    for index in range(count):
        order.extend([first, second] if index % 2 == 0 else [second, first])
    return order


class Sample:
    """Figures of one mode: the seconds of each run, and totals of whatever else is counted."""

    def __init__(self):
        self.seconds = []
        self.totals = Counter()
        self.batches = []  # mean seconds of each batch, in order

    def add(self, seconds, count=1, **totals):
        """Record a run of ``count`` items that took ``seconds`` (and added ``totals``)."""
        self.seconds.extend([seconds / count] * count)
        self.totals.update(totals)

    def add_measure(self, measure, count=1):
        self.add(measure.seconds, count, cpu=measure.cpu, queries=measure.queries, sql=measure.sql)

    @property
    def count(self):
        return len(self.seconds)

    def mean(self):
        return statistics.fmean(self.seconds)

    def median(self):
        return statistics.median(self.seconds)

    def quantile(self, percent):
        """The ``percent`` (90, 95) quantile; the largest value when there are too few runs."""
        parts = 100 // (100 - percent)
        return statistics.quantiles(self.seconds, n=parts)[-1] if self.count >= parts else max(self.seconds)

    def per_item(self, name):
        return self.totals[name] / self.count


# --- where the time goes ---------------------------------------------------------------------------


class StepClock:
    """Wall-clock timers (outermost call only) around functions, per mode: no profiler.

    ``steps`` are ``(label, module under odoo.addons, class name or None for a module function, attribute)``.
    Set ``clock.mode`` before each run; figures are keyed ``(mode, label)``.
    """

    def __init__(self, steps):
        self.steps = steps
        self.mode = None
        self.seconds = Counter()
        self.calls = Counter()
        self.queries = Counter()
        self.patched = []

    def __enter__(self):
        for label, module_name, class_name, attribute in self.steps:
            module = importlib.import_module(f"odoo.addons.{module_name}")
            owner = getattr(module, class_name) if class_name else module
            original = vars(owner).get(attribute) if class_name else getattr(owner, attribute, None)
            if original is None:
                raise AttributeError(f"bench step {label!r}: {module_name}.{class_name or ''}.{attribute} is gone")
            self.patched.append((owner, attribute, original))
            setattr(owner, attribute, self._wrap(label, original))
        return self

    def _wrap(self, label, original):
        clock = self
        depth = [0]

        @functools.wraps(original)
        def timed(*args, **kwargs):
            depth[0] += 1
            queries, _sql = sql_counters()
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                depth[0] -= 1
                if not depth[0]:
                    clock.seconds[clock.mode, label] += time.perf_counter() - started
                    clock.calls[clock.mode, label] += 1
                    clock.queries[clock.mode, label] += sql_counters()[0] - queries

        return timed

    def __exit__(self, *exc):
        for owner, attribute, original in reversed(self.patched):
            setattr(owner, attribute, original)
