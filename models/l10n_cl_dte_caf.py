import base64

from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.translate import LazyTranslate

from ..sii_engine import caf as engine_caf
from ..sii_engine import rut as engine_rut
from ..sii_engine.errors import CafError, RutError
from .engine_errors import engine_error_message
from .res_company import MANAGER_GROUP

_lt = LazyTranslate(__name__)
SIMULATOR_KEY_PARAMETER = "l10n_cl_dte.simulator_sii_public_key"
SIMULATOR_IDK_PARAMETER = "l10n_cl_dte.simulator_sii_idk"

# Each worker keeps the parsed CAFs (key loading and FRMA check) it stamps with.
_engine_cafs = {}


class L10nClDteCaf(models.Model):
    """A CAF: the SII's authorisation of a folio range for one document type.

    Folios are handed out in order across the company's CAFs of a type by
    :meth:`_l10n_cl_dte_take_folio`, under a row lock, inside the posting's
    transaction: a rolled-back posting gives its folio back, and two postings
    at once never get the same folio.
    """

    _name = "l10n_cl_dte.caf"
    _description = "SII Folio Authorisation (CAF)"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "document_type_id, first_folio"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    document_type_id = fields.Many2one("l10n_latam.document.type", string="Document Type", readonly=True, index=True)
    file = fields.Binary(string="CAF File", attachment=False, groups=MANAGER_GROUP, copy=False)
    file_name = fields.Char(groups=MANAGER_GROUP, copy=False)
    first_folio = fields.Integer(readonly=True)
    last_folio = fields.Integer(readonly=True)
    next_folio = fields.Integer(readonly=True, copy=False)
    authorized_on = fields.Date(string="Authorised On", readonly=True)
    expires_on = fields.Date(
        string="Expires On", readonly=True, help="The SII voids unused folios of most types six months after authorisation."
    )
    idk = fields.Integer(string="SII Key (IDK)", readonly=True)
    environment = fields.Selection(related="company_id.l10n_cl_dte_environment")
    remaining_folios = fields.Integer(compute="_compute_remaining_folios", store=True)
    state = fields.Selection(
        [("in_use", "In Use"), ("exhausted", "Exhausted"), ("expired", "Expired")],
        compute="_compute_state",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("range_valid", "CHECK(first_folio <= last_folio)", "A CAF's first folio cannot be above its last."),
        (
            "next_within_range",
            "CHECK(next_folio >= first_folio AND next_folio <= last_folio + 1)",
            "A CAF's next folio must stay within its range.",
        ),
    ]

    @api.depends("document_type_id", "first_folio", "last_folio")
    def _compute_name(self):
        for record in self:
            record.name = f"{record.document_type_id.code or '?'} {record.first_folio}-{record.last_folio}"

    @api.depends("next_folio", "last_folio")
    def _compute_remaining_folios(self):
        for record in self:
            record.remaining_folios = max(record.last_folio - record.next_folio + 1, 0)

    @api.depends("remaining_folios", "expires_on")
    def _compute_state(self):
        today = fields.Date.context_today(self)
        for record in self:
            if record.expires_on and record.expires_on < today:
                record.state = "expired"
            elif not record.remaining_folios:
                record.state = "exhausted"
            else:
                record.state = "in_use"

    # --- upload ------------------------------------------------------------------

    @api.model
    def _l10n_cl_dte_trusted_keys(self, company):
        """The SII keys a CAF of ``company``'s environment must be signed with."""
        environment = company.l10n_cl_dte_environment
        if environment in ("certification", "production"):
            return engine_caf.sii_trusted_keys(environment)
        parameters = self.env["ir.config_parameter"].sudo()
        pem = parameters.get_param(SIMULATOR_KEY_PARAMETER)
        if not pem:
            raise UserError(
                _("No SII simulator key is configured (system parameter %s).", SIMULATOR_KEY_PARAMETER)
            )
        idk = int(parameters.get_param(SIMULATOR_IDK_PARAMETER, "9999"))
        return {idk: load_pem_public_key(pem.encode(), default_backend())}

    @api.model
    def _l10n_cl_dte_parse(self, file_b64, company):
        if not file_b64:
            raise UserError(_("Choose the CAF file (XML) the SII issued."))
        try:
            return engine_caf.load_caf(base64.b64decode(file_b64), self._l10n_cl_dte_trusted_keys(company))
        except CafError as error:
            raise UserError(engine_error_message(self.env, error)) from None

    @api.model_create_multi
    def create(self, vals_list):
        self.check_access("create")
        for vals in vals_list:
            company = self.env["res.company"].browse(vals.get("company_id") or self.env.company.id)
            parsed = self._l10n_cl_dte_parse(vals.get("file"), company)
            vals.update(self._l10n_cl_dte_values_from(parsed, company))
        records = super().create(vals_list)
        records._check_l10n_cl_dte_overlap()
        return records

    @api.model
    def _l10n_cl_dte_values_from(self, parsed, company):
        try:
            company_rut = engine_rut.normalize(company.vat)
        except RutError:
            raise UserError(_("Set the company's RUT (Tax ID) before loading CAFs.")) from None
        if parsed.rut != company_rut:
            raise UserError(
                _("This CAF was issued to RUT %(caf)s, not to %(company)s (RUT %(rut)s).",
                  caf=parsed.rut, company=company.display_name, rut=company_rut)
            )
        document_type = self.env["l10n_latam.document.type"].search(
            [("code", "=", str(parsed.document_type)), ("country_id.code", "=", "CL")], limit=1
        )
        if not document_type or not document_type.active:
            raise UserError(
                _("The CAF is for document type %s, which this company does not use.", parsed.document_type)
            )
        return {
            "document_type_id": document_type.id,
            "first_folio": parsed.first_folio,
            "last_folio": parsed.last_folio,
            "next_folio": parsed.first_folio,
            "authorized_on": parsed.authorized_on,
            "expires_on": parsed.expires_on,
            "idk": parsed.idk,
        }

    def write(self, vals):
        if "file" in vals:
            raise UserError(_("A CAF cannot be replaced: load the new file as a new CAF."))
        return super().write(vals)

    def _check_l10n_cl_dte_overlap(self):
        for record in self:
            overlapping = self.with_context(active_test=False).search_count([
                ("id", "!=", record.id),
                ("company_id", "=", record.company_id.id),
                ("document_type_id", "=", record.document_type_id.id),
                ("first_folio", "<=", record.last_folio),
                ("last_folio", ">=", record.first_folio),
            ])
            if overlapping:
                raise ValidationError(
                    _("The folios %(first)s-%(last)s of type %(type)s overlap a CAF already loaded.",
                      first=record.first_folio, last=record.last_folio, type=record.document_type_id.code)
                )

    # --- folios ------------------------------------------------------------------

    @api.model
    def _l10n_cl_dte_take_folio(self, company, document_type):
        """Reserve the next folio of ``document_type``: returns ``(caf, folio)``.

        ``SELECT … FOR UPDATE`` serialises concurrent postings on the CAF row;
        the increment belongs to the caller's transaction.
        """
        today = fields.Date.context_today(self)
        self.flush_model()
        self.env.cr.execute(SQL(
            """
            SELECT id, next_folio
              FROM l10n_cl_dte_caf
             WHERE company_id = %s AND document_type_id = %s AND active
               AND next_folio <= last_folio
               AND (expires_on IS NULL OR expires_on >= %s)
          ORDER BY first_folio
             LIMIT 1
               FOR UPDATE
            """,
            company.id, document_type.id, today,
        ), log_exceptions=False)  # another posting holding the CAF is expected: Odoo retries the request
        row = self.env.cr.fetchone()
        if not row:
            raise UserError(
                _("There are no folios left for %(type)s in %(company)s: an accounting manager must load a new CAF "
                  "from the SII (Invoicing > Configuration > Chile SII > CAF Files).",
                  type=document_type.display_name, company=company.display_name)
            )
        caf_id, folio = row
        self.env.cr.execute(SQL("UPDATE l10n_cl_dte_caf SET next_folio = next_folio + 1 WHERE id = %s", caf_id))
        caf = self.browse(caf_id)
        caf.invalidate_recordset(["next_folio", "remaining_folios"])
        caf.modified(["next_folio"])
        return caf, folio

    def _l10n_cl_dte_engine_caf(self):
        """The engine's CAF (private key included), for server-side stamping only."""
        self.ensure_one()
        record = self.sudo()
        # The environment is part of the key: a CAF trusted in one environment must be checked anew in another.
        key = (self.env.cr.dbname, record.id, record.company_id.l10n_cl_dte_environment)
        cached = _engine_cafs.get(key)
        if cached is None:
            try:
                cached = engine_caf.load_caf(
                    base64.b64decode(record.file), self._l10n_cl_dte_trusted_keys(record.company_id)
                )
            except CafError as error:
                raise UserError(engine_error_message(self.env, error)) from None
            if len(_engine_cafs) > 256:
                _engine_cafs.clear()
            _engine_cafs[key] = cached
        return cached

    @api.model
    def _l10n_cl_dte_remaining(self, company, document_type):
        self.flush_model()
        self.env.cr.execute(SQL(
            """
            SELECT COALESCE(SUM(last_folio - next_folio + 1), 0)
              FROM l10n_cl_dte_caf
             WHERE company_id = %s AND document_type_id = %s AND active AND next_folio <= last_folio
               AND (expires_on IS NULL OR expires_on >= %s)
            """,
            company.id, document_type.id, fields.Date.context_today(self),
        ))
        return self.env.cr.fetchone()[0]

    @api.model
    def _l10n_cl_dte_warn_low_folios(self, company, document_type):
        """Schedule an activity for the accounting managers when folios run low."""
        company = company.sudo()  # a cashier stamping a boleta may not read the company's thresholds
        remaining = self._l10n_cl_dte_remaining(company, document_type)
        if remaining >= company._l10n_cl_dte_folio_threshold(document_type):
            return
        caf = self.search(
            [("company_id", "=", company.id), ("document_type_id", "=", document_type.id)],
            order="first_folio desc", limit=1,
        )
        if caf:
            company._l10n_cl_dte_alert_managers(
                caf.sudo(),
                _lt("Folios running low"),
                _lt("Only %(count)s folios of %(type)s remain. Request a new CAF from the SII and load it.",
                    count=remaining, type=document_type.display_name),
                once=True,
            )
