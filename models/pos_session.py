from collections import Counter

from odoo import _, api, fields, models

from .l10n_cl_dte_sii_document import DTE_STATES


class PosSession(models.Model):
    _inherit = "pos.session"

    l10n_cl_dte_summary = fields.Html(
        string="SII Documents", compute="_compute_l10n_cl_dte_summary", sanitize=False,
        help="Electronic documents issued in this session, by type and SII status.",
    )

    def _l10n_cl_dte_summary(self):
        """[{document, status, count}] of the session's boletas, invoices and credit notes."""
        self.ensure_one()
        orders = self.order_ids
        documents = [order for order in orders if order.l10n_cl_dte_folio]
        documents += [move for move in orders.account_move if move.l10n_cl_dte_folio]
        states = dict(self.env["pos.order"]._fields["l10n_cl_dte_status"]._description_selection(self.env))
        counts = Counter(
            (doc.l10n_latam_document_type_id.code, doc.l10n_latam_document_type_id.name, doc.l10n_cl_dte_status)
            for doc in documents
        )
        order = {state: index for index, (state, _label) in enumerate(DTE_STATES)}
        return [
            {"code": code, "document": name, "status": states.get(status, status or ""), "count": count}
            for (code, name, status), count in sorted(counts.items(), key=lambda i: (i[0][0], order.get(i[0][2], 99)))
        ]

    @api.depends("order_ids.l10n_cl_dte_status", "order_ids.account_move.l10n_cl_dte_status")
    def _compute_l10n_cl_dte_summary(self):
        for session in self:
            rows = session._l10n_cl_dte_summary() if session.config_id.l10n_cl_dte_enabled else []
            session.l10n_cl_dte_summary = self.env["ir.qweb"]._render(
                "l10n_cl_dte.pos_session_dte_summary", {"rows": rows}
            ) if rows else False

    def get_closing_control_data(self):
        data = super().get_closing_control_data()
        if self.config_id.l10n_cl_dte_enabled:
            data["l10n_cl_dte_summary"] = self._l10n_cl_dte_summary()
            data["l10n_cl_dte_summary_title"] = _("SII documents issued")
        return data
