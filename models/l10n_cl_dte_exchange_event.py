"""What was said about one DTE between the two companies and in the SII's registry, in order.

One history for both directions: answers and receipts received from a
customer about our invoices, those we sent a supplier about its documents,
and the events of the SII's registry of acceptances and claims (RCV).
"""

from odoo import api, fields, models

EVENT_KINDS = [
    ("reception", "Reception (RespuestaDTE)"),
    ("result", "Commercial Result (ResultadoDTE)"),
    ("receipt", "Receipt of Goods (EnvioRecibos)"),
    ("rcv", "SII Registry (RCV)"),
]


class L10nClDteExchangeEvent(models.Model):
    _name = "l10n_cl_dte.exchange.event"
    _description = "DTE Exchange Event"
    _order = "date desc, id desc"

    move_id = fields.Many2one("account.move", string="Invoice", ondelete="cascade", index="btree_not_null")
    received_id = fields.Many2one("l10n_cl_dte.received", string="Received DTE", ondelete="cascade",
                                  index="btree_not_null")
    file_id = fields.Many2one("l10n_cl_dte.received.file", string="Received File", ondelete="set null",
                              index="btree_not_null")
    company_id = fields.Many2one("res.company", compute="_compute_company_id", store=True, index=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    direction = fields.Selection([("in", "Received"), ("out", "Sent")], required=True)
    kind = fields.Selection(EVENT_KINDS, required=True)
    code = fields.Char()
    description = fields.Char()
    responsible = fields.Char(help="Who registered it: a person's RUT, as the SII gives it.")
    attachment_id = fields.Many2one("ir.attachment", string="File")

    @api.depends("move_id.company_id", "received_id.company_id", "file_id.company_id")
    def _compute_company_id(self):
        for event in self:
            event.company_id = event.received_id.company_id or event.move_id.company_id or event.file_id.company_id
