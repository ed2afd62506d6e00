from odoo import _, fields, models
from odoo.exceptions import UserError

from ..sii_engine import rut as engine_rut
from ..sii_engine.errors import RutError

# The SII's receiver for a boleta (or a note on one) issued to nobody in particular.
GENERIC_RECEIVER_RUT = "66666666-6"


class ResPartner(models.Model):
    _inherit = "res.partner"

    l10n_cl_dte_email = fields.Char(
        string="DTE E-mail",
        help="Where this partner receives electronic tax documents (its exchange address registered at the SII); "
        "its e-mail when empty.",
    )

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
            return engine_rut.normalize(self.vat) != GENERIC_RECEIVER_RUT
        except RutError:
            return False
