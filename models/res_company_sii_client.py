from odoo import _, models
from odoo.exceptions import UserError

from ..sii_engine.transport import RetryPolicy, SiiClient
from .l10n_cl_dte_token import DatabaseTokenCache

# Inside a scheduled action, wait little for a flaky SII: the cron itself comes
# back later with a growing delay, and other companies' documents are waiting.
CRON_RETRY_POLICY = RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=5.0, max_total_delay=20.0,
                                retry_after_cap=10.0)


class ResCompany(models.Model):
    _inherit = "res.company"

    def _l10n_cl_dte_sii_client(self):
        """The transport to this company's SII environment, signing with its newest valid certificate.

        The one place the Odoo layer reaches the SII (or, in the simulator
        environment, the local SII simulator): tests replace the SII here only.
        """
        self.ensure_one()
        environment = self.l10n_cl_dte_environment
        if not environment:
            raise UserError(_("The company %s does not issue electronic documents.", self.display_name))
        certificate = self.env["l10n_cl_dte.certificate"]._l10n_cl_dte_signing_certificate(self)
        simulator = environment == "simulator"
        if simulator and not self.l10n_cl_dte_simulator_url:
            raise UserError(_("Set the URL of the SII simulator in the Invoicing settings (Chile: electronic documents)."))
        return SiiClient(
            "certification" if simulator else environment,
            certificate._l10n_cl_dte_engine_certificate(),
            self.vat,
            token_cache=DatabaseTokenCache(self.env),
            retry=CRON_RETRY_POLICY,
            base_url=self.l10n_cl_dte_simulator_url.rstrip("/") if simulator else None,
        )
