from odoo import _, fields, models


class L10nClDteCafUpload(models.TransientModel):
    """Load one or more CAF files the SII issued."""

    _name = "l10n_cl_dte.caf.upload"
    _description = "Load SII CAF Files"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    attachment_ids = fields.Many2many("ir.attachment", string="CAF Files (XML)", required=True)

    def action_upload(self):
        self.ensure_one()
        cafs = self.env["l10n_cl_dte.caf"].create([
            {"company_id": self.company_id.id, "file": attachment.datas, "file_name": attachment.name}
            for attachment in self.attachment_ids
        ])
        self.attachment_ids.unlink()
        return {
            "type": "ir.actions.act_window",
            "name": _("CAF Files"),
            "res_model": "l10n_cl_dte.caf",
            "view_mode": "list,form",
            "domain": [("id", "in", cafs.ids)],
        }
