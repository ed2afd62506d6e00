"""The system under load, on the real Odoo and PostgreSQL, with processes as a deployment runs them.

One company, one SII simulator, worker processes forked from the test
process (tests/system_workers.py), each on its own database connections:

* folios: 8 processes issue at once, 4 posting facturas as a billing user and
  4 tills synchronising paid orders (boletas) as a cashier; some requests are
  rolled back after they took their folio;
* fault storm: those documents go through the send and poll crons, run by 4
  processes at once, while the simulator fails a share of all calls in every
  way it knows;
* crash: the process uploading an envelope is killed (SIGKILL) once the SII
  has registered the upload and before its answer arrives; a new process
  resolves the envelope by asking the SII, without sending it again.

The crons see time pass between rounds (tests/system_jobs.py ``clock``): the
retry and polling delays (minutes to hours) are jumped over, never shortened,
and the clock moves only while no worker runs and the SII is idle.
Committed rows stay in the test database (nothing issued can be deleted); the
company is archived at the end.
"""

import logging
import os
import shutil
import tempfile
import time
import uuid
from collections import Counter
from hashlib import sha256

from odoo import SUPERUSER_ID, api
from odoo.tests import new_test_user, tagged

from ..models.l10n_cl_dte_sii_document import UNKNOWN_GRACE
from ..sii_engine import identities
from ..sii_engine.simulator import start_simulator
from ..sii_engine.simulator.faults import KINDS
from . import system_jobs
from .committed_company import (
    CommittedRowsCase,
    archive_committed_company,
    create_chilean_company,
    invoice_values,
    open_tills,
)
from .fault_storm import StormSimulator
from .system_workers import Worker, run_together

_logger = logging.getLogger(__name__)

ISSUING_PROCESSES = 4  # of each kind: 4 posting facturas, 4 tills
# 8 x 16 = 128 documents in the suite; bench/run_system.sh sets 63 (504 documents).
DOCUMENTS_PER_PROCESS = int(os.environ.get("L10N_CL_DTE_SYSTEM_DOCUMENTS_PER_PROCESS", 16))
# bench/run_system.sh: the same work by one poster and one till first, for a baseline in the same run.
BENCH_BASELINE = os.environ.get("L10N_CL_DTE_SYSTEM_BASELINE") == "1"
ROLLBACK_EVERY = 8  # one request in 8 is rolled back after it took its folio
FOLIOS = (ISSUING_PROCESSES + 1) * DOCUMENTS_PER_PROCESS + 20  # per CAF (33 and 39)
CRON_PROCESSES = 4
STORM_RATE = 0.4  # of all SII calls, of which mislabelled answers (the right answer) are ~1/8
STORM_SEED = 20260917
STORM_TIMEOUT = 1.0  # seconds a timeout fault holds the answer, above the workers' read timeout
STORM_TRANSPORT = {"batch": max(DOCUMENTS_PER_PROCESS // 3, 4), "read_timeout": 0.6}
CLOCK_STEP = 4 * 3600  # between two rounds of the crons: beyond the longest retry (3 h) and poll (1 h) delay
MAX_ROUNDS = 40
FINAL_DOCUMENT_STATES = ("accepted", "objected", "rejected")
WAITING_ENVELOPE_STATES = ("uploading", "unknown", "sent")


@tagged("post_install", "-at_install")
class TestSystemLevel(CommittedRowsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.authority = identities.TestAuthority()
        cls.simulator = start_simulator(StormSimulator(authority=cls.authority, processing_polls=1))
        cls.addClassCleanup(cls.simulator.stop)
        cls.sii = cls.simulator.app
        cls.log_dir = tempfile.mkdtemp(prefix="l10n_cl_dte_workers_")
        cls.addClassCleanup(shutil.rmtree, cls.log_dir, ignore_errors=True)
        cls.trust_authority_committed(cls.authority)
        cls.addClassCleanup(cls._archive_company)
        with cls.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cr.execute("SELECT COALESCE(MAX(id), 0) FROM l10n_cl_dte_token")
            cls.token_floor = cr.fetchone()[0]
            cls.refs = create_chilean_company(
                env, cls.authority, "System Co", caf_types=(33, 39), simulator_url=cls.simulator.base_url,
                folios=FOLIOS,
            )
            cls.tills = open_tills(env, cls.refs, [f"Caja {index + 1}" for index in range(ISSUING_PROCESSES)])
            company = cls.refs["company"]
            tag = uuid.uuid4().hex[:8]
            cls.billing_uid = new_test_user(
                env, login=f"system_billing_{tag}", groups="base.group_user,account.group_account_invoice",
                company_id=company, company_ids=[(6, 0, [company])],
            ).id
            cls.cashier_uid = new_test_user(
                env, login=f"system_cashier_{tag}", groups="base.group_user,point_of_sale.group_pos_user",
                company_id=company, company_ids=[(6, 0, [company])],
            ).id
            cr.commit()
        if BENCH_BASELINE:
            # The same work per process, by one poster and one till: what 8 processes at once cost in comparison.
            cls.baseline = cls._issue_at_once(1, "baseline")
        cls.issued = cls._issue_at_once(ISSUING_PROCESSES, "issuer")
        if BENCH_BASELINE:
            _logger.info("bench: 8 processes issue %.2f documents/s, 2 processes %.2f: ratio %.2f",
                         cls.issued["rate"], cls.baseline["rate"], cls.issued["rate"] / cls.baseline["rate"])
            for key in ("account.move", "pos.order"):
                cls.issued[key] += cls.baseline[key]
                cls.issued["rolled_back"][key] += cls.baseline["rolled_back"][key]

    @classmethod
    def _archive_company(cls):
        with cls.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cr.execute("DELETE FROM l10n_cl_dte_token WHERE id > %s", (cls.token_floor,))
            if company_id := getattr(cls, "refs", {}).get("company"):
                users = [getattr(cls, name, None) for name in ("billing_uid", "cashier_uid")]
                archive_committed_company(env, company_id, [uid for uid in users if uid])
            cr.commit()

    @classmethod
    def workers(cls, count, prefix):
        workers = [Worker(f"{prefix}-{index + 1}", cls.log_dir) for index in range(count)]
        for worker in workers:
            cls.addClassCleanup(worker.stop)
        return workers

    @classmethod
    def _issue_at_once(cls, processes, name):
        """``processes`` billing users posting facturas and as many tills synchronising boletas, all at once."""
        workers = cls.workers(2 * processes, name)
        jobs = [
            (system_jobs.post_invoices, cls.refs, cls.billing_uid, DOCUMENTS_PER_PROCESS, ROLLBACK_EVERY)
            for _index in range(processes)
        ] + [
            (system_jobs.sync_orders, cls.refs, cls.cashier_uid, till, DOCUMENTS_PER_PROCESS, ROLLBACK_EVERY)
            for till in cls.tills[:processes]
        ]
        started = time.monotonic()
        results = run_together(workers, jobs, timeout=1800)
        seconds = time.monotonic() - started
        for worker in workers:
            worker.stop()
        by_model = {"account.move": results[:processes], "pos.order": results[processes:]}
        issued = {
            **{model: [r for result in part for r in result["documents"]] for model, part in by_model.items()},
            "rolled_back": {
                model: [f for result in part for f in result["rolled_back_folios"]] for model, part in by_model.items()
            },
            "retries": sum(result["retries"] for result in results),
            "seconds": seconds,
        }
        documents = len(issued["account.move"]) + len(issued["pos.order"])
        issued["rate"] = documents / seconds
        _logger.info(
            "folios: %s processes issued %s facturas and %s boletas in %.1f s (%.1f documents/s); %s requests rolled "
            "back after taking a folio, %s retried after a concurrency failure",
            len(workers), len(issued["account.move"]), len(issued["pos.order"]), seconds, issued["rate"],
            sum(len(folios) for folios in issued["rolled_back"].values()), issued["retries"],
        )
        return issued

    # --- helpers -------------------------------------------------------------------------------

    def documents(self):
        """{(type code, folio): (model, id, status, envelope id)} of the company's issued documents, as committed."""
        with self.cursor() as cr:
            cr.execute(
                """
                SELECT 'account.move', rec.id, doc.code, rec.l10n_cl_dte_folio, rec.l10n_cl_dte_status,
                       rec.l10n_cl_dte_envelope_id
                  FROM account_move rec JOIN l10n_latam_document_type doc ON doc.id = rec.l10n_latam_document_type_id
                 WHERE rec.company_id = %(company)s AND rec.l10n_cl_dte_folio IS NOT NULL
                 UNION ALL
                SELECT 'pos.order', rec.id, doc.code, rec.l10n_cl_dte_folio, rec.l10n_cl_dte_status,
                       rec.l10n_cl_dte_envelope_id
                  FROM pos_order rec JOIN l10n_latam_document_type doc ON doc.id = rec.l10n_latam_document_type_id
                 WHERE rec.company_id = %(company)s AND rec.l10n_cl_dte_folio IS NOT NULL
                """,
                {"company": self.refs["company"]},
            )
            rows = cr.fetchall()
        documents = {(int(code), folio): (model, rec_id, status, envelope) for model, rec_id, code, folio, status, envelope
                     in rows}
        self.assertEqual(len(documents), len(rows), "two documents of one type share a folio")
        return documents

    def envelopes(self):
        """{envelope id: (state, track id, sha256 of its signed XML)} of the company."""
        with self.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            envelopes = env["l10n_cl_dte.envelope"].search([("company_id", "=", self.refs["company"])])
            return {
                envelope.id: (envelope.state, envelope.track_id, sha256(envelope.attachment_id.raw).hexdigest())
                for envelope in envelopes
            }

    def received_by_sii(self, since):
        """[(sha256 of the file, track id, [(type, folio)])] of the uploads the SII gave a track id since ``since``."""
        received = []
        for upload in self.sii.uploads[since:]:
            if upload["track_id"] is None:
                continue
            record = self.sii.envelope(upload["track_id"])
            documents = [(int(document["document_type"]), int(document["folio"])) for document in record["documents"]]
            received.append((upload["digest"], upload["track_id"], documents))
        return received

    def envelope_story(self, envelope_id):
        """What Odoo and the SII know of an envelope: for a failure message."""
        with self.cursor() as cr:
            envelope = api.Environment(cr, SUPERUSER_ID, {})["l10n_cl_dte.envelope"].browse(envelope_id)
            digest = sha256(envelope.attachment_id.raw).hexdigest()
            odoo = [(answer.operation, answer.code, answer.message) for answer in envelope.answer_ids]
            story = f"envelope {envelope_id} ({envelope.kind}, {envelope.state}), Odoo's answers {odoo}"
        for upload in self.sii.uploads:
            if upload["digest"] == digest:
                record = self.sii.envelope(upload["track_id"]) if upload["track_id"] else {}
                story += (f"; SII upload status {upload['status']} track {upload['track_id']} at {upload['at']}: "
                          f"{record.get('state')} {record.get('errors')} {len(record.get('documents') or [])} documents")
        return story

    def cron_rounds(self, workers, storm_transport=None):
        """Rounds of both crons in every worker at once, the clock moved on between rounds, until nothing waits."""
        offset, errors = 0, []
        for round_number in range(1, MAX_ROUNDS + 1):
            jobs = [(system_jobs.run_crons, ("_cron_l10n_cl_dte_send", "_cron_l10n_cl_dte_poll"), offset,
                     storm_transport)] * len(workers)
            errors += [error for result in run_together(workers, jobs) for error in result]
            self.sii.wait_idle()
            if not self.waiting():
                return round_number, errors
            offset += CLOCK_STEP
        self.fail(f"still waiting after {MAX_ROUNDS} rounds of the crons: {self.waiting()}\n" + "\n".join(errors))

    def waiting(self):
        """Documents not in a final SII state and envelopes still waiting, by state."""
        documents = Counter(status for _model, _id, status, _envelope in self.documents().values()
                            if status not in FINAL_DOCUMENT_STATES)
        envelopes = Counter(state for state, _track, _digest in self.envelopes().values()
                            if state in WAITING_ENVELOPE_STATES)
        return {**{f"document {k}": v for k, v in documents.items()}, **{f"envelope {k}": v for k, v in envelopes.items()}}

    # --- tests ---------------------------------------------------------------------------------

    def test_folios_of_8_processes_issuing_at_once_are_unique_and_without_gaps(self):
        documents = self.documents()
        issued = self.issued
        processes = ISSUING_PROCESSES + (1 if BENCH_BASELINE else 0)
        for code, model in ((33, "account.move"), (39, "pos.order")):
            expected = processes * DOCUMENTS_PER_PROCESS
            self.assertEqual(len(issued[model]), expected, "every request went through")
            folios = sorted(folio for (type_code, folio) in documents if type_code == code)
            self.assertEqual(folios, list(range(1, expected + 1)), f"type {code}: one folio each, from 1, no gap")
            ids = {rec_id for (type_code, _folio), (_m, rec_id, _s, _e) in documents.items() if type_code == code}
            self.assertEqual(ids, set(issued[model]), f"type {code}: the documents the processes issued")
            # A rolled-back request had a folio, and gave it back: someone else holds it now.
            rolled_back = issued["rolled_back"][model]
            self.assertGreaterEqual(len(rolled_back), processes * (DOCUMENTS_PER_PROCESS // ROLLBACK_EVERY))
            self.assertTrue(set(rolled_back) <= set(folios), rolled_back)
        with self.cursor() as cr:
            cr.execute("SELECT next_folio FROM l10n_cl_dte_caf WHERE company_id = %s", (self.refs["company"],))
            self.assertEqual({row[0] for row in cr.fetchall()}, {processes * DOCUMENTS_PER_PROCESS + 1})

    def test_fault_storm_with_4_cron_processes_loses_nothing_and_sends_nothing_twice(self):
        issued = self.documents()
        self.assertEqual(len(issued), len(self.issued["account.move"]) + len(self.issued["pos.order"]))
        uploads_before, calls_before = len(self.sii.uploads), sum(self.sii.calls.values())
        workers = self.workers(CRON_PROCESSES, "cron")
        storm = self.sii.storm(STORM_RATE, STORM_SEED, STORM_TIMEOUT)
        started = time.monotonic()
        try:
            rounds, errors = self.cron_rounds(workers, STORM_TRANSPORT)
        finally:
            self.sii.calm()
        seconds = time.monotonic() - started
        calls = sum(self.sii.calls.values()) - calls_before
        failing = storm.failing()
        received = self.received_by_sii(uploads_before)
        envelopes = self.envelopes()
        documents = self.documents()
        _logger.info(
            "fault storm: %s documents by %s cron processes in %s rounds, %.1f s; %s SII calls, %s failed by a fault "
            "(%.0f %%) of %s kinds, %s more answered mislabelled; %s uploads (%s given a track id) for %s envelopes",
            len(documents), len(workers), rounds, seconds, calls, len(failing), 100 * len(failing) / calls,
            len(storm.kinds()), len(storm.served) - len(failing), len(self.sii.uploads) - uploads_before,
            len(received), len(envelopes),
        )
        self.assertFalse(errors, "\n".join(errors))
        # The registry's own fault (RCV) is met by the reception tests: the send and poll crons never call it.
        self.assertEqual(storm.kinds(), KINDS - {"rcv_internal_error"}, "every kind of fault was injected")
        self.assertGreaterEqual(len(failing) / calls, 0.30, "at least 30 % of the SII calls failed")

        # Every document reached a final state, nothing is left on its way.
        self.assertEqual(set(documents), set(issued))
        self.assertEqual({status for _m, _i, status, _e in documents.values()}, {"accepted"})
        self.assertFalse({state for state, _t, _d in envelopes.values()} & set(WAITING_ENVELOPE_STATES))

        # The SII received each folio once, and each envelope once.
        received_folios = Counter(document for _digest, _track, folios in received for document in folios)
        self.assertEqual({key for key, count in received_folios.items() if count > 1}, set(), "a folio sent twice")
        self.assertEqual(set(received_folios), set(documents), "every document reached the SII")
        self.assertEqual(self.sii.duplicate_uploads(), {})
        received_digests = Counter(digest for digest, _track, _folios in received)
        # The same documents enveloped again in the same second are the same bytes (the envelope is dated to the
        # second): a failed envelope shares its digest with the one that went. Count by content.
        envelopes_by_digest = {}
        for envelope_id, (state, _track, digest) in envelopes.items():
            envelopes_by_digest.setdefault(digest, {})[envelope_id] = state
        for digest, states in envelopes_by_digest.items():
            expected = 0 if set(states.values()) == {"failed"} else 1
            self.assertEqual(received_digests[digest], expected, "; ".join(
                self.envelope_story(envelope_id) for envelope_id in states))
        # Each document's envelope is the one the SII holds it in.
        held_in = {document: digest for digest, _track, folios in received for document in folios}
        for key, (_model, _id, _status, envelope_id) in documents.items():
            self.assertEqual(held_in[key], envelopes[envelope_id][2], f"document {key}: its envelope")
        _logger.info("fault storm: uploads received per envelope %s, folios received more than once: %s; "
                     "envelopes made again with the same bytes after a failure: %s",
                     dict(Counter(received_digests.values())), sum(count > 1 for count in received_folios.values()),
                     sum(len(states) - 1 for states in envelopes_by_digest.values()))

    def test_upload_killed_before_its_answer_is_resolved_by_status_query_not_sent_again(self):
        # What the storm may have left pending is not this test's business.
        self.assertFalse(self.waiting(), "the fault storm left documents or envelopes waiting")
        with self.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [self.refs["company"]]})
            moves = env["account.move"].create(invoice_values(self.refs, 3))
            moves.action_post()
            keys = {(33, folio) for folio in moves.mapped("l10n_cl_dte_folio")}
            cr.commit()
        uploads_before, calls_before = len(self.sii.uploads), self.sii.calls
        # The SII registers the upload at once and holds its answer: the client is killed meanwhile.
        self.sii.inject_fault("DTEUpload", "timeout", seconds=120, process=True)
        victim, = self.workers(1, "killed")
        victim.submit(system_jobs.run_crons, ("_cron_l10n_cl_dte_send",))
        deadline = time.monotonic() + 60
        while len(self.sii.uploads) == uploads_before and time.monotonic() < deadline:
            time.sleep(0.05)
        received = self.received_by_sii(uploads_before)
        self.assertEqual(len(received), 1, "the SII registered the upload")
        victim.kill()
        self.assertEqual(victim.process.exitcode, -9)

        documents = {key: value for key, value in self.documents().items() if key in keys}
        (envelope_id,) = {envelope for _m, _i, _s, envelope in documents.values()}
        state, track_id, digest = self.envelopes()[envelope_id]
        self.assertEqual((state, track_id), ("uploading", False), "the answer was never recorded")
        self.assertEqual({status for _m, _i, status, _e in documents.values()}, {"sent"})
        self.assertEqual(digest, received[0][0])

        # A new process: the crons at once do nothing (the SII may still be processing), after the grace they ask.
        restarted, = self.workers(1, "restarted")
        both = ("_cron_l10n_cl_dte_send", "_cron_l10n_cl_dte_poll")
        self.assertEqual(restarted.run(system_jobs.run_crons, both), [])
        self.assertEqual(self.envelopes()[envelope_id][0], "uploading")
        grace = UNKNOWN_GRACE.total_seconds() + 60
        self.assertEqual(restarted.run(system_jobs.run_crons, both, grace), [])
        self.assertEqual(restarted.run(system_jobs.run_crons, both, grace + CLOCK_STEP), [])

        calls = {name: count - calls_before.get(name, 0) for name, count in self.sii.calls.items()}
        documents = {key: value for key, value in self.documents().items() if key in keys}
        _logger.info("crash: %s documents; after the restart: %s; uploads %s",
                     len(documents), calls, len(self.sii.uploads) - uploads_before)
        self.assertEqual(len(self.sii.uploads), uploads_before + 1, "uploaded once, never again")
        self.assertEqual(calls.get("DTEUpload"), 1)
        self.assertEqual(calls.get("getEstDte"), len(keys), "each document asked about once")
        self.assertEqual({status for _m, _i, status, _e in documents.values()}, {"accepted"})
        self.assertEqual(self.envelopes()[envelope_id][0], "accepted")
        self.assertEqual(self.sii.duplicate_uploads(), {})
