"""Step 5 of the certification: the printed samples the SII asks for, in one PDF.

Every document of the sets printed with the reports the company will use —
the invoice with its SII box and PDF417 stamp, a guía with its delivery
slip's — each factura followed by its transferable copy (CEDIBLE), as the
set's instructions ask ("ejemplar tributario y cedible"). The PDF is kept on
the workspace.
"""

from odoo import _, models
from odoo.exceptions import UserError
from odoo.tools.pdf import merge_pdf

INVOICE_REPORT = "account.account_invoices"
GUIA_REPORT = "stock.action_report_delivery"  # the delivery slip, with the guía's SII box and stamp
CEDIBLE_REPORT = "l10n_cl_dte.action_report_invoice_cedible"
CEDIBLE_TYPES = ("33", "34")


class L10nClDteCertification(models.Model):
    _inherit = "l10n_cl_dte.certification"

    def action_print_samples(self):
        """Render the samples PDF (each document, followed by its cedible copy) and download it."""
        self.ensure_one()
        cases = self.case_ids.sorted(lambda case: (case.set_id.sequence, case.sequence))
        records = [case._l10n_cl_dte_issued() for case in cases if case._l10n_cl_dte_issued().l10n_cl_dte_ted]
        if not records:
            raise UserError(_("Issue the set's documents first: the samples print them."))
        reports = self.env["ir.actions.report"]
        # One rendering per copy: the unpatched wkhtmltopdf fails on several invoices in one run.
        pdfs = []
        for record in records:
            if record._name == "stock.picking":
                pdfs.append(reports._render_qweb_pdf(GUIA_REPORT, res_ids=record.ids)[0])
                continue
            pdfs.append(reports._render_qweb_pdf(INVOICE_REPORT, res_ids=record.ids)[0])
            if record.move_type == "out_invoice" and record.l10n_latam_document_type_id.code in CEDIBLE_TYPES:
                pdfs.append(reports._render_qweb_pdf(CEDIBLE_REPORT, res_ids=record.ids)[0])
        self.samples_attachment_id.sudo().unlink()
        self.samples_attachment_id = self.env["ir.attachment"].create({
            "name": _("Certification samples %s.pdf", self.company_id.vat or self.company_id.name),
            "res_model": self._name,
            "res_id": self.id,
            "raw": merge_pdf(pdfs),
            "mimetype": "application/pdf",
        })
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.samples_attachment_id.id}?download=true",
            "target": "self",
        }
