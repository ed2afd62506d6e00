from odoo import _, fields, models


class L10nClDteCafUpload(models.TransientModel):
    """Load a CAF file the SII issued.

    The file holds the folio private key: it lives only in this transient
    record (vacuumed within the hour, deleted at once on success), never as an
    attachment.
    """

    _name = "l10n_cl_dte.caf.upload"
    _description = "Load an SII CAF File"
    _transient_max_hours = 0.25

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    # attachment=False: the folio key never becomes an ir.attachment, not even for the wizard's lifetime.
    file = fields.Binary(string="CAF File (XML)", required=True, attachment=False)
    file_name = fields.Char()

    def action_upload(self):
        self.ensure_one()
        caf = self.env["l10n_cl_dte.caf"].create({
            "company_id": self.company_id.id,
            "file": self.file,
            "file_name": self.file_name,
        })
        self.unlink()
        return {
            "type": "ir.actions.act_window",
            "name": _("Loaded CAF"),
            "res_model": "l10n_cl_dte.caf",
            "res_id": caf.id,
            "view_mode": "form",
        }
