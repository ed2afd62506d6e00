"""Invoices after the SII's answer: the customer's copy (exchange of DTEs between taxpayers)."""

import logging

from odoo import fields, models

from ..sii_engine import envelope as engine_envelope
from .l10n_cl_dte_sii_document import attach_xml

_logger = logging.getLogger(__name__)


class AccountMove(models.Model):
    _inherit = "account.move"

    def _l10n_cl_dte_after_outcome(self):
        self.filtered(
            lambda m: m.company_id.l10n_cl_dte_customer_exchange == "accepted"
        )._l10n_cl_dte_send_to_customer()

    # --- customer exchange ------------------------------------------------------------

    l10n_cl_dte_exchanged = fields.Boolean(string="Sent to Customer", copy=False, readonly=True)

    def _l10n_cl_dte_send_to_customer(self):
        """E-mail the customer its DTE (an EnvioDTE addressed to its RUT) and the PDF."""
        template = self.env.ref("l10n_cl_dte.mail_template_dte_exchange", raise_if_not_found=False)
        for move in self.filtered(lambda m: m.move_type in ("out_invoice", "out_refund") and not m.l10n_cl_dte_exchanged):
            receiver = move.commercial_partner_id
            if not template or not (receiver.l10n_cl_dte_email or receiver.email):
                continue
            company = move.company_id
            _type, _folio, _date, _total, receiver_rut = move._l10n_cl_dte_stamp_data()
            try:
                certificate = self.env["l10n_cl_dte.certificate"]._l10n_cl_dte_signing_certificate(company)
                xml = engine_envelope.build_envelope(
                    [move.l10n_cl_dte_file_id.raw], company.vat, certificate._l10n_cl_dte_engine_certificate(),
                    company.l10n_cl_dte_resolution_date or fields.Date.context_today(self),
                    company.l10n_cl_dte_resolution_number or 0, receiver_rut=receiver_rut,
                )
            except Exception as error:  # noqa: BLE001 - the exchange copy must never undo the SII's answer
                _logger.warning("DTE exchange copy of %s not built: %s", move.display_name, error)
                continue
            attachment = attach_xml(
                move, f"EnvioDTE_{move.l10n_latam_document_type_id.code}_{move.l10n_cl_dte_folio}.xml", xml
            )
            template.send_mail(move.id, email_values={"attachment_ids": [(4, attachment.id)]})
            move.l10n_cl_dte_exchanged = True
