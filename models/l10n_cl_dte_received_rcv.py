"""A received DTE in the SII's registry of acceptances and claims (RCV): actions, deadline, tacit acceptance.

Facturas (33, 34) and liquidación-facturas (43) are accepted (ACD), their
goods acknowledged (ERM) or claimed (RCD, RFP, RFT) in the registry within 8
calendar days of the SII's reception (Ley 19.983, Ley 20.956); after that the
SII holds them accepted. Everything goes through the company's SII client
(:meth:`res.company._l10n_cl_dte_sii_client`: its token, its environment, the
simulator in tests). Until the SII's reception date is known the deadline is
counted, on the safe side, from the issue date.
"""

import datetime

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.translate import LazyTranslate

from ..sii_engine import rcv as engine_rcv
from ..sii_engine.errors import SiiEngineError
from ..sii_engine.transport import TransportError
from ..sii_engine.transport.rcv import RcvRefused
from .l10n_cl_dte_received import chile_now, chile_to_utc, utc_to_chile
from .l10n_cl_dte_received_file import company_language
from .l10n_cl_dte_sii_document import commit_batch

_lt = LazyTranslate(__name__)

RCV_ACTIONS = [
    ("ACD", "Content Accepted (ACD)"),
    ("ERM", "Goods or Services Received (ERM)"),
    ("RCD", "Content Claimed (RCD)"),
    ("RFP", "Partial Lack of Goods Claimed (RFP)"),
    ("RFT", "Total Lack of Goods Claimed (RFT)"),
]
DEADLINE_ACTIVITY = "l10n_cl_dte.mail_activity_dte_deadline"
RECHECK_AFTER = datetime.timedelta(hours=6)
RCV_BATCH = 50
# What the registry's refusals mean for the user, by its code (the manual's tables).
RCV_REFUSALS = {
    engine_rcv.RcvCode.BAD_ISSUER_RUT: _lt("the issuer's RUT is wrong"),
    engine_rcv.RcvCode.BAD_FOLIO: _lt("the folio is wrong"),
    engine_rcv.RcvCode.TYPE_NOT_IN_REGISTRY: _lt("only facturas (33, 34) and liquidación-facturas (43) are accepted "
                                                 "or claimed in the registry"),
    engine_rcv.RcvCode.ALREADY_CLAIMED: _lt("the document is already claimed"),
    engine_rcv.RcvCode.RECEIPT_OF_CLAIMED: _lt("the goods of a claimed document cannot be acknowledged"),
    engine_rcv.RcvCode.DEADLINE_PASSED: _lt("the 8 days after the SII's reception have passed: the document is "
                                            "accepted by law"),
    engine_rcv.RcvCode.NO_RECORDS: _lt("the SII has no record of the document"),
    engine_rcv.RcvCode.BEFORE_2017: _lt("the document predates the registry (14 January 2017)"),
    engine_rcv.RcvCode.CLAIM_OF_ACCEPTED: _lt("an accepted document cannot be claimed"),
    engine_rcv.RcvCode.ACCEPT_OF_CLAIMED: _lt("a claimed document cannot be accepted"),
    engine_rcv.RcvCode.CLAIM_OF_RECEIVED: _lt("a document whose goods were acknowledged cannot be claimed"),
    engine_rcv.RcvCode.NOT_ISSUER_OR_RECEIVER: _lt("only the document's issuer or receiver may do this"),
    engine_rcv.RcvCode.NOT_RECEIVER: _lt("only the document's receiver may do this: check the company's certificate"),
    engine_rcv.RcvCode.NOT_RECEIVED: _lt("the SII has not received the document yet: try again later"),
    engine_rcv.RcvCode.GOODS_ALREADY_CLAIMED: _lt("a lack of goods was already claimed"),
    engine_rcv.RcvCode.PAID_OR_FREE: _lt("the document was paid in cash or is free: it takes no event"),
}


def rcv_refusal_message(env, error):
    """A user's sentence for the registry's refusal ``error`` (:class:`RcvRefused`)."""
    answer = error.answer
    meaning = RCV_REFUSALS.get(answer.meaning)
    text = meaning._translate(env.lang or "en_US") if meaning is not None else answer.description
    return env._("The SII's registry refused it: %(meaning)s (code %(code)s: %(glosa)s).", meaning=text,
                 code=answer.code, glosa=answer.description)


class L10nClDteReceived(models.Model):
    _inherit = "l10n_cl_dte.received"

    sii_received_at = fields.Datetime(string="SII Reception", readonly=True,
                                      help="When the SII received the document: the 8 days run from that day.")
    deadline = fields.Date(string="Acceptance Deadline", compute="_compute_deadline", store=True, index=True,
                           help="The last day to accept or claim the document in the SII's registry (RCV).")
    deadline_estimated = fields.Boolean(compute="_compute_deadline", store=True,
                                        help="Counted from the issue date until the SII's reception date is known.")
    rcv_action = fields.Selection(RCV_ACTIONS, string="Registered in the SII", readonly=True, tracking=True)
    goods_received = fields.Boolean(string="Goods Acknowledged", readonly=True, tracking=True)
    rcv_checked_at = fields.Datetime(string="Registry Checked", readonly=True)
    rcv_message = fields.Char(string="Registry Answer", readonly=True)

    @api.depends("sii_received_at", "issue_date")
    def _compute_deadline(self):
        for record in self:
            if record.sii_received_at:
                reception, estimated = utc_to_chile(record.sii_received_at), False
            elif record.issue_date:
                reception, estimated = record.issue_date, True
            else:
                record.deadline, record.deadline_estimated = False, False
                continue
            record.deadline = engine_rcv.acceptance_deadline(reception).date()
            record.deadline_estimated = estimated

    def _l10n_cl_dte_deadline_passed(self):
        return bool(self.deadline) and chile_now().date() > self.deadline

    # --- actions in the registry ---------------------------------------------------------------

    def _l10n_cl_dte_rcv_register(self, action):
        """Register ``action`` (ACD, ERM, RCD, RFP, RFT) for this document in the SII's registry."""
        self.ensure_one()
        action = engine_rcv.RcvAction(action)
        if not self.l10n_cl_dte_in_registry:
            raise UserError(_("%s is not accepted or claimed in the SII's registry: only facturas (33, 34) and "
                              "liquidación-facturas (43) are.", self.display_name))
        client = self.company_id._l10n_cl_dte_sii_client()
        try:
            answer = client.register_action(self.issuer_rut, self.document_type_code, self.folio, action.value)
        except RcvRefused as error:
            message = rcv_refusal_message(self.env, error)
            self._l10n_cl_dte_event("rcv", "out", str(error.answer.code), f"{action.value}: {error.answer.description}")
            self.rcv_message = message
            if error.deadline_passed and self.state == "received":
                self._l10n_cl_dte_settle("tacit")
            raise UserError(_("%(document)s: %(message)s", document=self.display_name, message=message)) from None
        except (TransportError, SiiEngineError) as error:
            raise UserError(_("%(document)s: the SII's registry could not be reached: %(reason)s",
                              document=self.display_name, reason=self._l10n_cl_dte_error(error))) from None
        self._l10n_cl_dte_event("rcv", "out", action.value, f"{action.description} ({answer.description})")
        values = {"rcv_action": action.value, "rcv_message": answer.description}
        if action == engine_rcv.RcvAction.RECEIPT_OF_GOODS:
            values["goods_received"] = True
        self.write(values)
        if action.is_claim:
            self._l10n_cl_dte_settle("claimed")
        elif action == engine_rcv.RcvAction.ACCEPT:
            self._l10n_cl_dte_settle("accepted")
        return answer

    def _l10n_cl_dte_settle(self, state):
        """The document is accepted, claimed or tacitly accepted: no deadline to watch any more."""
        self.write({"state": state})
        message = {
            "accepted": _("The supplier's DTE is accepted."),
            "claimed": _("The supplier's DTE is claimed."),
            "tacit": _("The 8 days passed without a claim: the SII holds the supplier's DTE accepted."),
        }[state]
        for record in self:
            (record.move_id or record).activity_unlink([DEADLINE_ACTIVITY])
            if record.move_id:
                record.move_id.message_post(body=message)

    def action_l10n_cl_dte_rcv_refresh(self):
        """"Check SII Registry": the SII's reception date and the document's events."""
        for record in self:
            record._l10n_cl_dte_rcv_refresh(raise_errors=True)

    def _l10n_cl_dte_rcv_refresh(self, raise_errors=False, client=None):
        """Read the SII's reception date and events; settle the state they give."""
        self.ensure_one()
        if not self.l10n_cl_dte_in_registry:
            return
        try:
            client = client or self.company_id._l10n_cl_dte_sii_client()
            received_at = client.reception_date(self.issuer_rut, self.document_type_code, self.folio)
            events = client.document_events(self.issuer_rut, self.document_type_code, self.folio).events \
                if received_at else ()
        except RcvRefused as error:
            self.write({"rcv_checked_at": fields.Datetime.now(), "rcv_message": rcv_refusal_message(self.env, error)})
            if raise_errors:
                raise UserError(self.rcv_message) from None
            return
        except (UserError, TransportError, SiiEngineError) as error:
            message = self._l10n_cl_dte_error(error)
            self.write({"rcv_checked_at": fields.Datetime.now(), "rcv_message": message[:250]})
            if raise_errors:
                raise UserError(_("%(document)s: the SII's registry could not be reached: %(reason)s",
                                  document=self.display_name, reason=message)) from None
            return
        values = {"rcv_checked_at": fields.Datetime.now()}
        if received_at:
            values["sii_received_at"] = chile_to_utc(received_at)
            values["rcv_message"] = _("Received by the SII on %s.", received_at)
        else:
            values["rcv_message"] = _("The SII has not received this document yet.")
        self.write(values)
        self._l10n_cl_dte_record_rcv_events(events)
        codes = {event.code for event in events}
        if self.state == "received":
            if codes & {action.value for action in engine_rcv.CLAIMS}:
                self._l10n_cl_dte_settle("claimed")
            elif engine_rcv.RcvAction.ACCEPT.value in codes:
                self._l10n_cl_dte_settle("accepted")
            elif received_at and engine_rcv.is_tacitly_accepted(received_at, chile_now(), events):
                self._l10n_cl_dte_settle("tacit")
        if engine_rcv.RcvAction.RECEIPT_OF_GOODS.value in codes and not self.goods_received:
            self.goods_received = True
        if self.state == "received":
            self._l10n_cl_dte_schedule_deadline()

    def _l10n_cl_dte_record_rcv_events(self, events):
        known = {(event.code, event.date) for event in self.event_ids.filtered(lambda e: e.kind == "rcv")}
        for event in events:
            moment = chile_to_utc(event.at)
            if (event.code, moment) not in known:
                self._l10n_cl_dte_event("rcv", "in", event.code, event.description, responsible=event.responsible_rut,
                                        date=moment)

    def action_l10n_cl_dte_cedible(self):
        """Whether the SII holds the document as cedible (it can be factored)."""
        self.ensure_one()
        try:
            answer = self.company_id._l10n_cl_dte_sii_client().cedible_status(
                self.issuer_rut, self.document_type_code, self.folio)
        except RcvRefused as error:
            raise UserError(rcv_refusal_message(self.env, error)) from None
        except (TransportError, SiiEngineError) as error:
            raise UserError(self._l10n_cl_dte_error(error)) from None
        self.rcv_message = f"{answer.code}: {answer.description}"
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "success" if answer.cedible else "warning", "title": self.display_name,
            "message": self.rcv_message, "sticky": False}}

    # --- the deadline --------------------------------------------------------------------------

    def _l10n_cl_dte_schedule_deadline(self):
        """An activity due the day before the deadline, on the bill (or the document), for the accountant.

        Made in one batch and without an e-mail each: an envelope of 500 facturas would otherwise send
        500 "assigned to you" e-mails; the activities show in the accountant's activity menu.
        """
        today = chile_now().date()
        activity_type = self.env.ref(DEADLINE_ACTIVITY)
        records = self.filtered(lambda r: r.state == "received" and r.l10n_cl_dte_in_registry and r.deadline)
        if not records:
            return
        targets = {record: record.move_id or record for record in records}
        existing = {
            (activity.res_model, activity.res_id): activity
            for activity in self.env["mail.activity"].sudo().search([
                ("activity_type_id", "=", activity_type.id),
                "|", "&", ("res_model", "=", "account.move"), ("res_id", "in", records.move_id.ids),
                "&", ("res_model", "=", self._name), ("res_id", "in", records.ids),
            ])
        }
        responsible, values = {}, []
        for record, target in targets.items():
            due = max(today, record.deadline - datetime.timedelta(days=1))
            activity = existing.get((target._name, target.id))
            if activity:
                if activity.date_deadline != due:
                    activity.date_deadline = due
                continue
            if record.deadline < today:
                continue
            key = (record.company_id, record.move_id.invoice_user_id)
            if key not in responsible:
                responsible[key] = record._l10n_cl_dte_responsible()
            values.append({
                "res_model_id": self.env["ir.model"]._get_id(target._name),
                "res_id": target.id,
                "activity_type_id": activity_type.id,
                "automated": True,  # scheduled by the system: done away with when the document is settled
                "date_deadline": due,
                "user_id": responsible[key].id,
                "summary": _("Accept or claim by %s", record.deadline),
                "note": _("%(document)s: accept it or claim it in the SII's registry by %(deadline)s%(estimated)s. "
                          "After that the SII holds it accepted (Ley 19.983).", document=record.display_name,
                          deadline=record.deadline,
                          estimated=_(" (counted from its issue date until the SII's reception date is known)")
                          if record.deadline_estimated else ""),
            })
        if values:
            self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(values)

    def _l10n_cl_dte_responsible(self):
        """Who watches the deadline: the bill's user when a person, else the company's first accounting manager."""
        user = self.move_id.invoice_user_id
        if user and not user._is_superuser() and not user.share and user != self.env.ref("base.user_root"):
            return user
        managers = self.env.ref("account.group_account_manager").users.filtered(
            lambda u: self.company_id in u.company_ids and not u.share and u.active)
        return managers.sorted("id")[:1] or self.env.user

    # --- the scheduled action ------------------------------------------------------------------

    @api.model
    def _l10n_cl_dte_rcv_due(self, limit=RCV_BATCH):
        """Received documents whose registry should be read again: waiting, in their window (or just past it)."""
        now = fields.Datetime.now()
        return self.sudo().search([
            ("state", "=", "received"), ("l10n_cl_dte_in_registry", "=", True),
            "|", ("rcv_checked_at", "=", False), ("rcv_checked_at", "<", now - RECHECK_AFTER),
        ], order="deadline, id", limit=limit)

    @api.model
    def _cron_l10n_cl_dte_rcv_received(self):
        follow_registry(self.env, self._l10n_cl_dte_rcv_due, lambda document, client: (
            document._l10n_cl_dte_rcv_refresh(client=client)), "rcv_checked_at")


def follow_registry(env, due, read, checked_field):
    """Batches of ``due()`` records, each ``read(record, client)`` with its company's SII client (one per
    company); a company that cannot reach the SII (no certificate...) has its records marked checked, to
    come back after the usual delay. Each batch is committed."""
    clients = {}
    while records := due():
        for record in records:
            company = record.company_id
            if company not in clients:
                try:
                    clients[company] = company._l10n_cl_dte_sii_client()
                except UserError:
                    clients[company] = None
            if clients[company] is None:
                record[checked_field] = fields.Datetime.now()
            else:
                read(record.with_context(lang=company_language(company, env)), clients[company])
        commit_batch(env)
