/** @odoo-module */

import { registry } from "@web/core/registry";

// A billing user without Point of Sale rights opens SII Submissions: the envelopes of invoices open with their
// documents, an envelope of boletas opens without its orders, the signed envelope is a download (not an
// attachment form with edit and delete icons), and no "Access Error" shows anywhere.
const noError = {
    content: "no error dialog",
    trigger: "body:not(:has(.o_error_dialog))",
};

registry.category("web_tour.tours").add("l10n_cl_dte_envelope_billing_tour", {
    steps: () => [
        {
            content: "SII Submissions lists the envelopes",
            trigger: ".o_list_view .o_data_row td:contains('EnvioDTE')",
            run: "click",
        },
        {
            content: "the envelope of invoices lists its invoice",
            trigger: ".o_form_view .o_field_widget[name=move_ids] .o_data_row",
        },
        {
            content: "the signed envelope is a download, not a link to the attachment",
            trigger: ".o_form_view .o_field_widget[name=attachment_id]:not(:has(a))",
        },
        {
            content: "with its download button",
            trigger: ".o_form_view button[name=action_l10n_cl_dte_download_xml]",
        },
        noError,
        {
            content: "back to the list",
            trigger: ".o_breadcrumb .o_back_button, .o_breadcrumb li.breadcrumb-item:first a",
            run: "click",
        },
        {
            content: "the envelope of boletas is listed too",
            trigger: ".o_list_view .o_data_row td:contains('EnvioBOLETA')",
            run: "click",
        },
        {
            content: "it opens, without the orders this user may not read",
            trigger: ".o_form_view .o_notebook:not(:has(.nav-link:contains('POS Boletas')))",
        },
        {
            content: "its SII answers are shown",
            trigger: ".o_form_view .o_field_widget[name=answer_ids] .o_data_row",
        },
        noError,
    ],
});
