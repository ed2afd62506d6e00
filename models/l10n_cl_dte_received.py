"""Received DTEs: each document a supplier sent, verified, acknowledged, booked, then accepted or claimed.

A supplier's EnvioDTE (see :mod:`.l10n_cl_dte_received_file`) is verified
once by the engine (:func:`sii_engine.exchange.receive_envelope`: schema,
signatures, TED, the CAF's FRMA against the SII keys of the company's
environment, the receiver's RUT). Every document of a received envelope is
kept here with its XML and how it was received (``EstadoRecepDTE``); a
received one is booked (:mod:`.l10n_cl_dte_received_bill`), and the signed
``RespuestaDTE`` / ``RecepcionEnvio`` goes back to the supplier's exchange
address at once.

One document (issuer, type, folio) is received once per company: a second
copy is answered "DTE Repetido" and the user is told where the first one is
(a unique index guards it even between workers).
"""

import datetime

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..sii_engine import exchange as engine_exchange
from ..sii_engine import rcv as engine_rcv
from ..sii_engine.errors import SiiEngineError
from .engine_errors import engine_error_message

CHILE = pytz.timezone("America/Santiago")
RECEIVED_STATES = [
    ("refused", "Not Received"),
    ("received", "Awaiting Acceptance"),
    ("accepted", "Accepted"),
    ("claimed", "Claimed"),
    ("tacit", "Tacitly Accepted"),
]
RECEPTION_CODES = [(str(int(status)), f"{int(status)} - {status.glosa}") for status in engine_exchange.DocumentStatus]


def chile_now():
    """The time in Chile, naive, as the SII and the exchange write it."""
    return datetime.datetime.now(CHILE).replace(tzinfo=None, microsecond=0)


def chile_to_utc(moment):
    """A naive Chilean local datetime (the SII's) as a naive UTC datetime (Odoo's)."""
    return CHILE.localize(moment).astimezone(pytz.utc).replace(tzinfo=None)


def utc_to_chile(moment):
    return pytz.utc.localize(moment).astimezone(CHILE).replace(tzinfo=None)


class L10nClDteReceived(models.Model):
    _name = "l10n_cl_dte.received"
    _description = "Received DTE"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    file_id = fields.Many2one("l10n_cl_dte.received.file", string="Received In", required=True, readonly=True,
                              ondelete="restrict", index=True)
    issuer_rut = fields.Char(string="Issuer RUT", readonly=True, index=True)
    issuer_name = fields.Char(string="Issuer", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Supplier", readonly=True, index="btree_not_null")
    document_type_id = fields.Many2one("l10n_latam.document.type", string="Document Type", readonly=True)
    document_type_code = fields.Integer(string="Type", readonly=True, index=True)
    folio = fields.Integer(readonly=True, index=True)
    issue_date = fields.Date(readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_total = fields.Monetary(string="Total", readonly=True)
    state = fields.Selection(RECEIVED_STATES, required=True, readonly=True, tracking=True, index=True)
    reception_code = fields.Selection(RECEPTION_CODES, readonly=True,
                                      help="EstadoRecepDTE: how the document was received (0: received).")
    reception_glosa = fields.Char(string="Reception", readonly=True)
    attachment_id = fields.Many2one("ir.attachment", string="DTE XML", readonly=True)
    ted = fields.Text(string="Electronic Stamp (TED)", readonly=True)
    move_id = fields.Many2one("account.move", string="Vendor Bill", readonly=True, index="btree_not_null",
                              copy=False)
    picking_id = fields.Many2one("stock.picking", string="Receipt", readonly=True, index="btree_not_null")
    booking_message = fields.Text(string="Booking Notes", readonly=True,
                                  help="What differs between the DTE and its vendor bill, or why there is none.")
    event_ids = fields.One2many("l10n_cl_dte.exchange.event", "received_id", string="History", readonly=True)

    _sql_constraints = [
        ("folio_positive", "CHECK(state = 'refused' OR folio > 0)", "A received document has a folio."),
    ]

    def init(self):
        # One received copy of each document per company; refused copies are kept apart as evidence.
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS l10n_cl_dte_received_document_unique
                ON l10n_cl_dte_received (company_id, issuer_rut, document_type_code, folio)
             WHERE state != 'refused'
        """)

    @api.depends("document_type_id", "document_type_code", "folio", "issuer_name")
    def _compute_name(self):
        for record in self:
            kind = record.document_type_id.doc_code_prefix or str(record.document_type_code or "?")
            record.name = f"{kind} {record.folio or '?'} {record.issuer_name or record.issuer_rut or ''}".strip()

    # --- receiving an envelope -------------------------------------------------------------------

    @api.model
    def _l10n_cl_dte_keys(self, company, issuer_rut):
        """``(issuer, type, folio)`` of the documents ``company`` already received from ``issuer_rut``."""
        rows = self.sudo().search_read(
            [("company_id", "=", company.id), ("issuer_rut", "=", issuer_rut), ("state", "!=", "refused")],
            ["document_type_code", "folio"],
        )
        return {(issuer_rut, row["document_type_code"], row["folio"]) for row in rows}

    @api.model
    def _l10n_cl_dte_receive_envelope(self, file, sniffed):
        """Verify, record, book and acknowledge a supplier's EnvioDTE (``sniffed`` from the engine)."""
        company = file.company_id
        repeated = bool(file.search_count([
            ("id", "!=", file.id), ("company_id", "=", company.id), ("checksum", "=", file.checksum),
            ("kind", "=", engine_exchange.ENVIO_DTE), ("state", "in", ("done", "refused")),
        ], limit=1))
        delivery = engine_exchange.receive_envelope(
            sniffed.root, company_rut=company.vat, envelope_code=file.id, file_name=file.name[:80],
            received_at=chile_now(), trusted_keys=self.env["l10n_cl_dte.caf"]._l10n_cl_dte_trusted_keys(company),
            already_received=self._l10n_cl_dte_keys(company, sniffed.sender_rut), repeated_file=repeated,
        )
        reception = delivery.reception
        received = [document for document in delivery.documents if document.received]
        partner = self._l10n_cl_dte_supplier(company, received[0].content.issuer) if received else \
            self._l10n_cl_dte_find_supplier(company, sniffed.sender_rut)
        records = self._l10n_cl_dte_record_documents(file, partner, delivery.documents)
        repeated_lines = self._l10n_cl_dte_tell_repeated(file, delivery.documents)
        summary = [reception.glosa or reception.status.glosa]
        if delivery.documents:
            summary.append(_("%(received)s of %(total)s document(s) received.", received=len(received),
                             total=len(delivery.documents)))
        file.write({
            "state": "done" if reception.received else "refused",
            "reception_code": str(int(reception.status)),
            "reception_glosa": (reception.glosa or "")[:256],
            "partner_id": partner.id,
            "reason": "\n".join(summary + repeated_lines),
        })
        contents = {record.id: document.content for record, document in records if document.received}
        booked = self.browse(list(contents))
        booked._l10n_cl_dte_book(contents)
        file._l10n_cl_dte_send_reception_answer(reception, self.browse([record.id for record, _doc in records]))
        booked._l10n_cl_dte_schedule_deadline()
        if booked.filtered("l10n_cl_dte_in_registry"):
            self.env["account.move"]._l10n_cl_dte_trigger("ir_cron_l10n_cl_dte_rcv", fields.Datetime.now())

    def _l10n_cl_dte_record_documents(self, file, partner, documents):
        """One record per document of the envelope (a repeated one only points to the first copy)."""
        company = file.company_id
        types = {
            document_type.code: document_type
            for document_type in self.env["l10n_latam.document.type"].with_context(active_test=False).search(
                [("country_id.code", "=", "CL")])
        }
        values, kept = [], []
        for document in documents:
            if document.status == engine_exchange.DocumentStatus.REPEATED:
                continue
            reference, content = document.document, document.content
            code = reference.document_type if reference else 0
            values.append({
                "file_id": file.id,
                "company_id": company.id,
                "issuer_rut": reference.issuer_rut if reference else file.sender_rut,
                "issuer_name": content.issuer.name if content else (partner.name or False),
                "partner_id": partner.id if document.received else False,
                "document_type_id": types.get(str(code), self.env["l10n_latam.document.type"]).id,
                "document_type_code": code,
                "folio": reference.folio if reference else 0,
                "issue_date": reference.issue_date if reference else False,
                "amount_total": reference.total if reference else 0,
                "state": "received" if document.received else "refused",
                "reception_code": str(int(document.status)),
                "reception_glosa": document.glosa,
                "ted": content.ted.decode("ISO-8859-1") if content and content.ted else False,
            })
            kept.append(document)
        records = self.sudo().with_context(mail_create_nolog=True, tracking_disable=True).create(values)
        attachments = self.env["ir.attachment"].sudo().create([
            {"name": f"DTE_{record.document_type_code}_{record.folio}_{record.issuer_rut}.xml", "raw": document.xml,
             "res_model": self._name, "res_id": record.id, "mimetype": "application/xml"}
            for record, document in zip(records, kept, strict=True)
        ])
        for record, attachment in zip(records, attachments, strict=True):
            record.attachment_id = attachment
        return list(zip(records, kept, strict=True))

    @api.model
    def _l10n_cl_dte_tell_repeated(self, file, documents):
        """Point each document received before to its first copy, on both."""
        lines = []
        for document in documents:
            if document.status != engine_exchange.DocumentStatus.REPEATED or document.document is None:
                continue
            reference = document.document
            first = self.sudo().search([
                ("company_id", "=", file.company_id.id), ("issuer_rut", "=", reference.issuer_rut),
                ("document_type_code", "=", reference.document_type), ("folio", "=", reference.folio),
                ("state", "!=", "refused"),
            ], limit=1)
            if first:
                lines.append(_("%(document)s was already received on %(date)s (%(first)s): not recorded again.",
                               document=document.subject, date=first.create_date.date(), first=first.display_name))
                first.message_post(body=_("Received again in the file %s: the copy was not recorded.", file.name))
            else:
                lines.append(_("%s appears twice in the envelope: recorded once.", document.subject))
        return lines

    # --- the supplier ----------------------------------------------------------------------------

    @api.model
    def _l10n_cl_dte_find_supplier(self, company, rut):
        if not rut:
            return self.env["res.partner"]
        return self.env["res.partner"].sudo()._retrieve_partner(vat=rut, company=company).commercial_partner_id

    @api.model
    def _l10n_cl_dte_supplier(self, company, issuer):
        """The partner of the DTE's issuer, by RUT; created from its RznSoc, giro and address when unknown."""
        partner = self._l10n_cl_dte_find_supplier(company, issuer.rut)
        if partner:
            if issuer.email and not partner.l10n_cl_dte_email:
                partner.l10n_cl_dte_email = issuer.email
            return partner
        return self.env["res.partner"].sudo().create({
            "name": issuer.name or issuer.rut,
            "is_company": True,
            "country_id": self.env.ref("base.cl").id,
            "l10n_latam_identification_type_id": self.env.ref("l10n_cl.it_RUT").id,
            "vat": issuer.rut,
            "l10n_cl_sii_taxpayer_type": "1",
            "l10n_cl_activity_description": (issuer.activity or "")[:80] or False,
            "street": issuer.address or False,
            "city": issuer.commune or issuer.city or False,
            "l10n_cl_dte_email": issuer.email or False,
            "email": issuer.email or False,
            "phone": issuer.phone or False,
        })

    # --- what the SII's registry concerns ----------------------------------------------------

    l10n_cl_dte_in_registry = fields.Boolean(
        string="In the SII's Registry", compute="_compute_l10n_cl_dte_in_registry", store=True,
        help="Facturas (33, 34) and liquidación-facturas (43) are accepted or claimed in the SII's registry (RCV).")

    @api.depends("document_type_code", "state")
    def _compute_l10n_cl_dte_in_registry(self):
        for record in self:
            record.l10n_cl_dte_in_registry = (record.state != "refused"
                                              and record.document_type_code in engine_rcv.RCV_DOCUMENT_TYPES)

    def _l10n_cl_dte_error(self, error):
        if isinstance(error, SiiEngineError):
            return engine_error_message(self.env, error)
        if isinstance(error, (UserError, ValueError)):
            return str(error)
        # A database or programming error: say what to do first, the technical text after it.
        return _("an unexpected error; tell your Odoo integrator (technical detail: %s)",
                 str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__)
