"""The printed copy of a received DTE: what the supplier's document says, with its electronic stamp.

Rendered from the kept XML as the engine reads it (never from the bill, which
the user may have edited), so the accountant sees the supplier's own document.
"""

import base64

from odoo import models

from ..sii_engine import barcode as engine_barcode


class L10nClDteReceived(models.Model):
    _inherit = "l10n_cl_dte.received"

    def _l10n_cl_dte_report_values(self):
        """``{"content": ReceivedDte, "stamp": PNG data URI or False}`` for the report."""
        self.ensure_one()
        content = self._l10n_cl_dte_content()
        stamp = False
        if content.ted:
            stamp = "data:image/png;base64," + base64.b64encode(engine_barcode.ted_pdf417_png(content.ted)).decode()
        return {"content": content, "stamp": stamp}

    def action_l10n_cl_dte_open_bill(self):
        self.ensure_one()
        return self.move_id._get_records_action()
