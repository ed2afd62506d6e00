/** @odoo-module */

import { ClosePosPopup } from "@point_of_sale/app/navbar/closing_popup/closing_popup";

// The server adds the session's SII documents (per type and SII status) to the closing data.
ClosePosPopup.props = [...ClosePosPopup.props, "l10n_cl_dte_summary?", "l10n_cl_dte_summary_title?"];
