"""The boleta set of the certification: boletas issued as invoices typed 39/41, and their credit notes.

The SII hands the boleta set apart from the main set (LibreDTE's CSV, read by
:func:`sii_engine.certification.setfile.parse_boleta_set`): the workspace takes
it as a second file with its attention number. Each boleta is issued as an
invoice of the sales journal typed boleta (39, or 41 when every line is
exempt) to the SII's final consumer (66666666-6) — the invoice boleta the
addon already issues, posted through the one issuing path — at prices that
include VAT, as a boleta states them. The notes the set asks for (*Anular*,
*Rebajar*) are credit notes (61) on the boleta, at net prices as notes state them. What each
document contains and its totals by the SII's rules are the engine's
(:mod:`sii_engine.certification.boletas`); the comparison, the sending (the
boletas in an EnvioBOLETA to the SII's boleta service, the notes in an
EnvioDTE), the polling and the printed samples are the workspace's, as for the
other sets.
"""

import base64
import binascii

from odoo import _, fields, models
from odoo.exceptions import UserError

from ..sii_engine import codes
from ..sii_engine.certification import boletas as engine_boletas
from ..sii_engine.certification import setfile
from ..sii_engine.errors import SiiEngineError
from ..sii_engine.totals import round_amount
from .engine_errors import engine_error_message
from .l10n_cl_dte_certification import ISSUED_KINDS

FINAL_CONSUMER = "l10n_cl.par_cfa"  # the SII's generic receiver of boletas, 66666666-6
BOLETA_SET_TITLE = "BOLETA ELECTRONICA"


class L10nClDteCertification(models.Model):
    _inherit = "l10n_cl_dte.certification"

    boleta_set_file = fields.Binary(
        string="Boleta Set", attachment=True,
        help="The boleta set the SII hands apart from the main set (Folio;IndExe;NmbItem;QtyItem;UnmdItem;"
             "PrcItem;Anular;Rebajar).")
    boleta_set_filename = fields.Char(string="Boleta Set File Name")
    boleta_attention = fields.Char(
        string="Boleta Set Attention Number",
        help="The NUMERO DE ATENCION of the boleta set: the FolioRef of its documents' SET reference.")

    def _l10n_cl_dte_parsed_sets(self):
        """The main set file's sets, then the boleta set (either file may come alone)."""
        self.ensure_one()
        sets = super()._l10n_cl_dte_parsed_sets() if self.set_file or not self.boleta_set_file else []
        if self.boleta_set_file:
            sets.append(self._l10n_cl_dte_boleta_set())
        return sets

    def _l10n_cl_dte_boleta_set(self):
        """The boleta set as the engine reads it: its boletas typed 39/41, then the notes on them."""
        attention = (self.boleta_attention or "").strip()
        if not attention.isdigit():
            raise UserError(_("Give the attention number (NUMERO DE ATENCION) of the boleta set: its documents "
                              "cite it."))
        try:
            data = base64.b64decode(self.boleta_set_file, validate=True)
        except (binascii.Error, ValueError):
            raise UserError(_("The boleta set file could not be read: upload it again.")) from None
        try:
            test_set = setfile.parse_boleta_set(data, attention=attention)
            test_set.cases = engine_boletas.set_cases(test_set).cases
        except SiiEngineError as error:
            raise UserError(_("The boleta set cannot be read: %s", engine_error_message(self.env, error))) from None
        test_set.title = BOLETA_SET_TITLE
        return test_set

    def _l10n_cl_dte_issue_problem_list(self):
        problems = super()._l10n_cl_dte_issue_problem_list()
        if self.set_ids.filtered(lambda s: s.kind == setfile.BOLETA) and not self._l10n_cl_dte_vat_tax(price_include=True):
            problems.append(_("The company has no sales VAT tax of 19 percent included in the price: the boletas' "
                              "prices include VAT. Create one (a copy of the 19 percent VAT, included in price) "
                              "and issue again."))
        return problems

    def _l10n_cl_dte_cases_need_customer(self):
        """The boletas and their notes go to the final consumer: only the other sets need the customer."""
        return bool(self.set_ids.filtered(lambda s: s.kind in ISSUED_KINDS and s.kind != setfile.BOLETA))


class L10nClDteCertificationSet(models.Model):
    _inherit = "l10n_cl_dte.certification.set"

    def _l10n_cl_dte_partner(self):
        if self.kind != setfile.BOLETA:
            return super()._l10n_cl_dte_partner()
        return self.env.ref(FINAL_CONSUMER)

    def _l10n_cl_dte_case_document(self, engine_case, folio, issue_date, issuer, receiver, earlier, **options):
        if self.kind != setfile.BOLETA:
            return super()._l10n_cl_dte_case_document(engine_case, folio, issue_date, issuer, receiver, earlier,
                                                      **options)
        return engine_boletas.case_document(engine_case, folio, issue_date, issuer, receiver, earlier,
                                            self.attention)


class L10nClDteCertificationCase(models.Model):
    _inherit = "l10n_cl_dte.certification.case"

    def _l10n_cl_dte_move_values(self, code):
        values = super()._l10n_cl_dte_move_values(code)
        if self.set_id.kind == setfile.BOLETA and code == codes.NOTA_CREDITO:
            values["reversed_entry_id"] = self.set_id.case_ids.filtered(
                lambda case: case.case_ref == self.case_ref.removesuffix(f"-{engine_boletas.NOTE_SUFFIX}")).move_id.id
        return values

    def _l10n_cl_dte_line_taxes(self, line=None):
        """A boleta states its shelf prices, VAT included; a credit note on it states net amounts."""
        if self.set_id.kind == setfile.BOLETA and self.document_type_id.code != str(codes.NOTA_CREDITO):
            return self.certification_id._l10n_cl_dte_vat_tax(price_include=True)
        return super()._l10n_cl_dte_line_taxes(line)

    def _l10n_cl_dte_line_price(self, line):
        # A credit note states net amounts, its VAT on their sum, as the engine's note does. With the VAT
        # included in its lines Odoo would give back the boleta's gross total, which the note's VAT,
        # rounded on the sum of the lines' whole-peso amounts, may miss by a peso (and the issuing path
        # refuses a note whose totals differ): each line's price is its whole net amount per unit.
        if self.set_id.kind == setfile.BOLETA and self.document_type_id.code == str(codes.NOTA_CREDITO) \
                and not line.exempt:
            return round_amount(line.quantity * line.price) / line.quantity
        return super()._l10n_cl_dte_line_price(line)
