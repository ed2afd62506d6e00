"""Boletas at the till: every paid POS order of a Chilean company is an electronic document.

The order's folio is taken, and its boleta (39, or 41 when every line is
exempt) built, stamped and signed, while the POS synchronises the order, in the
same transaction: the CAF key and the certificate stay on the server, and the
receipt prints what the server returns. A customer who asks for a factura gets
Odoo's POS invoice (33/34, stamped when posted); a return becomes a credit note
(61) citing the boleta or factura it returns. Boletas go to the SII in
EnvioBOLETA envelopes by the same scheduled actions as invoices.
"""

import base64

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..sii_engine import codes
from ..sii_engine import rut as engine_rut

# l10n_cl's document types a till issues.
DOCUMENT_TYPE_XMLIDS = {
    codes.FACTURA: "l10n_cl.dc_a_f_dte",
    codes.FACTURA_EXENTA: "l10n_cl.dc_y_f_dte",
    codes.BOLETA: "l10n_cl.dc_b_f_dte",
    codes.BOLETA_EXENTA: "l10n_cl.dc_b_e_dte",
    codes.NOTA_CREDITO: "l10n_cl.dc_nc_f_dte",
}
# Fields of the order the POS does not load: the receipt_* fields carry what it prints.
POS_UNLOADED_FIELDS = frozenset({"l10n_cl_dte_barcode", "l10n_cl_dte_ted", "l10n_cl_dte_file_id", "l10n_cl_dte_caf_id"})


class PosOrder(models.Model):
    _name = "pos.order"
    # Activities: the managers' alert when a boleta keeps failing to reach the SII.
    _inherit = ["pos.order", "mail.activity.mixin", "l10n_cl_dte.sii.document"]
    # A sale needs no chatter message for its first status (later ones are tracked).
    _l10n_cl_dte_issue_context = {"tracking_disable": True}

    l10n_latam_document_type_id = fields.Many2one(
        "l10n_latam.document.type", string="Document Type", copy=False, readonly=True, index="btree_not_null"
    )
    # What the receipt prints: the boleta's, or the invoice's when the order was invoiced.
    l10n_cl_dte_receipt_folio = fields.Integer(string="Receipt Folio", compute="_compute_l10n_cl_dte_receipt")
    l10n_cl_dte_receipt_document = fields.Char(string="Receipt Document", compute="_compute_l10n_cl_dte_receipt")
    l10n_cl_dte_receipt_barcode = fields.Char(string="Receipt Stamp Image", compute="_compute_l10n_cl_dte_receipt")
    l10n_cl_dte_receipt_resolution = fields.Char(
        string="Receipt Resolution", compute="_compute_l10n_cl_dte_receipt"
    )
    l10n_cl_dte_receipt_sii_office = fields.Char(
        string="Receipt SII Office", compute="_compute_l10n_cl_dte_receipt"
    )
    # The buyer a boleta names (RUT, name, e-mail, phone: one per line), printed as the SII's boleta
    # format asks (RUT unless 66666666-6; name and contact above 135 UF).
    l10n_cl_dte_receipt_buyer = fields.Char(string="Receipt Buyer", compute="_compute_l10n_cl_dte_receipt")

    _sql_constraints = [
        (
            "l10n_cl_dte_folio_unique",
            "unique(company_id, l10n_latam_document_type_id, l10n_cl_dte_folio)",
            "This folio was already issued for this document type.",
        ),
    ]

    @api.depends("l10n_cl_dte_ted", "account_move.l10n_cl_dte_ted")
    def _compute_l10n_cl_dte_receipt(self):
        for order in self:
            document = order if order.l10n_cl_dte_folio else order.account_move
            company = order.company_id
            png = document.l10n_cl_dte_folio and document._l10n_cl_dte_barcode_png(receipt=True)
            order.l10n_cl_dte_receipt_folio = document.l10n_cl_dte_folio
            document_type = document.l10n_latam_document_type_id
            order.l10n_cl_dte_receipt_document = codes.DOCUMENT_NAMES.get(
                int(document_type.code or 0), document_type.name or False
            )
            order.l10n_cl_dte_receipt_barcode = png and f"data:image/png;base64,{base64.b64encode(png).decode()}"
            resolution_date = company.l10n_cl_dte_resolution_date
            order.l10n_cl_dte_receipt_resolution = resolution_date and codes.resolution_legend(
                company.l10n_cl_dte_resolution_number, resolution_date
            )
            order.l10n_cl_dte_receipt_sii_office = (
                f"S.I.I. - {company.l10n_cl_sii_regional_office.upper()}" if company.l10n_cl_sii_regional_office else False
            )
            order.l10n_cl_dte_receipt_buyer = order._l10n_cl_dte_receipt_buyer() if order.l10n_cl_dte_folio else False

    def _l10n_cl_dte_receipt_buyer(self):
        buyer = self.partner_id
        commercial = buyer.commercial_partner_id
        if not (commercial and commercial._l10n_cl_dte_has_real_rut()):
            return False
        email, phone = buyer._l10n_cl_dte_contact()
        rut = f"R.U.T.: {engine_rut.display(commercial.vat)}"
        return "\n".join(filter(None, [rut, commercial.name, email, phone]))

    @api.model
    def _load_pos_data_fields(self, config_id):
        # The receipt needs the l10n_cl_dte_receipt_* fields; the raw stamp and its image
        # would only double the answer of every sale.
        names = super()._load_pos_data_fields(config_id) or self.check_field_access_rights("read", None)
        return [name for name in names if name not in POS_UNLOADED_FIELDS]

    # --- at synchronisation ----------------------------------------------------------------

    def _process_saved_order(self, draft):
        electronic = not draft and self.state != "cancel" and self.config_id.l10n_cl_dte_enabled
        if electronic:
            self._l10n_cl_dte_prepare()
        order_id = super()._process_saved_order(draft)
        if electronic and self.state == "paid" and not self.to_invoice and not self.l10n_cl_dte_folio:
            self._l10n_cl_dte_issue()
        return order_id

    def _l10n_cl_dte_prepare(self):
        """Decide, before the order is paid, which document it gets; refuse what the SII would."""
        self.ensure_one()
        if self.amount_total < 0:
            # A return: the SII reduces or annuls a boleta or factura only by a credit note citing it.
            self.to_invoice = True
            if not self.partner_id:
                self.partner_id = self.refunded_order_id.partner_id or self.env.ref("l10n_cl.par_cfa")
        if self.to_invoice:
            journal = self.config_id.invoice_journal_id
            if not journal.l10n_latam_use_documents:
                raise UserError(
                    _("The invoice journal %(journal)s of %(pos)s must use documents (its setting \"Use "
                      "Documents?\") so that invoices and credit notes from the till are electronic documents.",
                      journal=journal.display_name, pos=self.config_id.display_name)
                )
            return
        # Above 135 UF (Ley 21.713): the buyer, how it was paid, and for cash the buyer's e-mail or phone.
        # Refused before any folio is taken; the till keeps the paid order and sends it again once completed.
        problems = self._l10n_cl_dte_identified_sale_problems(
            self.amount_total, self.partner_id, self._l10n_cl_dte_payment_method(), self._l10n_cl_dte_issue_date()
        )
        if problems:
            raise UserError("\n".join(problems))

    def _l10n_cl_dte_payment_method(self):
        """How the order was paid (a key of PAYMENT_METHODS): the method that took the largest share.

        The change given back counts against the cash it came from; on a tie, cash (the strictest rule).
        The till decides the same way (static/src/pos/payment_screen.js).
        """
        shares = {}
        for payment in self.payment_ids:
            method = payment.payment_method_id.l10n_cl_dte_payment_method
            shares[method] = shares.get(method, 0.0) + payment.amount
        if not shares:
            return False
        return max(shares, key=lambda method: (shares[method], method == "cash"))

    def _l10n_cl_dte_document_type(self):
        """A boleta: exempt (41) when no line sold carries VAT, else 39."""
        exempt = all(self._l10n_cl_dte_line_is_exempt(line) for line in self.lines if line.price_subtotal_incl > 0)
        return self.env.ref(DOCUMENT_TYPE_XMLIDS[codes.BOLETA_EXENTA if exempt else codes.BOLETA])

    # --- invoices and credit notes from the till --------------------------------------------

    def _generate_pos_order_invoice(self):
        with_boleta = self.filtered(lambda order: order.l10n_cl_dte_folio and not order.account_move)
        if with_boleta:
            raise UserError(
                _("%s already has a boleta. To give the customer an invoice instead, return the sale (a credit "
                  "note annuls the boleta) and sell it again as an invoice.",
                  ", ".join(with_boleta.mapped("name")))
            )
        return super()._generate_pos_order_invoice()

    def _prepare_invoice_vals(self):
        vals = super()._prepare_invoice_vals()
        if not self.config_id.l10n_cl_dte_enabled:
            return vals
        if vals["move_type"] == "out_refund":
            vals["l10n_latam_document_type_id"] = self.env.ref(DOCUMENT_TYPE_XMLIDS[codes.NOTA_CREDITO]).id
            boleta = self.refunded_order_id
            if boleta.l10n_cl_dte_folio:
                vals["ref"] = _("Return of %s", boleta._l10n_cl_dte_document_name())
                vals["l10n_cl_dte_reference_ids"] = [
                    fields.Command.create(boleta._l10n_cl_dte_reference_values(amount=-self.amount_total))
                ]
        else:
            exempt = all(self._l10n_cl_dte_line_is_exempt(line) for line in self.lines)
            vals["l10n_latam_document_type_id"] = self.env.ref(
                DOCUMENT_TYPE_XMLIDS[codes.FACTURA_EXENTA if exempt else codes.FACTURA]
            ).id
        return vals

    def _l10n_cl_dte_document_name(self):
        self.ensure_one()
        return f"{self.l10n_latam_document_type_id.doc_code_prefix} {self.l10n_cl_dte_folio:06d}"
