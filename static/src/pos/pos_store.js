/** @odoo-module */

import { PosStore } from "@point_of_sale/app/store/pos_store";
import { browser } from "@web/core/browser/browser";
import { patch } from "@web/core/utils/patch";
import { l10nClAwaitingStamp, l10nClSetAwaitingStamp } from "./utils";

// While sales kept offline wait for their stamp, the POS tries to synchronise them this often (ms),
// instead of waiting for the next sale.
const RETRY_DELAY = 30000;
let retryTimer = null;
// Receipts of orders stamped after an offline sale are printed one after the other.
let printing = Promise.resolve();

patch(PosStore.prototype, {
    async afterProcessServerData() {
        const result = await super.afterProcessServerData(...arguments);
        if (this.config.l10n_cl_dte_enabled) {
            // After a reload: forget orders this device no longer has, retry the others.
            const awaiting = l10nClAwaitingStamp(this.config.id);
            const kept = new Set(
                [...awaiting].filter((uuid) => this.models["pos.order"].getBy("uuid", uuid))
            );
            if (kept.size !== awaiting.size) {
                l10nClSetAwaitingStamp(this.config.id, kept);
            }
            if (kept.size) {
                this._l10nClDteRetrySync();
            }
        }
        return result;
    },

    /** Remember an order validated offline: its receipt is printed once the server has stamped it. */
    l10nClDteAwaitStamp(order) {
        const awaiting = l10nClAwaitingStamp(this.config.id);
        awaiting.add(order.uuid);
        l10nClSetAwaitingStamp(this.config.id, awaiting);
        this._l10nClDteRetrySync();
    },

    _l10nClDteRetrySync() {
        if (retryTimer) {
            return;
        }
        retryTimer = browser.setInterval(() => {
            if (!l10nClAwaitingStamp(this.config.id).size) {
                browser.clearInterval(retryTimer);
                retryTimer = null;
                return;
            }
            this.syncAllOrders().catch((error) => console.info("l10n_cl_dte: still offline", error));
        }, RETRY_DELAY);
    },

    async postSyncAllOrders(orders) {
        await super.postSyncAllOrders(...arguments);
        if (!this.config.l10n_cl_dte_enabled || !orders?.length) {
            return;
        }
        const awaiting = l10nClAwaitingStamp(this.config.id);
        const stamped = orders.filter(
            (order) => awaiting.has(order.uuid) && order.l10n_cl_dte_receipt_folio
        );
        if (!stamped.length) {
            return;
        }
        for (const order of stamped) {
            awaiting.delete(order.uuid);
        }
        l10nClSetAwaitingStamp(this.config.id, awaiting);
        // One receipt after the other, and without holding up the synchronisation of the next orders.
        for (const order of stamped) {
            printing = printing
                .then(() => this.printReceipt({ order }))
                .catch((error) => console.warn("l10n_cl_dte: could not print a stamped receipt", error));
        }
    },
});
