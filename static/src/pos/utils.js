/** @odoo-module */

// RUT helpers and the list of orders validated offline whose receipt waits for their SII stamp.

import { browser } from "@web/core/browser/browser";

// The SII's RUT for an unidentified final consumer: not a customer's RUT.
const GENERIC_RUT = "666666666";

/** A RUT in compact form ("76.192.083-9" -> "761920839"), or "" when it is not a valid RUT. */
export function l10nClCompactRut(vat) {
    let compact = String(vat || "")
        .toUpperCase()
        .replace(/[\s.-]/g, "");
    if (compact.startsWith("CL")) {
        compact = compact.slice(2);
    }
    if (!/^\d{7,8}[\dK]$/.test(compact)) {
        return "";
    }
    // Modulo 11 check digit, as python-stdnum (and the server) check it.
    let sum = 0;
    let factor = 2;
    for (const digit of compact.slice(0, -1).split("").reverse()) {
        sum += Number(digit) * factor;
        factor = factor === 7 ? 2 : factor + 1;
    }
    const check = "0123456789K"[(11 - (sum % 11)) % 11];
    return compact.slice(-1) === check ? compact : "";
}

/** Whether a partner carries a valid RUT of their own (not the SII's generic 66.666.666-6). */
export function l10nClHasRealRut(partner) {
    const compact = l10nClCompactRut(partner?.vat);
    return Boolean(compact) && compact !== GENERIC_RUT;
}

/** A RUT as printed on Chilean documents: "76192083-9" -> "76.192.083-9"; anything else unchanged. */
export function l10nClFormatRut(vat) {
    const text = String(vat || "").trim();
    const match = text.replace(/^CL/i, "").replace(/[.\s]/g, "").match(/^(\d{1,9})-?([\dkK])$/);
    if (!match) {
        return text;
    }
    const body = match[1].replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    return `${body}-${match[2].toUpperCase()}`;
}

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
