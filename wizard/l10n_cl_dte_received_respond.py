from odoo import _, api, fields, models
from odoo.exceptions import UserError

# What each answer registers in the SII's registry (RCV) and says to the supplier.
ANSWERS = {
    "accept": ("ACD", "accepted"),
    "discrepancies": ("ACD", "discrepancies"),
    "claim": ("RCD", "rejected"),
    "partial_lack": ("RFP", "rejected"),
    "total_lack": ("RFT", "rejected"),
    "receipt": ("ERM", None),
}


class L10nClDteReceivedRespond(models.TransientModel):
    """Accept, claim or acknowledge the goods of received DTEs: in the SII's registry and to the supplier.

    The registry (RCV) takes facturas and liquidación-facturas (33, 34, 43):
    ACD, RCD, RFP, RFT, ERM. The supplier gets the signed commercial result
    (ResultadoDTE) or, for the goods, the receipt (EnvioRecibos, Ley 19.983).
    """

    _name = "l10n_cl_dte.received.respond"
    _description = "Answer Received DTEs"

    received_ids = fields.Many2many("l10n_cl_dte.received", string="Documents", required=True)
    answer = fields.Selection([
        ("accept", "Accept"),
        ("discrepancies", "Accept with Discrepancies"),
        ("claim", "Claim the Content"),
        ("partial_lack", "Claim a Partial Lack of Goods"),
        ("total_lack", "Claim a Total Lack of Goods"),
        ("receipt", "Acknowledge the Goods or Services"),
    ], required=True, default="accept")
    in_registry = fields.Boolean(compute="_compute_in_registry")
    register_in_sii = fields.Boolean(string="Register in the SII's Registry (RCV)", default=True)
    send_to_supplier = fields.Boolean(string="Send the Signed Answer to the Supplier", default=True)
    glosa = fields.Char(string="Reason of the Answer", size=256, help="Why the document is claimed or has discrepancies.")
    reason_code = fields.Integer(string="Reason Code", help="CodRchDsc: a negative number of your own, optional.")
    place = fields.Char(string="Received At", size=80, help="Where the goods or services were received (Recinto).",
                        default=lambda self: self.env.company.partner_id.street or self.env.company.name)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if "received_ids" in fields_list and not values.get("received_ids") \
                and context.get("active_model") == "l10n_cl_dte.received":
            values["received_ids"] = [fields.Command.set(context.get("active_ids") or [])]
        return values

    @api.depends("received_ids")
    def _compute_in_registry(self):
        for wizard in self:
            wizard.in_registry = any(wizard.received_ids.mapped("l10n_cl_dte_in_registry"))

    def action_confirm(self):
        self.ensure_one()
        action, result = ANSWERS[self.answer]
        if result in ("rejected", "discrepancies") and not self.glosa:
            raise UserError(_("Say why (Reason): the supplier and the SII see it."))
        if self.reason_code and (self.reason_code > -1 or self.reason_code < -999):
            raise UserError(_("The reason code is a negative number of at most 3 digits (e.g. -1)."))
        if self.answer == "receipt" and self.send_to_supplier and not self.place:
            raise UserError(_("Say where the goods or services were received."))
        if self.send_to_supplier:  # before the registry is told anything: it cannot be undone there
            self.received_ids._l10n_cl_dte_check_answerable()
        for received in self.received_ids:
            if self.register_in_sii and received.l10n_cl_dte_in_registry:
                received._l10n_cl_dte_rcv_register(action)
            if self.send_to_supplier:
                if result:
                    received._l10n_cl_dte_send_result(result, self.glosa, self.reason_code or None)
                else:
                    received._l10n_cl_dte_send_receipt(self.place)
        return {"type": "ir.actions.act_window_close"}
