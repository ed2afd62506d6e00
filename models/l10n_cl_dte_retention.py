"""What the SII requires to be kept six years cannot vanish, whoever asks (the administrator too).

* the signed XML of an issued document (an invoice's or a boleta's
  ``l10n_cl_dte_file_id`` once it has a DTE status) and the signed XML of an
  envelope: their attachments cannot be deleted, nor their content or owner
  changed; once a document has gone to the SII its XML, folio, CAF and stamp
  cannot be swapped, and a final SII answer cannot be undone;
* envelopes and the SII's answers cannot be deleted; what identifies an
  envelope (kind, company, environment, signed XML, track id) is set once, and
  a final state is final;
* a CAF with used folios cannot be deleted nor its range, type, company or
  next folio changed (it can be archived);
* a certificate that has signed anything cannot be deleted (it can be archived).

Odoo's own flows that delete legitimately still work: a draft invoice never
stamped, or reset to draft before it was sent, is deleted with its XML; module
uninstallation is not refused (``ondelete(at_uninstall=False)``).
"""

import base64

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .l10n_cl_dte_envelope import WAITING_STATES
from .l10n_cl_dte_sii_document import SENT_STATES

KEPT_ATTACHMENT_FIELDS = frozenset(
    {"datas", "raw", "db_datas", "store_fname", "url", "type", "res_model", "res_id", "res_field", "checksum"}
)
KEPT_DOCUMENT_FIELDS = frozenset(
    {"l10n_cl_dte_file_id", "l10n_cl_dte_folio", "l10n_cl_dte_caf_id", "l10n_cl_dte_ted", "l10n_latam_document_type_id"}
)
FINAL_DOCUMENT_STATES = frozenset({"accepted", "objected", "rejected"})
ENVELOPE_SET_ONCE_FIELDS = ("kind", "company_id", "environment", "attachment_id", "track_id")
KEPT_CAF_FIELDS = frozenset(
    {"file", "file_name", "company_id", "document_type_id", "first_folio", "last_folio", "next_folio", "idk",
     "authorized_on", "expires_on"}
)
ENVELOPE_MODEL = "l10n_cl_dte.envelope"


def _names(records):
    return ", ".join(records.mapped("display_name"))


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    def _l10n_cl_dte_kept(self):
        """The attachments among these holding an issued DTE's or an envelope's signed XML."""
        owners = {}
        models_kept = {*self.env["l10n_cl_dte.sii.document"]._l10n_cl_dte_document_models(), ENVELOPE_MODEL}
        for attachment in self.sudo():
            if attachment.res_model in models_kept and attachment.res_id:
                owners.setdefault(attachment.res_model, set()).add(attachment.res_id)
        kept = set()
        for model_name, res_ids in owners.items():
            # A document's XML is attached to the document (checked on write), so its owner finds it.
            records = self.env[model_name].sudo().browse(res_ids).exists()
            if model_name == ENVELOPE_MODEL:
                kept.update(records.attachment_id.ids)
            else:
                kept.update(records.filtered("l10n_cl_dte_status").l10n_cl_dte_file_id.ids)
        return self.filtered(lambda attachment: attachment.id in kept)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_l10n_cl_dte_kept(self):
        if kept := self._l10n_cl_dte_kept():
            raise UserError(
                _("%s is signed XML of an electronic document sent or to be sent to the SII: the SII requires it to "
                  "be kept for six years, so it cannot be deleted.", _names(kept))
            )

    def write(self, vals):
        if KEPT_ATTACHMENT_FIELDS & set(vals) and (kept := self._l10n_cl_dte_kept()):
            changed = kept.filtered(lambda attachment: attachment._l10n_cl_dte_changed_by(vals))
            if changed:
                raise UserError(
                    _("%s is signed XML of an electronic document the SII requires to be kept unchanged for six "
                      "years: its content and the record it belongs to cannot be changed.", _names(changed))
                )
        return super().write(vals)

    def _l10n_cl_dte_changed_by(self, vals):
        """Whether ``vals`` would change what is kept (the same bytes moved to another storage do not)."""
        self.ensure_one()
        record = self.sudo()
        for name in KEPT_ATTACHMENT_FIELDS & set(vals):
            value = vals[name]
            if name in ("raw", "datas", "db_datas"):
                content = base64.b64decode(value) if name == "datas" and value else value
                if isinstance(content, str):
                    content = content.encode()
                if self._compute_checksum(content or b"") != record.checksum:
                    return True
            elif name not in ("store_fname", "checksum") and (value or False) != (record[name] or False):
                return True  # store_fname and checksum follow the content, compared above
        return False


class L10nClDteSiiDocument(models.AbstractModel):
    _inherit = "l10n_cl_dte.sii.document"

    def write(self, vals):
        if (KEPT_DOCUMENT_FIELDS | {"l10n_cl_dte_status"}) & set(vals):
            self._l10n_cl_dte_check_kept(vals)
        return super().write(vals)

    def _l10n_cl_dte_check_kept(self, vals):
        kept_names = KEPT_DOCUMENT_FIELDS & set(vals)
        sent = self.filtered(lambda document: document.l10n_cl_dte_status in SENT_STATES)
        changed = sent.filtered(lambda document: any(
            document._fields[name].convert_to_write(document[name], document) != (vals[name] or False)
            for name in kept_names
        ))
        if changed:
            raise UserError(
                _("%s was sent to the SII: its signed XML, folio, CAF, document type and stamp cannot change.",
                  _names(changed))
            )
        if "l10n_cl_dte_status" in vals:
            status = vals["l10n_cl_dte_status"]
            # A final answer stays; a document with the SII does not go back to "not issued".
            frozen = self.filtered(lambda d: (d.l10n_cl_dte_status in FINAL_DOCUMENT_STATES and d.l10n_cl_dte_status != status)
                                   or (not status and d.l10n_cl_dte_status in SENT_STATES))
            if frozen:
                raise UserError(
                    _("%s has the SII's final answer or is with the SII: its DTE status cannot change so.",
                      _names(frozen))
                )
        if vals.get("l10n_cl_dte_file_id"):
            attachment = self.env["ir.attachment"].sudo().browse(vals["l10n_cl_dte_file_id"])
            strangers = self.filtered(lambda d: (attachment.res_model, attachment.res_id) != (d._name, d.id))
            if strangers:
                raise UserError(_("The DTE XML of %s must be an attachment of that document.", _names(strangers)))

    @api.ondelete(at_uninstall=False)
    def _unlink_except_l10n_cl_dte_issued(self):
        issued = self.filtered("l10n_cl_dte_status")
        if issued:
            raise UserError(
                _("%s is an electronic document issued with a folio of the SII: it cannot be deleted (a credit note "
                  "annuls it).", _names(issued))
            )


class L10nClDteEnvelope(models.Model):
    _inherit = ENVELOPE_MODEL

    @api.ondelete(at_uninstall=False)
    def _unlink_except_l10n_cl_dte_kept(self):
        raise UserError(_("A submission to the SII is kept for six years with its signed envelope: it cannot be deleted."))

    def write(self, vals):
        for envelope in self:
            for name in ENVELOPE_SET_ONCE_FIELDS:
                if name in vals and envelope[name] and envelope._fields[name].convert_to_write(
                        envelope[name], envelope) != vals[name]:
                    raise UserError(_("The %(field)s of the submission %(name)s is set once and cannot change.",
                                      field=envelope._fields[name].string, name=envelope.display_name))
            if "state" in vals and envelope.state not in WAITING_STATES and vals["state"] != envelope.state:
                raise UserError(_("The submission %s has its final answer from the SII: its state cannot change.",
                                  envelope.display_name))
        return super().write(vals)


class L10nClDteEnvelopeAnswer(models.Model):
    _inherit = "l10n_cl_dte.envelope.answer"

    @api.ondelete(at_uninstall=False)
    def _unlink_except_l10n_cl_dte_kept(self):
        raise UserError(_("The SII's answers are kept with their submission: they cannot be deleted."))


class L10nClDteCaf(models.Model):
    _inherit = "l10n_cl_dte.caf"

    def _l10n_cl_dte_used(self):
        return self.filtered(lambda caf: caf.next_folio > caf.first_folio)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_l10n_cl_dte_used(self):
        if used := self._l10n_cl_dte_used():
            raise UserError(
                _("The CAF %s has issued folios: the SII requires it to be kept. Archive it instead.", _names(used))
            )

    def write(self, vals):
        if KEPT_CAF_FIELDS & set(vals) and (used := self._l10n_cl_dte_used()):
            raise UserError(
                _("The CAF %s has issued folios: its file, range, type, company, dates and next folio cannot change. "
                  "Archive it instead.", _names(used))
            )
        return super().write(vals)


class L10nClDteCertificate(models.Model):
    _inherit = "l10n_cl_dte.certificate"

    has_signed = fields.Boolean(
        string="Has Signed", readonly=True, copy=False,
        help="It signed documents, envelopes or SII requests: it can be archived, not deleted.",
    )

    def _l10n_cl_dte_engine_certificate(self):
        certificate = super()._l10n_cl_dte_engine_certificate()
        self._l10n_cl_dte_mark_signed()
        return certificate

    def _l10n_cl_dte_mark_signed(self):
        """Remember that the key is about to sign: once, without making concurrent signers wait or fail."""
        if self.sudo().has_signed:
            return
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "UPDATE l10n_cl_dte_certificate SET has_signed = TRUE WHERE id = %s AND has_signed IS NOT TRUE",
                    (self.id,), log_exceptions=False,
                )
        except psycopg2.errors.SerializationFailure:
            pass  # another transaction is marking it at this very moment
        self.invalidate_recordset(["has_signed"])

    @api.ondelete(at_uninstall=False)
    def _unlink_except_l10n_cl_dte_signed(self):
        signed = self.sudo().filtered("has_signed")
        if signed:
            raise UserError(
                _("The certificate %s has signed documents for the SII: it cannot be deleted. Archive it instead.",
                  _names(signed))
            )
