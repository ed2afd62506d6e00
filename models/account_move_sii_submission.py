"""Sending stamped DTEs to the SII and bringing its answers back, by scheduled actions.

Guarantees:

* a document is in at most one envelope the SII may hold: rows are taken with
  ``FOR UPDATE SKIP LOCKED`` and marked *sent* (with their envelope) before the
  upload, in a committed transaction, so two workers never send it twice;
* an upload whose outcome is unknown is never repeated: the poller asks the SII
  about each of its documents, and only one the SII says it never received
  (FAU, after a grace period) goes back to *to send*;
* transport failures leave documents pending with a growing delay; one
  document the envelope cannot hold is taken out and the others go.
"""

import logging
from datetime import timedelta

from odoo import _, api, fields, models, modules

from ..sii_engine import envelope as engine_envelope
from ..sii_engine import schema as engine_schema
from ..sii_engine import xmlutil
from ..sii_engine.errors import SiiEngineError
from ..sii_engine.transport import (
    SiiUnavailable,
    State,
    TransportError,
    UploadAlreadyReceived,
    UploadOutcomeUnknown,
    UploadRejected,
)
from .account_move import BOLETA_CODES
from .engine_errors import engine_error_message
from .l10n_cl_dte_envelope import FIRST_POLL_DELAY, WAITING_STATES

_logger = logging.getLogger(__name__)

SEND_BATCH = {"EnvioDTE": 500, "EnvioBOLETA": 500}
POLL_BATCH = 50
UNKNOWN_GRACE = timedelta(minutes=10)  # before "not received" (FAU) is believed
RETRY_DELAYS = [timedelta(minutes=m) for m in (1, 5, 15, 60, 180)]
MANAGER_GROUP = "account.group_account_manager"

DOCUMENT_STATE_TO_STATUS = {
    State.ACCEPTED: "accepted",
    State.OBJECTED: "objected",
    State.REJECTED: "rejected",
}


def _commit(env):
    # Scheduled actions commit each batch so a later failure cannot undo what the SII already has.
    if not modules.module.current_test:
        env.cr.commit()


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_cl_dte_envelope_id = fields.Many2one(
        "l10n_cl_dte.envelope", string="SII Envelope", copy=False, readonly=True, index="btree_not_null"
    )
    l10n_cl_dte_send_attempts = fields.Integer(string="Send Attempts", copy=False, readonly=True)
    l10n_cl_dte_next_try = fields.Datetime(string="Next Try", copy=False, readonly=True)
    l10n_cl_dte_send_alone = fields.Boolean(
        string="Send Alone", copy=False, readonly=True,
        help="The SII refused an envelope holding this document: it goes in an envelope of its own to find the culprit.",
    )

    def _l10n_cl_dte_kind(self):
        return "EnvioBOLETA" if self.l10n_latam_document_type_id.code in BOLETA_CODES else "EnvioDTE"

    # --- sending ---------------------------------------------------------------------

    @api.model
    def _cron_l10n_cl_dte_send(self):
        done = 0
        for company in self.env["res.company"].search([("l10n_cl_dte_environment", "!=", False)]):
            for kind in ("EnvioDTE", "EnvioBOLETA"):
                while moves := self._l10n_cl_dte_lock_pending(company, kind):
                    self._l10n_cl_dte_send_locked(moves, kind)
                    done += len(moves)
                    _commit(self.env)
                    self.env["ir.cron"]._notify_progress(done=done, remaining=self._l10n_cl_dte_count_pending())
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)

    @api.model
    def _l10n_cl_dte_count_pending(self):
        return self.search_count(self._l10n_cl_dte_pending_domain())

    @api.model
    def _l10n_cl_dte_pending_domain(self):
        return [
            "|",
            ("l10n_cl_dte_status", "=", "to_send"),
            "&", ("l10n_cl_dte_status", "=", "send_failed"), ("l10n_cl_dte_next_try", "<=", fields.Datetime.now()),
        ]

    @api.model
    def _l10n_cl_dte_lock_pending(self, company, kind, ids=None):
        """Lock and return pending documents no other worker holds, oldest first."""
        codes = tuple(BOLETA_CODES) if kind == "EnvioBOLETA" else ("33", "34", "46", "56", "61", "110", "111", "112")
        self.flush_model()
        query = """
            SELECT move.id
              FROM account_move move
              JOIN l10n_latam_document_type doc ON doc.id = move.l10n_latam_document_type_id
             WHERE move.company_id = %s AND move.state = 'posted' AND doc.code IN %s
               AND (move.l10n_cl_dte_status = 'to_send'
                    OR (move.l10n_cl_dte_status = 'send_failed' AND move.l10n_cl_dte_next_try <= %s))
               {restrict}
          ORDER BY move.l10n_cl_dte_send_alone DESC, move.id
             LIMIT %s
               FOR UPDATE OF move SKIP LOCKED
        """
        params = [company.id, codes, fields.Datetime.now()]
        restrict = ""
        if ids is not None:
            restrict, params = "AND move.id IN %s", [*params, tuple(ids) or (0,)]
        self.env.cr.execute(query.format(restrict=restrict), (*params, SEND_BATCH[kind]))
        moves = self.browse([row[0] for row in self.env.cr.fetchall()])
        alone = moves.filtered("l10n_cl_dte_send_alone")
        return alone[:1] if alone else moves

    def _l10n_cl_dte_send_locked(self, moves, kind):
        """Build, record and upload one envelope of ``moves`` (locked, one company, one kind)."""
        company = moves.company_id
        try:
            client = company._l10n_cl_dte_sii_client()
        except Exception as error:  # noqa: BLE001 - any configuration problem: keep pending, say why
            moves._l10n_cl_dte_send_failed(str(error))
            return
        bodies, moves = self._l10n_cl_dte_sendable(moves)
        if not moves:
            return
        try:
            xml = engine_envelope.build_envelope(
                bodies, company.vat, client.certificate,
                company.l10n_cl_dte_resolution_date or fields.Date.context_today(self),
                company.l10n_cl_dte_resolution_number or 0, kind=kind,
            )
        except SiiEngineError as error:
            moves._l10n_cl_dte_send_failed(engine_error_message(self.env, error))
            return
        envelope = self.env["l10n_cl_dte.envelope"].sudo().create({
            "company_id": company.id,
            "environment": company.l10n_cl_dte_environment,
            "kind": kind,
            "state": "uploading",
            # A poller must not take the envelope while this worker uploads it: only a stale
            # "uploading" (the worker died mid-upload) is checked, document by document.
            "next_poll_at": fields.Datetime.now() + UNKNOWN_GRACE,
        })
        envelope.attachment_id = self.env["ir.attachment"].sudo().create({
            "name": f"{kind}_{company.vat}_{envelope.id}.xml",
            "res_model": envelope._name,
            "res_id": envelope.id,
            "raw": xml,
            "mimetype": "application/xml",
        })
        moves.write({"l10n_cl_dte_status": "sent", "l10n_cl_dte_envelope_id": envelope.id})
        # From here the SII may hold these documents: make that durable before the upload.
        _commit(self.env)
        self._l10n_cl_dte_upload(envelope, client, xml)

    def _l10n_cl_dte_sendable(self, moves):
        """Take out documents whose XML cannot go (each alone), so the others still go."""
        bodies, good = [], self.browse()
        for move in moves:
            raw = move.l10n_cl_dte_file_id.raw
            problem = None
            if not raw:
                problem = _("The document has no signed XML: reset it to draft and post it again.")
            else:
                errors = engine_schema.validation_errors(xmlutil.parse(raw))
                if errors:
                    problem = _("The signed XML does not follow the SII schema: %s", "; ".join(errors[:3]))
            if problem:
                move.write({"l10n_cl_dte_status": "send_failed", "l10n_cl_dte_next_try": False,
                            "l10n_cl_sii_message": problem})
                move.message_post(body=problem)
                continue
            bodies.append(raw)
            good |= move
        return bodies, good

    def _l10n_cl_dte_upload(self, envelope, client, xml):
        moves = envelope.move_ids
        now = fields.Datetime.now()
        try:
            receipt = client.upload_envelope(xml, envelope.kind)
        except UploadOutcomeUnknown as error:
            envelope.write({"state": "unknown", "next_poll_at": now + UNKNOWN_GRACE, "uploaded_at": now})
            envelope._l10n_cl_dte_log("upload", "?", engine_error_message(self.env, error))
            moves.write({"l10n_cl_sii_message": _("Sent, but the SII's answer was lost: checking with the SII "
                                                  "before anything is sent again.")})
            return
        except UploadAlreadyReceived as error:
            envelope.write({"state": "unknown", "next_poll_at": now + FIRST_POLL_DELAY, "uploaded_at": now})
            envelope._l10n_cl_dte_log("upload", error.status, engine_error_message(self.env, error))
            return
        except (SiiUnavailable, TransportError, SiiEngineError) as error:
            envelope.write({"state": "failed"})
            reason = engine_error_message(self.env, error)
            envelope._l10n_cl_dte_log("upload", getattr(error, "status", ""), reason)
            content_problem = isinstance(error, UploadRejected) and error.status in ("7", "8")
            moves._l10n_cl_dte_send_failed(reason, send_alone=content_problem and len(moves) > 1)
            return
        envelope.write({
            "state": "sent", "track_id": receipt.track_id, "uploaded_at": now, "next_poll_at": now + FIRST_POLL_DELAY,
        })
        self._l10n_cl_dte_trigger("ir_cron_l10n_cl_dte_poll", envelope.next_poll_at)
        envelope._l10n_cl_dte_log("upload", receipt.status, _("Received by the SII, track ID %s", receipt.track_id))
        moves.write({
            "l10n_cl_sii_track_id": receipt.track_id,
            "l10n_cl_sii_message": _("Received by the SII (track ID %s), waiting for its review.", receipt.track_id),
            "l10n_cl_dte_send_attempts": 0,
            "l10n_cl_dte_next_try": False,
        })

    def _l10n_cl_dte_send_failed(self, reason, send_alone=False):
        """Keep the documents pending with a growing delay; alert the managers when it lasts."""
        now = fields.Datetime.now()
        for move in self:
            attempts = move.l10n_cl_dte_send_attempts + 1
            delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
            move.write({
                "l10n_cl_dte_status": "send_failed",
                "l10n_cl_dte_send_attempts": attempts,
                "l10n_cl_dte_next_try": now + delay,
                "l10n_cl_dte_send_alone": send_alone or move.l10n_cl_dte_send_alone,
                "l10n_cl_dte_envelope_id": False,
                "l10n_cl_sii_message": _("Sending failed (attempt %(attempt)s), next try at %(when)s: %(reason)s",
                                         attempt=attempts, when=now + delay, reason=reason),
            })
            if attempts == move.company_id.l10n_cl_dte_failure_alert:
                move._l10n_cl_dte_alert_managers(reason)
        self._l10n_cl_dte_trigger("ir_cron_l10n_cl_dte_send", min(self.mapped("l10n_cl_dte_next_try")))

    @api.model
    def _l10n_cl_dte_trigger(self, cron_xmlid, at):
        """Wake the scheduled action up when its next piece of work is due, not at its next round."""
        cron = self.env.ref(f"l10n_cl_dte.{cron_xmlid}", raise_if_not_found=False)
        if cron and at:
            cron.sudo()._trigger(at)

    def _l10n_cl_dte_alert_managers(self, reason):
        managers = self.env.ref(MANAGER_GROUP).users.filtered(lambda u: self.company_id in u.company_ids and not u.share)
        for manager in managers:
            self.activity_schedule(
                "mail.mail_activity_data_warning",
                summary=_("The SII has not received this document"),
                note=_("Sending %(document)s failed %(count)s times: %(reason)s",
                       document=self.display_name, count=self.l10n_cl_dte_send_attempts, reason=reason),
                user_id=manager.id,
            )

    def action_l10n_cl_dte_send(self):
        """"Send now": the same path as the scheduled action, for these documents only."""
        for (company, kind), group in self.filtered("l10n_cl_dte_status").grouped(
            lambda m: (m.company_id, m._l10n_cl_dte_kind())
        ).items():
            group.filtered(lambda m: m.l10n_cl_dte_status == "send_failed").write(
                {"l10n_cl_dte_next_try": fields.Datetime.now()}
            )
            while moves := self._l10n_cl_dte_lock_pending(company, kind, ids=group.ids):
                self._l10n_cl_dte_send_locked(moves, kind)
                group -= moves

    # --- polling -----------------------------------------------------------------------

    @api.model
    def _cron_l10n_cl_dte_poll(self):
        done = 0
        while envelopes := self._l10n_cl_dte_lock_due_envelopes():
            self._l10n_cl_dte_poll_envelopes(envelopes)
            done += len(envelopes)
            _commit(self.env)
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(self._l10n_cl_dte_lock_due_envelopes(False)))

    @api.model
    def _l10n_cl_dte_lock_due_envelopes(self, lock=True):
        self.env["l10n_cl_dte.envelope"].flush_model()
        self.env.cr.execute(
            f"""
            SELECT id FROM l10n_cl_dte_envelope
             WHERE state IN %s AND (next_poll_at IS NULL OR next_poll_at <= %s)
          ORDER BY next_poll_at NULLS FIRST, id
             LIMIT %s {"FOR UPDATE SKIP LOCKED" if lock else ""}
            """,
            (WAITING_STATES, fields.Datetime.now(), POLL_BATCH),
        )
        return self.env["l10n_cl_dte.envelope"].sudo().browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _l10n_cl_dte_poll_envelopes(self, envelopes):
        for envelope in envelopes.sudo():
            envelope.poll_count += 1
            try:
                client = envelope.company_id._l10n_cl_dte_sii_client()
                if envelope.state == "sent":
                    self._l10n_cl_dte_poll_envelope(envelope, client)
                else:
                    self._l10n_cl_dte_resolve_unknown(envelope, client)
            except (TransportError, SiiEngineError) as error:
                envelope._l10n_cl_dte_log("status", "", engine_error_message(self.env, error))
                envelope._l10n_cl_dte_poll_later()

    def _l10n_cl_dte_poll_envelope(self, envelope, client):
        status = client.envelope_status(envelope.track_id, envelope.kind)
        envelope._l10n_cl_dte_log("status", status.code, status.summary())
        if not status.final:
            envelope._l10n_cl_dte_poll_later()
            return
        moves = envelope.move_ids
        if status.state in (State.ACCEPTED, State.OBJECTED) and not status.totals().objected:
            envelope.state = "accepted"
            moves._l10n_cl_dte_set_outcome("accepted", status.description)
        elif status.state == State.REJECTED and not status.counts:
            envelope.state = "rejected"
            moves._l10n_cl_dte_set_outcome("rejected", status.summary())
        else:
            # Some documents were rejected or objected: the envelope's counts do not say which.
            envelope.state = {"objected": "objected", "rejected": "rejected"}.get(status.state.value, "mixed")
            counts = {count.document_type: count for count in status.counts}
            for move in moves:
                detail = status.document(move.l10n_latam_document_type_id.code, move.l10n_cl_dte_folio)
                if detail is not None:
                    move._l10n_cl_dte_set_outcome(DOCUMENT_STATE_TO_STATUS.get(detail.state, "rejected"),
                                                  f"{detail.code}: {detail.description}")
                else:
                    move._l10n_cl_dte_ask_document_status(
                        client, counts.get(int(move.l10n_latam_document_type_id.code)), status.summary()
                    )

    def _l10n_cl_dte_resolve_unknown(self, envelope, client):
        """Ask the SII about each document of an upload whose answer was lost."""
        pending = self.browse()
        for move in envelope.move_ids:
            status = move._l10n_cl_dte_document_status(client)
            if status.state == State.NOT_FOUND:
                move.write({"l10n_cl_dte_status": "to_send", "l10n_cl_dte_envelope_id": False,
                            "l10n_cl_sii_message": _("The SII never received this document: it will be sent again.")})
            elif status.final:
                move._l10n_cl_dte_set_outcome(DOCUMENT_STATE_TO_STATUS.get(status.state, "rejected"), status.summary())
            else:
                pending |= move
        envelope._l10n_cl_dte_log("status", "", _("Checked %s documents one by one.", len(envelope.move_ids)))
        if pending:
            envelope._l10n_cl_dte_poll_later()
            return
        statuses = set(envelope.move_ids.mapped("l10n_cl_dte_status"))
        if not statuses:
            envelope.state = "failed"  # the SII never received it: its documents go in a new envelope
        elif statuses <= {"accepted", "objected"}:
            envelope.state = "objected" if "objected" in statuses else "accepted"
        else:
            envelope.state = "rejected" if statuses == {"rejected"} else "mixed"

    def _l10n_cl_dte_document_status(self, client):
        self.ensure_one()
        return client.document_status(
            int(self.l10n_latam_document_type_id.code), self.l10n_cl_dte_folio, self.invoice_date,
            int(round(self.amount_total)), self._l10n_cl_dte_receiver().rut,
        )

    def _l10n_cl_dte_ask_document_status(self, client, count, envelope_summary):
        """Settle one document of a processed envelope the SII objected to or partly rejected.

        getEstDte knows only what the SII registered: a rejected document
        answers FAU (not received) and an objected one DOK, like an accepted
        one. So FAU here means rejected, and DOK means objected only when the
        envelope's count for the type has objections and no plain acceptance;
        otherwise the SII's e-mail tells which were objected.
        """
        status = self._l10n_cl_dte_document_status(client)
        if status.state == State.NOT_FOUND:
            self._l10n_cl_dte_set_outcome("rejected", envelope_summary)
        elif status.state == State.ACCEPTED and count is not None and count.objected and not count.accepted:
            self._l10n_cl_dte_set_outcome("objected", envelope_summary)
        elif status.final and status.state in DOCUMENT_STATE_TO_STATUS:
            self._l10n_cl_dte_set_outcome(DOCUMENT_STATE_TO_STATUS[status.state], status.summary())
        else:
            self.l10n_cl_sii_message = status.summary()

    def _l10n_cl_dte_set_outcome(self, status, detail):
        messages = {
            "accepted": _("Accepted by the SII."),
            "objected": _("Accepted by the SII with objections: %s", detail),
            "rejected": _("Rejected by the SII: %s. The folio is used: correct the cause and issue a new "
                          "document (a credit note is not needed for a rejected document).", detail),
        }
        # One write for all, the tracked status change says it in the chatter; a rejection or an
        # objection, which the accountant must act on, also gets the SII's reason posted.
        self._track_set_log_message(messages[status])
        self.write({"l10n_cl_dte_status": status, "l10n_cl_sii_message": messages[status]})
        if status != "accepted":
            for move in self:
                move.message_post(body=messages[status])
        self.filtered(
            lambda m: m.l10n_cl_dte_status in ("accepted", "objected")
            and m.company_id.l10n_cl_dte_customer_exchange == "accepted"
        )._l10n_cl_dte_send_to_customer()

    def action_l10n_cl_dte_check_status(self):
        """"Check status with SII": poll these documents' envelopes now."""
        envelopes = self.l10n_cl_dte_envelope_id.filtered(lambda e: e.state in WAITING_STATES)
        self._l10n_cl_dte_poll_envelopes(envelopes)

    # --- customer exchange ------------------------------------------------------------

    l10n_cl_dte_exchanged = fields.Boolean(string="Sent to Customer", copy=False, readonly=True)

    def _l10n_cl_dte_send_to_customer(self):
        """E-mail the customer its DTE (an EnvioDTE addressed to its RUT) and the PDF."""
        template = self.env.ref("l10n_cl_dte.mail_template_dte_exchange", raise_if_not_found=False)
        for move in self.filtered(lambda m: m.move_type in ("out_invoice", "out_refund") and not m.l10n_cl_dte_exchanged):
            receiver = move.commercial_partner_id
            if not template or not (receiver.l10n_cl_dte_email or receiver.email):
                continue
            company = move.company_id
            try:
                certificate = self.env["l10n_cl_dte.certificate"]._l10n_cl_dte_signing_certificate(company)
                xml = engine_envelope.build_envelope(
                    [move.l10n_cl_dte_file_id.raw], company.vat, certificate._l10n_cl_dte_engine_certificate(),
                    company.l10n_cl_dte_resolution_date or fields.Date.context_today(self),
                    company.l10n_cl_dte_resolution_number or 0, receiver_rut=move._l10n_cl_dte_receiver().rut,
                )
            except Exception as error:  # noqa: BLE001 - the exchange copy must never undo the SII's answer
                _logger.warning("DTE exchange copy of %s not built: %s", move.display_name, error)
                continue
            attachment = self.env["ir.attachment"].create({
                "name": f"EnvioDTE_{move.l10n_latam_document_type_id.code}_{move.l10n_cl_dte_folio}.xml",
                "res_model": move._name, "res_id": move.id, "raw": xml, "mimetype": "application/xml",
            })
            template.send_mail(move.id, email_values={"attachment_ids": [(4, attachment.id)]})
            move.l10n_cl_dte_exchanged = True
