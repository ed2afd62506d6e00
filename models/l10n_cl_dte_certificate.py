import base64
import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.translate import LazyTranslate

from ..sii_engine import certificate as engine_certificate
from ..sii_engine.errors import CertificateError
from .engine_errors import engine_error_message
from .res_company import MANAGER_GROUP

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

EXPIRY_WARNING_DAYS = 30

# Parsing a PKCS#12 costs a few milliseconds and a key derivation; signing
# happens on every posting, so each worker keeps the parsed certificates.
_engine_certificates = {}


class L10nClDteCertificate(models.Model):
    """A digital certificate (PKCS#12) a person signs the company's DTEs with.

    The file, its password and the key are readable only by accounting managers
    and never leave the server: views do not show them, and other users sign
    through :meth:`_l10n_cl_dte_engine_certificate`, which reads them as superuser.
    """

    _name = "l10n_cl_dte.certificate"
    _description = "SII Digital Certificate"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_start desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    user_ids = fields.Many2many(
        "res.users",
        string="Restricted to Users",
        help="When set, only these users sign with this certificate; otherwise anyone of the company.",
    )
    file = fields.Binary(string="Certificate File", attachment=False, groups=MANAGER_GROUP, copy=False)
    file_name = fields.Char(groups=MANAGER_GROUP, copy=False)
    password = fields.Char(groups=MANAGER_GROUP, copy=False)
    holder_name = fields.Char(readonly=True)
    holder_rut = fields.Char(string="Holder RUT", readonly=True)
    date_start = fields.Datetime(string="Valid From", readonly=True)
    date_end = fields.Datetime(string="Valid Until", readonly=True, tracking=True)
    state = fields.Selection(
        [("valid", "Valid"), ("expired", "Expired"), ("not_yet_valid", "Not Yet Valid")],
        compute="_compute_state",
        search="_search_state",
    )
    active = fields.Boolean(default=True, tracking=True)

    @api.depends("holder_name", "date_end")
    def _compute_name(self):
        for record in self:
            until = record.date_end.date().isoformat() if record.date_end else "?"
            record.name = _("%(holder)s (until %(date)s)", holder=record.holder_name or _("Certificate"), date=until)

    @api.depends("date_start", "date_end")
    def _compute_state(self):
        now = fields.Datetime.now()
        for record in self:
            if record.date_end and record.date_end < now:
                record.state = "expired"
            elif record.date_start and record.date_start > now:
                record.state = "not_yet_valid"
            else:
                record.state = "valid"

    def _search_state(self, operator, value):
        if operator not in ("=", "!=") or value not in ("valid", "expired", "not_yet_valid"):
            raise UserError(_("Search the certificate state with = or != and a state."))
        now = fields.Datetime.now()
        domains = {
            "valid": ["&", ("date_start", "<=", now), ("date_end", ">=", now)],
            "expired": [("date_end", "<", now)],
            "not_yet_valid": [("date_start", ">", now)],
        }
        domain = domains[value]
        return domain if operator == "=" else ["!", *domain] if len(domain) == 1 else ["!", "&", *domain[1:]]

    @api.model
    def _l10n_cl_dte_read_file(self, file_b64, password):
        """Parse and check a PKCS#12 upload; raise a UserError naming the defect."""
        if not file_b64:
            raise UserError(_("Choose the certificate file (.pfx or .p12) to upload."))
        try:
            return engine_certificate.load_pkcs12(base64.b64decode(file_b64), password or "")
        except CertificateError as error:
            raise UserError(engine_error_message(self.env, error)) from None

    @api.model_create_multi
    def create(self, vals_list):
        self.check_access("create")
        for vals in vals_list:
            parsed = self._l10n_cl_dte_read_file(vals.get("file"), vals.get("password"))
            vals.update(
                holder_name=parsed.holder_name,
                holder_rut=parsed.holder_rut,
                date_start=parsed.not_before,
                date_end=parsed.not_after,
            )
        return super().create(vals_list)

    def write(self, vals):
        if "file" in vals or "password" in vals:
            raise UserError(_("A certificate cannot be replaced: upload the new one and archive this one."))
        return super().write(vals)

    @api.model
    def _l10n_cl_dte_signing_certificate(self, company, user=None):
        """The newest valid certificate ``user`` may sign with for ``company``."""
        user = user or self.env.user
        certificates = self.sudo().search(
            [("company_id", "=", company.id), ("state", "=", "valid")], order="date_start desc, id desc"
        )
        usable = certificates.filtered(lambda c: not c.user_ids or user in c.user_ids)
        if not usable:
            raise UserError(
                _(
                    "The company %(company)s has no valid digital certificate you may sign with. "
                    "An accounting manager can upload one in Invoicing > Configuration > Chile SII > Certificates.",
                    company=company.display_name,
                )
            )
        return usable[0]

    def _l10n_cl_dte_engine_certificate(self):
        """The engine's certificate object (private key included), for server-side signing only."""
        self.ensure_one()
        record = self.sudo()
        key = (self.env.cr.dbname, record.id, record.write_date)
        cached = _engine_certificates.get(key)
        if cached is None:
            cached = engine_certificate.load_pkcs12(base64.b64decode(record.file), record.password or "")
            if len(_engine_certificates) > 64:
                _engine_certificates.clear()
            _engine_certificates[key] = cached
        return cached

    @api.model
    def _cron_l10n_cl_dte_warn_expiring(self):
        """Warn the accounting managers about certificates that expire within 30 days."""
        limit = fields.Datetime.now() + timedelta(days=EXPIRY_WARNING_DAYS)
        expiring = self.search([("date_end", "<=", limit), ("date_end", ">=", fields.Datetime.now())])
        for certificate in expiring:
            certificate.company_id._l10n_cl_dte_alert_managers(
                certificate,
                _lt("SII certificate expires soon"),
                _lt("The certificate of %(holder)s expires on %(date)s. Upload its renewal before then: "
                    "without a valid certificate no electronic document can be issued.",
                    holder=certificate.holder_name, date=certificate.date_end.date()),
                once=True,
                date_deadline=certificate.date_end.date(),
            )
