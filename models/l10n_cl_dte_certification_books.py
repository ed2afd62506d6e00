"""Steps 3 and 4 of the certification: the sets' envelopes and the books, sent and followed.

The documents of a set go to the SII as any issued document does (the same
"send now" path as the scheduled action: one envelope of the set's documents,
its answers recorded on the envelope and the documents, then polled by the
same cron). The books are the engine's (:mod:`sii_engine.certification.books`):
the sales book (IEV) of the documents the basic set issued, read from their
signed DTEs — what the SII received —, the purchase book (IEC) of the
purchase set's entries with its special rules, and the book of guías of the
guía set's deliveries (:mod:`.l10n_cl_dte_certification_guias`); each is signed with the
company's certificate, uploaded through the company's SII client and its
status asked (by the button, and by the envelopes' polling cron) until the SII
has processed it.
"""

from decimal import Decimal

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..sii_engine import xmlutil
from ..sii_engine.certification import books as engine_books
from ..sii_engine.certification import guide_book, setfile
from ..sii_engine.errors import SiiEngineError
from ..sii_engine.transport import TransportError
from .engine_errors import engine_error_message
from .l10n_cl_dte_certification import ISSUED_KINDS
from .l10n_cl_dte_sii_document import attach_xml

BOOK_KIND = "LibroCompraVenta"
UPLOAD_KINDS = {setfile.LIBRO_GUIAS: guide_book.BOOK_ID}  # the others are a LibroCompraVenta
BOOK_ACCEPTED = "EPR"  # a processed book; any other final code refuses it


class L10nClDteCertification(models.Model):
    _inherit = "l10n_cl_dte.certification"

    # --- step 3: the sets' envelopes ---------------------------------------------------------

    def action_send(self):
        """Send each issued set's documents not sent yet: one envelope per set, as "send now" does."""
        self.ensure_one()
        self._l10n_cl_dte_check_environment()
        cases = self.case_ids.filtered(lambda case: case.set_id.kind in ISSUED_KINDS)
        if not cases.move_id and not cases.picking_id:
            raise UserError(_("Issue the set's documents first."))
        if wrong := cases.filtered("mismatch"):
            raise UserError(_("These cases differ from the SII's rules and are not sent: %s",
                              ", ".join(wrong.mapped("display_name"))))
        for test_set in self.set_ids.filtered(lambda s: s.kind in ISSUED_KINDS):
            # Invoices and notes, or a guía set's transfers: each model through its own "send now".
            for records in (test_set.case_ids.move_id, test_set.case_ids.picking_id):
                if records := records.filtered(lambda r: r.l10n_cl_dte_status in ("to_send", "send_failed")):
                    records.action_l10n_cl_dte_send()
        return True

    def action_check_status(self):
        """Ask the SII now about the sets' envelopes and the books sent."""
        self.ensure_one()
        for records in (self.case_ids.move_id, self.case_ids.picking_id):
            if records := records.filtered(lambda r: r.l10n_cl_dte_status == "sent"):
                records.action_l10n_cl_dte_check_status()
        self.set_ids.filtered(lambda s: s.state == "sent")._l10n_cl_dte_book_status()
        return True

    # --- step 4: the books -------------------------------------------------------------------

    def action_send_books(self):
        """Build, sign and send the books of the set file that are not accepted yet."""
        self.ensure_one()
        self._l10n_cl_dte_check_environment()
        books = self.set_ids.filtered(lambda s: s.state in ("to_build", "built", "rejected"))
        if not books:
            raise UserError(_("There is no book to send."))
        by_kind = {test_set.kind: test_set for test_set in self._l10n_cl_dte_parsed_sets()}
        for book in books:
            book._l10n_cl_dte_build_book(by_kind[book.kind])
        books._l10n_cl_dte_upload_book()
        return True


class L10nClDteCertificationSet(models.Model):
    _inherit = "l10n_cl_dte.certification.set"

    def _l10n_cl_dte_build_book(self, engine_set):
        """Build and sign this book set's ``LibroCompraVenta`` (or ``LibroGuia``); keep it as the signed book
        to send."""
        self.ensure_one()
        workspace = self.certification_id
        company = workspace.company_id
        certificate = self.env["l10n_cl_dte.certificate"]._l10n_cl_dte_signing_certificate(company)
        engine_certificate = certificate._l10n_cl_dte_engine_certificate()
        date = workspace.issue_date or fields.Date.context_today(self)
        common = {
            "issuer_rut": company.vat, "sender_rut": engine_certificate.holder_rut, "period": date.strftime("%Y-%m"),
            "resolution_date": company.l10n_cl_dte_resolution_date or date,
            "resolution_number": company.l10n_cl_dte_resolution_number or 0, "certificate": engine_certificate,
        }
        if self.kind == setfile.LIBRO_GUIAS:
            operation = guide_book.BOOK_ID
        elif self.kind == setfile.LIBRO_VENTAS:
            operation, factor = engine_books.VENTA, None
            entries = self._l10n_cl_dte_sales_entries()
        else:
            if not workspace.partner_id:
                raise UserError(_("Choose the customer of the cases: the purchase book names it as supplier."))
            operation, factor = engine_books.COMPRA, engine_set.proportionality_factor
            entries = engine_books.purchase_entries(engine_set, date=date, supplier_rut=workspace.partner_id.vat,
                                                    supplier_name=workspace.partner_id.name or "")
        try:
            if self.kind == setfile.LIBRO_GUIAS:
                xml = self._l10n_cl_dte_guide_book(engine_set, date, common)
            else:
                xml = engine_books.build_book(operation, entries, notification_folio=self.attention,
                                              proportionality_factor=factor, **common)
        except SiiEngineError as error:
            raise UserError(_("%(book)s cannot be built: %(reason)s", book=self.display_name,
                              reason=engine_error_message(self.env, error))) from None
        self.book_attachment_id.sudo().unlink()
        self.write({
            "book_attachment_id": attach_xml(self, f"{operation}_{self.attention}.xml", xml).id,
            "state": "built",
            "track_id": False,
            "sii_message": False,
            "book_totals": _book_totals(xml),
        })

    def _l10n_cl_dte_sales_entries(self):
        """The sales book's entries: the documents the basic set issued (or, without one, the exempt
        invoices' set: the SII's instruction), as their signed DTEs state them."""
        workspace = self.certification_id
        kind = setfile.BASICO if workspace.set_ids.filtered(lambda s: s.kind == setfile.BASICO) else setfile.FACTURA_EXENTA
        moves = workspace.case_ids.filtered(lambda case: case.set_id.kind == kind).move_id
        if not moves or moves.filtered(lambda move: not move.l10n_cl_dte_file_id):
            raise UserError(_("Issue the basic set's documents first: the sales book lists them."))
        entries = []
        for move in moves:
            dte = xmlutil.find(xmlutil.parse(move.l10n_cl_dte_file_id.raw), "Documento/Encabezado")
            totals, receiver = xmlutil.find(dte, "Totales"), xmlutil.find(dte, "Receptor")

            def amount(tag, totals=totals):
                return Decimal(xmlutil.findtext(totals, tag) or 0)

            entries.append(engine_books.BookEntry(
                document_type=int(xmlutil.findtext(dte, "IdDoc/TipoDTE")), folio=int(xmlutil.findtext(dte, "IdDoc/Folio")),
                date=fields.Date.to_date(xmlutil.findtext(dte, "IdDoc/FchEmis")),
                rut=xmlutil.findtext(receiver, "RUTRecep"), name=xmlutil.findtext(receiver, "RznSocRecep") or "",
                exempt=amount("MntExe"), net=amount("MntNeto"), vat=amount("IVA"), total=amount("MntTotal"),
            ))
        return entries

    def _l10n_cl_dte_in_company_lang(self):
        """In the company's language: the books' answers are also stored by the envelopes' polling cron."""
        return self.with_context(lang=self.company_id[:1]._l10n_cl_dte_lang())

    def _l10n_cl_dte_upload_book(self):
        for book in self._l10n_cl_dte_in_company_lang():
            client = book.company_id._l10n_cl_dte_sii_client()
            try:
                receipt = client.upload_envelope(book.book_attachment_id.raw, UPLOAD_KINDS.get(book.kind, BOOK_KIND))
            except (TransportError, SiiEngineError) as error:
                book.sii_message = engine_error_message(book.env, error)
                continue
            book.write({"state": "sent", "track_id": receipt.track_id,
                        "sii_message": book.env._("Received by the SII (track ID %s), waiting for its review.",
                                                  receipt.track_id)})

    def _l10n_cl_dte_book_status(self):
        for book in self._l10n_cl_dte_in_company_lang():
            try:
                client = book.company_id._l10n_cl_dte_sii_client()
                status = client.envelope_status(book.track_id, UPLOAD_KINDS.get(book.kind, BOOK_KIND))
            except UserError as error:
                book.sii_message = str(error)
                continue
            except (TransportError, SiiEngineError) as error:
                book.sii_message = engine_error_message(book.env, error)
                continue
            values = {"sii_message": status.summary()}
            # A processed book is EPR without the documents' counts, which the transport does not
            # call final (no document was accepted): for a book, EPR is the acceptance.
            if status.code == BOOK_ACCEPTED:
                values.update(state="accepted", sii_message=book.env._(
                    "Accepted by the SII: %(code)s (%(description)s).", code=status.code,
                    description=status.description))
            elif status.final:
                values["state"] = "rejected"
            book.write(values)


def _book_totals(xml):
    """The book's summary per document type (a book of guías: its period's counts, then per kind of
    transfer), as one line each (what the report lists)."""
    root = xmlutil.parse(xml)
    lines = []
    for totals in root.iter(*(f"{{{xmlutil.SII_NS}}}{tag}" for tag in ("TotalesPeriodo", "ResumenPeriodo", "TotTraslado"))):
        values = {child.tag.split("}")[1]: child.text for child in totals if len(child) == 0}
        if values:  # a LibroCompraVenta's ResumenPeriodo only holds its TotalesPeriodo
            lines.append(" ".join(f"{tag} {value}" for tag, value in values.items()))
    return "\n".join(lines)


class L10nClDteEnvelope(models.Model):
    _inherit = "l10n_cl_dte.envelope"

    @api.model
    def _cron_l10n_cl_dte_poll(self):
        """The SII's answers on the certification's books come with the envelopes' ones."""
        super()._cron_l10n_cl_dte_poll()
        self.env["l10n_cl_dte.certification.set"].sudo().search([("state", "=", "sent")])._l10n_cl_dte_book_status()
