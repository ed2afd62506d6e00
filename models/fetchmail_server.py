"""An incoming mail server as a company's DTE inbox (its exchange address registered at the SII)."""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

INBOX_MODEL = "l10n_cl_dte.received.file"
# The mail gateway drops ``default_*`` keys (fetchmail's own default_fetchmail_server_id too): the inbox
# learns which server (and so which company) a message came from by this key.
INBOX_CONTEXT_KEY = "l10n_cl_dte_fetchmail_server_id"


class FetchmailServer(models.Model):
    _inherit = "fetchmail.server"

    l10n_cl_dte_company_id = fields.Many2one(
        "res.company",
        string="DTE Inbox of",
        help="This mailbox is the company's exchange address registered at the SII: every XML its messages "
        "carry is read as a DTE exchange file (suppliers' DTEs, customers' answers and receipts).",
    )

    @api.onchange("l10n_cl_dte_company_id")
    def _onchange_l10n_cl_dte_company_id(self):
        if self.l10n_cl_dte_company_id:
            self.object_id = self.env["ir.model"]._get(INBOX_MODEL)
            self.attach = True

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._l10n_cl_dte_inbox_values(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._l10n_cl_dte_inbox_values(vals)
        return super().write(vals)

    @api.model
    def _l10n_cl_dte_inbox_values(self, vals):
        """A DTE inbox routes its messages to the received files and keeps their attachments."""
        if vals.get("l10n_cl_dte_company_id"):
            vals["object_id"] = self.env["ir.model"]._get(INBOX_MODEL).id
            vals["attach"] = True

    def fetch_mail(self, raise_exception=True):
        inboxes = self.filtered("l10n_cl_dte_company_id")
        for inbox in inboxes:
            super(FetchmailServer, inbox.with_context(**{INBOX_CONTEXT_KEY: inbox.id})).fetch_mail(
                raise_exception=raise_exception)
        return super(FetchmailServer, self - inboxes).fetch_mail(raise_exception=raise_exception)

    @api.constrains("l10n_cl_dte_company_id", "object_id", "attach")
    def _check_l10n_cl_dte_inbox(self):
        for server in self.filtered("l10n_cl_dte_company_id"):
            if server.object_id.model != INBOX_MODEL or not server.attach:
                raise ValidationError(_("A DTE inbox creates received DTE files and keeps the attachments."))
