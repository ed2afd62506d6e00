"""What the system-level tests' worker processes do (tests/system_workers.py).

Each job is one worker's share of the work. Every request runs in its own
transaction, as Odoo serves it: committed at its end, started again from
scratch after a concurrency failure (what ``odoo.service.model.retrying``
does for every RPC, here with shorter waits), or rolled back when something
after the posting fails (:class:`Abandoned`).
"""

import copy
import random
import time
import traceback
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo import SUPERUSER_ID, api, fields
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from ..models import l10n_cl_dte_sii_document as sii_document
from ..models import res_company_sii_client
from ..sii_engine.transport import RetryPolicy, httpclient
from .committed_company import invoice_values, paid_order_data

MAX_TRIES = 100  # a request is tried again until it goes through: a user would click again


class Abandoned(Exception):
    """Raised at the end of a request to roll it back (anything after the posting failed)."""

    def __init__(self, folio):
        super().__init__(folio)
        self.folio = folio


def request(registry, uid, company_id, function, tally):
    """``function(env)`` as one request of ``uid``: its result once committed, or the folio of an Abandoned one."""
    for attempt in range(1, MAX_TRIES + 1):
        with registry.cursor() as cr:
            env = api.Environment(cr, uid, {"allowed_company_ids": [company_id]})
            try:
                result = function(env)
                env.flush_all()
                cr.commit()
                return result
            except Abandoned as abandoned:
                cr.rollback()
                return abandoned.folio
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                cr.rollback()
                tally["retries"] += 1
        time.sleep(random.uniform(0, min(0.01 * 2 ** attempt, 0.2)))
    raise RuntimeError(f"a request failed {MAX_TRIES} times on concurrency errors")


def _tally():
    return {"documents": [], "retries": 0, "rolled_back_folios": [], "seconds": 0.0}


# --- issuing -------------------------------------------------------------------------------


def post_invoices(registry, refs, uid, count, rollback_every):
    """A billing user creates ``count`` facturas, then posts them one request each.

    Every ``rollback_every``-th posting is first rolled back after it took its folio.
    """
    tally = _tally()
    started = time.monotonic()
    move_ids = request(
        registry, uid, refs["company"], lambda env: env["account.move"].create(invoice_values(refs, count)).ids, tally
    )

    def post(move_id, abandon=False):
        def posting(env):
            move = env["account.move"].browse(move_id)
            move.action_post()
            if abandon:
                raise Abandoned(move.l10n_cl_dte_folio)
            return move_id
        return posting

    for index, move_id in enumerate(move_ids):
        if rollback_every and index % rollback_every == rollback_every // 2:
            tally["rolled_back_folios"].append(request(registry, uid, refs["company"], post(move_id, True), tally))
        tally["documents"].append(request(registry, uid, refs["company"], post(move_id), tally))
    tally["seconds"] = time.monotonic() - started
    return tally


def sync_orders(registry, refs, uid, till, count, rollback_every):
    """A cashier's till synchronises ``count`` paid orders, one request each (each gets its boleta).

    Every ``rollback_every``-th synchronisation is first rolled back after its boleta was stamped.
    """
    tally = _tally()
    started = time.monotonic()

    def sync(data, abandon=False):
        def synchronising(env):
            answer = env["pos.order"].sync_from_ui([copy.deepcopy(data)])
            order = env["pos.order"].browse(answer["pos.order"][0]["id"])
            if abandon:
                raise Abandoned(order.l10n_cl_dte_folio)
            return order.id
        return synchronising

    for index in range(count):
        data = paid_order_data(refs, till, index, uid)
        if rollback_every and index % rollback_every == rollback_every // 2:
            tally["rolled_back_folios"].append(request(registry, uid, refs["company"], sync(data, True), tally))
        tally["documents"].append(request(registry, uid, refs["company"], sync(data), tally))
    tally["seconds"] = time.monotonic() - started
    return tally


# --- the scheduled actions -----------------------------------------------------------------


@contextmanager
def clock(offset_seconds):
    """The server's clock ``offset_seconds`` ahead: time has passed between two runs of the crons."""
    offset = timedelta(seconds=offset_seconds)
    with patch.object(fields.Datetime, "now", staticmethod(lambda *args: datetime.now().replace(microsecond=0) + offset)):
        yield


@contextmanager
def impatient_transport(batch, read_timeout):
    """Envelopes of ``batch`` documents; the SII's answer awaited ``read_timeout`` s, retries after ~0.1 s.

    The same code paths as in production (60 s, 1-5 s between retries, 500 documents an
    envelope) with figures that let a storm of faults pass in seconds.
    """
    policy = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2, max_total_delay=1.0, retry_after_cap=0.2)
    with ExitStack() as stack:
        stack.enter_context(patch.dict(sii_document.SEND_BATCH, {"EnvioDTE": batch, "EnvioBOLETA": batch}))
        stack.enter_context(patch.object(httpclient, "DEFAULT_TIMEOUT", (5.0, float(read_timeout))))
        stack.enter_context(patch.object(res_company_sii_client, "CRON_RETRY_POLICY", policy))
        yield


def run_crons(registry, crons, offset_seconds=0, storm=None):
    """One run of each cron in ``crons`` (method names), each in its own transaction, as ir.cron runs them.

    ``storm``: ``{"batch": n, "read_timeout": s}`` for :func:`impatient_transport`. Returns the
    tracebacks of the runs that failed (a cron run that raises is rolled back and tried at its next run).
    """
    errors = []
    with ExitStack() as stack:
        stack.enter_context(clock(offset_seconds))
        if storm:
            stack.enter_context(impatient_transport(**storm))
        for method in crons:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                try:
                    getattr(env["l10n_cl_dte.envelope"], method)()
                    cr.commit()
                except Exception:  # noqa: BLE001 - reported to the test
                    cr.rollback()
                    errors.append(traceback.format_exc())
    return errors
