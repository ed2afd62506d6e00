"""Issuing a DTE for any record: the one path every document model takes.

A model that carries a DTE inherits ``l10n_cl_dte.sii.document`` and supplies
its engine :class:`~sii_engine.document.Document` (``_l10n_cl_dte_document``);
its document type is its ``l10n_latam_document_type_id`` unless it says
otherwise (``_l10n_cl_dte_document_type``). Then ``_l10n_cl_dte_issue()``
does the rest, the same way for invoices, POS boletas and what comes next:
the signing certificate, the folio (taken under the CAF's row lock, in the
caller's transaction, so a rolled-back issue gives it back), the engine's
build/stamp/sign/validate with its errors turned into messages that say what
to fix, the DTE's total checked against the record's own, the signed XML
attached, the status set, and the managers warned when folios run low.

What models still differ in stays in them: when they issue (posting an
invoice, synchronising a paid order), what they check before taking a folio,
and what their write must spare (``_l10n_cl_dte_issue_context``).
"""

from decimal import Decimal

from odoo import _, models
from odoo.exceptions import UserError

from ..sii_engine import codes
from ..sii_engine import dte as engine_dte
from ..sii_engine import lines as engine_lines
from ..sii_engine.errors import SiiEngineError
from .engine_errors import engine_error_message
from .l10n_cl_dte_sii_document import attach_xml

VAT_SII_CODE = 14  # l10n_cl's account.tax.l10n_cl_sii_code of IVA


def to_decimal(value, digits=6):
    """An Odoo float as the engine's Decimal, rounded to ``digits`` as Odoo rounded it."""
    return Decimal(repr(round(value, digits)))


class L10nClDteSiiDocument(models.AbstractModel):
    _inherit = "l10n_cl_dte.sii.document"

    # Context of the write that records the issued DTE: what the model's write must spare.
    _l10n_cl_dte_issue_context = {}

    # --- what each model supplies ---------------------------------------------------------

    def _l10n_cl_dte_document_type(self):
        """The ``l10n_latam.document.type`` this record is issued as."""
        return self.l10n_latam_document_type_id

    def _l10n_cl_dte_document(self, document_type, folio):
        """The engine :class:`~sii_engine.document.Document` of this record, as ``document_type`` with ``folio``."""
        raise NotImplementedError

    def _l10n_cl_dte_total(self):
        """The record's own total, which the DTE's must equal (None: nothing to compare with)."""
        return self.amount_total if "amount_total" in self._fields else None

    def _l10n_cl_dte_after_issue(self):
        """Called once the signed DTE is attached."""

    # --- the one path ---------------------------------------------------------------------

    def _l10n_cl_dte_issue(self):
        """Issue this record's DTE (its folio already taken, or the next one) and mark it to be sent."""
        self.ensure_one()
        company = self.company_id
        document_type = self._l10n_cl_dte_document_type()
        self._l10n_cl_dte_refuse(self._l10n_cl_dte_issuer_problems(document_type))
        certificate = self.env["l10n_cl_dte.certificate"]._l10n_cl_dte_signing_certificate(company)
        values = {} if self.l10n_cl_dte_folio else self._l10n_cl_dte_take_folio(document_type)
        folio = values.get("l10n_cl_dte_folio") or self.l10n_cl_dte_folio
        caf = self.env["l10n_cl_dte.caf"].browse(values.get("l10n_cl_dte_caf_id")) or self.l10n_cl_dte_caf_id
        try:
            document = self._l10n_cl_dte_document(document_type, folio)
            issued = engine_dte.issue(
                document, caf._l10n_cl_dte_engine_caf(), certificate._l10n_cl_dte_engine_certificate()
            )
        except SiiEngineError as error:
            raise UserError(
                _("%(document)s cannot be issued: %(reason)s",
                  document=self.display_name, reason=engine_error_message(self.env, error))
            ) from None
        self._l10n_cl_dte_check_total(issued)
        if self.l10n_latam_document_type_id != document_type:
            values["l10n_latam_document_type_id"] = document_type.id
        replaced = self.l10n_cl_dte_file_id
        self.with_context(**self._l10n_cl_dte_issue_context).write({
            **values,
            "l10n_cl_dte_date": document.issue_date,
            "l10n_cl_dte_file_id": attach_xml(self, f"DTE_{document_type.code}_{folio}.xml", issued.xml).id,
            "l10n_cl_dte_ted": issued.ted.decode("ISO-8859-1"),
            "l10n_cl_dte_status": "to_send",
            "l10n_cl_dte_sii_message": False,
        })
        replaced.sudo().unlink()  # the DTE of an earlier posting of the same folio, never sent
        if folio + company.sudo()._l10n_cl_dte_folio_threshold(document_type) > caf.sudo().last_folio:
            # Near the end of this CAF (the others may still hold folios: the warning counts them all).
            self.env["l10n_cl_dte.caf"].sudo()._l10n_cl_dte_warn_low_folios(company, document_type)
        self._l10n_cl_dte_after_issue()

    def _l10n_cl_dte_take_folio(self, document_type):
        """The next folio of ``document_type`` (locked until the transaction ends), as values to write."""
        caf, folio = self.env["l10n_cl_dte.caf"].sudo()._l10n_cl_dte_take_folio(self.company_id, document_type)
        return {"l10n_cl_dte_folio": folio, "l10n_cl_dte_caf_id": caf.id}

    def _l10n_cl_dte_check_total(self, issued):
        """The DTE must state the same total as the record (its accounting entry, the amount paid)."""
        total = self._l10n_cl_dte_total()
        if total is None:
            return
        currency = self.currency_id
        if currency.compare_amounts(float(issued.total), total) != 0:
            raise UserError(
                _("%(document)s totals %(odoo)s in Odoo but %(dte)s by the SII's rules (the SII rounds VAT on the "
                  "sum of net amounts): check its lines and the taxes of its products so that both agree.",
                  document=self.display_name, odoo=currency.format(total), dte=currency.format(float(issued.total)))
            )

    def _l10n_cl_dte_refuse(self, problems):
        """Refuse to issue this record when there are ``problems``, each saying what to fix."""
        if problems:
            raise UserError(
                _("%(document)s cannot be issued to the SII yet:\n%(problems)s",
                  document=self.display_name, problems="\n".join(f"- {problem}" for problem in problems))
            )

    def _l10n_cl_dte_issuer_problems(self, document_type):
        """What the company lacks to issue ``document_type``, each saying what to fix."""
        company = self.company_id
        problems = []
        if not company.vat:
            problems.append(_("Set the RUT of the company %s.", company.display_name))
        if not company.l10n_cl_activity_description:
            problems.append(_("Set the line of business (giro) of the company %s.", company.display_name))
        if not codes.is_boleta(document_type.code) and not company.l10n_cl_dte_acteco_ids:
            problems.append(
                _("Set the economic activities (Acteco) of the company in the Invoicing settings "
                  "(Chile: electronic documents).")
            )
        if company.l10n_cl_dte_environment == "production" and not company.l10n_cl_dte_resolution_date:
            problems.append(
                _("Set the SII resolution number and date in the Invoicing settings (Chile: electronic documents).")
            )
        return problems

    # --- building blocks of a Document ------------------------------------------------------

    def _l10n_cl_dte_sale_line(self, *, name, quantity, price_unit, discount, net, gross, taxes, product, uom,
                               description=""):
        """An Odoo line as the engine's :class:`~sii_engine.lines.SaleLine` (amounts in the document's currency)."""
        digits = self.currency_id.decimal_places
        vat = taxes.filtered(lambda tax: tax.l10n_cl_sii_code == VAT_SII_CODE)
        additional = taxes.filtered(lambda tax: tax.l10n_cl_sii_code not in (False, 0, VAT_SII_CODE))
        return engine_lines.SaleLine(
            name=name or _("Item"),
            description=description,
            quantity=to_decimal(quantity),
            price_unit=to_decimal(price_unit),
            discount=to_decimal(discount or 0, 2),
            net=to_decimal(net, digits),
            gross=to_decimal(gross, digits),
            price_included=bool(vat) and all(vat.mapped("price_include")),
            exempt=not vat,
            unit=(uom.name or "")[:4],
            item_code=("INT1", product.default_code) if product.default_code else None,
            additional_tax_code=additional[:1].l10n_cl_sii_code or None,
        )

    def _l10n_cl_dte_reference_values(self, code=None, reason=None, amount=None):
        """Values of an ``l10n_cl_dte.reference`` citing this issued document.

        Without ``code``: 1 (annuls) when ``amount`` is this document's whole total, else 3 (corrects amounts).
        """
        self.ensure_one()
        if not code:
            annuls = self.currency_id.compare_amounts(amount, self._l10n_cl_dte_total()) == 0
            code = str(codes.CODREF_ANNUL if annuls else codes.CODREF_AMOUNTS)
        return {
            "document_type_id": self.l10n_latam_document_type_id.id,
            "folio": str(self.l10n_cl_dte_folio),
            "date": self.l10n_cl_dte_date,
            "code": code,
            "reason": (reason or codes.REFERENCE_REASONS[int(code)])[:90],
        }
