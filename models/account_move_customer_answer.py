"""Our invoices as their customers answer them: reception, commercial result, receipt of goods, the registry.

A customer's ``RespuestaDTE`` (reception or commercial result) and
``EnvioRecibos`` arrive in the DTE inbox; the engine reads them and checks
their signatures (:func:`sii_engine.exchange.read_answer`,
:func:`~sii_engine.exchange.read_receipts`). Only a schema-valid, validly
signed file from the document's own receiver is recorded on the invoice it
names. The scheduled action also reads the SII's registry (RCV) for our
facturas during their 8 days: an acceptance or a claim is recorded, and a
claim schedules an activity to issue the credit note.
"""

import datetime

from odoo import _, api, fields, models

from ..sii_engine import exchange as engine_exchange
from ..sii_engine import rcv as engine_rcv
from ..sii_engine import rut as engine_rut
from ..sii_engine.errors import RutError, SiiEngineError, XmlInputError
from ..sii_engine.transport import TransportError
from ..sii_engine.transport.rcv import RcvRefused
from .l10n_cl_dte_received import chile_now, chile_to_utc
from .l10n_cl_dte_received_rcv import follow_registry

CLAIM_ACTIVITY = "l10n_cl_dte.mail_activity_dte_claimed"
RESULTS = {
    engine_exchange.CommercialStatus.ACCEPTED: "accepted",
    engine_exchange.CommercialStatus.ACCEPTED_WITH_DISCREPANCIES: "discrepancies",
    engine_exchange.CommercialStatus.REJECTED: "rejected",
}
RCV_WINDOW = datetime.timedelta(days=45)  # issue date → beyond the SII's reception + 8 days, with margin
RECHECK_AFTER = datetime.timedelta(hours=6)
RCV_BATCH = 50


def _rut(value):
    try:
        return engine_rut.normalize(value)
    except RutError:
        return None


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_cl_dte_customer_reception = fields.Selection(
        [("received", "Received"), ("refused", "Not Received")], string="Customer Reception", readonly=True,
        copy=False, tracking=True)
    l10n_cl_dte_customer_result = fields.Selection(
        [("accepted", "Accepted"), ("discrepancies", "Accepted with Discrepancies"), ("rejected", "Rejected")],
        string="Customer's Commercial Result", readonly=True, copy=False, tracking=True)
    l10n_cl_dte_goods_received_at = fields.Datetime(string="Goods Receipt Signed", readonly=True, copy=False)
    l10n_cl_dte_rcv_state = fields.Selection(
        [("accepted", "Accepted"), ("claimed", "Claimed"), ("tacit", "Tacitly Accepted")],
        string="SII Registry", readonly=True, copy=False, tracking=True,
        help="What the customer registered in the SII's registry of acceptances and claims (RCV).")
    l10n_cl_dte_sii_received_at = fields.Datetime(string="SII Reception", readonly=True, copy=False)
    l10n_cl_dte_rcv_checked_at = fields.Datetime(string="Registry Checked", readonly=True, copy=False)
    l10n_cl_dte_event_ids = fields.One2many("l10n_cl_dte.exchange.event", "move_id", string="Exchange History",
                                            readonly=True)

    # --- answers that arrive in the inbox --------------------------------------------------------

    @api.model
    def _l10n_cl_dte_record_customer_answer(self, file, sniffed):
        """Record a customer's RespuestaDTE or EnvioRecibos (``sniffed`` by the engine) on our invoices."""
        company = file.company_id
        if sniffed.addressee_rut != _rut(company.vat):
            file.write({"state": "refused", "reason": _(
                "The file is addressed to RUT %(rut)s, not to %(company)s.", rut=sniffed.addressee_rut or "?",
                company=company.display_name)})
            return
        try:
            if sniffed.kind == engine_exchange.RESPUESTA_DTE:
                answer = engine_exchange.read_answer(sniffed.root)
            else:
                answer = engine_exchange.read_receipts(sniffed.root)
        except XmlInputError as error:
            file.write({"state": "refused", "reason": str(error)})
            return
        if not answer.verified:
            problems = list(answer.schema_errors[:3])
            if answer.signature is None or not answer.signature.ok:
                problems.append(_("signature: %s", answer.signature.detail if answer.signature else _("none")))
            problems += [_("receipt of %(type)s %(folio)s: %(detail)s", type=r.document.document_type,
                           folio=r.document.folio, detail=r.signature.detail)
                         for r in getattr(answer, "receipts", ()) if r.signature is None or not r.signature.ok]
            file.write({"state": "refused", "reason": _(
                "The file is not valid or not validly signed, so nothing was recorded:\n%s", "\n".join(problems))})
            return
        responder = answer.cover.responder_rut
        file.partner_id = self.env["l10n_cl_dte.received"]._l10n_cl_dte_find_supplier(company, responder)
        lines, recorded = [], 0
        for document, record in self._l10n_cl_dte_answer_items(answer):
            move, problem = self._l10n_cl_dte_answered_invoice(company, responder, document)
            if problem:
                lines.append(problem)
                continue
            move._l10n_cl_dte_record_answer_item(file, record)
            recorded += 1
            lines.append(_("%(type)s %(folio)s: recorded on %(move)s.", type=document.document_type,
                           folio=document.folio, move=move.display_name))
        if sniffed.kind == engine_exchange.RESPUESTA_DTE:
            lines += [_("Envelope %(name)s: %(glosa)s", name=reception.file_name, glosa=reception.glosa)
                      for reception in answer.receptions if not reception.received]
        file.write({"state": "done" if recorded else "refused", "reason": "\n".join(lines) or _(
            "The file names no document.")})

    @api.model
    def _l10n_cl_dte_answer_items(self, answer):
        """``(DocumentRef, what was said of it)`` for each document a received answer or receipt names."""
        if isinstance(answer, engine_exchange.ReceivedReceipts):
            return [(receipt.document, receipt) for receipt in answer.receipts]
        if answer.results:
            return [(result.document, result) for result in answer.results]
        return [(item.document, item) for reception in answer.receptions for item in reception.documents]

    @api.model
    def _l10n_cl_dte_answered_invoice(self, company, responder, document):
        """Our invoice ``document`` names, when ``responder`` is its receiver: ``(move, None)`` or ``(None, why)``."""
        label = f"{document.document_type} {document.folio}"
        if document.issuer_rut != _rut(company.vat):
            return None, _("%(document)s: issued by %(rut)s, not by this company.", document=label,
                           rut=document.issuer_rut)
        move = self.sudo().search([
            ("company_id", "=", company.id), ("move_type", "in", ("out_invoice", "out_refund")),
            ("l10n_latam_document_type_id.code", "=", str(document.document_type)),
            ("l10n_cl_dte_folio", "=", document.folio),
        ], limit=1)
        if not move:
            return None, _("%s: no invoice of this company has that type and folio.", label)
        receiver = _rut(move.commercial_partner_id.vat)
        if document.receiver_rut != receiver or responder != receiver:
            return None, _("%(document)s: answered by %(rut)s, but its customer is %(customer)s.", document=label,
                           rut=responder, customer=receiver or move.commercial_partner_id.display_name)
        return move, None

    def _l10n_cl_dte_record_answer_item(self, file, item):
        self.ensure_one()
        Event = self.env["l10n_cl_dte.exchange.event"].sudo()
        values = {"move_id": self.id, "file_id": file.id, "direction": "in", "attachment_id": file.attachment_id.id}
        if isinstance(item, engine_exchange.Receipt):
            moment = chile_to_utc(item.signed_at) if item.signed_at else fields.Datetime.now()
            Event.create({**values, "kind": "receipt", "code": "", "responsible": item.signer_rut,
                          "description": _("Goods received at %s", item.place)[:250]})
            self.l10n_cl_dte_goods_received_at = moment
            message = _("The customer signed the receipt of the goods (Ley 19.983) at %s.", item.place)
        elif isinstance(item, engine_exchange.CommercialResult):
            result = RESULTS[item.status]
            Event.create({**values, "kind": "result", "code": str(int(item.status)),
                          "description": (item.glosa or item.status.glosa)[:250]})
            self.l10n_cl_dte_customer_result = result
            message = _("The customer's commercial result: %(status)s (%(glosa)s).", status=item.status.glosa,
                        glosa=item.glosa or "")
            if result == "rejected":
                self._l10n_cl_dte_claimed_activity(item.glosa or item.status.glosa)
        else:
            Event.create({**values, "kind": "reception", "code": str(int(item.status)),
                          "description": (item.glosa or item.status.glosa)[:250]})
            self.l10n_cl_dte_customer_reception = "received" if item.received else "refused"
            message = _("The customer's reception: %s", item.glosa or item.status.glosa)
        self.message_post(body=message, attachment_ids=file.attachment_id.copy(
            {"res_model": self._name, "res_id": self.id}).ids if file.attachment_id else [])

    def _l10n_cl_dte_claimed_activity(self, reason):
        """The customer claimed or rejected the invoice: someone must issue the credit note."""
        self.ensure_one()
        if self.activity_ids.filtered(lambda a: a.activity_type_id == self.env.ref(CLAIM_ACTIVITY)):
            return
        self.activity_schedule(
            CLAIM_ACTIVITY, user_id=(self.invoice_user_id if self.invoice_user_id and not self.invoice_user_id.share
                                     else self.env.user).id,
            summary=_("Claimed by the customer: issue a credit note"),
            note=_("%(invoice)s was claimed by its customer (%(reason)s). Issue the credit note (61) that annuls or "
                   "corrects it.", invoice=self.display_name, reason=reason),
        )

    # --- the registry, for our facturas --------------------------------------------------------

    @api.model
    def _l10n_cl_dte_rcv_invoices_due(self, limit=RCV_BATCH):
        """Our facturas the SII accepted, within their window, whose registry was not read lately."""
        now = fields.Datetime.now()
        return self.sudo().search([
            ("move_type", "=", "out_invoice"), ("state", "=", "posted"),
            ("l10n_cl_dte_status", "in", ("accepted", "objected")),
            ("l10n_latam_document_type_id.code", "in", [str(code) for code in engine_rcv.RCV_DOCUMENT_TYPES]),
            ("l10n_cl_dte_rcv_state", "in", (False, "accepted")),
            ("invoice_date", ">=", (now - RCV_WINDOW).date()),
            "|", ("l10n_cl_dte_rcv_checked_at", "=", False), ("l10n_cl_dte_rcv_checked_at", "<", now - RECHECK_AFTER),
        ], order="invoice_date, id", limit=limit)

    def _l10n_cl_dte_rcv_read(self, client):
        """Read the registry's events of this invoice: acceptance, claims, or tacit acceptance after the 8 days."""
        self.ensure_one()
        company = self.company_id
        code, folio = int(self.l10n_latam_document_type_id.code), self.l10n_cl_dte_folio
        self.l10n_cl_dte_rcv_checked_at = fields.Datetime.now()
        try:
            received_at = client.reception_date(company.vat, code, folio)
            events = client.document_events(company.vat, code, folio).events if received_at else ()
        except (RcvRefused, TransportError, SiiEngineError):
            return
        if not received_at:
            return
        self.l10n_cl_dte_sii_received_at = chile_to_utc(received_at)
        known = {(event.code, event.date) for event in self.l10n_cl_dte_event_ids.filtered(lambda e: e.kind == "rcv")}
        for event in events:
            moment = chile_to_utc(event.at)
            if (event.code, moment) in known:
                continue
            self.env["l10n_cl_dte.exchange.event"].sudo().create({
                "move_id": self.id, "kind": "rcv", "direction": "in", "code": event.code,
                "description": event.description[:250], "responsible": event.responsible_rut, "date": moment,
            })
            self.message_post(body=_("SII registry: %(event)s, registered by %(rut)s on %(date)s.",
                                     event=event.description, rut=event.responsible_rut, date=event.at))
        claims = [event for event in events if event.is_claim]
        if claims:
            self.l10n_cl_dte_rcv_state = "claimed"
            self._l10n_cl_dte_claimed_activity(claims[-1].description)
        elif any(event.code == engine_rcv.RcvAction.ACCEPT.value for event in events):
            self.l10n_cl_dte_rcv_state = "accepted"
        elif engine_rcv.is_tacitly_accepted(received_at, chile_now(), events):
            self.l10n_cl_dte_rcv_state = "tacit"

    @api.model
    def _cron_l10n_cl_dte_rcv(self):
        """The registry (RCV) in both directions: received documents, then our facturas."""
        self.env["l10n_cl_dte.received"]._cron_l10n_cl_dte_rcv_received()
        follow_registry(self.env, self._l10n_cl_dte_rcv_invoices_due,
                        lambda invoice, client: invoice._l10n_cl_dte_rcv_read(client), "l10n_cl_dte_rcv_checked_at")

    def action_l10n_cl_dte_rcv_read(self):
        """"Check SII Registry" on our invoice."""
        for invoice in self:
            invoice._l10n_cl_dte_rcv_read(invoice.company_id._l10n_cl_dte_sii_client())
