"""A vendor bill made from a received DTE: its document, deadline, registry state and the buttons to answer."""

from odoo import _, fields, models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_cl_dte_received_id = fields.Many2one("l10n_cl_dte.received", string="Received DTE", readonly=True,
                                              copy=False, index="btree_not_null")
    l10n_cl_dte_received_state = fields.Selection(related="l10n_cl_dte_received_id.state", string="Acceptance")
    l10n_cl_dte_received_deadline = fields.Date(related="l10n_cl_dte_received_id.deadline", store=True,
                                                string="Acceptance Deadline")
    l10n_cl_dte_received_deadline_estimated = fields.Boolean(related="l10n_cl_dte_received_id.deadline_estimated")
    l10n_cl_dte_received_in_registry = fields.Boolean(related="l10n_cl_dte_received_id.l10n_cl_dte_in_registry")

    def _l10n_cl_dte_required(self):
        # A received document was stamped by its issuer: posting its bill issues nothing.
        if self.l10n_cl_dte_received_id:
            return False
        return super()._l10n_cl_dte_required()

    def _l10n_cl_dte_received(self):
        received = self.l10n_cl_dte_received_id
        if not received:
            raise UserError(_("These bills were not made from received DTEs."))
        return received

    def action_l10n_cl_dte_received_answer(self):
        """Open the answer to the supplier (accept, claim, receipt of goods) with ``default_answer`` from the button."""
        received = self._l10n_cl_dte_received()
        return {
            "type": "ir.actions.act_window",
            "res_model": "l10n_cl_dte.received.respond",
            "name": _("Answer the Supplier"),
            "view_mode": "form",
            "target": "new",
            "context": {"default_received_ids": received.ids,
                        "default_answer": self.env.context.get("l10n_cl_dte_answer", "accept")},
        }

    def action_l10n_cl_dte_rcv_refresh(self):
        self._l10n_cl_dte_received().action_l10n_cl_dte_rcv_refresh()

    def action_l10n_cl_dte_cedible(self):
        self.ensure_one()
        return self._l10n_cl_dte_received().action_l10n_cl_dte_cedible()

    def action_l10n_cl_dte_received_pdf(self):
        return self.env.ref("l10n_cl_dte.action_report_received_dte").report_action(
            self._l10n_cl_dte_received(), config=False)  # the supplier's document: not this company's layout
