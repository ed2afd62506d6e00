"""The DTE inbox: every file a company receives in the exchange of DTEs, kept with what became of it.

Files arrive by e-mail (an incoming mail server marked as a company's DTE
inbox, or any route of Odoo's mail gateway to this model: one message may
carry several XML files) or are uploaded by hand. Each is read only through
the engine (:func:`sii_engine.exchange.sniff`, then the verifier or the
answer readers) and goes, by its root element, to:

* ``EnvioDTE`` — a supplier's DTEs: :meth:`l10n_cl_dte.received._l10n_cl_dte_receive_envelope`;
* ``RespuestaDTE`` / ``EnvioRecibos`` — a customer's answers and receipts about
  our invoices: :meth:`account.move._l10n_cl_dte_record_customer_answer`;
* anything else is kept, marked unrecognised, with the reason.

A file that cannot be processed (not XML, hostile, too large, broken) is kept
with its reason and never stops the next one: each file is processed in a
savepoint of its own.
"""

import hashlib
import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..sii_engine import exchange as engine_exchange
from ..sii_engine import rut as engine_rut
from ..sii_engine.errors import RutError
from .fetchmail_server import INBOX_CONTEXT_KEY
from .mail_thread import RAW_KEY

_logger = logging.getLogger(__name__)

MAX_BYTES_PARAMETER = "l10n_cl_dte.inbox_max_bytes"
DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # an EnvioDTE of 2,000 facturas of 10 lines is about 12 MB
FILE_KINDS = [
    (engine_exchange.ENVIO_DTE, "Supplier DTEs (EnvioDTE)"),
    (engine_exchange.RESPUESTA_DTE, "Customer Answer (RespuestaDTE)"),
    (engine_exchange.ENVIO_RECIBOS, "Receipt of Goods (EnvioRecibos)"),
    (engine_exchange.UNRECOGNISED, "Unrecognised"),
]
FILE_STATES = [
    ("new", "To Process"),
    ("done", "Processed"),
    ("refused", "Refused"),
    ("unrecognised", "Unrecognised"),
    ("failed", "Failed"),
]


class L10nClDteReceivedFile(models.Model):
    _name = "l10n_cl_dte.received.file"
    _description = "Received DTE Exchange File"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _mail_post_access = "read"

    name = fields.Char(string="File Name", required=True, readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    kind = fields.Selection(FILE_KINDS, readonly=True)
    state = fields.Selection(FILE_STATES, default="new", required=True, readonly=True, tracking=True, index=True)
    reason = fields.Text(readonly=True, help="What was done with the file, or why it was refused.")
    attachment_id = fields.Many2one("ir.attachment", string="File", readonly=True)
    checksum = fields.Char(readonly=True, index=True, help="SHA-256 of the file's bytes: a file received twice.")
    size = fields.Integer(string="Size (bytes)", readonly=True)
    source = fields.Selection([("mail", "E-mail"), ("upload", "Uploaded")], required=True, readonly=True,
                              default="upload")
    email_from = fields.Char(string="From", readonly=True)
    email_subject = fields.Char(string="Subject", readonly=True)
    fetchmail_server_id = fields.Many2one("fetchmail.server", string="Mail Server", readonly=True)
    received_at = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True)
    sender_rut = fields.Char(string="Sender RUT", readonly=True, index="btree_not_null")
    partner_id = fields.Many2one("res.partner", string="Sender", readonly=True)
    reception_code = fields.Char(string="Reception Code", readonly=True,
                                 help="EstadoRecepEnv: how the envelope was received (0: received).")
    reception_glosa = fields.Char(string="Reception", readonly=True)
    answer_attachment_id = fields.Many2one("ir.attachment", string="Reception Answer", readonly=True)
    answer_state = fields.Selection([("sent", "Sent"), ("not_sent", "Not Sent")], readonly=True)
    answer_message = fields.Text(readonly=True)
    received_ids = fields.One2many("l10n_cl_dte.received", "file_id", string="Documents", readonly=True)
    received_count = fields.Integer(compute="_compute_received_count")
    event_ids = fields.One2many("l10n_cl_dte.exchange.event", "file_id", string="Recorded", readonly=True)

    def _compute_received_count(self):
        counts = dict(self.env["l10n_cl_dte.received"]._read_group(
            [("file_id", "in", self.ids)], ["file_id"], ["__count"]))
        for record in self:
            record.received_count = counts.get(record, 0)

    # --- intake -------------------------------------------------------------------------------

    @api.model
    def _l10n_cl_dte_max_bytes(self):
        value = self.env["ir.config_parameter"].sudo().get_param(MAX_BYTES_PARAMETER)
        return int(value) if value and value.isdigit() else DEFAULT_MAX_BYTES

    @api.model
    def _l10n_cl_dte_intake(self, files, **values):
        """Keep ``files`` (``[(name, bytes)]``) as received files with ``values`` and process each."""
        limit = self._l10n_cl_dte_max_bytes()
        records = self.browse()
        for name, data in files:
            name = (name or "").replace("\\", "/").rsplit("/", 1)[-1][:120] or "dte.xml"
            record = self.create({**values, "name": name, "size": len(data),
                                  "checksum": hashlib.sha256(data).hexdigest()})
            if len(data) > limit:
                record.write({"state": "refused", "kind": engine_exchange.UNRECOGNISED, "reason": _(
                    "The file holds %(size)s bytes; the inbox takes files up to %(limit)s bytes. It was not read "
                    "and is not kept.", size=len(data), limit=limit)})
            else:
                record.attachment_id = self.env["ir.attachment"].create({
                    "name": name, "raw": data, "res_model": self._name, "res_id": record.id,
                    "mimetype": "application/xml",
                })
            records |= record
        records.filtered(lambda r: r.state == "new")._l10n_cl_dte_process()
        return records

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """An e-mail to the inbox: each XML attachment becomes a received file; the e-mail is posted on the first."""
        values = dict(custom_values or {})
        values.update(source="mail", email_from=msg_dict.get("email_from"),
                      email_subject=(msg_dict.get("subject") or "")[:200])
        server = self.env["fetchmail.server"].browse(self.env.context.get(INBOX_CONTEXT_KEY))
        if server.exists():
            values["fetchmail_server_id"] = server.id
            if server.l10n_cl_dte_company_id:
                values["company_id"] = server.l10n_cl_dte_company_id.id
        files, others = [], []
        for attachment in msg_dict.get("attachments") or []:
            data = self._l10n_cl_dte_attachment_bytes(attachment)
            if data is not None:
                files.append((attachment.fname, data))
            else:
                others.append(attachment)
        if not files:
            record = self.create({**values, "name": values["email_subject"] or _("E-mail without XML"),
                                  "state": "unrecognised", "kind": engine_exchange.UNRECOGNISED,
                                  "reason": _("The e-mail carries no XML file: there is no DTE to read.")})
        else:
            record = self._l10n_cl_dte_intake(files, **values)
            for other in record[1:]:
                other.message_post(body=_("Received in the e-mail %(subject)s from %(sender)s, with %(count)s "
                                          "XML file(s).", subject=values["email_subject"],
                                          sender=values["email_from"], count=len(files)))
        # The XML files are kept on their records; the e-mail keeps its other attachments (a PDF...).
        limit = self._l10n_cl_dte_max_bytes()
        msg_dict["attachments"] = [other for other in others if len(other.content or b"") <= limit]
        return record[:1]

    @api.model
    def _l10n_cl_dte_attachment_bytes(self, attachment):
        """The exact bytes of an XML attachment of a parsed e-mail, or None when it is not XML."""
        info = attachment.info if isinstance(attachment.info, dict) else {}
        if RAW_KEY in info:
            return info[RAW_KEY]
        content = attachment.content
        looks_xml = (attachment.fname or "").lower().endswith(".xml")
        if isinstance(content, str):
            looks_xml = looks_xml or content.lstrip().startswith("<")
            return content.encode(info.get("encoding") or "utf-8", "replace") if looks_xml else None
        if isinstance(content, bytes) and (looks_xml or content.lstrip().startswith(b"<?xml")):
            return content
        return None

    # --- processing ---------------------------------------------------------------------------

    def _l10n_cl_dte_process(self):
        """Read each file and record what it says; a failure is kept on its file, the next one goes on."""
        for record in self:
            try:
                with self.env.cr.savepoint():
                    record._l10n_cl_dte_process_one()
            except Exception as error:  # noqa: BLE001 - a hostile or broken file must never stop the inbox
                _logger.exception("DTE inbox: file %s (id %s) could not be processed", record.name, record.id)
                record.write({"state": "failed", "reason": _(
                    "The file could not be processed: %(error)s. Fix the cause (e.g. the company's DTE settings) "
                    "and process it again.", error=error if isinstance(error, UserError) else repr(error))})

    def _l10n_cl_dte_process_one(self):
        self.ensure_one()
        data = self.attachment_id.raw or b""
        sniffed = engine_exchange.sniff(data, max_bytes=self._l10n_cl_dte_max_bytes())
        self.write({"kind": sniffed.kind, "sender_rut": sniffed.sender_rut})
        if sniffed.kind == engine_exchange.UNRECOGNISED:
            self.write({"state": "unrecognised", "reason": _(
                "Not a file of the exchange of DTEs (EnvioDTE, RespuestaDTE or EnvioRecibos): %s", sniffed.reason)})
            return
        company = self.company_id or self._l10n_cl_dte_company_for(sniffed.addressee_rut)
        if not company:
            self.write({"state": "refused", "reason": _(
                "No company of this database uses electronic documents with RUT %s, to which the file is "
                "addressed.", sniffed.addressee_rut or "?")})
            return
        self.company_id = company
        # What is written about the file (reasons, bills' notes, chatter) is in the company's language, not
        # in that of whoever runs the mail gateway or the scheduled action.
        record = self.with_context(lang=company_language(company, self.env))
        if sniffed.kind == engine_exchange.ENVIO_DTE:
            record.env["l10n_cl_dte.received"]._l10n_cl_dte_receive_envelope(record, sniffed)
        else:
            record.env["account.move"]._l10n_cl_dte_record_customer_answer(record, sniffed)

    @api.model
    def _l10n_cl_dte_company_for(self, rut):
        """The one company using electronic documents whose RUT is ``rut``."""
        if not rut:
            return self.env["res.company"]
        companies = self.env["res.company"].sudo().search([("l10n_cl_dte_environment", "!=", False)])
        matching = companies.filtered(lambda company: _same_rut(company.vat, rut))
        return matching if len(matching) == 1 else self.env["res.company"]

    def action_l10n_cl_dte_process_again(self):
        """Process a failed file again (after fixing what it needed)."""
        to_process = self.filtered(lambda r: r.state == "failed" and r.attachment_id)
        to_process.write({"state": "new", "reason": False})
        to_process._l10n_cl_dte_process()

    def action_l10n_cl_dte_download(self):
        self.ensure_one()
        if not self.attachment_id:
            raise UserError(_("This file was not kept (see its reason)."))
        return {"type": "ir.actions.act_url", "url": f"/web/content/{self.attachment_id.id}?download=true",
                "target": "self"}

    def action_l10n_cl_dte_open_documents(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window", "res_model": "l10n_cl_dte.received", "name": _("Received DTEs"),
            "view_mode": "list,form", "domain": [("file_id", "=", self.id)],
        }


def company_language(company, env):
    """The language the company speaks (its partner's), for texts the system writes on its own."""
    return company.partner_id.lang or env.lang or "en_US"


def _same_rut(left, right):
    try:
        return engine_rut.normalize(left) == engine_rut.normalize(right)
    except RutError:
        return False
