from datetime import timedelta

from odoo import api, fields, models

ENVELOPE_STATES = [
    ("uploading", "Uploading"),
    ("unknown", "Upload Outcome Unknown"),
    ("sent", "Waiting for SII"),
    ("accepted", "Accepted"),
    ("objected", "Accepted with Objections"),
    ("mixed", "Partly Rejected"),
    ("rejected", "Rejected"),
    ("failed", "Upload Failed"),
]
WAITING_STATES = ("uploading", "unknown", "sent")
FIRST_POLL_DELAY = timedelta(seconds=30)  # the SII rarely has an answer sooner
MAX_POLL_DELAY = timedelta(hours=1)


class L10nClDteEnvelope(models.Model):
    """One submission to the SII: an EnvioDTE or EnvioBOLETA and what the SII said of it."""

    _name = "l10n_cl_dte.envelope"
    _description = "SII Submission (Envelope)"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    environment = fields.Selection(
        related=False,
        selection=[("certification", "SII certification"), ("production", "SII production"),
                   ("simulator", "Local SII simulator")],
        readonly=True,
    )
    kind = fields.Selection([("EnvioDTE", "EnvioDTE"), ("EnvioBOLETA", "EnvioBOLETA")], required=True, readonly=True)
    # The envelope's documents are of one model, any that carries a DTE (see _l10n_cl_dte_documents).
    # Each list only for those who may read its documents: an accountant without Point of Sale
    # rights opens envelopes of invoices and sees those of boletas without their orders.
    move_ids = fields.One2many(
        "account.move", "l10n_cl_dte_envelope_id", string="Documents", readonly=True,
        groups="account.group_account_invoice",
    )
    pos_order_ids = fields.One2many(
        "pos.order", "l10n_cl_dte_envelope_id", string="POS Boletas", readonly=True,
        groups="point_of_sale.group_pos_user",
    )
    document_model = fields.Selection(
        [("account.move", "Invoices"), ("pos.order", "POS Boletas")], string="Documents Of",
        compute="_compute_document_count",
    )
    document_count = fields.Integer(compute="_compute_document_count")
    attachment_id = fields.Many2one("ir.attachment", string="Signed Envelope", readonly=True)
    track_id = fields.Char(string="SII Track ID", readonly=True, index=True, copy=False)
    state = fields.Selection(ENVELOPE_STATES, default="uploading", required=True, readonly=True, tracking=True)
    sii_code = fields.Char(string="SII Code", readonly=True)
    sii_message = fields.Text(string="SII Answer", readonly=True)
    uploaded_at = fields.Datetime(readonly=True)
    next_poll_at = fields.Datetime(readonly=True, index=True)
    poll_count = fields.Integer(readonly=True)
    answer_ids = fields.One2many("l10n_cl_dte.envelope.answer", "envelope_id", string="SII Answers", readonly=True)

    @api.depends("kind", "track_id")
    def _compute_name(self):
        for envelope in self:
            envelope.name = f"{envelope.kind or ''} {envelope.track_id or envelope.id or ''}".strip()

    def _compute_document_count(self):
        # How many and of which kind is no secret of the documents: counted whatever the reader may open.
        for envelope in self:
            documents = envelope.sudo()._l10n_cl_dte_documents()
            envelope.document_count = len(documents)
            envelope.document_model = documents._name if documents else False

    def _l10n_cl_dte_documents(self):
        """The envelope's documents: of one model among those that carry a DTE (invoices, POS orders...)."""
        self.ensure_one()
        for model in self.env["l10n_cl_dte.sii.document"]._l10n_cl_dte_document_models():
            documents = self.env[model].search([("l10n_cl_dte_envelope_id", "=", self.id)])
            if documents:
                return documents
        return self.env["account.move"]

    def _l10n_cl_dte_log(self, operation, code, message):
        self.ensure_one()
        self.env["l10n_cl_dte.envelope.answer"].create({
            "envelope_id": self.id, "operation": operation, "code": code or "", "message": message or "",
        })
        self.write({"sii_code": code, "sii_message": message})

    def _l10n_cl_dte_poll_later(self):
        """Ask again later, waiting twice as long each time (30 s … 1 h)."""
        for envelope in self:
            delay = min(FIRST_POLL_DELAY * (2 ** max(envelope.poll_count - 1, 0)), MAX_POLL_DELAY)
            envelope.next_poll_at = fields.Datetime.now() + delay
        if self:
            self.env["account.move"]._l10n_cl_dte_trigger("ir_cron_l10n_cl_dte_poll", min(self.mapped("next_poll_at")))

    def action_l10n_cl_dte_check_status(self):
        """Ask the SII now; who may see the envelope may ask (the answers are recorded as the cron does)."""
        self.check_access("read")
        self._l10n_cl_dte_poll()

    def action_l10n_cl_dte_retry(self):
        """Send the documents of a failed upload again (they were certainly not received)."""
        self.check_access("read")
        for envelope in self.filtered(lambda e: e.state == "failed"):
            documents = envelope.sudo()._l10n_cl_dte_documents().with_env(self.env)
            documents.check_access("write")
            documents.write({"l10n_cl_dte_next_try": fields.Datetime.now()})
            documents.action_l10n_cl_dte_send()

    def action_l10n_cl_dte_download_xml(self):
        """The signed envelope as a file to keep, never as an editable attachment record."""
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "self",
        }


class L10nClDteEnvelopeAnswer(models.Model):
    """What the SII answered about an envelope, and when."""

    _name = "l10n_cl_dte.envelope.answer"
    _description = "SII Answer"
    _order = "id desc"

    envelope_id = fields.Many2one("l10n_cl_dte.envelope", required=True, ondelete="cascade", index=True)
    date = fields.Datetime(default=fields.Datetime.now, required=True)
    operation = fields.Selection([("upload", "Sent to SII"), ("status", "Status Query")], required=True)
    code = fields.Char()
    message = fields.Text()
