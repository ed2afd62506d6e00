"""Step 2 for the export sets (EXPORTACIÓN 1 and 2): each case a real export invoice 110 or note 111/112.

The cases go to a foreign customer the accountant chooses on the workspace,
in the currency the case names (DOLAR USA, EURO…) at Odoo's rate of the
issue date — the set gives none: the company activates the currency and
records the Banco Central's rate, as for any export. The Export page is filled
with the customs data the engine reads from the set
(:func:`sii_engine.certification.exports.export_fields`: the set's names as
the Aduana's codes), and the set's instructions are kept as Odoo lines:
freight, insurance and commissions abroad are lines the DTE states as global
surcharges, a line's commission is a negative discount (its ``RecargoPct``).
The documents the set cites (MIC, DUS, AWB, the SNA's resolution) are
references of their SII types. A credit note reverses the export it
modifies. Everything is posted through the one issuing path, and the issued
DTE's totals, also those in pesos (``OtraMoneda``), are compared with the
engine's computation of the case.
"""

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round

from ..sii_engine import aduana, codes
from ..sii_engine.certification import exports as engine_exports
from ..sii_engine.certification import setfile
from .l10n_cl_dte_sii_document_issue import to_decimal

EXPORT_KINDS = (setfile.EXPORTACION_1, setfile.EXPORTACION_2)
FOREIGNER = "4"  # l10n_cl_sii_taxpayer_type: Extranjero
# The DTE's pesos beside the export's totals (compared with the engine's, with MntExe and MntTotal).
OTHER_CURRENCY_TOTALS = (("OtraMoneda/MntExeOtrMnda", "other_currency_exempt"),
                         ("OtraMoneda/MntTotOtrMnda", "other_currency_total"))
CITED_TYPES = frozenset(engine_exports.EXPORT_REFERENCE_TYPES.values())


def currency_iso(sii_name):
    """The ISO code of a currency as the SII names it (``DOLAR USA`` → ``USD``), or None."""
    return next((row["iso"] for row in aduana.rows(aduana.CURRENCIES) if row["name"] == sii_name and row["iso"]),
                None)


class L10nClDteCertification(models.Model):
    _inherit = "l10n_cl_dte.certification"

    export_partner_id = fields.Many2one(
        "res.partner", string="Foreign Customer of the Export Cases", check_company=True,
        default=lambda self: self._default_export_partner(),
        domain="[('l10n_cl_sii_taxpayer_type', '=', '4'), ('country_id.code', '!=', 'CL')]",
        help="The receiver of the export sets' documents: a foreign company (taxpayer type Foreigner, a country "
             "other than Chile).",
    )

    @api.model
    def _default_export_partner(self):
        Partner = self.env["res.partner"]
        return Partner.search([
            *Partner._check_company_domain(self.env.company), ("is_company", "=", True),
            ("l10n_cl_sii_taxpayer_type", "=", FOREIGNER), ("country_id", "!=", False),
            ("country_id.code", "!=", "CL"),
        ], limit=1)

    def _l10n_cl_dte_issue_problems(self):
        super()._l10n_cl_dte_issue_problems()
        problems = self._l10n_cl_dte_export_issue_problems(self.issue_date or fields.Date.context_today(self))
        if problems:
            raise UserError("\n".join(problems))

    def _l10n_cl_dte_export_issue_problems(self, issue_date):
        """What the export cases still to issue need: the foreign customer, each currency active with a rate."""
        sets = self.set_ids.filtered(lambda s: s.kind in EXPORT_KINDS and s.case_ids.filtered(lambda c: not c.move_id))
        if not sets:
            return []
        problems = []
        partner = self.export_partner_id
        if not partner:
            problems.append(_("Choose the foreign customer of the export cases."))
        elif partner.l10n_cl_sii_taxpayer_type != FOREIGNER or not partner.country_id \
                or partner.country_id.code == "CL":
            problems.append(_("The foreign customer of the export cases, %s, must be a foreign company: set its "
                              "country (not Chile) and the taxpayer type Foreigner.", partner.display_name))
        names = {engine_exports.currency_name(case.export.currency)
                 for test_set in self._l10n_cl_dte_parsed_sets() if test_set.kind in EXPORT_KINDS
                 for case in test_set.cases if case.export and case.export.currency}
        for name in sorted(names):
            currency = self._l10n_cl_dte_export_currency(name)
            if not currency.active:
                problems.append(_("Activate the currency %(currency)s in Accounting > Configuration > Currencies: "
                                  "export cases are in %(name)s.", currency=currency.name or name, name=name))
            elif currency != self.company_id.currency_id and not self._l10n_cl_dte_has_rate(currency, issue_date):
                problems.append(_("Set the exchange rate of %(currency)s on %(date)s in Accounting > Configuration "
                                  "> Currencies: the export cases state their totals in pesos too.",
                                  currency=currency.name, date=issue_date))
        return problems

    def _l10n_cl_dte_export_currency(self, sii_name):
        iso = currency_iso(sii_name)
        Currency = self.env["res.currency"].with_context(active_test=False)
        return Currency.search([("name", "=", iso)], limit=1) if iso else Currency

    def _l10n_cl_dte_has_rate(self, currency, date):
        return bool(self.env["res.currency.rate"].search_count([
            ("currency_id", "=", currency.id), ("name", "<=", date),
            ("company_id", "in", [False, *self.company_id.parent_ids.ids]),
        ], limit=1))


class L10nClDteCertificationSet(models.Model):
    _inherit = "l10n_cl_dte.certification.set"

    def _l10n_cl_dte_case_options(self, issue_date):
        """An export set's foreign receiver, and each currency's pesos per unit as Odoo converts on ``issue_date``."""
        options = super()._l10n_cl_dte_case_options(issue_date)
        if self.kind not in EXPORT_KINDS:
            return options
        workspace = self.certification_id
        company = workspace.company_id
        rates = {}
        for currency in self.env["res.currency"].search([("id", "!=", company.currency_id.id)]):
            if name := aduana.currency(currency.name):
                # As an invoice of that date converts (invoice_currency_rate), and as its DTE states it (TpoCambio).
                rate = self.env["res.currency"]._get_conversion_rate(company.currency_id, currency, company,
                                                                     issue_date)
                rates[name] = to_decimal(1 / rate, 4)
        return {**options, "foreign_receiver": workspace.export_partner_id._l10n_cl_dte_receiver(foreign=True),
                "exchange_rates": rates}


class L10nClDteCertificationCase(models.Model):
    _inherit = "l10n_cl_dte.certification.case"

    def _l10n_cl_dte_create_move(self, document, issue_date):
        if document.document_type not in codes.EXPORT_TYPES:
            return super()._l10n_cl_dte_create_move(document, issue_date)
        return self._l10n_cl_dte_create_export_move(document, issue_date)

    def _l10n_cl_dte_create_export_move(self, document, issue_date):
        """The draft export or export note of this case: the engine's ``document`` as Odoo lines and fields."""
        self.ensure_one()
        workspace = self.certification_id
        currency = workspace._l10n_cl_dte_export_currency(document.currency) if document.currency \
            else workspace.company_id.currency_id
        references = [self._l10n_cl_dte_export_reference_values(reference, sequence)
                      for sequence, reference in enumerate(document.references, 1)]
        target = self.env["account.move"].browse()
        if document.document_type == codes.NOTA_CREDITO_EXPORTACION:
            target = self.set_id.case_ids.move_id.filtered(
                lambda move: any(ref.get("document_type_id") == move.l10n_latam_document_type_id.id
                                 and ref.get("folio") == str(move.l10n_cl_dte_folio) for ref in references))[:1]
        move = self.env["account.move"].create({
            "move_type": "out_refund" if document.document_type == codes.NOTA_CREDITO_EXPORTACION else "out_invoice",
            "company_id": workspace.company_id.id,
            "journal_id": workspace.journal_id.id,
            "partner_id": workspace.export_partner_id.id,
            "currency_id": currency.id,
            "invoice_date": issue_date,
            "l10n_latam_document_type_id": self.document_type_id.id,
            # A credit note reverses the export it modifies, as Odoo's reversal makes one.
            "reversed_entry_id": target.id,
            "invoice_line_ids": [fields.Command.create({
                "name": line.name,
                "quantity": float(line.quantity),
                "price_unit": float(line.price),
                # A line's surcharge (the commissions abroad) is a negative discount: the DTE's RecargoPct.
                "discount": float(line.discount_percent or 0) - float(line.surcharge_percent or 0),
                "tax_ids": [fields.Command.clear()],
            }) for line in document.lines],
            "l10n_cl_dte_reference_ids": [fields.Command.create(values) for values in references],
            "l10n_cl_dte_export_service": str(document.service_indicator) if document.service_indicator else False,
            "l10n_cl_dte_export_payment_form_id": self._l10n_cl_dte_aduana_code(
                aduana.EXPORT_PAYMENT_FORMS, document.export_payment_form).id,
            **self._l10n_cl_dte_customs_values(document),
        })
        adjustments = [self._l10n_cl_dte_export_adjustment_line(move, adjustment)
                       for adjustment in document.global_adjustments]
        if adjustments:
            move.invoice_line_ids = [fields.Command.create(values) for values in adjustments]
        return move

    def _l10n_cl_dte_customs_values(self, document):
        """The Export page of the move: the Aduana's codes the engine read from the set."""
        customs = document.transport.customs if document.transport else None
        if customs is None:
            return {}
        Code = self._l10n_cl_dte_aduana_code
        clause = Code(aduana.SALE_CLAUSES, customs.sale_clause)
        return {
            "invoice_incoterm_id": clause.incoterm_id.id,
            "l10n_cl_dte_sale_clause_id": clause.id,
            "l10n_cl_dte_sale_modality_id": Code(aduana.SALE_MODALITIES, customs.sale_modality).id,
            "l10n_cl_dte_sale_clause_total": float(customs.sale_clause_total or 0),
            "l10n_cl_dte_transport_way_id": Code(aduana.TRANSPORT_WAYS, customs.transport_way).id,
            "l10n_cl_dte_loading_port_id": Code(aduana.PORTS, customs.loading_port).id,
            "l10n_cl_dte_unloading_port_id": Code(aduana.PORTS, customs.unloading_port).id,
            "l10n_cl_dte_freight": float(customs.freight or 0),
            "l10n_cl_dte_insurance": float(customs.insurance or 0),
            "l10n_cl_dte_receiver_country_id": Code(aduana.COUNTRIES, customs.receiver_country).id,
            "l10n_cl_dte_destination_country_id": Code(aduana.COUNTRIES, customs.destination_country).id,
            "l10n_cl_dte_package_ids": [fields.Command.create({
                "type_id": Code(aduana.PACKAGE_TYPES, package.type_code).id, "quantity": package.quantity,
            }) for package in customs.packages],
        }

    def _l10n_cl_dte_aduana_code(self, table, code):
        """The ``l10n_cl_dte.aduana.code`` of ``code`` in ``table`` (none when the set gives none)."""
        Code = self.env["l10n_cl_dte.aduana.code"]
        if code is None:
            return Code
        record = Code.search([("aduana_table", "=", table), ("code", "=", int(code))], limit=1)
        if not record:
            raise UserError(_("CASO %(case)s: the Aduana code %(code)s of the table %(table)s is archived or "
                              "missing: restore it in Invoicing > Configuration > Chile SII > Aduana Codes (Exports).",
                              case=self.case_ref, code=code, table=table))
        return record

    def _l10n_cl_dte_export_reference_values(self, reference, sequence):
        """The SET reference, a document the set cites (MIC, DUS…) by its SII type, or the case modified."""
        if str(reference.document_type) in CITED_TYPES:
            # Only its type and name: the set gives no number (FolioRef 0, as the engine writes it).
            return {"sequence": sequence, "other_type": str(reference.document_type), "folio": "0",
                    "date": reference.date, "reason": reference.reason}
        return {**self._l10n_cl_dte_reference_values(reference), "sequence": sequence}

    def _l10n_cl_dte_export_adjustment_line(self, move, adjustment):
        """A global surcharge (freight, insurance, commissions) or discount of an export, as an Odoo line."""
        if adjustment.value_type == "%":
            items = move.invoice_line_ids.filtered(lambda line: not line.l10n_cl_dte_global_surcharge)
            amount = float_round(sum(items.mapped("price_subtotal")) * float(adjustment.value) / 100,
                                 precision_rounding=move.currency_id.rounding)
        else:
            amount = float(adjustment.value)
        surcharge = adjustment.movement == "R"
        return {"name": adjustment.description, "quantity": 1, "price_unit": amount if surcharge else -amount,
                "tax_ids": [fields.Command.clear()], "l10n_cl_dte_global_surcharge": surcharge}

    def _l10n_cl_dte_compared_totals(self):
        totals = super()._l10n_cl_dte_compared_totals()
        if self.move_id.l10n_cl_dte_export and self.move_id._l10n_cl_dte_foreign_currency():
            totals += list(OTHER_CURRENCY_TOTALS)
        return totals
