"""The SII certification workspace of a company: its test set, read by the engine, and the steps left.

Before the SII lets a company issue DTEs in production, the company sends the
SII's test set (*set de pruebas*) with the software it will use. Here the set
file is uploaded and read by the engine's parser (:mod:`sii_engine.certification.setfile`);
each case becomes a line that the next steps fill in: the Odoo record issued
for it (:mod:`.l10n_cl_dte_certification_issue`), its envelope and the SII's
answer, the books (:mod:`.l10n_cl_dte_certification_books`) and the printed
samples (:mod:`.l10n_cl_dte_certification_samples`).

Only in the certification environment (or the local simulator): the set's
documents are test documents, never to reach the SII's production registry.
"""

import base64
import binascii

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..sii_engine.certification import setfile
from ..sii_engine.errors import SiiEngineError
from .engine_errors import engine_error_message
from .l10n_cl_dte_envelope import ENVELOPE_STATES
from .l10n_cl_dte_sii_document import DTE_STATES

CERTIFICATION_ENVIRONMENTS = ("certification", "simulator")
SET_KINDS = [
    (setfile.BASICO, "Basic set"),
    (setfile.LIBRO_VENTAS, "Sales book"),
    (setfile.LIBRO_COMPRAS, "Purchase book"),
    (setfile.FACTURA_EXENTA, "Exempt invoices"),
    (setfile.GUIA_DESPACHO, "Delivery guides"),
    (setfile.LIBRO_GUIAS, "Book of delivery guides"),
    (setfile.EXPORTACION_1, "Exports 1"),
    (setfile.EXPORTACION_2, "Exports 2"),
    (setfile.FACTURA_COMPRA, "Purchase invoices"),
    (setfile.BOLETA, "Boletas"),
]
# The sets whose cases this workspace issues as Odoo records, and the books it builds.
ISSUED_KINDS = (setfile.BASICO, setfile.FACTURA_EXENTA, setfile.FACTURA_COMPRA, setfile.GUIA_DESPACHO,
                setfile.EXPORTACION_1, setfile.EXPORTACION_2, setfile.BOLETA)
BOOK_KINDS = (setfile.LIBRO_VENTAS, setfile.LIBRO_COMPRAS, setfile.LIBRO_GUIAS)
STEPS = [
    ("upload", "1. Set file"),
    ("issue", "2. Issue"),
    ("send", "3. Send"),
    ("books", "4. Books"),
    ("samples", "5. Printed samples"),
    ("exchange", "6. Exchange"),
    ("others", "7. Sets not issued here"),
    ("simulation", "8. Simulation"),
    ("done", "Done"),
]


class L10nClDteCertification(models.Model):
    _name = "l10n_cl_dte.certification"
    _description = "SII Certification Workspace"
    _check_company_auto = True
    _rec_name = "company_id"

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company, index=True
    )
    step = fields.Selection(STEPS, compute="_compute_step", string="Step")
    set_file = fields.Binary(string="Set de pruebas", attachment=True)
    set_filename = fields.Char(string="Set File Name")
    partner_id = fields.Many2one(
        "res.partner", string="Customer of the Cases", check_company=True,
        help="The receiver of the set's documents: a Chilean company with its RUT, giro and address.",
    )
    journal_id = fields.Many2one(
        "account.journal", string="Sales Journal", check_company=True, default=lambda self: self._default_journal(),
        domain="[('type', '=', 'sale'), ('l10n_latam_use_documents', '=', True)]",
        help="The journal of the set's invoices and notes (it uses documents).",
    )
    issue_date = fields.Date(readonly=True, help="The date the set's documents were issued.")
    set_ids = fields.One2many("l10n_cl_dte.certification.set", "certification_id", string="Sets", readonly=True)
    book_ids = fields.One2many("l10n_cl_dte.certification.set", "certification_id", string="Books", readonly=True,
                               domain=[("kind", "in", BOOK_KINDS)])
    case_ids = fields.One2many("l10n_cl_dte.certification.case", "certification_id", string="Cases", readonly=True)
    progress = fields.Text(compute="_compute_step", string="What Is Left")
    can_send = fields.Boolean(compute="_compute_step",
                              help="Documents are issued and not sent: none is waiting for the SII's answer.")
    samples_attachment_id = fields.Many2one("ir.attachment", string="Printed Samples", readonly=True)

    _sql_constraints = [
        ("company_unique", "unique(company_id)", "A company has one certification workspace."),
    ]

    @api.model
    def _default_journal(self):
        return self.env["account.journal"].search([
            *self.env["account.journal"]._check_company_domain(self.env.company),
            ("type", "=", "sale"), ("l10n_latam_use_documents", "=", True),
        ], limit=1)

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._l10n_cl_dte_check_environment()
        return records

    def _l10n_cl_dte_check_environment(self):
        for workspace in self:
            if workspace.company_id.l10n_cl_dte_environment not in CERTIFICATION_ENVIRONMENTS:
                raise UserError(_(
                    "The certification workspace works only in the SII certification environment: the company %s "
                    "issues in production (or not at all). Set the environment to SII certification in the "
                    "Invoicing settings (Chile: electronic documents).", workspace.company_id.display_name,
                ))

    @api.depends("set_ids.state", "case_ids.move_id", "case_ids.picking_id", "case_ids.dte_status", "case_ids.mismatch",
                 "samples_attachment_id", "exchange_result_attachment_id")
    def _compute_step(self):
        for workspace in self:
            left = workspace._l10n_cl_dte_what_is_left()
            workspace.step = left[0][0] if left else "done"
            workspace.progress = "\n".join(f"- {text}" for _step, text in left) or _("Nothing: the set is complete.")
            # Sending again while the SII has not answered would only ask for the same answer.
            cases = workspace.case_ids.filtered(lambda case: case.set_id.kind in ISSUED_KINDS)
            workspace.can_send = bool(cases.filtered(lambda case: case.dte_status in ("to_send", "send_failed"))) \
                and not cases.filtered(lambda case: case.dte_status == "sent")

    def _l10n_cl_dte_what_is_left(self):
        """``[(step, sentence)]``: what each step still needs, first step first."""
        self.ensure_one()
        if not self.set_ids:
            return [("upload", _("Upload the set de pruebas the SII sent and read it."))]
        left = []
        cases = self.case_ids.filtered(lambda case: case.set_id.kind in ISSUED_KINDS)
        if missing := cases.filtered(lambda case: not case._l10n_cl_dte_issued()):
            left.append(("issue", _("Issue %s cases as documents.", len(missing))))
        if wrong := cases.filtered("mismatch"):
            left.append(("issue", _("%s documents differ from the SII's rules: see the cases.", len(wrong))))
        if unsent := cases.filtered(lambda case: case.dte_status in ("to_send", "send_failed")):
            left.append(("send", _("Send %s documents to the SII.", len(unsent))))
        if waiting := cases.filtered(lambda case: case.dte_status == "sent"):
            left.append(("send", _("%s documents wait for the SII's answer.", len(waiting))))
        if refused := cases.filtered(lambda case: case.dte_status == "rejected"):
            left.append(("send", _("%s documents were rejected by the SII.", len(refused))))
        for book in self.set_ids.filtered(lambda s: s.kind in BOOK_KINDS and s.state != "accepted"):
            left.append(("books", _("%(book)s (%(attention)s): %(state)s.", book=book.display_name,
                                    attention=book.attention,
                                    state=dict(book._fields["state"]._description_selection(self.env))[book.state])))
        if not self.samples_attachment_id:
            left.append(("samples", _("Print the samples of the documents.")))
        if not self.exchange_result_attachment_id:
            left.append(("exchange", _("Answer the SII's test envelope received in the DTE inbox: its reception, "
                                       "commercial result and receipt of goods.")))
        for other in self.set_ids.filtered(lambda s: s.kind not in ISSUED_KINDS + BOOK_KINDS):
            left.append(("others", _("%(set)s (%(attention)s): not issued from this workspace yet.",
                                   set=other.display_name, attention=other.attention)))
        left.sort(key=lambda item: [step for step, _label in STEPS].index(item[0]))
        return left

    # --- step 1: the set file --------------------------------------------------------------

    def _l10n_cl_dte_parsed_sets(self):
        """The engine's sets of the uploaded file (refused, naming the line, when malformed)."""
        self.ensure_one()
        if not self.set_file:
            raise UserError(_("Upload the set de pruebas the SII sent first."))
        try:
            data = base64.b64decode(self.set_file, validate=True)
        except (binascii.Error, ValueError):
            raise UserError(_("The set file could not be read: upload it again.")) from None
        try:
            return setfile.parse_set_file(data)
        except SiiEngineError as error:
            raise UserError(engine_error_message(self.env, error)) from None

    def action_read_set(self):
        """Read the uploaded set: one line per set (attention number) and per case."""
        self.ensure_one()
        self._l10n_cl_dte_check_environment()
        if self.case_ids.filtered(lambda case: case._l10n_cl_dte_issued()):
            raise UserError(_("Documents were already issued for this set: to start with a new set, delete this "
                              "workspace (the documents issued stay) and create another."))
        sets = self._l10n_cl_dte_parsed_sets()
        if not sets:
            raise UserError(_("The file holds no set of the SII (no line 'SET ... - NUMERO DE ATENCION: ...')."))
        self.set_ids.unlink()
        types = self.env["l10n_latam.document.type"].search([("country_id.code", "=", "CL")])
        type_by_code = {document_type.code: document_type for document_type in types}
        for sequence, test_set in enumerate(sets):
            self.env["l10n_cl_dte.certification.set"].create({
                "certification_id": self.id,
                "sequence": sequence,
                "kind": test_set.kind,
                "title": test_set.title,
                "attention": test_set.attention,
                "case_ids": [fields.Command.create({
                    "sequence": number,
                    "case_ref": case.case_id,
                    "document_type_id": type_by_code.get(str(case.document_type), types.browse()).id,
                }) for number, case in enumerate(test_set.cases)],
            })
        return True


class L10nClDteCertificationSet(models.Model):
    """One set of the SII's file (SET BASICO, LIBRO DE VENTAS...) with its attention number."""

    _name = "l10n_cl_dte.certification.set"
    _description = "SII Certification Set"
    _order = "sequence, id"

    certification_id = fields.Many2one("l10n_cl_dte.certification", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="certification_id.company_id", store=True)
    sequence = fields.Integer()
    kind = fields.Selection(SET_KINDS, required=True, readonly=True)
    title = fields.Char(readonly=True)
    attention = fields.Char(string="Attention Number", readonly=True,
                            help="NUMERO DE ATENCION: the FolioRef of the set's documents and the "
                                 "FolioNotificacion of its book.")
    case_ids = fields.One2many("l10n_cl_dte.certification.case", "set_id", string="Cases", readonly=True)
    case_count = fields.Integer(compute="_compute_case_count", string="Number of Cases")
    envelope_id = fields.Many2one("l10n_cl_dte.envelope", compute="_compute_envelope", string="Envelope")
    envelope_state = fields.Selection(ENVELOPE_STATES, compute="_compute_envelope", string="Envelope Status")
    # A book set: the signed book, its upload and the SII's answer.
    state = fields.Selection([
        ("none", "Nothing to send"),
        ("to_build", "To build"),
        ("built", "Built, not sent"),
        ("sent", "Sent, waiting for SII"),
        ("accepted", "Accepted"),
        ("rejected", "Rejected"),
    ], default="none", required=True, readonly=True, string="Book Status")
    book_attachment_id = fields.Many2one("ir.attachment", string="Signed Book", readonly=True)
    track_id = fields.Char(string="SII Track ID", readonly=True)
    sii_message = fields.Text(string="SII Answer", readonly=True)
    book_totals = fields.Text(string="Book Totals", readonly=True)

    @api.depends("title", "kind")
    def _compute_display_name(self):
        kinds = dict(SET_KINDS)
        for test_set in self:
            test_set.display_name = f"SET {test_set.title}" if test_set.title else kinds.get(test_set.kind, "")

    @api.depends("case_ids")
    def _compute_case_count(self):
        for test_set in self:
            test_set.case_count = len(test_set.case_ids)

    @api.depends("case_ids.move_id.l10n_cl_dte_envelope_id", "case_ids.picking_id.l10n_cl_dte_envelope_id")
    def _compute_envelope(self):
        for test_set in self:
            envelopes = test_set.case_ids.move_id.l10n_cl_dte_envelope_id | \
                test_set.case_ids.picking_id.l10n_cl_dte_envelope_id
            envelope = envelopes.sorted("id")[-1:]
            test_set.envelope_id = envelope
            test_set.envelope_state = envelope.state

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("kind") in BOOK_KINDS:
                vals.setdefault("state", "to_build")
        return super().create(vals_list)


class L10nClDteCertificationCase(models.Model):
    """One case of a set (CASO 4352553-1) and the Odoo record issued for it."""

    _name = "l10n_cl_dte.certification.case"
    _description = "SII Certification Case"
    _order = "set_id, sequence, id"

    set_id = fields.Many2one("l10n_cl_dte.certification.set", required=True, ondelete="cascade", index=True)
    certification_id = fields.Many2one(related="set_id.certification_id", store=True, index=True)
    company_id = fields.Many2one(related="set_id.company_id", store=True)
    sequence = fields.Integer()
    case_ref = fields.Char(string="Case", required=True, readonly=True)
    document_type_id = fields.Many2one("l10n_latam.document.type", string="Document Type", readonly=True)
    move_id = fields.Many2one("account.move", string="Document", readonly=True, index="btree_not_null")
    picking_id = fields.Many2one("stock.picking", string="Transfer", readonly=True, index="btree_not_null",
                                 help="The delivery whose dispatch guide (52) this case issued.")
    folio = fields.Integer(compute="_compute_dte", string="Folio")
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id",
                                  help="The currency of the document (an export's may be dollars or euros).")
    amount_total = fields.Monetary(string="Total (Odoo)", readonly=True)
    engine_total = fields.Monetary(string="Total (SII rules)", readonly=True,
                                   help="What the SII's rules give for this case, computed by the engine from the "
                                        "set file.")
    difference = fields.Monetary(compute="_compute_difference", string="Difference",
                                 help="Total (Odoo) minus Total (SII rules): zero when the document follows them.")
    mismatch = fields.Text(string="Differences from the SII's Rules", readonly=True,
                           help="Where the issued document differs from the SII's rules.")
    # Of the record the case issued: an invoice or note, or a transfer's guía.
    dte_status = fields.Selection(DTE_STATES, compute="_compute_dte", string="SII Status")
    sii_message = fields.Text(compute="_compute_dte", string="SII Answer")

    @api.depends("case_ref")
    def _compute_display_name(self):
        for case in self:
            case.display_name = f"CASO {case.case_ref}"

    @api.depends("move_id.l10n_cl_dte_folio", "move_id.l10n_cl_dte_status", "move_id.l10n_cl_dte_sii_message",
                 "picking_id.l10n_cl_dte_folio", "picking_id.l10n_cl_dte_status", "picking_id.l10n_cl_dte_sii_message")
    def _compute_dte(self):
        for case in self:
            record = case._l10n_cl_dte_issued()
            case.folio = record.l10n_cl_dte_folio
            case.dte_status = record.l10n_cl_dte_status
            case.sii_message = record.l10n_cl_dte_sii_message

    def _l10n_cl_dte_issued(self):
        """The record this case issued: its invoice or note, or its transfer (a guía); empty if none yet."""
        self.ensure_one()
        return self.move_id or self.picking_id

    @api.depends("move_id.currency_id", "company_id.currency_id")
    def _compute_currency_id(self):
        for case in self:
            case.currency_id = case.move_id.currency_id or case.company_id.currency_id

    @api.depends("move_id", "picking_id", "amount_total", "engine_total")
    def _compute_difference(self):
        for case in self:
            case.difference = case.amount_total - case.engine_total if case._l10n_cl_dte_issued() else 0.0
