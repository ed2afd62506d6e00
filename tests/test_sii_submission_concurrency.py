"""Two workers sending (and polling) at once, each in its own database transaction.

Like tests/test_dte_folio_concurrency.py, these tests commit real rows through
separate connections (as two Odoo cron workers would) and remove or archive
them afterwards. The SII is the local simulator over real HTTP; each upload
is made slow (a ``timeout`` fault: the simulator waits, then processes the
request) so that the workers overlap.
"""

import logging
import threading
import time
import traceback
from unittest.mock import patch

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tests import tagged

from ..models import l10n_cl_dte_sii_document as submission
from ..sii_engine import identities
from ..sii_engine.simulator import start_simulator
from .committed_company import CommittedRowsCase, archive_committed_company, create_chilean_company, invoice_values
from .common import SimulatorRequestsMixin

_logger = logging.getLogger(__name__)

INVOICES = 20
UPLOAD_SECONDS = 1  # each upload waits this long in the simulator before it is processed
WORKER_TIMEOUT = 120


@tagged("post_install", "-at_install")
class TestSiiSubmissionConcurrency(SimulatorRequestsMixin, CommittedRowsCase):
    """Two cron runs at once never send a document twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.authority = identities.TestAuthority()
        cls.simulator = start_simulator(authority=cls.authority, processing_polls=1)
        cls.addClassCleanup(cls.simulator.stop)
        cls.sii = cls.simulator.app
        cls.created = {}
        cls.addClassCleanup(cls._remove_committed_rows)
        with cls.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cr.execute("SELECT COALESCE(MAX(id), 0) FROM l10n_cl_dte_token")
            cls.created["token_floor"] = cr.fetchone()[0]
            parameters = env["ir.config_parameter"]
            cls.created["previous_key"] = parameters.get_param("l10n_cl_dte.simulator_sii_public_key")
            cls.created["previous_idk"] = parameters.get_param("l10n_cl_dte.simulator_sii_idk")
            parameters.set_param("l10n_cl_dte.simulator_sii_public_key", cls.authority.public_key_pem.decode())
            parameters.set_param("l10n_cl_dte.simulator_sii_idk", str(cls.authority.idk))
            cr.commit()  # the parameters are restored by the cleanup even if the rest fails

            cls.refs = create_chilean_company(
                env, cls.authority, "Submission Concurrency Co", simulator_url=cls.simulator.base_url
            )
            cls.created.update(company=cls.refs["company"], customer=cls.refs["customer"], product=cls.refs["product"])


    @classmethod
    def _remove_committed_rows(cls):
        created = cls.created
        with cls.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            parameters = env["ir.config_parameter"]
            if "previous_key" in created:
                parameters.set_param("l10n_cl_dte.simulator_sii_public_key", created["previous_key"] or False)
                parameters.set_param("l10n_cl_dte.simulator_sii_idk", created["previous_idk"] or False)
            cr.execute("DELETE FROM l10n_cl_dte_token WHERE id > %s", (created.get("token_floor", 0),))
            if company_id := created.get("company"):
                archive_committed_company(env, company_id)
            if created.get("customer"):
                env["res.partner"].browse(created["customer"]).active = False
            if created.get("product"):
                env["product.product"].browse(created["product"]).active = False
            cr.commit()

    def setUp(self):
        super().setUp()
        self.sii.reset()
        with self.cursor() as cr:
            # The simulator forgot its tokens: so does the database (each test starts without one).
            cr.execute("DELETE FROM l10n_cl_dte_token WHERE id > %s", (self.created["token_floor"],))
            cr.execute(
                """
                SELECT count(*) FROM account_move
                 WHERE company_id = %s AND l10n_cl_dte_status IN ('to_send', 'send_failed')
                """,
                (self.refs["company"],),
            )
            if cr.fetchone()[0]:
                # What an earlier (failed) test left pending would be sent now: take it out of the way.
                cr.execute(
                    """
                    UPDATE account_move SET l10n_cl_dte_status = 'rejected'
                     WHERE company_id = %s AND l10n_cl_dte_status IN ('to_send', 'send_failed')
                    """,
                    (self.refs["company"],),
                )

    # --- helpers ---------------------------------------------------------------------------

    def post_invoices(self, count=INVOICES):
        """Post ``count`` invoices (1 to 3 lines) in one committed transaction; return their ids."""
        with self.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [self.refs["company"]]})
            moves = env["account.move"].create(invoice_values(self.refs, count))
            moves.action_post()
            self.assertEqual(set(moves.mapped("l10n_cl_dte_status")), {"to_send"})
            cr.commit()
            return moves.ids

    def run_workers(self, *jobs, start_together=True):
        """Run each ``job(env)`` in a thread of its own, on its own connection; commit at its end.

        Returns ``{job index: error traceback}`` for the jobs that raised.
        """
        barrier = threading.Barrier(len(jobs)) if start_together else None
        errors = {}

        def work(index, job):
            try:
                with self.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    if barrier:
                        barrier.wait(30)
                    job(env)
                    # Outside tests the cron commits each batch itself; in tests _commit does nothing
                    # (unless the test runs the workers under self.committing()): commit what is left.
                    cr.commit()
            except Exception:  # noqa: BLE001 - reported to the test thread
                errors[index] = traceback.format_exc()

        threads = [
            threading.Thread(target=work, args=(index, job), name=f"dte-worker-{index}", daemon=True)
            for index, job in enumerate(jobs)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WORKER_TIMEOUT)
        self.assertFalse([t.name for t in threads if t.is_alive()], "a worker is still running")
        return errors

    def send_cron(self, env):
        env["l10n_cl_dte.envelope"]._cron_l10n_cl_dte_send()

    def poll_cron(self, env):
        env["l10n_cl_dte.envelope"]._cron_l10n_cl_dte_poll()

    def slow_uploads(self, count):
        for _upload in range(count):
            self.sii.inject_fault("DTEUpload", "timeout", seconds=UPLOAD_SECONDS)

    def moves_state(self, move_ids):
        """{move id: (status, envelope id, folio)} as committed."""
        with self.cursor() as cr:
            cr.execute(
                "SELECT id, l10n_cl_dte_status, l10n_cl_dte_envelope_id, l10n_cl_dte_folio FROM account_move"
                " WHERE id IN %s",
                (tuple(move_ids),),
            )
            return {row[0]: row[1:] for row in cr.fetchall()}

    def assert_no_worker_failed(self, errors):
        if errors:
            last_lines = "; ".join(f"worker {key}: {trace.strip().splitlines()[-1]}" for key, trace in errors.items())
            self.fail(f"a worker failed: {last_lines}\n" + "\n".join(errors.values()))

    def sii_mark(self):
        """What the simulator has seen so far: (uploads, calls), to count what follows."""
        return len(self.sii.uploads), self.sii.calls

    def sii_since(self, mark):
        uploads = self.sii.uploads[mark[0]:]
        calls = {endpoint: count - mark[1].get(endpoint, 0) for endpoint, count in self.sii.calls.items()}
        return uploads, {endpoint: count for endpoint, count in calls.items() if count}

    def warm_up(self):
        """One invoice sent alone by one cron run: a token is in the database, as between two runs."""
        warm = self.post_invoices(1)
        self.assertFalse(self.run_workers(self.send_cron))
        self.assertEqual(self.moves_state(warm)[warm[0]][0], "sent")
        return self.sii_mark()

    def assert_sent_exactly_once(self, move_ids, errors, mark=(0, {})):
        """Every document reached the SII once, in exactly one envelope; no worker failed.

        Returns {track id: folios the SII registered in that envelope}.
        """
        uploads, _calls = self.sii_since(mark)
        uploads = [upload for upload in uploads if upload["track_id"] is not None]
        received = {}
        for upload in uploads:
            record = self.sii.envelope(upload["track_id"])
            received[upload["track_id"]] = [document["folio"] for document in record["documents"]]
        all_received = [folio for documents in received.values() for folio in documents]
        # Before anything else: did a document reach the SII twice?
        self.assertEqual(len(all_received), len(set(all_received)), f"a document was uploaded twice: {received}")
        self.assertFalse(self.sii.duplicate_uploads())
        self.assert_no_worker_failed(errors)

        states = self.moves_state(move_ids)
        folios = {folio for _status, _envelope, folio in states.values()}
        self.assertEqual(len(folios), len(move_ids))
        self.assertEqual(set(all_received), folios, "each invoice was uploaded")
        self.assertEqual({status for status, _envelope, _folio in states.values()}, {"sent"}, states)
        envelope_ids = {envelope for _status, envelope, _folio in states.values()}
        self.assertNotIn(None, envelope_ids, "every invoice is in an envelope")
        self.assertEqual(len(uploads), len(envelope_ids), "one upload per envelope")
        with self.cursor() as cr:
            cr.execute(
                "SELECT id, track_id, state FROM l10n_cl_dte_envelope WHERE id IN %s", (tuple(envelope_ids),)
            )
            envelopes = cr.fetchall()
            cr.execute(
                "SELECT l10n_cl_dte_envelope_id, array_agg(l10n_cl_dte_folio) FROM account_move"
                " WHERE l10n_cl_dte_envelope_id IN %s GROUP BY 1",
                (tuple(envelope_ids),),
            )
            in_odoo = {envelope_id: sorted(folios) for envelope_id, folios in cr.fetchall()}
        self.assertEqual({state for _id, _track, state in envelopes}, {"sent"})
        # Each envelope holds, in Odoo, exactly what the SII received under its track id.
        self.assertEqual(
            {int(track): in_odoo[envelope_id] for envelope_id, track, _state in envelopes},
            {track: sorted(folios) for track, folios in received.items()},
        )
        return received

    def assert_calls_per_document(self, documents, envelopes, mark=(0, {}), tokens=0):
        """SII calls grow with envelopes (and tokens with workers), not with documents."""
        _uploads, calls = self.sii_since(mark)
        self.assertEqual(calls.get("DTEUpload", 0), envelopes, calls)
        self.assertLessEqual(calls.get("getToken", 0), tokens, calls)
        self.assertLessEqual(calls.get("getSeed", 0), tokens, calls)
        self.assertFalse({"getEstDte", "getEstUp"} & set(calls), calls)
        per_document = sum(calls.values()) / documents
        self.assertLessEqual(per_document, (envelopes + 2 * tokens) / documents, calls)
        return per_document

    # --- tests -------------------------------------------------------------------------------

    def test_two_send_crons_at_once_never_send_a_document_twice(self):
        """Each cron run in one transaction, committed at its end (in tests ``_commit`` does nothing)."""
        mark = self.warm_up()
        move_ids = self.post_invoices()
        self.slow_uploads(2)
        errors = self.run_workers(self.send_cron, self.send_cron)
        received = self.assert_sent_exactly_once(move_ids, errors, mark)
        # The first worker to lock holds every pending row until it commits: the other one usually finds nothing.
        self.assertIn(len(received), (1, 2))
        per_document = self.assert_calls_per_document(len(move_ids), len(received), mark)
        _logger.info("two send crons, one transaction each: envelopes of %s documents, %.3f SII calls per document",
                     sorted(len(folios) for folios in received.values()), per_document)

    def test_two_send_crons_committing_each_batch_never_send_a_document_twice(self):
        """As outside tests: each batch is committed before its upload, so the two workers share the work."""
        mark = self.warm_up()
        move_ids = self.post_invoices()
        self.slow_uploads(INVOICES)
        with self.committing(), patch.dict(submission.SEND_BATCH, {"EnvioDTE": 5}):
            errors = self.run_workers(self.send_cron, self.send_cron)
        received = self.assert_sent_exactly_once(move_ids, errors, mark)
        self.assertEqual(sorted(len(folios) for folios in received.values()), [5, 5, 5, 5])
        per_document = self.assert_calls_per_document(len(move_ids), len(received), mark)
        _logger.info("two send crons committing each batch: envelopes %s, %.3f SII calls per document",
                     {track: sorted(folios) for track, folios in received.items()}, per_document)

    def test_two_send_crons_needing_a_new_token_at_once(self):
        """Both workers find no valid token (first run, expiry after 30 min, the SII forgot it) and get one each.

        DatabaseTokenCache writes the token in the cron's own REPEATABLE READ
        transaction, which stays open during the upload: the second worker's
        upsert waits for the first worker's commit, then fails with "could not
        serialize access due to concurrent update" (a DELETE of a refused token
        fails the same way). The cron run aborts after its envelope was
        committed as "uploading", the upload never made.
        """
        move_ids = self.post_invoices()
        self.slow_uploads(INVOICES)
        with self.committing(), patch.dict(submission.SEND_BATCH, {"EnvioDTE": 5}):
            errors = self.run_workers(self.send_cron, self.send_cron)
        self.assert_sent_exactly_once(move_ids, errors)

    def test_poll_cron_during_an_upload_does_not_send_its_documents_again(self):
        """The poll cron runs while the send cron uploads (both run every 5 minutes, by default together).

        The envelope is committed as "uploading" with next_poll_at empty before
        the upload, so the poller takes it at once, asks getEstDte about each
        document, hears FAU (the SII has not registered them yet) and puts them
        back to "to send"; the sender's writes after the upload then fail on
        the rows the poller changed (SerializationFailure: the first envelope
        stays "failed", without the track id the SII gave it), and the next
        send cron uploads the same documents again: the SII rejects that copy
        as repeated (DTE Repetido); the documents end accepted only because
        the poller then asks getEstDte about each one.
        """
        self.warm_up()
        move_ids = self.post_invoices(3)
        self.sii.inject_fault("DTEUpload", "timeout", seconds=3 * UPLOAD_SECONDS)

        def poll_while_uploading(env):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                env.cr.execute(
                    "SELECT count(*) FROM l10n_cl_dte_envelope WHERE company_id = %s AND state = 'uploading'",
                    (self.refs["company"],),
                )
                uploading = env.cr.fetchone()[0]
                env.cr.rollback()  # each look, and then the cron run, in a new transaction
                if uploading:
                    break
                time.sleep(0.05)
            env["l10n_cl_dte.envelope"]._cron_l10n_cl_dte_poll()

        with self.committing():
            errors = self.run_workers(self.send_cron, poll_while_uploading, start_together=False)
            # The next run of the send cron, once that upload is over; then polls until the SII's answer.
            errors.update({f"next {key}": error for key, error in self.run_workers(self.send_cron).items()})
            for round_ in range(4):
                with self.cursor() as cr:
                    cr.execute(
                        "UPDATE l10n_cl_dte_envelope SET next_poll_at = now() at time zone 'UTC' - interval '1 second'"
                        " WHERE company_id = %s AND state IN ('uploading', 'unknown', 'sent')",
                        (self.refs["company"],),
                    )
                errors.update({f"poll {round_} {key}": error for key, error in self.run_workers(self.poll_cron).items()})
        with self.cursor() as cr:
            cr.execute("SELECT id, state, track_id FROM l10n_cl_dte_envelope WHERE company_id = %s ORDER BY id",
                       (self.refs["company"],))
            envelopes = cr.fetchall()
        _logger.info("poll during an upload: %s uploads; documents (status, envelope, folio) %s; envelopes %s",
                     self.sii.upload_count(endpoint="DTEUpload"), self.moves_state(move_ids), envelopes)
        self.assertEqual(self.sii.upload_count(endpoint="DTEUpload"), 2, "warm-up, then these documents once")
        self.assertFalse(self.sii.duplicate_uploads())
        self.assert_no_worker_failed(errors)
        states = self.moves_state(move_ids)
        self.assertEqual({status for status, _envelope, _folio in states.values()}, {"accepted"}, states)

    def committing(self):
        """Let the crons commit each batch, as they do outside tests.

        ``_commit`` (and whatever else tells a test from production by it) reads this module global; Odoo's
        own tests patch it the same way. Only the worker threads run meanwhile: the test thread waits.
        """
        return patch.object(odoo.modules.module, "current_test", False)
