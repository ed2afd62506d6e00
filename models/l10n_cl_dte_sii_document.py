"""What every document this addon stamps shares: its DTE, its state with the SII, its way there.

Invoices (``account.move``) and POS boletas (``pos.order``) inherit this mixin;
each says how to read its type, date, total and receiver, and the scheduled
actions of :mod:`.l10n_cl_dte_submission` send and track both the same way.

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

import base64
from datetime import timedelta

from odoo import _, api, fields, models, modules
from odoo.exceptions import UserError

from ..sii_engine import barcode as engine_barcode
from ..sii_engine import envelope as engine_envelope
from ..sii_engine import schema as engine_schema
from ..sii_engine import xmlutil
from ..sii_engine.errors import SiiEngineError
from ..sii_engine.transport import State
from .engine_errors import engine_error_message

BOLETA_CODES = frozenset({"39", "41"})
SENT_STATES = ("sent", "accepted", "objected", "rejected", "send_failed")
DTE_STATES = [
    ("to_send", "To Send"),
    ("sent", "Sent, Waiting for SII"),
    ("accepted", "Accepted"),
    ("objected", "Accepted with Objections"),
    ("rejected", "Rejected"),
    ("send_failed", "Send Failed, Will Retry"),
]
SEND_BATCH = {"EnvioDTE": 500, "EnvioBOLETA": 500}
UNKNOWN_GRACE = timedelta(minutes=10)  # before "not received" (FAU) is believed
RETRY_DELAYS = [timedelta(minutes=m) for m in (1, 5, 15, 60, 180)]
MANAGER_GROUP = "account.group_account_manager"
DOCUMENT_STATE_TO_STATUS = {
    State.ACCEPTED: "accepted",
    State.OBJECTED: "objected",
    State.REJECTED: "rejected",
}


def commit_batch(env):
    # Scheduled actions commit each batch so a later failure cannot undo what the SII already has.
    if not modules.module.current_test:
        env.cr.commit()


class L10nClDteSiiDocument(models.AbstractModel):
    _name = "l10n_cl_dte.sii.document"
    _description = "Chilean Electronic Tax Document (mixin)"

    # Models inheriting this also have l10n_latam_document_type_id and company_id.
    l10n_cl_dte_status = fields.Selection(
        DTE_STATES, string="DTE Status", copy=False, tracking=True, index="btree_not_null", readonly=True
    )
    l10n_cl_dte_folio = fields.Integer(string="DTE Folio", copy=False, readonly=True)
    l10n_cl_dte_caf_id = fields.Many2one("l10n_cl_dte.caf", string="CAF", copy=False, readonly=True)
    l10n_cl_dte_file_id = fields.Many2one("ir.attachment", string="DTE XML", copy=False, readonly=True)
    l10n_cl_dte_ted = fields.Text(string="Electronic Stamp (TED)", copy=False, readonly=True)
    l10n_cl_dte_barcode = fields.Binary(string="Stamp Barcode", compute="_compute_l10n_cl_dte_barcode")
    l10n_cl_sii_track_id = fields.Char(string="SII Track ID", copy=False, readonly=True)
    l10n_cl_sii_message = fields.Text(string="Last SII Message", copy=False, readonly=True)
    l10n_cl_dte_envelope_id = fields.Many2one(
        "l10n_cl_dte.envelope", string="SII Envelope", copy=False, readonly=True, index="btree_not_null"
    )
    l10n_cl_dte_send_attempts = fields.Integer(string="Send Attempts", copy=False, readonly=True)
    l10n_cl_dte_next_try = fields.Datetime(string="Next Try", copy=False, readonly=True)
    l10n_cl_dte_send_alone = fields.Boolean(
        string="Send Alone", copy=False, readonly=True,
        help="The SII refused an envelope holding this document: it goes in an envelope of its own to find the culprit.",
    )

    # --- what each model says of itself ----------------------------------------------------

    # SQL condition (on alias ``rec``) a row must meet to be sent, beyond its DTE status.
    _l10n_cl_dte_issued_sql = "TRUE"

    def _l10n_cl_dte_type_code(self):
        return self.l10n_latam_document_type_id.code

    def _l10n_cl_dte_issue_date(self):
        raise NotImplementedError

    def _l10n_cl_dte_total(self):
        raise NotImplementedError

    def _l10n_cl_dte_receiver(self):
        raise NotImplementedError

    def _l10n_cl_dte_after_outcome(self):
        """Called on documents the SII has just accepted or objected to."""

    # --- stamp ------------------------------------------------------------------------------

    @api.depends("l10n_cl_dte_ted", "company_id.l10n_cl_dte_barcode")
    def _compute_l10n_cl_dte_barcode(self):
        for document in self:
            png = document._l10n_cl_dte_barcode_png()
            document.l10n_cl_dte_barcode = png and base64.b64encode(png)

    def _l10n_cl_dte_barcode_png(self):
        if not self.l10n_cl_dte_ted:
            return False
        ted = self.l10n_cl_dte_ted.encode("ISO-8859-1")
        if self.company_id.l10n_cl_dte_barcode == "qr":
            return engine_barcode.ted_qr_png(ted)
        return engine_barcode.ted_pdf417_png(ted)

    def action_l10n_cl_dte_download_xml(self):
        self.ensure_one()
        self.check_access("read")
        if not self.l10n_cl_dte_file_id:
            raise UserError(_("This document has no electronic document yet."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.l10n_cl_dte_file_id.id}?download=true",
            "target": "self",
        }

    def _l10n_cl_dte_kind(self):
        return "EnvioBOLETA" if self._l10n_cl_dte_type_code() in BOLETA_CODES else "EnvioDTE"

    # --- sending ---------------------------------------------------------------------------

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
        query = f"""
            SELECT rec.id
              FROM {self._table} rec
              JOIN l10n_latam_document_type doc ON doc.id = rec.l10n_latam_document_type_id
             WHERE rec.company_id = %s AND {self._l10n_cl_dte_issued_sql} AND doc.code IN %s
               AND (rec.l10n_cl_dte_status = 'to_send'
                    OR (rec.l10n_cl_dte_status = 'send_failed' AND rec.l10n_cl_dte_next_try <= %s))
               {{restrict}}
          ORDER BY rec.l10n_cl_dte_send_alone DESC, rec.id
             LIMIT %s
               FOR UPDATE OF rec SKIP LOCKED
        """
        params = [company.id, codes, fields.Datetime.now()]
        restrict = ""
        if ids is not None:
            restrict, params = "AND rec.id IN %s", [*params, tuple(ids) or (0,)]
        # A race with another worker is expected (and handled by the caller): not a bad query.
        self.env.cr.execute(query.format(restrict=restrict), (*params, SEND_BATCH[kind]), log_exceptions=False)
        documents = self.browse([row[0] for row in self.env.cr.fetchall()])
        alone = documents.filtered("l10n_cl_dte_send_alone")
        return alone[:1] if alone else documents

    def _l10n_cl_dte_send_locked(self, kind):
        """Build, record and upload one envelope of these documents (locked, one company, one kind)."""
        company = self.company_id
        try:
            client = company._l10n_cl_dte_sii_client()
        except Exception as error:  # noqa: BLE001 - any configuration problem: keep pending, say why
            self._l10n_cl_dte_send_failed(str(error))
            return
        bodies, documents = self._l10n_cl_dte_sendable()
        if not documents:
            return
        try:
            xml = engine_envelope.build_envelope(
                bodies, company.vat, client.certificate,
                company.l10n_cl_dte_resolution_date or fields.Date.context_today(self),
                company.l10n_cl_dte_resolution_number or 0, kind=kind,
            )
        except SiiEngineError as error:
            documents._l10n_cl_dte_send_failed(engine_error_message(self.env, error))
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
        documents.write({"l10n_cl_dte_status": "sent", "l10n_cl_dte_envelope_id": envelope.id})
        # From here the SII may hold these documents: make that durable before the upload.
        commit_batch(self.env)
        envelope._l10n_cl_dte_upload(client, xml)

    def _l10n_cl_dte_sendable(self):
        """Take out documents whose XML cannot go (each alone), so the others still go."""
        bodies, good = [], self.browse()
        for document in self:
            raw = document.l10n_cl_dte_file_id.raw
            problem = None
            if not raw:
                problem = _("The document has no signed XML: it must be stamped again.")
            else:
                errors = engine_schema.validation_errors(xmlutil.parse(raw))
                if errors:
                    problem = _("The signed XML does not follow the SII schema: %s", "; ".join(errors[:3]))
            if problem:
                document.write({"l10n_cl_dte_status": "send_failed", "l10n_cl_dte_next_try": False,
                                "l10n_cl_sii_message": problem})
                document.message_post(body=problem)
                continue
            bodies.append(raw)
            good |= document
        return bodies, good

    def _l10n_cl_dte_send_failed(self, reason, send_alone=False):
        """Keep the documents pending with a growing delay; alert the managers when it lasts."""
        now = fields.Datetime.now()
        for document in self:
            attempts = document.l10n_cl_dte_send_attempts + 1
            delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
            document.write({
                "l10n_cl_dte_status": "send_failed",
                "l10n_cl_dte_send_attempts": attempts,
                "l10n_cl_dte_next_try": now + delay,
                "l10n_cl_dte_send_alone": send_alone or document.l10n_cl_dte_send_alone,
                "l10n_cl_dte_envelope_id": False,
                "l10n_cl_sii_message": _("Sending failed (attempt %(attempt)s), next try at %(when)s: %(reason)s",
                                         attempt=attempts, when=now + delay, reason=reason),
            })
            if attempts == document.company_id.l10n_cl_dte_failure_alert:
                document._l10n_cl_dte_alert_managers(reason)
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
        self.check_access("write")  # before the envelope is made as superuser
        for (company, kind), group in self.filtered("l10n_cl_dte_status").grouped(
            lambda d: (d.company_id, d._l10n_cl_dte_kind())
        ).items():
            group.filtered(lambda d: d.l10n_cl_dte_status == "send_failed").write(
                {"l10n_cl_dte_next_try": fields.Datetime.now()}
            )
            while documents := self._l10n_cl_dte_lock_pending(company, kind, ids=group.ids):
                documents._l10n_cl_dte_send_locked(kind)
                group -= documents

    def action_l10n_cl_dte_check_status(self):
        """"Check status with SII": poll these documents' envelopes now."""
        self.check_access("write")  # before the poll records the SII's answers as superuser
        self.l10n_cl_dte_envelope_id._l10n_cl_dte_poll()

    # --- answers ---------------------------------------------------------------------------

    def _l10n_cl_dte_document_status(self, client):
        self.ensure_one()
        return client.document_status(
            int(self._l10n_cl_dte_type_code()), self.l10n_cl_dte_folio, self._l10n_cl_dte_issue_date(),
            int(round(self._l10n_cl_dte_total())), self._l10n_cl_dte_receiver().rut,
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
            for document in self:
                document.message_post(body=messages[status])
        self.filtered(lambda d: d.l10n_cl_dte_status in ("accepted", "objected"))._l10n_cl_dte_after_outcome()
