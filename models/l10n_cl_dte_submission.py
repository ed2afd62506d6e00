"""The scheduled actions that send stamped documents to the SII and bring its answers back.

Every model inheriting ``l10n_cl_dte.sii.document`` (invoices, POS boletas) is
sent by the same cron; an envelope holds documents of one model only. The
guarantees are those of :mod:`.l10n_cl_dte_sii_document`.
"""

import functools

import psycopg2

from odoo import api, fields, models
from odoo.tools import SQL

from ..sii_engine.errors import SiiEngineError
from ..sii_engine.transport import (
    SiiUnavailable,
    State,
    TransportError,
    UploadAlreadyReceived,
    UploadOutcomeUnknown,
    UploadRejected,
)
from .engine_errors import engine_error_message
from .l10n_cl_dte_envelope import FIRST_POLL_DELAY, WAITING_STATES
from .l10n_cl_dte_sii_document import DOCUMENT_STATE_TO_STATUS, UNKNOWN_GRACE, commit_batch

POLL_BATCH = 50


class L10nClDteEnvelope(models.Model):
    _inherit = "l10n_cl_dte.envelope"

    # --- sending ---------------------------------------------------------------------------

    @api.model
    def _cron_l10n_cl_dte_send(self):
        done = 0
        for company in self.env["res.company"].search([("l10n_cl_dte_environment", "!=", False)]):
            for model in self.env["l10n_cl_dte.sii.document"]._l10n_cl_dte_document_models():
                for kind in ("EnvioDTE", "EnvioBOLETA"):
                    lock = functools.partial(self.env[model]._l10n_cl_dte_lock_pending, company, kind)
                    while documents := self._l10n_cl_dte_lock_or_leave(lock):
                        documents._l10n_cl_dte_send_locked(kind)
                        done += len(documents)
                        commit_batch(self.env)
                        self.env["ir.cron"]._notify_progress(done=done, remaining=self._l10n_cl_dte_count_pending())
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)

    @api.model
    def _l10n_cl_dte_lock_or_leave(self, lock):
        """What ``lock()`` locks, or nothing when another worker changed those rows since this
        transaction began (REPEATABLE READ refuses to lock them): that worker has them, and the
        next run takes what is left."""
        try:
            with self.env.cr.savepoint():
                return lock()
        except psycopg2.errors.SerializationFailure:
            return None

    @api.model
    def _l10n_cl_dte_count_pending(self):
        return sum(
            self.env[model].search_count(self.env[model]._l10n_cl_dte_pending_domain())
            for model in self.env["l10n_cl_dte.sii.document"]._l10n_cl_dte_document_models()
        )

    def _l10n_cl_dte_in_company_lang(self):
        """The envelope in its company's language: what the scheduled actions log is read by the company."""
        return self.with_context(lang=self.company_id[:1]._l10n_cl_dte_lang())

    def _l10n_cl_dte_upload(self, client, xml):
        self.ensure_one()
        documents = self._l10n_cl_dte_documents()
        env = self._l10n_cl_dte_in_company_lang().env
        now = fields.Datetime.now()
        try:
            receipt = client.upload_envelope(xml, self.kind)
        except UploadOutcomeUnknown as error:
            self.write({"state": "unknown", "next_poll_at": now + UNKNOWN_GRACE, "uploaded_at": now})
            self._l10n_cl_dte_log("upload", "?", engine_error_message(env, error))
            documents.write({"l10n_cl_dte_sii_message": env._("Sent, but the SII's answer was lost: checking with the "
                                                              "SII before anything is sent again.")})
            return
        except UploadAlreadyReceived as error:
            self.write({"state": "unknown", "next_poll_at": now + FIRST_POLL_DELAY, "uploaded_at": now})
            self._l10n_cl_dte_log("upload", error.status, engine_error_message(env, error))
            return
        except (SiiUnavailable, TransportError, SiiEngineError) as error:
            self.write({"state": "failed"})
            reason = engine_error_message(env, error)
            self._l10n_cl_dte_log("upload", getattr(error, "status", ""), reason)
            content_problem = isinstance(error, UploadRejected) and error.status in ("7", "8")
            documents._l10n_cl_dte_send_failed(reason, send_alone=content_problem and len(documents) > 1)
            return
        self.write({
            "state": "sent", "track_id": receipt.track_id, "uploaded_at": now, "next_poll_at": now + FIRST_POLL_DELAY,
        })
        documents._l10n_cl_dte_trigger("ir_cron_l10n_cl_dte_poll", self.next_poll_at)
        self._l10n_cl_dte_log("upload", receipt.status, env._("Received by the SII, track ID %s", receipt.track_id))
        documents.write({
            "l10n_cl_dte_track_id": receipt.track_id,
            "l10n_cl_dte_sii_message": env._("Received by the SII (track ID %s), waiting for its review.",
                                             receipt.track_id),
            "l10n_cl_dte_send_attempts": 0,
            "l10n_cl_dte_next_try": False,
        })

    # --- polling ---------------------------------------------------------------------------

    @api.model
    def _cron_l10n_cl_dte_poll(self):
        done = 0
        while envelopes := self._l10n_cl_dte_lock_or_leave(self._l10n_cl_dte_lock_due_envelopes):
            envelopes._l10n_cl_dte_poll()
            done += len(envelopes)
            commit_batch(self.env)
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(self._l10n_cl_dte_lock_due_envelopes(False)))

    @api.model
    def _l10n_cl_dte_lock_due_envelopes(self, lock=True):
        self.flush_model()
        self.env.cr.execute(SQL(
            """
            SELECT id FROM l10n_cl_dte_envelope
             WHERE state IN %s AND (next_poll_at IS NULL OR next_poll_at <= %s)
          ORDER BY next_poll_at NULLS FIRST, id
             LIMIT %s %s
            """,
            WAITING_STATES, fields.Datetime.now(), POLL_BATCH, SQL("FOR UPDATE SKIP LOCKED") if lock else SQL(),
        ), log_exceptions=False)  # a race with another worker is expected: see _l10n_cl_dte_lock_or_leave
        return self.sudo().browse([row[0] for row in self.env.cr.fetchall()])

    def _l10n_cl_dte_poll(self):
        for envelope in self.sudo().filtered(lambda e: e.state in WAITING_STATES):
            envelope.poll_count += 1
            try:
                client = envelope.company_id._l10n_cl_dte_sii_client()
                if envelope.state == "sent":
                    envelope._l10n_cl_dte_poll_envelope(client)
                else:
                    envelope._l10n_cl_dte_resolve_unknown(client)
            except (TransportError, SiiEngineError) as error:
                envelope._l10n_cl_dte_log("status", "", engine_error_message(
                    envelope._l10n_cl_dte_in_company_lang().env, error))
                envelope._l10n_cl_dte_poll_later()

    def _l10n_cl_dte_poll_envelope(self, client):
        status = client.envelope_status(self.track_id, self.kind)
        self._l10n_cl_dte_log("status", status.code, status.summary())
        if not status.final:
            self._l10n_cl_dte_poll_later()
            return
        documents = self._l10n_cl_dte_documents()
        if status.state in (State.ACCEPTED, State.OBJECTED) and not status.totals().objected:
            self.state = "accepted"
            documents._l10n_cl_dte_set_outcome("accepted", status.description)
        elif status.state == State.REJECTED and not status.counts:
            self.state = "rejected"
            documents._l10n_cl_dte_set_outcome("rejected", status.summary())
        else:
            # Some documents were rejected or objected: the envelope's counts do not say which.
            self.state = {"objected": "objected", "rejected": "rejected"}.get(status.state.value, "mixed")
            counts = {count.document_type: count for count in status.counts}
            for document in documents:
                code = document._l10n_cl_dte_type_code()
                detail = status.document(code, document.l10n_cl_dte_folio)
                if detail is not None:
                    document._l10n_cl_dte_set_outcome(DOCUMENT_STATE_TO_STATUS.get(detail.state, "rejected"),
                                                      f"{detail.code}: {detail.description}")
                else:
                    document._l10n_cl_dte_ask_document_status(client, counts.get(int(code)), status.summary())

    def _l10n_cl_dte_resolve_unknown(self, client):
        """Ask the SII about each document of an upload whose answer was lost."""
        documents = self._l10n_cl_dte_documents()
        env = self._l10n_cl_dte_in_company_lang().env
        pending = documents.browse()
        for document in documents:
            status = document._l10n_cl_dte_document_status(client)
            if status.state == State.NOT_FOUND:
                document.write({
                    "l10n_cl_dte_status": "to_send", "l10n_cl_dte_envelope_id": False,
                    "l10n_cl_dte_sii_message": env._("The SII never received this document: it will be sent again."),
                })
            elif status.final:
                document._l10n_cl_dte_set_outcome(DOCUMENT_STATE_TO_STATUS.get(status.state, "rejected"),
                                                  status.summary())
            else:
                pending |= document
        self._l10n_cl_dte_log("status", "", env._("Checked %s documents one by one.", len(documents)))
        if pending:
            self._l10n_cl_dte_poll_later()
            return
        statuses = set(self._l10n_cl_dte_documents().mapped("l10n_cl_dte_status"))
        if not statuses:
            self.state = "failed"  # the SII never received it: its documents go in a new envelope
        elif statuses <= {"accepted", "objected"}:
            self.state = "objected" if "objected" in statuses else "accepted"
        else:
            self.state = "rejected" if statuses == {"rejected"} else "mixed"
