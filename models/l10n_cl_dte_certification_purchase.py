"""The factura de compra set of the certification: the buyer issues the 46 and its notes.

A factura de compra (46) is issued by the buyer — the company — to a supplier
who does not issue its own invoice, and it retains the whole VAT (``ImptoReten``
15: the buyer pays the VAT to the SII, not to the supplier). The notes on it
(the set's credit note 61 and the debit note 56 annulling that credit note) are
issued by the buyer too: they are purchase-side records that the company stamps
(see ``_l10n_cl_dte_modifies_own_purchase`` on ``account.move``).

So each case becomes a vendor bill (46, 56) or a vendor refund (61) of a
purchase journal using documents, to the workspace's supplier, posted through
the same issuing path as the other sets; the retention is Odoo's purchase tax
of SII code 15 on every line the engine marks with it. The issued DTE's
retention is compared with the engine's besides the totals every case compares.
"""

from decimal import Decimal

from odoo import _, api, fields, models

from ..sii_engine import codes, xmlutil
from ..sii_engine.certification import issue as engine_issue
from ..sii_engine.certification import setfile
from ..sii_engine.totals import ADDITIONAL_TAXES
from .l10n_cl_dte_sii_document_issue import VAT_SII_CODE

PURCHASE_SET = setfile.FACTURA_COMPRA


class L10nClDteCertification(models.Model):
    _inherit = "l10n_cl_dte.certification"

    supplier_id = fields.Many2one(
        "res.partner", string="Supplier of the Factura de Compra", check_company=True,
        compute="_compute_supplier_id", store=True, readonly=False, precompute=True,
        help="The seller the company buys from and issues the factura de compra set to: a Chilean company with its "
             "RUT, giro and address. By default, the customer of the cases.",
    )
    purchase_journal_id = fields.Many2one(
        "account.journal", string="Purchase Journal", check_company=True,
        default=lambda self: self._default_purchase_journal(),
        domain="[('type', '=', 'purchase'), ('l10n_latam_use_documents', '=', True)]",
        help="The journal of the factura de compra set's bills and notes (it uses documents).",
    )

    @api.model
    def _default_purchase_journal(self):
        return self.env["account.journal"].search([
            *self.env["account.journal"]._check_company_domain(self.env.company),
            ("type", "=", "purchase"), ("l10n_latam_use_documents", "=", True),
        ], limit=1)

    @api.depends("partner_id")
    def _compute_supplier_id(self):
        for workspace in self:
            workspace.supplier_id = workspace.supplier_id or workspace.partner_id

    def _l10n_cl_dte_issue_problem_list(self):
        problems = super()._l10n_cl_dte_issue_problem_list()
        purchase_set = self.set_ids.filtered(lambda test_set: test_set.kind == PURCHASE_SET)
        if not purchase_set:
            return problems
        if not self.supplier_id:
            problems.append(_("Choose the supplier of the factura de compra set."))
        if not self.purchase_journal_id:
            problems.append(_("Choose the purchase journal of the factura de compra set (a journal using documents)."))
        if purchase_set.case_ids.filtered(lambda case: not case.document_type_id):
            problems.append(_("Activate the document type 46 (factura de compra electrónica) in the document types of "
                              "Chile, then read the set file again."))
        if not self._l10n_cl_dte_purchase_vat_tax():
            problems.append(_("The company has no purchase VAT tax of 19 percent (price excluded) in its chart of "
                              "accounts."))
        if not self._l10n_cl_dte_purchase_additional_tax(engine_issue.PURCHASE_RETENTION_CODE):
            problems.append(_("The company has no purchase tax retaining the whole VAT (SII code 15, minus 19 percent) "
                              "in its chart of accounts: the factura de compra retains it."))
        return problems

    def _l10n_cl_dte_purchase_vat_tax(self):
        return self.env["account.tax"].search([
            *self.env["account.tax"]._check_company_domain(self.company_id),
            ("type_tax_use", "=", "purchase"), ("l10n_cl_sii_code", "=", VAT_SII_CODE), ("amount", "=", 19),
            ("amount_type", "=", "percent"), ("price_include", "=", False),
        ], limit=1)

    def _l10n_cl_dte_purchase_additional_tax(self, code):
        """The purchase tax of SII code ``code`` at its rate (negative when the buyer retains it)."""
        rate, retained = ADDITIONAL_TAXES.get(code, (None, None))
        if rate is None:
            return self.env["account.tax"]
        return self.env["account.tax"].search([
            *self.env["account.tax"]._check_company_domain(self.company_id),
            ("type_tax_use", "=", "purchase"), ("l10n_cl_sii_code", "=", code),
            ("amount", "=", float(-rate if retained else rate)), ("amount_type", "=", "percent"),
            ("price_include", "=", False),
        ], limit=1)


class L10nClDteCertificationSet(models.Model):
    _inherit = "l10n_cl_dte.certification.set"

    def _l10n_cl_dte_partner(self):
        if self.kind == PURCHASE_SET:
            return self.certification_id.supplier_id
        return super()._l10n_cl_dte_partner()


class L10nClDteCertificationCase(models.Model):
    _inherit = "l10n_cl_dte.certification.case"

    def _l10n_cl_dte_move_values(self, code):
        if self.set_id.kind != PURCHASE_SET:
            return super()._l10n_cl_dte_move_values(code)
        # The buyer's own documents: a vendor bill (46, and the debit note 56) or a vendor refund (61).
        return {"move_type": "in_refund" if code == codes.NOTA_CREDITO else "in_invoice",
                "journal_id": self.certification_id.purchase_journal_id.id,
                "partner_id": self.set_id._l10n_cl_dte_partner().id}

    def _l10n_cl_dte_line_taxes(self, line=None):
        if self.set_id.kind != PURCHASE_SET:
            return super()._l10n_cl_dte_line_taxes(line)
        workspace = self.certification_id
        taxes = workspace._l10n_cl_dte_purchase_vat_tax()
        if line is not None and line.additional_tax_code:
            taxes |= workspace._l10n_cl_dte_purchase_additional_tax(line.additional_tax_code)
        return taxes

    def _l10n_cl_dte_compare(self, totals):
        """Besides the totals, the retained and additional taxes (``ImptoReten``) by code and amount."""
        super()._l10n_cl_dte_compare(totals)
        issued = self._l10n_cl_dte_issued_totals()
        in_document = {int(xmlutil.findtext(tax, "TipoImp")): Decimal(xmlutil.findtext(tax, "MontoImp") or 0)
                       for tax in xmlutil.children(issued, "ImptoReten")}
        by_rules = {code: amount for code, _rate, amount in totals.additional_taxes}
        differences = []
        for code in sorted(set(in_document) | set(by_rules)):
            if in_document.get(code) != by_rules.get(code):
                differences.append(_("ImptoReten %(code)s: %(odoo)s in the document, %(engine)s by the SII's rules",
                                     code=code, odoo=in_document.get(code, 0), engine=by_rules.get(code, 0)))
        if differences:
            self.mismatch = "\n".join(filter(None, [self.mismatch, *differences]))
