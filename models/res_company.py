from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..sii_engine import document as engine_document
from ..sii_engine import rut as engine_rut

# Who is told when the DTE flow needs a person, and who alone reads certificates and CAF files.
MANAGER_GROUP = "account.group_account_manager"

SII_ENVIRONMENTS = [
    ("certification", "SII certification (maullin)"),
    ("production", "SII production (palena)"),
    ("simulator", "Local SII simulator (tests and demo)"),
]

# The SII's regional offices, printed under the document box ("S.I.I. - <office>").
SII_REGIONAL_OFFICES = [
    (name, name)
    for name in (
        "Arica", "Iquique", "Antofagasta", "Calama", "Copiapó", "La Serena", "Ovalle", "Valparaíso",
        "Viña del Mar", "Quillota", "San Felipe", "Los Andes", "San Antonio", "Rancagua", "San Fernando",
        "Talca", "Curicó", "Linares", "Chillán", "Concepción", "Los Ángeles", "Temuco", "Valdivia", "Osorno",
        "Puerto Montt", "Castro", "Coyhaique", "Punta Arenas", "Santiago Centro", "Santiago Oriente",
        "Santiago Poniente", "Santiago Sur", "Providencia", "Ñuñoa", "Maipú", "La Florida", "San Bernardo",
        "Puente Alto", "Melipilla", "Buin",
    )
]


class ResCompany(models.Model):
    _inherit = "res.company"

    l10n_cl_dte_environment = fields.Selection(
        SII_ENVIRONMENTS,
        string="SII Environment",
        default="certification",
        help="Where electronic documents are sent. Documents stamped with CAFs of one environment are "
        "worthless in another.",
    )
    l10n_cl_dte_simulator_url = fields.Char(
        string="SII Simulator URL",
        default="http://127.0.0.1:8090",
        help="Base URL of the local SII simulator, used only in the simulator environment.",
    )
    l10n_cl_dte_resolution_number = fields.Integer(
        string="SII Resolution Number",
        help="Number of the SII resolution authorising the company to issue electronic documents "
        "(0 in the certification environment).",
    )
    l10n_cl_dte_resolution_date = fields.Date(string="SII Resolution Date")
    l10n_cl_sii_regional_office = fields.Selection(SII_REGIONAL_OFFICES, string="SII Regional Office")
    l10n_cl_dte_acteco_ids = fields.Many2many(
        "l10n_cl_dte.acteco",
        string="Economic Activities (Acteco)",
        help="Up to four SII economic activity codes, declared on every electronic document.",
    )
    l10n_cl_dte_email = fields.Char(
        string="DTE Exchange E-mail",
        help="The company's e-mail address registered at the SII for exchanging electronic documents.",
    )
    l10n_cl_dte_folio_alert_default = fields.Integer(
        string="Folio Alert Threshold",
        default=20,
        help="Accounting managers get an activity when fewer folios than this remain for a document type.",
    )
    l10n_cl_dte_folio_threshold_ids = fields.One2many(
        "l10n_cl_dte.folio.threshold", "company_id", string="Folio Alert Thresholds per Type"
    )
    l10n_cl_dte_customer_exchange = fields.Selection(
        [("accepted", "After the SII accepts it"), ("issued", "As soon as it is issued"), ("never", "Never")],
        string="E-mail DTE to Customers",
        default="accepted",
        required=True,
        help="When the customer receives its signed DTE (XML) and PDF at its DTE e-mail.",
    )
    l10n_cl_dte_failure_alert = fields.Integer(
        string="Alert After Failed Sends",
        default=5,
        help="Accounting managers get an activity when a document could not be sent to the SII this many times.",
    )
    l10n_cl_dte_barcode = fields.Selection(
        [("pdf417", "PDF417 (SII requirement)"), ("qr", "QR code")],
        string="Stamp Barcode",
        default="pdf417",
        required=True,
    )

    l10n_cl_dte_boleta_limit_uf = fields.Float(
        string="Anonymous Boleta Limit (UF)",
        default=135.0,
        help="Above this amount a Point of Sale boleta must name a customer with a RUT. 0: no limit.",
    )
    l10n_cl_dte_uf_value = fields.Float(
        string="UF Value",
        help="Pesos per UF to apply the boleta limit when the currency CLF has no rate in Odoo.",
    )
    l10n_cl_dte_software_provider_vat = fields.Char(
        string="Boleta Software Provider RUT",
        help="RUT of the company that provides the software issuing the boletas (RUTProvSW of the SII's boleta "
        "format). Empty: the company's own RUT, as the SII asks for software of one's own.",
    )

    @api.constrains("l10n_cl_dte_acteco_ids")
    def _check_l10n_cl_dte_activities(self):
        for company in self:
            if len(company.l10n_cl_dte_acteco_ids) > 4:
                raise ValidationError(_("The SII accepts at most four economic activity codes (Acteco) per company."))

    @api.constrains("l10n_cl_dte_software_provider_vat")
    def _check_l10n_cl_dte_software_provider_vat(self):
        for company in self:
            vat = company.l10n_cl_dte_software_provider_vat
            if vat and not engine_rut.is_valid(vat):
                raise ValidationError(
                    _("%s is not a valid RUT for the boleta software provider: check its digits and verifier "
                      "(e.g. 76192083-9), or leave it empty for software of your own.", vat)
                )

    def _l10n_cl_dte_lang(self):
        """The language of what the scheduled actions store for this company (SII answers, errors): the one its
        accountants read, not the cron user's."""
        return self[:1].partner_id.lang or "en_US"

    def _l10n_cl_dte_managers(self):
        """The company's accounting managers (internal users)."""
        self.ensure_one()
        return self.env.ref(MANAGER_GROUP).users.filtered(lambda user: self in user.company_ids and not user.share)

    def _l10n_cl_dte_alert_managers(self, record, summary, note, once=False, **activity_values):
        """A warning activity on ``record`` for each accounting manager of the company, in their language.

        ``summary`` and ``note`` are lazy translations (``_lt``); with ``once``, nothing while ``record``
        has a warning open.
        """
        self.ensure_one()
        warning = self.env.ref("mail.mail_activity_data_warning")
        if once and record.activity_ids.filtered(lambda activity: activity.activity_type_id == warning):
            return
        for manager in self._l10n_cl_dte_managers():
            env = record.with_context(lang=manager.lang or "en_US").env
            record.activity_schedule(
                activity_type_id=warning.id, summary=env._(summary), note=env._(note), user_id=manager.id,
                **activity_values,
            )

    def _l10n_cl_dte_folio_threshold(self, document_type):
        self.ensure_one()
        specific = self.l10n_cl_dte_folio_threshold_ids.filtered(lambda t: t.document_type_id == document_type)
        return specific[:1].threshold if specific else self.l10n_cl_dte_folio_alert_default

    def _l10n_cl_dte_engine_issuer(self):
        """The company as the issuer of its DTEs (the engine's Emisor)."""
        self.ensure_one()
        company = self.sudo()  # what the SII prints of the company; a cashier may not read its Acteco records
        partner = company.partner_id
        return engine_document.Issuer(
            rut=partner._l10n_cl_dte_engine_rut(_("The company")),
            name=company.name,
            activity=company.l10n_cl_activity_description or "",
            economic_activities=tuple(int(code) for code in company.l10n_cl_dte_acteco_ids.mapped("code")),
            address=" ".join(filter(None, [partner.street, partner.street2])),
            commune=partner.city or "",
            city=partner.city or "",  # the SII's "ciudad" is a city, never the region
            email=company.l10n_cl_dte_email or "",
            phone=partner.phone or "",
        )

    def _l10n_cl_dte_boleta_limit(self, date=None):
        """The anonymous boleta limit in the company's currency on ``date`` (default today; 0: not enforced)."""
        self.ensure_one()
        if not self.l10n_cl_dte_boleta_limit_uf:
            return 0.0
        uf = self.env.ref("base.CLF", raise_if_not_found=False)
        date = date or fields.Date.context_today(self)
        has_rate = uf and self.env["res.currency.rate"].sudo().search_count(
            [("currency_id", "=", uf.id), ("company_id", "in", [self.id, False]), ("name", "<=", date)], limit=1
        )
        if has_rate:
            return uf._convert(self.l10n_cl_dte_boleta_limit_uf, self.currency_id, self, date)
        return self.currency_id.round(self.l10n_cl_dte_boleta_limit_uf * self.l10n_cl_dte_uf_value)

    def _l10n_cl_dte_software_provider_rut(self):
        """RUTProvSW of the company's boletas: its provider's RUT, or its own for software of its own."""
        self.ensure_one()
        return self.l10n_cl_dte_software_provider_vat or self.sudo().partner_id._l10n_cl_dte_engine_rut(
            _("The company"))

    def _l10n_cl_dte_uses_electronic_documents(self):
        self.ensure_one()
        return self.account_fiscal_country_id.code == "CL" and bool(self.l10n_cl_dte_environment)
