import base64
import binascii

from odoo import _, fields, models
from odoo.exceptions import UserError


class L10nClDteReceivedUpload(models.TransientModel):
    """Upload an exchange file by hand: a supplier's EnvioDTE, a customer's RespuestaDTE or EnvioRecibos.

    It goes through the same inbox as the e-mail: read by the engine only,
    kept with what became of it.
    """

    _name = "l10n_cl_dte.received.upload"
    _description = "Upload a Received DTE File"
    _transient_max_hours = 0.25

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    file = fields.Binary(string="XML File", required=True)
    file_name = fields.Char()

    def action_upload(self):
        self.ensure_one()
        try:
            data = base64.b64decode(self.file or b"", validate=True)
        except (binascii.Error, ValueError):
            raise UserError(_("The uploaded file could not be read.")) from None
        files = self.env["l10n_cl_dte.received.file"].sudo().with_company(self.company_id)._l10n_cl_dte_intake(
            [(self.file_name or "dte.xml", data)], company_id=self.company_id.id, source="upload")
        self.unlink()
        return {
            "type": "ir.actions.act_window",
            "name": _("Received File"),
            "res_model": "l10n_cl_dte.received.file",
            "res_id": files.id,
            "view_mode": "form",
        }
