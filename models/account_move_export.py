"""The customs data of an export invoice or note (110, 111, 112) and its ``Transporte/Aduana`` block.

Users fill the Export page; the engine (``sii_engine.customs``) decides what
the SII requires and refuses what is missing. Posting asks the engine before
a folio is taken, and names the field of the page to fill.
"""

from odoo import _, api, fields, models
from odoo.tools.float_utils import float_repr, float_round

from ..sii_engine import aduana, codes
from ..sii_engine import document as engine_document
from ..sii_engine import dte as engine_dte
from ..sii_engine.errors import DocumentFieldError, MissingFieldError, SiiEngineError
from .engine_errors import engine_error_message
from .l10n_cl_dte_sii_document_issue import to_decimal

EXPORT_SERVICES = [
    ("3", "Services (as the Aduana qualifies them)"),
    ("4", "Hotel services"),
    ("5", "International land transport"),
    ("6", "Services rendered and used wholly abroad"),
]

# The field of the Export page (or of the invoice) behind each SII tag the engine may name.
EXPORT_FIELDS = {
    "CodModVenta": "l10n_cl_dte_sale_modality_id",
    "CodClauVenta": "l10n_cl_dte_sale_clause_id",
    "TotClauVenta": "l10n_cl_dte_sale_clause_total",
    "CodViaTransp": "l10n_cl_dte_transport_way_id",
    "RUTCiaTransp": "l10n_cl_dte_customs_carrier_vat",
    "CodPtoEmbarque": "l10n_cl_dte_loading_port_id",
    "CodPtoDesemb": "l10n_cl_dte_unloading_port_id",
    "PesoBruto": "l10n_cl_dte_gross_weight",
    "PesoNeto": "l10n_cl_dte_net_weight",
    "CodUnidPesoBruto": "l10n_cl_dte_weight_unit_id",
    "CodUnidPesoNeto": "l10n_cl_dte_weight_unit_id",
    "TotBultos": "l10n_cl_dte_package_ids",
    "TipoBultos": "l10n_cl_dte_package_ids",
    "TipoBultos/CodTpoBultos": "l10n_cl_dte_package_ids",
    "TipoBultos/CantBultos": "l10n_cl_dte_package_ids",
    "CodPaisRecep": "l10n_cl_dte_receiver_country_id",
    "CodPaisDestin": "l10n_cl_dte_destination_country_id",
    "FmaPagExp": "l10n_cl_dte_export_payment_form_id",
    "MntFlete": "l10n_cl_dte_freight",
    "MntSeguro": "l10n_cl_dte_insurance",
    "TpoMoneda": "currency_id",
    "OtraMoneda/TpoCambio": "currency_id",
    "Referencia": "l10n_cl_dte_reference_ids",
    "Referencia/CodRef": "l10n_cl_dte_reference_ids",
}


def _code_field(table, string, help_text=None):
    return fields.Many2one(
        "l10n_cl_dte.aduana.code", string=string, ondelete="restrict", help=help_text,
        domain=f"[('aduana_table', '=', '{table}')]",
    )


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_cl_dte_export = fields.Boolean(string="Export Document", compute="_compute_l10n_cl_dte_export")
    l10n_cl_dte_export_service = fields.Selection(
        EXPORT_SERVICES, string="Export of Services",
        help="Leave empty when the document exports goods. Services need no sale modality, clause, destination "
             "or packages (IndServicio).",
    )
    l10n_cl_dte_sale_modality_id = _code_field(aduana.SALE_MODALITIES, "Sale Modality")
    l10n_cl_dte_sale_clause_id = fields.Many2one(
        "l10n_cl_dte.aduana.code", string="Sale Clause", ondelete="restrict",
        domain="[('aduana_table', '=', 'clausulas_venta')]",
        compute="_compute_l10n_cl_dte_sale_clause_id", store=True, readonly=False,
        help="The sale clause of the export declaration (DUS); from the invoice's Incoterm.",
    )
    l10n_cl_dte_sale_clause_total = fields.Monetary(
        string="Sale Clause Total", help="Total of the sale clause; empty: the document's total.",
    )
    l10n_cl_dte_freight = fields.Monetary(
        string="Freight", help="The freight of the shipment (MntFlete), as the export declaration states it.")
    l10n_cl_dte_insurance = fields.Monetary(
        string="Insurance", help="The insurance of the shipment (MntSeguro), as the export declaration states it.")
    l10n_cl_dte_transport_way_id = _code_field(aduana.TRANSPORT_WAYS, "Transport Way")
    l10n_cl_dte_customs_carrier_name = fields.Char(string="Carrier", size=40)
    l10n_cl_dte_customs_carrier_vat = fields.Char(string="Carrier RUT")
    l10n_cl_dte_loading_port_id = _code_field(aduana.PORTS, "Port of Loading")
    l10n_cl_dte_unloading_port_id = _code_field(aduana.PORTS, "Port of Unloading")
    l10n_cl_dte_package_ids = fields.One2many(
        "l10n_cl_dte.export.package", "move_id", string="Packages", copy=True,
    )
    l10n_cl_dte_gross_weight = fields.Float(string="Gross Weight", digits=(16, 2))
    l10n_cl_dte_net_weight = fields.Float(string="Net Weight", digits=(16, 2))
    l10n_cl_dte_weight_unit_id = _code_field(aduana.UNITS, "Weight Unit")
    l10n_cl_dte_receiver_country_id = fields.Many2one(
        "l10n_cl_dte.aduana.code", string="Receiver's Country", ondelete="restrict",
        domain="[('aduana_table', '=', 'paises')]",
        compute="_compute_l10n_cl_dte_countries", store=True, readonly=False,
    )
    l10n_cl_dte_destination_country_id = fields.Many2one(
        "l10n_cl_dte.aduana.code", string="Destination Country", ondelete="restrict",
        domain="[('aduana_table', '=', 'paises')]",
        compute="_compute_l10n_cl_dte_countries", store=True, readonly=False,
    )
    l10n_cl_dte_export_payment_form_id = _code_field(aduana.EXPORT_PAYMENT_FORMS, "Export Payment Form")

    @api.depends("l10n_latam_document_type_id")
    def _compute_l10n_cl_dte_export(self):
        for move in self:
            code = move.l10n_latam_document_type_id.code
            move.l10n_cl_dte_export = bool(code) and code.isdigit() and codes.is_export(code)

    @api.depends("invoice_incoterm_id")
    def _compute_l10n_cl_dte_sale_clause_id(self):
        Code = self.env["l10n_cl_dte.aduana.code"]
        for move in self:
            if move.invoice_incoterm_id:
                move.l10n_cl_dte_sale_clause_id = Code._l10n_cl_dte_find(
                    aduana.SALE_CLAUSES, incoterm_id=move.invoice_incoterm_id.id)
            else:
                move.l10n_cl_dte_sale_clause_id = move.l10n_cl_dte_sale_clause_id

    @api.depends("l10n_latam_document_type_id", "partner_id.commercial_partner_id.country_id")
    def _compute_l10n_cl_dte_countries(self):
        Code = self.env["l10n_cl_dte.aduana.code"]
        for move in self:
            country = move.partner_id.commercial_partner_id.country_id
            if move.l10n_cl_dte_export and country:
                found = Code._l10n_cl_dte_find(aduana.COUNTRIES, country_id=country.id)
                move.l10n_cl_dte_receiver_country_id = found
                move.l10n_cl_dte_destination_country_id = found
            else:
                move.l10n_cl_dte_receiver_country_id = move.l10n_cl_dte_receiver_country_id
                move.l10n_cl_dte_destination_country_id = move.l10n_cl_dte_destination_country_id

    # --- the engine's document -------------------------------------------------------------

    def _l10n_cl_dte_customs(self):
        """The ``Transporte/Aduana`` block of this export, or None when it says nothing (a note may not)."""
        self.ensure_one()
        gross, net = self.l10n_cl_dte_gross_weight, self.l10n_cl_dte_net_weight
        unit = self.l10n_cl_dte_weight_unit_id.code or None
        customs = engine_document.Customs(
            sale_modality=self.l10n_cl_dte_sale_modality_id.code or None,
            sale_clause=self.l10n_cl_dte_sale_clause_id.code or None,
            sale_clause_total=(to_decimal(self.l10n_cl_dte_sale_clause_total, self.currency_id.decimal_places)
                               if self.l10n_cl_dte_sale_clause_total else None),
            transport_way=self.l10n_cl_dte_transport_way_id.code or None,
            freight=to_decimal(self.l10n_cl_dte_freight, 4) if self.l10n_cl_dte_freight else None,
            insurance=to_decimal(self.l10n_cl_dte_insurance, 4) if self.l10n_cl_dte_insurance else None,
            carrier_name=self.l10n_cl_dte_customs_carrier_name or "",
            carrier_rut=self.l10n_cl_dte_customs_carrier_vat or "",
            loading_port=self.l10n_cl_dte_loading_port_id.code or None,
            unloading_port=self.l10n_cl_dte_unloading_port_id.code or None,
            gross_weight=to_decimal(gross, 2) if gross else None,
            gross_weight_unit=unit if gross else None,
            net_weight=to_decimal(net, 2) if net else None,
            net_weight_unit=unit if net else None,
            packages=[
                engine_document.Package(type_code=package.type_id.code, quantity=package.quantity,
                                        marks=package.marks or "", container_id=package.container_id or "",
                                        seal=package.seal or "")
                for package in self.l10n_cl_dte_package_ids
            ],
            receiver_country=self.l10n_cl_dte_receiver_country_id.code or None,
            destination_country=self.l10n_cl_dte_destination_country_id.code or None,
        )
        if customs == engine_document.Customs() and int(self.l10n_latam_document_type_id.code) != codes.FACTURA_EXPORTACION:
            return None
        return customs

    # --- refusals before a folio is taken -----------------------------------------------------

    def _l10n_cl_dte_export_problems(self):
        """What the SII would refuse of this export's customs data, naming the field to fill (no folio taken)."""
        self.ensure_one()
        # An export is exempt: a taxed line would make Odoo's total differ from the DTE's.
        taxed = self.invoice_line_ids.filtered(lambda line: line.display_type == "product" and line.tax_ids)
        if taxed:
            return [_("Export: exports carry no taxes: remove the taxes of the lines %(lines)s.",
                      lines=", ".join(taxed.mapped(lambda line: line.name or line.product_id.display_name)))]
        try:
            engine_dte.build_dte(self._l10n_cl_dte_document(self.l10n_latam_document_type_id, 1))
        except DocumentFieldError as error:
            name = EXPORT_FIELDS.get(error.params.get("field"))
            if not name:
                return [engine_error_message(self.env, error)]
            label = self._fields[name]._description_string(self.env)
            tag = error.params["field"]
            if tag == "OtraMoneda/TpoCambio":
                return [self._l10n_cl_dte_missing_rate_problem()]
            if isinstance(error, MissingFieldError):
                return [_("Export: set %(field)s (the SII's %(tag)s).", field=label, tag=tag)]
            return [_("Export: %(field)s is not accepted by the SII (%(tag)s): %(value)s.",
                      field=label, tag=tag, value=error.params.get("value", ""))]
        except SiiEngineError as error:
            return [engine_error_message(self.env, error)]
        if self._l10n_cl_dte_foreign_currency() and not self._l10n_cl_dte_has_rate():
            return [self._l10n_cl_dte_missing_rate_problem()]
        return []

    def _l10n_cl_dte_foreign_currency(self):
        return self.l10n_cl_dte_export and self.currency_id != self.company_id.currency_id

    def _l10n_cl_dte_exchange_rate(self):
        """Pesos per unit of the invoice's currency, as Odoo converted it (OtraMoneda/TpoCambio), or None."""
        if not (self._l10n_cl_dte_foreign_currency() and self.invoice_currency_rate):
            return None
        return to_decimal(1 / self.invoice_currency_rate, 4)

    def _l10n_cl_dte_exchange_rate_text(self):
        """The exchange rate as the printed export states it: as the DTE writes it (950, 949.6732)."""
        rate = self._l10n_cl_dte_exchange_rate()
        return format(rate.normalize(), "f") if rate is not None else ""

    def _l10n_cl_dte_has_rate(self):
        """Whether Odoo has a rate of the invoice's currency (without one it converts at 1: not the peso's value)."""
        date = self.invoice_date or fields.Date.context_today(self)
        return bool(self.env["res.currency.rate"].search_count([
            ("currency_id", "=", self.currency_id.id), ("name", "<=", date),
            ("company_id", "in", [False, *self.company_id.parent_ids.ids]),
        ], limit=1))

    def _l10n_cl_dte_missing_rate_problem(self):
        return _("Export: set the exchange rate of %(currency)s on the invoice date in Accounting > Configuration > "
                 "Currencies: the SII also states an export's totals in pesos (OtraMoneda/TpoCambio).",
                 currency=self.currency_id.name)

    # --- printing in another currency ------------------------------------------------------------
    # l10n_cl's printed invoice calls these for a document in two currencies (an export, or a domestic
    # invoice in dollars); l10n_cl_edi defines them, which this addon excludes: without them it fails.

    def _format_length(self, text, text_len):
        return (text or "")[:text_len]

    def _float_repr_float_round(self, value, decimal_places):
        return float_repr(float_round(value, decimal_places), decimal_places)

    def _l10n_cl_normalize_currency_name(self, currency_name):
        """The SII's name of a currency (``USD`` → ``DOLAR USA``), as the DTE's TpoMoneda states it."""
        return aduana.currency(currency_name) or currency_name
