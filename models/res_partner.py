from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..sii_engine import document as engine_document
from ..sii_engine import rut as engine_rut
from ..sii_engine.errors import RutError

# How a boleta names the receiver it does not know (with the SII's generic RUT, 66666666-6).
ANONYMOUS_RECEIVER_NAME = "Consumidor Final"


class ResPartner(models.Model):
    _inherit = "res.partner"

    l10n_cl_dte_email = fields.Char(
        string="DTE E-mail",
        help="Where this partner receives electronic tax documents (its exchange address registered at the SII); "
        "its e-mail when empty.",
    )
    # For the till, which must know before a sale whether the customer may receive a boleta above the limit.
    l10n_cl_dte_has_real_rut = fields.Boolean(string="Has a RUT of Its Own", compute="_compute_l10n_cl_dte_has_real_rut")

    # For the till: whether a boleta above 135 UF paid in cash can carry this buyer's e-mail or phone.
    l10n_cl_dte_has_contact = fields.Boolean(string="Has an E-mail or Phone", compute="_compute_l10n_cl_dte_has_contact")

    @api.depends("vat")
    def _compute_l10n_cl_dte_has_real_rut(self):
        for partner in self:
            partner.l10n_cl_dte_has_real_rut = partner._l10n_cl_dte_has_real_rut()

    @api.depends("email", "phone", "mobile", "commercial_partner_id.email", "commercial_partner_id.phone",
                 "commercial_partner_id.mobile")
    def _compute_l10n_cl_dte_has_contact(self):
        for partner in self:
            partner.l10n_cl_dte_has_contact = any(partner._l10n_cl_dte_contact())

    @api.model
    def _load_pos_data_fields(self, config_id):
        return [*super()._load_pos_data_fields(config_id), "l10n_cl_dte_has_real_rut", "l10n_cl_dte_has_contact"]

    def _l10n_cl_dte_engine_rut(self, what):
        """This partner's RUT as the SII writes it; ``what`` names the partner's role in the error."""
        self.ensure_one()
        try:
            return engine_rut.normalize(self.vat)
        except RutError:
            raise UserError(
                _("%(what)s %(partner)s has no valid RUT: set its Tax ID (e.g. 76192083-9).",
                  what=what, partner=self.display_name)
            ) from None

    def _l10n_cl_dte_has_real_rut(self):
        """Whether the partner has a valid RUT of its own (not the SII's generic receiver)."""
        self.ensure_one()
        try:
            return engine_rut.normalize(self.vat) != engine_rut.GENERIC_RECEIVER_RUT
        except RutError:
            return False

    def _l10n_cl_dte_contact(self):
        """(e-mail, phone) of this buyer: its own, else its company's (CorreoRecep, TelefonoRecep)."""
        partner = self.commercial_partner_id
        email = (self.email or partner.email or "").strip()
        phone = (self.phone or self.mobile or partner.phone or partner.mobile or "").strip()
        return email, phone

    def _l10n_cl_dte_receiver(self, anonymous=False, foreign=False):
        """This partner as the receiver of a DTE (the engine's ``Receptor``).

        With ``anonymous`` (a boleta), a partner without a RUT of its own — or no partner — is the
        SII's generic receiver; with ``foreign`` (an export), the SII's foreign receiver RUT with the
        customer's own identification and country; otherwise a missing or invalid RUT is refused.
        """
        partner = self.commercial_partner_id
        if anonymous and not (partner and partner._l10n_cl_dte_has_real_rut()):
            return engine_document.Receiver(rut=engine_rut.GENERIC_RECEIVER_RUT, name=ANONYMOUS_RECEIVER_NAME)
        partner.ensure_one()
        email, phone = self._l10n_cl_dte_contact()
        return engine_document.Receiver(
            rut=engine_rut.FOREIGN_RECEIVER_RUT if foreign else partner._l10n_cl_dte_engine_rut(_("The customer")),
            name=partner.name or "",
            activity=partner.l10n_cl_activity_description or "",
            address=" ".join(filter(None, [partner.street, partner.street2])),
            # Odoo's city is the comuna; the SII's "ciudad" is the city too, never the region.
            commune=partner.city or "",
            city=partner.city or "",
            email=email,
            phone=phone,  # printed only on boletas (TelefonoRecep)
            nationality=(partner.country_id.l10n_cl_customs_code or "") if foreign else "",
            foreign_id=(partner.vat or "") if foreign else "",
        )
