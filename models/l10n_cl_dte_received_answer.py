"""What the receiver sends the supplier: reception, commercial result, receipt of goods — signed, by e-mail.

* on reception, the ``RespuestaDTE`` / ``RecepcionEnvio`` of the whole
  envelope (``EstadoRecepEnv`` and each document's ``EstadoRecepDTE``), sent
  automatically;
* from the bill, the ``RespuestaDTE`` / ``ResultadoDTE`` (accepted, accepted
  with discrepancies, rejected) and the ``EnvioRecibos`` of the goods or
  services received, with the Ley 19.983 declaration.

Each is built and signed by the engine (valid against the SII's schemas) with
the company's certificate, kept as an attachment, recorded in the document's
history, and e-mailed to the supplier's exchange address. A missing
certificate or address does not undo the reception: the file says so.
"""

from odoo import _, fields, models
from odoo.exceptions import UserError

from ..sii_engine import exchange as engine_exchange
from ..sii_engine.errors import SiiEngineError
from .engine_errors import engine_error_message

RECEPTION_TEMPLATE = "l10n_cl_dte.mail_template_dte_reception_answer"
ANSWER_TEMPLATE = "l10n_cl_dte.mail_template_dte_commercial_answer"
RESULT_SELECTION = [("accepted", "Accepted"), ("discrepancies", "Accepted with Discrepancies"),
                    ("rejected", "Rejected")]
RESULT_STATUSES = {
    "accepted": engine_exchange.CommercialStatus.ACCEPTED,
    "discrepancies": engine_exchange.CommercialStatus.ACCEPTED_WITH_DISCREPANCIES,
    "rejected": engine_exchange.CommercialStatus.REJECTED,
}


def _contact(company):
    return engine_exchange.Contact(name=(company.name or "")[:40] or None,
                                   email=company.l10n_cl_dte_email or company.email or None)


def _signing_certificate(env, company):
    return env["l10n_cl_dte.certificate"]._l10n_cl_dte_signing_certificate(company)._l10n_cl_dte_engine_certificate()


def _mail(record, template_xmlid, address, attachment):
    template = record.env.ref(template_xmlid)
    template.sudo().send_mail(record.id, email_values={"email_to": address, "attachment_ids": [attachment.id]})


class L10nClDteReceivedFile(models.Model):
    _inherit = "l10n_cl_dte.received.file"

    def _l10n_cl_dte_send_reception_answer(self, reception, documents):
        """Sign the RecepcionEnvio of ``reception`` and e-mail it to the supplier's exchange address."""
        self.ensure_one()
        company = self.company_id
        Event = self.env["l10n_cl_dte.exchange.event"].sudo()
        if not reception.issuer_rut:
            self.write({"answer_state": "not_sent",
                        "answer_message": _("The envelope names no valid issuer RUT: there is no one to answer.")})
            return
        event = Event.create({"file_id": self.id, "direction": "out", "kind": "reception",
                              "code": str(int(reception.status)), "description": (reception.glosa or "")[:250]})
        try:
            data = engine_exchange.build_reception_answer(
                [reception], responder_rut=company.vat, recipient_rut=reception.issuer_rut,
                certificate=_signing_certificate(self.env, company), response_id=event.id, contact=_contact(company))
        except (UserError, SiiEngineError) as error:
            message = engine_error_message(self.env, error) if isinstance(error, SiiEngineError) else str(error)
            self.write({"answer_state": "not_sent",
                        "answer_message": _("The reception answer was not made: %s", message)})
            return
        attachment = self.env["ir.attachment"].sudo().create({
            "name": f"RespuestaDTE_Recepcion_{self.id}.xml", "raw": data, "res_model": self._name, "res_id": self.id,
            "mimetype": "application/xml",
        })
        event.attachment_id = attachment
        Event.create([{"received_id": document.id, "move_id": document.move_id.id, "file_id": self.id,
                       "direction": "out", "kind": "reception",
                       "code": document.reception_code, "description": (document.reception_glosa or "")[:250],
                       "attachment_id": attachment.id} for document in documents])
        address = self._l10n_cl_dte_exchange_address()
        values = {"answer_attachment_id": attachment.id}
        if address:
            _mail(self, RECEPTION_TEMPLATE, address, attachment)
            values.update(answer_state="sent", answer_message=_("Sent to %s.", address))
        else:
            values.update(answer_state="not_sent", answer_message=_(
                "No exchange address is known for the supplier: set its DTE e-mail and send the answer by hand."))
        self.write(values)

    def _l10n_cl_dte_exchange_address(self):
        """Where the supplier receives DTE exchange files: its DTE e-mail, else the address that sent the file."""
        self.ensure_one()
        partner = self.partner_id
        return partner.l10n_cl_dte_email or self.email_from or partner.email or False


class L10nClDteReceived(models.Model):
    _inherit = "l10n_cl_dte.received"

    result_status = fields.Selection(RESULT_SELECTION, string="Commercial Result Sent", readonly=True, tracking=True)
    receipt_sent = fields.Boolean(string="Receipt of Goods Sent", readonly=True, tracking=True)

    def _l10n_cl_dte_event(self, kind, direction, code, description, **values):
        self.ensure_one()
        return self.env["l10n_cl_dte.exchange.event"].sudo().create({
            "received_id": self.id, "move_id": self.move_id.id, "kind": kind, "direction": direction,
            "code": code or "", "description": (description or "")[:250], **values,
        })

    def _l10n_cl_dte_document_ref(self):
        self.ensure_one()
        return engine_exchange.DocumentRef(self.document_type_code, self.folio, self.issue_date, self.issuer_rut,
                                           self.company_id.vat, int(round(self.amount_total)))

    def _l10n_cl_dte_check_answerable(self):
        """Refuse, before anything is registered or sent, what cannot be answered."""
        for record in self:
            if record.state == "refused":
                raise UserError(_("%s was not received: it has no commercial answer.", record.display_name))
            record._l10n_cl_dte_answer_address()

    def _l10n_cl_dte_answer_address(self):
        """The supplier's exchange address: its DTE e-mail, else the address its file came from."""
        self.ensure_one()
        address = self.partner_id.l10n_cl_dte_email or self.file_id.email_from or self.partner_id.email
        if not address:
            raise UserError(_("%s: set the supplier's DTE e-mail (its exchange address) to send it the answer.",
                              self.display_name))
        return address

    def _l10n_cl_dte_send_result(self, result, glosa=None, reason_code=None):
        """Sign and send the ResultadoDTE (``result``: accepted, discrepancies, rejected) of each document."""
        self._l10n_cl_dte_check_answerable()
        for record in self:
            events, data = record._l10n_cl_dte_result_file(result, glosa, reason_code)
            record._l10n_cl_dte_deliver(events, data, f"RespuestaDTE_Resultado_{record.document_type_code}_"
                                                      f"{record.folio}.xml")

    def _l10n_cl_dte_result_file(self, result, glosa=None, reason_code=None):
        """One signed RespuestaDTE with the ResultadoDTE of each of these documents (of one issuer), recorded.

        :returns: ``(events, bytes)``: the answer's events (one per document) and the file.
        """
        status = RESULT_STATUSES[result]
        items, events = [], self.env["l10n_cl_dte.exchange.event"].sudo()
        for record in self:
            items.append(engine_exchange.CommercialResult(record._l10n_cl_dte_document_ref(), record.file_id.id,
                                                          status, glosa or None, reason_code or None))
            events |= record._l10n_cl_dte_event("result", "out", str(int(status)), glosa or status.glosa)
        data = self._l10n_cl_dte_build(engine_exchange.build_result_answer, items, response_id=events[:1].id)
        for record in self:
            record.result_status = result
            if record.state in ("received", "tacit"):
                record._l10n_cl_dte_settle("claimed" if result == "rejected" else "accepted")
        return events, data

    def _l10n_cl_dte_send_receipt(self, place):
        """Sign and send the EnvioRecibos (Ley 19.983) of the goods or services of each document."""
        self._l10n_cl_dte_check_answerable()
        for record in self:
            events, data = record._l10n_cl_dte_receipt_file(place)
            record._l10n_cl_dte_deliver(events, data, f"EnvioRecibos_{record.document_type_code}_{record.folio}.xml")

    def _l10n_cl_dte_receipt_file(self, place):
        """One signed EnvioRecibos with a receipt (Ley 19.983) for each of these documents (of one issuer), recorded.

        :returns: ``(events, bytes)``: the receipt's events (one per document) and the file.
        """
        receipts = [engine_exchange.Receipt(record._l10n_cl_dte_document_ref(), place) for record in self]
        events = self.env["l10n_cl_dte.exchange.event"].sudo()
        for record in self:
            events |= record._l10n_cl_dte_event("receipt", "out", "", _("Received at %s", place))
        data = self._l10n_cl_dte_build(engine_exchange.build_receipts, receipts)
        self.write({"receipt_sent": True, "goods_received": True})
        return events, data

    def _l10n_cl_dte_build(self, build, items, **values):
        """``build(items, ...)`` (an engine builder) signed with the company's certificate, from it to the issuer."""
        company, issuers = self.company_id, set(self.mapped("issuer_rut"))
        names = ", ".join(self.mapped("display_name"))
        if len(company) != 1 or len(issuers) != 1:
            raise UserError(_("%s: one answer is about documents of one issuer to one company.", names))
        try:
            return build(items, responder_rut=company.vat, recipient_rut=issuers.pop(),
                         certificate=_signing_certificate(self.env, company), contact=_contact(company), **values)
        except SiiEngineError as error:
            raise UserError(_("%(document)s: the answer cannot be made: %(reason)s", document=names,
                              reason=engine_error_message(self.env, error))) from None

    def _l10n_cl_dte_deliver(self, events, data, name):
        """Keep the signed answer on the bill (or the document) and e-mail it to the supplier."""
        target = self.move_id or self
        attachment = self.env["ir.attachment"].sudo().create({
            "name": name, "raw": data, "res_model": target._name, "res_id": target.id, "mimetype": "application/xml",
        })
        events.attachment_id = attachment
        address = self._l10n_cl_dte_answer_address()
        _mail(self, ANSWER_TEMPLATE, address, attachment)
        target.message_post(body=_("%(answer)s sent to %(address)s.", answer=name, address=address))
