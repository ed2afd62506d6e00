"""What every document this addon stamps shares: its DTE, its state with the SII, its way there.

Invoices (``account.move``) and POS boletas (``pos.order``) inherit this mixin;
each supplies its engine document, :mod:`.l10n_cl_dte_sii_document_issue`
issues it, and the scheduled actions of :mod:`.l10n_cl_dte_submission` send
and track them all the same way.

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
from odoo.tools import SQL
from odoo.tools.translate import LazyTranslate

from ..sii_engine import barcode as engine_barcode
from ..sii_engine import codes, xmlutil
from ..sii_engine import envelope as engine_envelope
from ..sii_engine import schema as engine_schema
from ..sii_engine.errors import SiiEngineError
from ..sii_engine.transport import State
from .engine_errors import engine_error_message

_lt = LazyTranslate(__name__)

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
DOCUMENT_STATE_TO_STATUS = {
    State.ACCEPTED: "accepted",
    State.OBJECTED: "objected",
    State.REJECTED: "rejected",
}


def commit_batch(env):
    # Scheduled actions commit each batch so a later failure cannot undo what the SII already has.
    if not modules.module.current_test:
        env.cr.commit()


def attach_xml(record, name, xml):
    """Attach the signed XML ``xml`` (a DTE, an envelope) to ``record``: a server-made file, as superuser."""
    return record.env["ir.attachment"].sudo().create({
        "name": name, "res_model": record._name, "res_id": record.id, "raw": xml, "mimetype": "application/xml",
    })


class L10nClDteSiiDocument(models.AbstractModel):
    _name = "l10n_cl_dte.sii.document"
    _description = "Chilean Electronic Tax Document (mixin)"

    # Models inheriting this also have l10n_latam_document_type_id, company_id and currency_id.
    l10n_cl_dte_status = fields.Selection(
        DTE_STATES, string="DTE Status", copy=False, tracking=True, index="btree_not_null", readonly=True
    )
    l10n_cl_dte_folio = fields.Integer(string="DTE Folio", copy=False, readonly=True)
    l10n_cl_dte_date = fields.Date(string="DTE Issue Date", copy=False, readonly=True)
    l10n_cl_dte_caf_id = fields.Many2one("l10n_cl_dte.caf", string="CAF", copy=False, readonly=True)
    l10n_cl_dte_file_id = fields.Many2one("ir.attachment", string="DTE XML", copy=False, readonly=True)
    l10n_cl_dte_ted = fields.Text(string="Electronic Stamp (TED)", copy=False, readonly=True)
    l10n_cl_dte_barcode = fields.Binary(string="Stamp Barcode", compute="_compute_l10n_cl_dte_barcode")
    l10n_cl_dte_track_id = fields.Char(string="SII Track ID", copy=False, readonly=True)
    l10n_cl_dte_sii_message = fields.Text(string="Last SII Message", copy=False, readonly=True)
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

    @api.model
    def _l10n_cl_dte_issued_condition(self, alias):
        """SQL condition a row (table alias ``alias``) must meet to be sent, beyond its DTE status."""
        return SQL("TRUE")

    @api.model
    def _l10n_cl_dte_document_models(self):
        """The models that carry a DTE: every model inheriting this mixin, in the order they were loaded."""
        mixin = self.env.registry[self._name]
        return [name for name, model in self.env.registry.items()
                if not model._abstract and issubclass(model, mixin)]

    def _l10n_cl_dte_type_code(self):
        return self.l10n_latam_document_type_id.code

    def _l10n_cl_dte_after_outcome(self):
        """Called on documents the SII has just accepted or objected to."""

    def _l10n_cl_dte_in_company_lang(self):
        """These documents in their company's language: what the scheduled actions store about them (SII
        messages, chatter) is read by the company's people, whoever's session or cron wrote it."""
        return self.with_context(lang=self.company_id[:1]._l10n_cl_dte_lang())

    def _l10n_cl_dte_stamp_data(self):
        """``(type, folio, issue date, total, receiver RUT)`` as the stamp (TED) the SII verifies states them."""
        self.ensure_one()
        data = xmlutil.find(xmlutil.parse(self.l10n_cl_dte_ted.encode("ISO-8859-1")), "DD")
        return tuple(xmlutil.findtext(data, tag) for tag in ("TD", "F", "FE", "MNT", "RR"))

    # --- stamp ------------------------------------------------------------------------------

    @api.depends("l10n_cl_dte_ted", "company_id.l10n_cl_dte_barcode")
    def _compute_l10n_cl_dte_barcode(self):
        for document in self:
            png = document._l10n_cl_dte_barcode_png()
            document.l10n_cl_dte_barcode = png and base64.b64encode(png)

    def _l10n_cl_dte_barcode_png(self, receipt=False):
        """The stamp's image; ``receipt``: sized for an 80 mm thermal receipt (576 dots)."""
        if not self.l10n_cl_dte_ted:
            return False
        ted = self.l10n_cl_dte_ted.encode("ISO-8859-1")
        if self.company_id.l10n_cl_dte_barcode == "qr":
            return engine_barcode.ted_qr_png(ted)
        if receipt:
            return engine_barcode.ted_pdf417_receipt_png(ted)
        return engine_barcode.ted_pdf417_png(ted)

    def _l10n_cl_dte_legends(self):
        """The legends printed under the stamp (manual_upload §1.5): the SII's wording, in no other language."""
        company = self.company_id
        return {
            "stamp": codes.STAMP_LEGEND,
            "resolution": codes.resolution_legend(
                company.l10n_cl_dte_resolution_number, company.l10n_cl_dte_resolution_date
            ),
            "verify": codes.VERIFY_LEGEND,
        }

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
        return engine_envelope.kind_for(self._l10n_cl_dte_type_code())

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
        type_codes = tuple(str(code) for code in codes.SUPPORTED_TYPES if engine_envelope.kind_for(code) == kind)
        self.flush_model()
        self.env.cr.execute(SQL(
            """
            SELECT rec.id
              FROM %(table)s rec
              JOIN l10n_latam_document_type doc ON doc.id = rec.l10n_latam_document_type_id
             WHERE rec.company_id = %(company)s AND %(issued)s AND doc.code IN %(codes)s
               AND (rec.l10n_cl_dte_status = 'to_send'
                    OR (rec.l10n_cl_dte_status = 'send_failed' AND rec.l10n_cl_dte_next_try <= %(now)s))
               AND %(restrict)s
          ORDER BY rec.l10n_cl_dte_send_alone DESC, rec.id
             LIMIT %(limit)s
               FOR UPDATE OF rec SKIP LOCKED
            """,
            table=SQL.identifier(self._table),
            company=company.id,
            issued=self._l10n_cl_dte_issued_condition("rec"),
            codes=type_codes,
            now=fields.Datetime.now(),
            restrict=SQL("rec.id IN %s", tuple(ids) or (0,)) if ids is not None else SQL("TRUE"),
            limit=SEND_BATCH[kind],
        ), log_exceptions=False)  # a race with another worker is expected (and handled by the caller)
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
            documents._l10n_cl_dte_send_failed(engine_error_message(self._l10n_cl_dte_in_company_lang().env, error))
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
        envelope.attachment_id = attach_xml(envelope, f"{kind}_{company.vat}_{envelope.id}.xml", xml)
        documents.write({"l10n_cl_dte_status": "sent", "l10n_cl_dte_envelope_id": envelope.id})
        # From here the SII may hold these documents: make that durable before the upload.
        commit_batch(self.env)
        envelope._l10n_cl_dte_upload(client, xml)

    def _l10n_cl_dte_sendable(self):
        """Take out documents whose XML cannot go (each alone), so the others still go."""
        bodies, good = [], self.browse()
        env = self._l10n_cl_dte_in_company_lang().env
        for document in self:
            raw = document.l10n_cl_dte_file_id.raw
            problem = None
            if not raw:
                problem = env._("The document has no signed XML: it must be stamped again.")
            else:
                errors = engine_schema.validation_errors(xmlutil.parse(raw))
                if errors:
                    problem = env._("The signed XML does not follow the SII schema: %s", "; ".join(errors[:3]))
            if problem:
                document.write({"l10n_cl_dte_status": "send_failed", "l10n_cl_dte_next_try": False,
                                "l10n_cl_dte_sii_message": problem})
                document.message_post(body=problem)
                continue
            bodies.append(raw)
            good |= document
        return bodies, good

    def _l10n_cl_dte_send_failed(self, reason, send_alone=False):
        """Keep the documents pending with a growing delay; alert the managers when it lasts."""
        now = fields.Datetime.now()
        env = self._l10n_cl_dte_in_company_lang().env
        for document in self:
            attempts = document.l10n_cl_dte_send_attempts + 1
            delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
            document.write({
                "l10n_cl_dte_status": "send_failed",
                "l10n_cl_dte_send_attempts": attempts,
                "l10n_cl_dte_next_try": now + delay,
                "l10n_cl_dte_send_alone": send_alone or document.l10n_cl_dte_send_alone,
                "l10n_cl_dte_envelope_id": False,
                "l10n_cl_dte_sii_message": env._(
                    "Sending failed (attempt %(attempt)s), next try at %(when)s: %(reason)s",
                    attempt=attempts, when=now + delay, reason=reason,
                ),
            })
            if attempts == document.company_id.l10n_cl_dte_failure_alert:
                document.company_id._l10n_cl_dte_alert_managers(
                    document,
                    _lt("The SII has not received this document"),
                    _lt("Sending %(document)s failed %(count)s times: %(reason)s",
                        document=document.display_name, count=attempts, reason=reason),
                )
        self._l10n_cl_dte_trigger("ir_cron_l10n_cl_dte_send", min(self.mapped("l10n_cl_dte_next_try")))

    @api.model
    def _l10n_cl_dte_trigger(self, cron_xmlid, at):
        """Wake the scheduled action up when its next piece of work is due, not at its next round."""
        cron = self.env.ref(f"l10n_cl_dte.{cron_xmlid}", raise_if_not_found=False)
        if cron and at:
            cron.sudo()._trigger(at)

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
        return client.document_status(*self._l10n_cl_dte_stamp_data())

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
            self.l10n_cl_dte_sii_message = status.summary()

    def _l10n_cl_dte_set_outcome(self, status, detail):
        env = self._l10n_cl_dte_in_company_lang().env
        messages = {
            "accepted": env._("Accepted by the SII."),
            "objected": env._("Accepted by the SII with objections: %s", detail),
            "rejected": env._("Rejected by the SII: %s. The folio is used: correct the cause and issue a new "
                              "document (a credit note is not needed for a rejected document).", detail),
        }
        # One write for all, the tracked status change says it in the chatter; a rejection or an
        # objection, which the accountant must act on, also gets the SII's reason posted.
        self._track_set_log_message(messages[status])
        self.write({"l10n_cl_dte_status": status, "l10n_cl_dte_sii_message": messages[status]})
        if status != "accepted":
            for document in self:
                document.message_post(body=messages[status])
        self.filtered(lambda d: d.l10n_cl_dte_status in ("accepted", "objected"))._l10n_cl_dte_after_outcome()
