"""The exchange step of the certification: the SII's test envelope received, and the three answers to it.

The SII sends the company a test EnvioDTE (to its exchange e-mail, so it lands
in the DTE inbox; or the company downloads it and uploads it here). The
company proves it answers as a receiver: the reception of the envelope
(``RespuestaDTE`` / ``RecepcionEnvio``), the commercial result of its documents
(``RespuestaDTE`` / ``ResultadoDTE``) and the receipt of their goods
(``EnvioRecibos``), and uploads the three files on the SII's certification
site. Everything is the reception's own path (:mod:`.l10n_cl_dte_received_file`,
:mod:`.l10n_cl_dte_received_answer`): the envelope is read by the engine's
verifier, its documents recorded as received DTEs, the reception answer made
on intake; here the result and the receipt are made for all the envelope's
documents in one file each. Nothing is e-mailed to the envelope's issuer nor
registered in the SII's registry: the SII's site takes the files.
"""

import base64
import binascii

from odoo import _, fields, models
from odoo.exceptions import UserError

from ..sii_engine import exchange as engine_exchange
from .l10n_cl_dte_received_answer import RESULT_SELECTION


class L10nClDteCertification(models.Model):
    _inherit = "l10n_cl_dte.certification"

    exchange_file_id = fields.Many2one(
        "l10n_cl_dte.received.file", string="SII's Test Envelope", check_company=True,
        domain="[('kind', '=', 'EnvioDTE'), ('state', '=', 'done'), ('company_id', '=', company_id)]",
        help="The EnvioDTE the SII sent for the exchange step, as received in the DTE inbox.",
    )
    exchange_upload = fields.Binary(string="Or Upload the Envelope", attachment=False,
                                    help="The SII's test EnvioDTE, if it did not reach the DTE inbox.")
    exchange_upload_name = fields.Char()
    exchange_result = fields.Selection(RESULT_SELECTION, string="Commercial Result", default="accepted",
                                       required=True)
    exchange_glosa = fields.Char(string="Reason of the Result", size=256,
                                 help="Why the documents are rejected or accepted with discrepancies.")
    exchange_place = fields.Char(string="Goods Received At", size=80,
                                 default=lambda self: self.env.company.partner_id.street or self.env.company.name,
                                 help="Where the goods or services were received (Recinto of the receipt).")
    exchange_received_ids = fields.One2many(related="exchange_file_id.received_ids", string="Received Documents")
    exchange_reception_attachment_id = fields.Many2one(related="exchange_file_id.answer_attachment_id",
                                                       string="Reception Answer")
    exchange_result_attachment_id = fields.Many2one("ir.attachment", string="Result Answer", readonly=True)
    exchange_receipt_attachment_id = fields.Many2one("ir.attachment", string="Receipt of Goods", readonly=True)
    exchange_reception_file = fields.Binary(related="exchange_reception_attachment_id.datas",
                                            string="Reception (RespuestaDTE)")
    exchange_reception_name = fields.Char(related="exchange_reception_attachment_id.name")
    exchange_result_file = fields.Binary(related="exchange_result_attachment_id.datas",
                                         string="Result (RespuestaDTE)")
    exchange_result_name = fields.Char(related="exchange_result_attachment_id.name")
    exchange_receipt_file = fields.Binary(related="exchange_receipt_attachment_id.datas",
                                          string="Receipt of Goods (EnvioRecibos)")
    exchange_receipt_name = fields.Char(related="exchange_receipt_attachment_id.name")

    def action_exchange_answer(self):
        """Take the SII's test envelope (picked or uploaded) and make its result and receipt of goods."""
        self.ensure_one()
        self._l10n_cl_dte_check_environment()
        if self.exchange_result_attachment_id:
            raise UserError(_("The SII's test envelope is answered already: download the three files below."))
        if self.exchange_result != "accepted" and not self.exchange_glosa:
            raise UserError(_("Say why (Reason of the Result): the documents are not simply accepted."))
        if not self.exchange_place:
            raise UserError(_("Say where the goods or services were received."))
        if self.exchange_upload:
            self.exchange_file_id = self._l10n_cl_dte_exchange_intake()
        file = self.exchange_file_id
        if not file:
            raise UserError(_("Choose the SII's test envelope received in the DTE inbox, or upload it."))
        if file.kind != engine_exchange.ENVIO_DTE or file.state != "done":
            raise UserError(_("%(file)s is not an envelope of DTEs received here: %(reason)s",
                              file=file.name, reason=file.reason or file.state))
        if not file.answer_attachment_id:
            raise UserError(_("The reception answer of %(file)s was not made: %(reason)s",
                              file=file.name, reason=file.answer_message or "?"))
        documents = file.received_ids.filtered(lambda document: document.state != "refused")
        if not documents:
            raise UserError(_("No document of %s was received (see each document's reason): there is nothing "
                              "to accept or acknowledge.", file.name))
        result_events, result = documents._l10n_cl_dte_result_file(self.exchange_result, self.exchange_glosa)
        receipt_events, receipt = documents._l10n_cl_dte_receipt_file(self.exchange_place)
        result_attachment = self._l10n_cl_dte_exchange_attachment(f"RespuestaDTE_Resultado_{file.id}.xml", result)
        receipt_attachment = self._l10n_cl_dte_exchange_attachment(f"EnvioRecibos_{file.id}.xml", receipt)
        result_events.attachment_id = result_attachment
        receipt_events.attachment_id = receipt_attachment
        self.write({"exchange_result_attachment_id": result_attachment.id,
                    "exchange_receipt_attachment_id": receipt_attachment.id})
        return True

    def _l10n_cl_dte_exchange_intake(self):
        """The uploaded envelope, through the DTE inbox like any file received: its received file."""
        try:
            data = base64.b64decode(self.exchange_upload, validate=True)
        except (binascii.Error, ValueError):
            raise UserError(_("The uploaded envelope could not be read: upload it again.")) from None
        files = self.env["l10n_cl_dte.received.file"].sudo().with_company(self.company_id)._l10n_cl_dte_intake(
            [(self.exchange_upload_name or "EnvioDTE.xml", data)], company_id=self.company_id.id, source="upload")
        self.write({"exchange_upload": False, "exchange_upload_name": False})
        return files.with_env(self.env)

    def _l10n_cl_dte_exchange_attachment(self, name, data):
        return self.env["ir.attachment"].create({
            "name": name, "raw": data, "res_model": self._name, "res_id": self.id, "mimetype": "application/xml",
        })
