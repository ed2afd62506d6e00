/** @odoo-module */

// The list of orders validated offline whose receipt waits for their SII stamp. (Whether a customer has
// a RUT of its own, and the company's RUT as printed, come from the server: RUTs are handled by the engine.)

import { browser } from "@web/core/browser/browser";

// Orders validated while the server could not be reached, by uuid: their receipt is printed once
// they are stamped. Kept in localStorage so that a reload of the POS does not forget them.
function awaitingStampKey(configId) {
    return `l10n_cl_dte.awaiting_stamp.${configId}`;
}

export function l10nClAwaitingStamp(configId) {
    try {
        const stored = JSON.parse(browser.localStorage.getItem(awaitingStampKey(configId)) || "[]");
        return new Set(Array.isArray(stored) ? stored : []);
    } catch {
        return new Set();
    }
}

export function l10nClSetAwaitingStamp(configId, uuids) {
    try {
        if (uuids.size) {
            browser.localStorage.setItem(awaitingStampKey(configId), JSON.stringify([...uuids]));
        } else {
            browser.localStorage.removeItem(awaitingStampKey(configId));
        }
    } catch {
        // Storage full or forbidden: the receipt can still be reprinted from the ticket screen.
    }
}

/**
 * How the order is paid, as its boleta's MedioPago says it: the SII payment method that took the
 * largest share (the change given back counts against cash; on a tie, cash). The server decides the
 * same way (pos.order._l10n_cl_dte_payment_method).
 */
export function l10nClDtePaymentMethod(order) {
    const shares = new Map();
    for (const line of order.payment_ids) {
        const method = line.payment_method_id?.l10n_cl_dte_payment_method || "other";
        shares.set(method, (shares.get(method) || 0) + line.get_amount());
    }
    if (shares.has("cash")) {
        shares.set("cash", shares.get("cash") - order.get_change());
    }
    let best = false;
    for (const [method, amount] of shares) {
        const top = best && shares.get(best);
        if (!best || amount > top || (amount === top && method === "cash")) {
            best = method;
        }
    }
    return best;
}
