"""Step 2 of the certification: each case of a set issued as a real Odoo record.

What is certified is the software the company will use: every case becomes an
invoice, a credit or a debit note of the company's sales journal, posted
through the one issuing path (its folio from the company's CAF, stamped,
signed), with the certification reference the SII asks for (``TpoDocRef`` SET,
``FolioRef`` the attention number, ``RazonRef`` "CASO n-m") and, for a note,
the reference to the document of the case it modifies.

What a case contains is the engine's reading of the set
(:func:`sii_engine.certification.issue.case_document`: the lines of a note that
annuls, corrects a text or returned quantities). Odoo then computes the
amounts as it does for any invoice — line discounts, taxes, and the global
discount, which only the taxed lines bear — and the issued DTE's totals are
compared with the engine's own computation of the case by the SII's rules: a
difference is shown on the case and the set is not sent.
"""

from decimal import Decimal

from odoo import _, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round

from ..sii_engine import codes, signature, xmlutil
from ..sii_engine.certification import issue as engine_issue
from ..sii_engine.errors import SiiEngineError
from ..sii_engine.totals import compute_totals
from .engine_errors import engine_error_message
from .l10n_cl_dte_certification import ISSUED_KINDS
from .l10n_cl_dte_sii_document_issue import VAT_SII_CODE

# The DTE's Totales compared with the engine's computation of the case.
COMPARED_TOTALS = (("MntNeto", "net"), ("MntExe", "exempt"), ("IVA", "vat"), ("MntTotal", "total"))
HUNDRED = Decimal(100)


class L10nClDteCertification(models.Model):
    _inherit = "l10n_cl_dte.certification"

    def action_issue(self):
        """Issue every case not issued yet of the sets this workspace issues, set by set, in order."""
        self.ensure_one()
        self._l10n_cl_dte_check_environment()
        self._l10n_cl_dte_issue_problems()
        issue_date = self.issue_date or fields.Date.context_today(self)
        by_kind = {test_set.kind: test_set for test_set in self._l10n_cl_dte_parsed_sets()}
        for test_set in self.set_ids.filtered(lambda s: s.kind in ISSUED_KINDS):
            engine_set = by_kind.get(test_set.kind)
            if engine_set is None or engine_set.attention != test_set.attention:
                raise UserError(_("The set file changed since it was read: read it again."))
            test_set._l10n_cl_dte_issue_cases(engine_set, issue_date)
        self.issue_date = issue_date
        return True

    def _l10n_cl_dte_issue_problems(self):
        if problems := self._l10n_cl_dte_issue_problem_list():
            raise UserError("\n".join(problems))

    def _l10n_cl_dte_issue_problem_list(self):
        """What the workspace lacks to issue its sets, each saying what to fix."""
        problems = []
        if not self.partner_id and self._l10n_cl_dte_cases_need_customer():
            problems.append(_("Choose the customer of the cases."))
        if not self.journal_id:
            problems.append(_("Choose the sales journal of the cases."))
        if not self._l10n_cl_dte_vat_tax():
            problems.append(_("The company has no sales VAT tax of 19 percent (price excluded) in its chart of accounts."))
        return problems

    def _l10n_cl_dte_cases_need_customer(self):
        """Whether the sets to issue have a customer: the workspace's (a set kind may sell to another)."""
        return True

    def _l10n_cl_dte_vat_tax(self, price_include=False):
        return self.env["account.tax"].search([
            *self.env["account.tax"]._check_company_domain(self.company_id),
            ("type_tax_use", "=", "sale"), ("l10n_cl_sii_code", "=", VAT_SII_CODE), ("amount", "=", 19),
            ("price_include", "=", price_include),
        ], limit=1)


class L10nClDteCertificationSet(models.Model):
    _inherit = "l10n_cl_dte.certification.set"

    def _l10n_cl_dte_issue_cases(self, engine_set, issue_date):
        """Issue this set's cases as Odoo records (in one transaction: a refused case issues nothing)."""
        self.ensure_one()
        workspace = self.certification_id
        issuer = workspace.company_id._l10n_cl_dte_engine_issuer()
        receiver = self._l10n_cl_dte_case_receiver()
        cases = {case.case_ref: case for case in self.case_ids}
        options = self._l10n_cl_dte_case_options(issue_date)
        earlier = {}  # case id → the engine's document of that case, with the folio Odoo gave it
        for engine_case in engine_set.cases:
            case = cases.get(engine_case.case_id)
            if case is None:
                raise UserError(_("The set file changed since it was read: read it again."))
            if not case._l10n_cl_dte_issued():
                try:
                    planned = self._l10n_cl_dte_case_document(engine_case, 0, issue_date, issuer, receiver, earlier,
                                                              **options)
                except SiiEngineError as error:
                    raise UserError(_("CASO %(case)s cannot be issued: %(reason)s", case=case.case_ref,
                                      reason=engine_error_message(self.env, error))) from None
                if planned.document_type == codes.GUIA_DESPACHO:
                    case.picking_id = case._l10n_cl_dte_issue_guia(engine_case, planned)
                else:
                    case.move_id = case._l10n_cl_dte_create_move(planned, issue_date)
                    case.move_id.action_post()
            record = case._l10n_cl_dte_issued()
            document = self._l10n_cl_dte_case_document(engine_case, record.l10n_cl_dte_folio,
                                                       record.l10n_cl_dte_date, issuer, receiver, earlier, **options)
            earlier[engine_case.case_id] = document
            case._l10n_cl_dte_compare(compute_totals(document))

    def _l10n_cl_dte_partner(self):
        """The receiver of this set's documents."""
        return self.certification_id.partner_id

    def _l10n_cl_dte_case_receiver(self):
        """The engine's receiver of this set's documents."""
        return self._l10n_cl_dte_partner()._l10n_cl_dte_receiver()

    def _l10n_cl_dte_case_options(self, issue_date):
        """What else the engine's ``case_document`` needs for this set's cases (an export's foreign receiver)."""
        return {}

    def _l10n_cl_dte_case_document(self, engine_case, folio, issue_date, issuer, receiver, earlier, **options):
        """The engine's document of one case of this set (a set kind may read its cases its own way)."""
        return engine_issue.case_document(engine_case, folio, issue_date, issuer, receiver, earlier, **options)


class L10nClDteCertificationCase(models.Model):
    _inherit = "l10n_cl_dte.certification.case"

    def _l10n_cl_dte_create_move(self, document, issue_date):
        """The draft invoice or note of this case: the lines of the engine's ``document``, Odoo's amounts."""
        self.ensure_one()
        workspace = self.certification_id
        code = document.document_type
        lines = [fields.Command.create({
            "name": line.name,
            "quantity": float(line.quantity),
            "price_unit": float(self._l10n_cl_dte_line_price(line)),
            "discount": float(line.discount_percent or 0),
            "tax_ids": [fields.Command.set([] if line.exempt or code == codes.FACTURA_EXENTA
                                           else self._l10n_cl_dte_line_taxes(line).ids)],
        }) for line in document.lines]
        move = self.env["account.move"].create({
            **self._l10n_cl_dte_move_values(code),
            "company_id": workspace.company_id.id,
            "invoice_date": issue_date,
            "l10n_latam_document_type_id": self.document_type_id.id,
            "invoice_line_ids": lines,
            "l10n_cl_dte_reference_ids": [
                fields.Command.create(self._l10n_cl_dte_reference_values(reference))
                for reference in document.references
            ],
        })
        discounts = [self._l10n_cl_dte_global_discount_line(move, adjustment, self._l10n_cl_dte_line_taxes())
                     for adjustment in document.global_adjustments]
        if discounts:
            move.invoice_line_ids = [fields.Command.create(values) for values in discounts]
        return move

    def _l10n_cl_dte_move_values(self, code):
        """The kind of record of a case of document type ``code``: a customer invoice or credit note."""
        workspace = self.certification_id
        return {"move_type": "out_refund" if code == codes.NOTA_CREDITO else "out_invoice",
                "journal_id": workspace.journal_id.id, "partner_id": self.set_id._l10n_cl_dte_partner().id}

    def _l10n_cl_dte_line_price(self, line):
        """The unit price of the engine's ``line`` on the case's Odoo record."""
        return line.price

    def _l10n_cl_dte_line_taxes(self, line=None):
        """The taxes of a taxed line of the case (the engine's ``line``; none: a global discount)."""
        return self.certification_id._l10n_cl_dte_vat_tax()

    def _l10n_cl_dte_global_discount_line(self, move, adjustment, vat):
        """A global discount as Odoo keeps one: a negative line, on the lines it applies to only.

        "Descuento global ítemes afectos": the percent of the sum of the taxed lines (exempt ones
        excluded), rounded as the SII rounds, with the VAT of those lines.
        """
        if adjustment.movement != "D":
            raise UserError(_("CASO %s: only global discounts are issued from the set.", self.case_ref))
        exempt = adjustment.exempt or move.l10n_latam_document_type_id.code == str(codes.FACTURA_EXENTA)
        applies_to = move.invoice_line_ids.filtered(lambda line: bool(line.tax_ids) != exempt)
        if adjustment.value_type == "%":
            base = sum(applies_to.mapped("price_subtotal"))
            amount = float_round(base * float(adjustment.value) / 100, precision_rounding=move.currency_id.rounding)
            name = f"{adjustment.description} {adjustment.value.normalize():f}%"
        else:
            amount, name = float(adjustment.value), adjustment.description
        return {"name": name, "quantity": 1, "price_unit": -amount,
                "tax_ids": [fields.Command.set([] if exempt else vat.ids)]}

    def _l10n_cl_dte_reference_values(self, reference):
        """An ``l10n_cl_dte.reference`` of the engine's ``reference``: the SET one, or the case's target."""
        if reference.document_type == engine_issue.SET_REFERENCE:
            return {"sequence": 1, "other_type": "SET", "folio": reference.folio, "date": reference.date,
                    "reason": reference.reason}
        # The engine resolved the target case to the folio its Odoo record took: find that record.
        target = self.set_id.case_ids.move_id.filtered(
            lambda move: move.l10n_latam_document_type_id.code == str(reference.document_type)
            and str(move.l10n_cl_dte_folio) == str(reference.folio)
        )[:1]
        if not target:
            raise UserError(_("CASO %s refers to a case that has no document yet.", self.case_ref))
        return {**target._l10n_cl_dte_reference_values(code=str(reference.code), reason=reference.reason),
                "sequence": 2}

    def _l10n_cl_dte_compared_totals(self):
        """``[(path under Encabezado, attribute of the engine's totals)]`` compared for this case."""
        return [(f"Totales/{tag}", attribute) for tag, attribute in COMPARED_TOTALS]

    def _l10n_cl_dte_issued_header(self):
        """The ``Encabezado`` of the DTE issued for this case, as signed (an export's is under Exportaciones)."""
        self.ensure_one()
        raw = self._l10n_cl_dte_issued().l10n_cl_dte_file_id.raw
        return xmlutil.find(signature.dte_body(xmlutil.parse(raw)), "Encabezado")

    def _l10n_cl_dte_issued_totals(self):
        """The ``Totales`` of the DTE issued for this case."""
        return xmlutil.find(self._l10n_cl_dte_issued_header(), "Totales")

    def _l10n_cl_dte_compare(self, totals):
        """Record the issued DTE's totals beside the engine's, and any difference between them."""
        self.ensure_one()
        issued = self._l10n_cl_dte_issued_header()
        differences = []
        for path, attribute in self._l10n_cl_dte_compared_totals():
            tag = path.rpartition("/")[2]
            odoo_value = Decimal(xmlutil.findtext(issued, path) or 0)
            engine_value = getattr(totals, attribute) or Decimal(0)
            if odoo_value != engine_value:
                differences.append(_("%(tag)s: %(odoo)s in the document, %(engine)s by the SII's rules",
                                     tag=tag, odoo=odoo_value, engine=engine_value))
        self.write({
            # A guía has no accounting entry: its total is the one it states.
            "amount_total": self.move_id.amount_total if self.move_id else float(xmlutil.findtext(issued, "Totales/MntTotal")),
            "engine_total": float(totals.total),
            "mismatch": "\n".join(differences) or False,
        })
