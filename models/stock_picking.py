"""Dispatch guides (guía de despacho, 52): a validated transfer of a Chilean company issues one.

A picking type says whether its transfers issue guías, why the goods travel
(``IndTraslado``), who carries them (``TipoDespacho``) and which prices the guía
states; each transfer may change the first two and names its vehicle, carrier
and driver. Validating it takes a folio of its own CAF and issues the guía in
the same transaction, through the shared issuing path; the scheduled actions
send it with the invoices' DTEs. Transfers of other types issue theirs on a
button once done.
"""

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..sii_engine import codes, signature, xmlutil
from .stock_picking_type import DISPATCH_TYPES, TRANSFER_INDICATORS, VALUATIONS

GUIA_XMLID = "l10n_cl.dc_gd_dte"
INTERNAL_TRANSFER = "5"


class StockPicking(models.Model):
    _name = "stock.picking"
    _inherit = ["stock.picking", "l10n_cl_dte.sii.document"]
    _l10n_cl_dte_issue_context = {"tracking_disable": True}

    l10n_latam_document_type_id = fields.Many2one(
        "l10n_latam.document.type", string="Document Type", copy=False, readonly=True, index="btree_not_null"
    )
    currency_id = fields.Many2one(related="company_id.currency_id", string="Currency")
    l10n_cl_dte_guia = fields.Boolean(related="picking_type_id.l10n_cl_dte_guia")
    l10n_cl_dte_transfer_indicator = fields.Selection(
        TRANSFER_INDICATORS, string="Transfer Indicator", compute="_compute_l10n_cl_dte_guia_settings",
        store=True, readonly=False, precompute=True,
    )
    l10n_cl_dte_dispatch_type = fields.Selection(
        DISPATCH_TYPES, string="Dispatch Type", compute="_compute_l10n_cl_dte_guia_settings",
        store=True, readonly=False, precompute=True,
    )
    l10n_cl_dte_valuation = fields.Selection(
        VALUATIONS, string="Guide Prices", compute="_compute_l10n_cl_dte_guia_settings",
        store=True, readonly=False, precompute=True,
    )
    l10n_cl_dte_reference_ids = fields.One2many(
        "l10n_cl_dte.reference", "picking_id", string="SII References", copy=False,
        groups="account.group_account_invoice",
    )
    l10n_cl_dte_vehicle_plate = fields.Char(string="Vehicle Plate", size=8)
    l10n_cl_dte_carrier_vat = fields.Char(string="Carrier RUT")
    l10n_cl_dte_driver_name = fields.Char(string="Driver Name", size=30)
    l10n_cl_dte_driver_vat = fields.Char(string="Driver RUT")

    _sql_constraints = [
        (
            "l10n_cl_dte_folio_unique",
            "unique(company_id, l10n_latam_document_type_id, l10n_cl_dte_folio)",
            "This folio was already issued for this document type.",
        ),
    ]

    @api.depends("picking_type_id")
    def _compute_l10n_cl_dte_guia_settings(self):
        for picking in self:
            picking.l10n_cl_dte_transfer_indicator = picking.picking_type_id.l10n_cl_dte_transfer_indicator
            picking.l10n_cl_dte_dispatch_type = picking.picking_type_id.l10n_cl_dte_dispatch_type
            picking.l10n_cl_dte_valuation = picking.picking_type_id.l10n_cl_dte_valuation

    @api.model
    def _l10n_cl_dte_issued_condition(self, alias):
        return SQL("%s = 'done'", SQL.identifier(alias, "state"))

    def _l10n_cl_dte_document_type(self):
        return self.env.ref(GUIA_XMLID)

    def _l10n_cl_dte_report_name(self):
        """The document's name in the printed SII box: the SII's legal text, untranslated."""
        return codes.DOCUMENT_NAMES[codes.GUIA_DESPACHO]

    def _l10n_cl_dte_printed_values(self):
        """What the printed guía states beyond the delivery slip, read from its signed DTE (what the SII has):
        ``{"lines": [(name, quantity, price, amount)], "totals": {Totales tag: amount}, "valued": bool,
        "references": the transfer's references}``.

        A valued guía prints each line's price and amount and the totals; an unvalued one only its quantities,
        which the delivery slip already shows.
        """
        self.ensure_one()
        # Read as the stamp is: a warehouse user prints the guía without reading the company's DTE files.
        body = signature.dte_body(xmlutil.parse(self.sudo().l10n_cl_dte_file_id.raw))
        lines = [(xmlutil.findtext(line, "NmbItem"), xmlutil.findtext(line, "QtyItem"),
                  xmlutil.findtext(line, "PrcItem"), xmlutil.findtext(line, "MontoItem"))
                 for line in xmlutil.children(body, "Detalle")]
        totals = xmlutil.find(body, "Encabezado/Totales")
        stated = {tag: int(xmlutil.findtext(totals, tag)) for tag in ("MntNeto", "MntExe", "IVA", "MntTotal")
                  if xmlutil.findtext(totals, tag)}
        return {"lines": lines, "totals": stated, "valued": any(stated.values()),
                "references": self.sudo().l10n_cl_dte_reference_ids}

    def _l10n_cl_dte_total(self):
        return None  # a guía states the goods' value, if any; no accounting entry to agree with

    # --- issuing ---------------------------------------------------------------------------

    def _action_done(self):
        # A warehouse worker issues the guía of what they ship without reading the company's CAFs,
        # certificates or Acteco: as superuser, still signing as themselves (env.user stays theirs).
        to_issue = self.filtered(lambda p: p.l10n_cl_dte_guia and not p.l10n_cl_dte_status).sudo()
        for picking in to_issue:
            picking._l10n_cl_dte_check_guia()
        result = super()._action_done()
        for picking in to_issue.filtered(lambda p: p.state == "done"):
            picking._l10n_cl_dte_issue()
        return result

    def action_l10n_cl_dte_issue_guia(self):
        """Issue the guía of done transfers whose type does not issue one on validation."""
        for picking in self.sudo():
            if picking.state != "done":
                raise UserError(_("Validate the transfer %s before issuing its dispatch guide.", picking.name))
            if picking.l10n_cl_dte_status:
                raise UserError(_("The transfer %s already has a dispatch guide.", picking.name))
            picking._l10n_cl_dte_check_guia()
            picking._l10n_cl_dte_issue()

    def _l10n_cl_dte_check_guia(self):
        """Refuse, naming what to fix, a guía the SII would refuse; consume nothing."""
        self.ensure_one()
        company = self.company_id
        if not company.l10n_cl_dte_environment:
            raise UserError(
                _("%(picking)s issues a dispatch guide, but the company %(company)s is not set up for electronic "
                  "documents: choose its SII environment in the Invoicing settings (Chile: electronic documents), "
                  "or stop issuing guides on the operation type %(type)s.",
                  picking=self.name, company=company.display_name, type=self.picking_type_id.display_name)
            )
        problems = self._l10n_cl_dte_issuer_problems(self._l10n_cl_dte_document_type())
        if not self.l10n_cl_dte_transfer_indicator:
            problems.append(_("Choose the transfer indicator of the transfer %s.", self.name))
        receiver = self._l10n_cl_dte_guia_receiver()
        if not receiver.vat:
            problems.append(_("Set the RUT of the receiver %s.", receiver.display_name))
        destination = self._l10n_cl_dte_destination()
        if not destination.street or not destination.city:
            problems.append(_("Set the address and comuna (city) of %s, where the goods go.", destination.display_name))
        count = len(self._l10n_cl_dte_guia_moves())
        if count > codes.MAX_LINES:
            problems.append(
                _("The SII accepts at most %(limit)s lines on a dispatch guide; the transfer has %(count)s. "
                  "Split it.", limit=codes.MAX_LINES, count=count)
            )
        self._l10n_cl_dte_refuse(problems)
        self.env["l10n_cl_dte.certificate"]._l10n_cl_dte_signing_certificate(company)

    # --- what the guía says ----------------------------------------------------------------

    def _l10n_cl_dte_guia_receiver(self):
        """Who receives the goods: the customer, or the company itself for its own transfers."""
        if self.l10n_cl_dte_transfer_indicator == INTERNAL_TRANSFER or not self.partner_id:
            return self.company_id.partner_id
        return self.partner_id.commercial_partner_id

    def _l10n_cl_dte_destination(self):
        """Where the goods go (DirDest, CmnaDest): the delivery address, or the receiving warehouse's."""
        if self.l10n_cl_dte_transfer_indicator == INTERNAL_TRANSFER or not self.partner_id:
            return self.location_dest_id.warehouse_id.partner_id or self.company_id.partner_id
        return self.partner_id

    def _l10n_cl_dte_guia_moves(self):
        return self.move_ids.filtered(lambda move: move.quantity > 0 and move.state != "cancel")

    def _l10n_cl_dte_valuation(self):
        if self.l10n_cl_dte_transfer_indicator == INTERNAL_TRANSFER:
            return "none"  # the company moves its own goods: nothing is sold
        return self.l10n_cl_dte_valuation or "none"
