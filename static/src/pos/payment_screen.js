/** @odoo-module */

import { PaymentScreen } from "@point_of_sale/app/screens/payment_screen/payment_screen";
import { ask } from "@point_of_sale/app/store/make_awaitable_dialog";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { _t } from "@web/core/l10n/translation";
import { ConnectionLostError } from "@web/core/network/rpc";
import { floatIsZero } from "@web/core/utils/numbers";
import { patch } from "@web/core/utils/patch";
import { l10nClDtePaymentMethod } from "./utils";

patch(PaymentScreen.prototype, {
    async _isOrderValid(isForceValidate) {
        if (!this._l10nClDteCheckBoletaLimit()) {
            return false;
        }
        return super._isOrderValid(...arguments);
    },

    /**
     * Above the configured amount (135 UF, Ley 21.713), a boleta must name a customer with a RUT and,
     * paid in cash, carry the customer's e-mail or phone (the server refuses it too): tell the cashier
     * before the order is sent rather than after.
     */
    _l10nClDteCheckBoletaLimit() {
        const config = this.pos.config;
        const order = this.currentOrder;
        const limit = config.l10n_cl_dte_boleta_limit || 0;
        // As the server compares them: in the currency's precision.
        const excess = order.get_total_with_tax() - limit;
        if (
            !config.l10n_cl_dte_enabled ||
            limit <= 0 ||
            order.is_to_invoice() ||
            excess <= 0 ||
            floatIsZero(excess, this.pos.currency.decimal_places)
        ) {
            return true;
        }
        const partner = order.get_partner();
        if (!partner?.l10n_cl_dte_has_real_rut) {
            ask(this.dialog, {
                title: _t("Customer with RUT required"),
                body: _t(
                    "A boleta above %s must name the customer: select a customer with a RUT before validating.",
                    this.env.utils.formatCurrency(limit)
                ),
                confirmLabel: _t("Select customer"),
                cancelLabel: _t("Back"),
            }).then((confirmed) => {
                if (confirmed) {
                    this.pos.selectPartner();
                }
            });
            return false;
        }
        // The server says whether the customer (or its company) has an e-mail or phone, as it will check.
        if (l10nClDtePaymentMethod(order) === "cash" && !partner.l10n_cl_dte_has_contact) {
            ask(this.dialog, {
                title: _t("Customer e-mail or phone required"),
                body: _t(
                    "A boleta above %(limit)s paid in cash must carry the customer's e-mail or phone: add one to %(customer)s before validating.",
                    { limit: this.env.utils.formatCurrency(limit), customer: partner.name }
                ),
                confirmLabel: _t("Edit customer"),
                cancelLabel: _t("Back"),
            }).then((confirmed) => {
                if (confirmed) {
                    this.pos.editPartner(partner);
                }
            });
            return false;
        }
        return true;
    },

    async _finalizeValidation() {
        const order = this.currentOrder;
        const result = await super._finalizeValidation(...arguments);
        if (
            result instanceof ConnectionLostError &&
            this.pos.config.l10n_cl_dte_enabled &&
            !order.l10n_cl_dte_receipt_folio
        ) {
            this.pos.l10nClDteAwaitStamp(order);
            this.env.services.dialog.add(AlertDialog, {
                title: _t("Sale kept on this device"),
                body: _t(
                    "The server cannot be reached, so this sale could not get its folio and electronic stamp yet. It is kept on this device and will be stamped when the connection returns; its receipt will be printed then."
                ),
            });
        }
        return result;
    },
});
