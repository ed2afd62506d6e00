"""Invoices of delivered goods cite the guías that carried them ("factura que agrupa guías").

An invoice references the guías (52) of its deliveries, one or several, with
their folios and dates (``TpoDocRef`` 52). The guías are those chosen on the
invoice, and, when ``sale_stock`` links invoice lines to deliveries, those of
the deliveries of its sale lines. Posting an invoice never moves stock in Odoo:
the goods moved once, with their guía.
"""

from odoo import fields, models

from ..sii_engine import codes

# Invoices that may group guías: facturas (not notes, boletas or exports, whose goods leave by customs).
GROUPING_TYPES = frozenset({str(codes.FACTURA), str(codes.FACTURA_EXENTA)})


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_cl_dte_guia_ids = fields.Many2many(
        "stock.picking", "l10n_cl_dte_account_move_guia_rel", "move_id", "picking_id",
        string="Dispatch Guides", copy=False,
        domain="[('company_id', '=', company_id), ('l10n_cl_dte_folio', '!=', 0), ('state', '=', 'done')]",
        help="The guías de despacho of the goods this invoice bills: posting references them. Those of the "
        "deliveries of its sale order lines are added by themselves.",
    )

    def _l10n_cl_dte_delivered_guias(self):
        """The issued guías of the deliveries of this invoice's sale lines (with ``sale_stock``)."""
        lines = self.invoice_line_ids
        if "sale_line_ids" not in lines._fields or "move_ids" not in self.env["sale.order.line"]._fields:
            return self.env["stock.picking"]
        return lines.sale_line_ids.move_ids.picking_id.filtered(
            lambda picking: picking.state == "done" and picking.l10n_cl_dte_folio
            and picking.picking_type_code == "outgoing"
        )

    def _l10n_cl_dte_add_guia_references(self):
        """Reference (TpoDocRef 52) every guía of the invoice not referenced yet."""
        self.ensure_one()
        if self.move_type != "out_invoice" or self.l10n_latam_document_type_id.code not in GROUPING_TYPES:
            return
        guias = (self.l10n_cl_dte_guia_ids | self._l10n_cl_dte_delivered_guias()).sudo()
        cited = {(ref.document_type_id.code, ref.folio) for ref in self.l10n_cl_dte_reference_ids}
        new = guias.filtered(lambda guia: (str(codes.GUIA_DESPACHO), str(guia.l10n_cl_dte_folio)) not in cited)
        if not new:
            return
        self.l10n_cl_dte_guia_ids |= guias
        self.l10n_cl_dte_reference_ids = [
            fields.Command.create({
                "document_type_id": guia.l10n_latam_document_type_id.id,
                "folio": str(guia.l10n_cl_dte_folio),
                "date": guia.l10n_cl_dte_date,
            })
            for guia in new.sorted("l10n_cl_dte_folio")
        ]
