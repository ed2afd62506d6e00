from odoo import _, fields, models


class L10nClDteCertificateUpload(models.TransientModel):
    """Upload a PKCS#12 certificate: the only way its file and password enter Odoo.

    The wizard's record is transient (deleted on success, vacuumed within the
    hour otherwise) and readable only by its creator; the certificate it
    creates never shows the file or password again.
    """

    _name = "l10n_cl_dte.certificate.upload"
    _description = "Upload an SII Digital Certificate"
    _transient_max_hours = 0.25

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    # attachment=False: the key never becomes an ir.attachment, not even for the wizard's lifetime.
    file = fields.Binary(string="Certificate File (.pfx, .p12)", required=True, attachment=False)
    file_name = fields.Char()
    password = fields.Char(required=True)
    user_ids = fields.Many2many("res.users", string="Restrict to Users")

    def action_upload(self):
        self.ensure_one()
        certificate = self.env["l10n_cl_dte.certificate"].create({
            "company_id": self.company_id.id,
            "file": self.file,
            "file_name": self.file_name,
            "password": self.password,
            "user_ids": [fields.Command.set(self.user_ids.ids)],
        })
        # Nothing secret outlives the upload in the transient table.
        self.unlink()
        return {
            "type": "ir.actions.act_window",
            "name": _("SII Certificate"),
            "res_model": "l10n_cl_dte.certificate",
            "res_id": certificate.id,
            "view_mode": "form",
        }
