/** @odoo-module */

import { PosOrder } from "@point_of_sale/app/models/pos_order";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";

patch(PosOrder.prototype, {
    /** The SII data of the receipt: the issuer's box, the TED and its legends, or a pending-stamp warning. */
    export_for_printing(baseUrl, headerData) {
        const result = super.export_for_printing(...arguments);
        if (this.config.l10n_cl_dte_enabled) {
            const folio = this.l10n_cl_dte_receipt_folio || false;
            result.l10n_cl_dte = {
                // The SII box and the stamp's legends are the SII's wording, the same in every language
                // (the legends come from the server, which has them from the engine).
                rut: `R.U.T.: ${this.config.l10n_cl_dte_company_rut}`,
                folio: folio && `N° ${folio}`,
                document: folio && (this.l10n_cl_dte_receipt_document || ""),
                sii_office: folio && (this.l10n_cl_dte_receipt_sii_office || ""),
                buyer: (folio && this.l10n_cl_dte_receipt_buyer && this.l10n_cl_dte_receipt_buyer.split("\n")) || [],
                barcode: folio && (this.l10n_cl_dte_receipt_barcode || ""),
                resolution: folio && (this.l10n_cl_dte_receipt_resolution || ""),
                label_ted: this.config.l10n_cl_dte_stamp_legend,
                label_verify: this.config.l10n_cl_dte_verify_legend,
                label_pending: _t("PENDING SII STAMP — not valid as a tax document until stamped"),
            };
        }
        return result;
    },
});
