"""A received DTE booked: a draft vendor bill (or refund) whose totals are the DTE's, or a guía's receipt.

From the content the engine read (:class:`sii_engine.exchange.content.ReceivedDte`):

* the partner by RUT (Odoo's ``_retrieve_partner``; created from the DTE when unknown);
* each line with its product, matched by the supplier's code, the supplier's
  product name, the barcode, the internal code, then the name (Odoo's
  ``_retrieve_product``) — else a line without product; quantity, price and
  discount such that Odoo's amount is the DTE's ``MontoItem`` (when they cannot,
  the line is booked as its amount and says quantity × price);
* IVA and the additional or retained taxes by ``CodImpAdic``, mapped to the
  chart's purchase taxes by their SII code; global discounts and surcharges,
  a liquidación-factura's commissions, deposits, as lines;
* references: a credit note (61) names the bill it corrects;
* the totals: where Odoo's rounding of a tax differs from the DTE's, the tax
  is set to the DTE's amount and the bill says so; whatever else differs is
  written on the bill, exactly.

Guías (52) make no bill: they are linked to the incoming receipt they match.
"""

from decimal import Decimal

from odoo import Command, _, api, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero, float_round, split_every

from ..sii_engine import exchange as engine_exchange
from ..sii_engine import xmlutil

BILL_TYPES = frozenset({33, 34, 43, 46, 56, 61})
BILL_BATCH = 200  # per account.move create: its cost per move falls with the batch (measured: 10 → 200, -15 %)
GUIA = 52
VAT_SII_CODE = 14
EXEMPT_TYPES = frozenset({34})
BARCODE_KINDS = frozenset({"EAN13", "EAN", "EAN8", "GTIN", "UPC", "DUN14", "PLU"})


class L10nClDteReceived(models.Model):
    _inherit = "l10n_cl_dte.received"

    def _l10n_cl_dte_content(self):
        """The content of this document's kept XML (verified on reception), read by the engine again."""
        self.ensure_one()
        return engine_exchange.read_dte(xmlutil.parse(self.attachment_id.raw))

    def _l10n_cl_dte_book(self, contents=None):
        """Make each document's vendor bill (or link its guía); a failure is noted on the document.

        Bills are created by batches (Odoo's creation of a move costs far less per move in a batch); a
        batch that fails is made again one document at a time, so one bad document never stops the others.
        """
        cache, prepared = {}, []
        for record in self.filtered(lambda r: r.state != "refused" and not r.move_id):
            try:
                with self.env.cr.savepoint():
                    content = (contents or {}).get(record.id) or record._l10n_cl_dte_content()
                    if record.document_type_code == GUIA:
                        record._l10n_cl_dte_link_picking(content, cache)
                    elif record.document_type_code in BILL_TYPES:
                        prepared.append((record, content, *record._l10n_cl_dte_bill_values(content, cache)))
            except Exception as error:  # noqa: BLE001 - the document stays received; the user books it by hand
                record._l10n_cl_dte_not_booked(error)
        kept = []  # (the DTE's XML, its bill): attached to the bills in one go
        for batch in split_every(BILL_BATCH, prepared):
            try:
                with self.env.cr.savepoint():
                    moves = self._l10n_cl_dte_create_bills([values for _r, _c, values, _p in batch])
            except Exception:  # noqa: BLE001 - find the culprit: one at a time
                moves = None
            for index, (record, content, values, problems) in enumerate(batch):
                try:
                    with self.env.cr.savepoint():
                        move = moves[index] if moves is not None else self._l10n_cl_dte_create_bills([values])
                        record._l10n_cl_dte_bill_made(move, content, problems, cache)
                        kept.append((record.attachment_id, move))
                except Exception as error:  # noqa: BLE001
                    record._l10n_cl_dte_not_booked(error)
        self.env["ir.attachment"].sudo().create([
            {"name": attachment.name, "raw": attachment.raw, "res_model": move._name, "res_id": move.id,
             "mimetype": "application/xml"}
            for attachment, move in kept if attachment
        ])

    def _l10n_cl_dte_not_booked(self, error):
        self.booking_message = _("No vendor bill was made: %s", self._l10n_cl_dte_error(error))

    def action_l10n_cl_dte_book(self):
        """"Create Bill": book again a document whose bill could not be made (or was deleted)."""
        self._l10n_cl_dte_book()
        return self.move_id[:1]._get_records_action() if len(self) == 1 and self.move_id else True

    # --- the bill ------------------------------------------------------------------------------

    def _l10n_cl_dte_bill_values(self, content, cache):
        """``(values of account.move create, problems found)`` for this document's bill."""
        self.ensure_one()
        company = self.company_id
        problems = []
        partner = self.partner_id or self._l10n_cl_dte_supplier(company, content.issuer)
        taxes = self._l10n_cl_dte_purchase_taxes(company, cache)
        journal = self._l10n_cl_dte_purchase_journal(company, cache)
        currency = company.currency_id
        values = {
            "move_type": "in_refund" if content.document_type == 61 else "in_invoice",
            "company_id": company.id,
            "journal_id": journal.id,
            "partner_id": partner.id,
            "currency_id": currency.id,
            "invoice_date": content.issue_date,
            "l10n_cl_dte_received_id": self.id,
            "invoice_line_ids": self._l10n_cl_dte_bill_lines(content, partner, taxes, problems, currency, cache),
            "narration": self._l10n_cl_dte_bill_notes(content),
        }
        if content.due_date and content.due_date >= content.issue_date:
            values["invoice_date_due"] = content.due_date
        if journal.l10n_latam_use_documents and self.document_type_id:
            values.update(l10n_latam_document_type_id=self.document_type_id.id,
                          l10n_latam_document_number=str(content.folio))
        else:
            values["ref"] = f"{content.document_type} {content.folio}"
        return values, problems

    @api.model
    def _l10n_cl_dte_create_bills(self, values_list):
        return self.env["account.move"].sudo().with_context(
            mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True).create(values_list)

    def _l10n_cl_dte_bill_made(self, move, content, problems, cache):
        """Link the bill and check it against the DTE."""
        self.ensure_one()
        taxes = self._l10n_cl_dte_purchase_taxes(self.company_id, cache)
        self._l10n_cl_dte_link_references(move, content, problems, cache)
        problems = problems + self._l10n_cl_dte_match_totals(move, content, taxes)
        self.write({"move_id": move.id, "booking_message": "\n".join(problems) or False})
        if problems:
            move.message_post(body=_("Check this bill against its DTE:\n%s", "\n".join(problems)))
        return move

    @api.model
    def _l10n_cl_dte_purchase_journal(self, company, cache):
        key = ("journal", company.id)
        if key not in cache:
            journals = self.env["account.journal"].sudo().search(
                [("company_id", "=", company.id), ("type", "=", "purchase")],
                order="l10n_latam_use_documents desc, sequence, id")
            # A line whose product has no expense account takes the journal's: without one, no bill can be made.
            cache[key] = journals.filtered("default_account_id")[:1] or journals[:1]
        journal = cache[key]
        if not journal:
            raise UserError(_("The company %s has no purchase journal.", company.display_name))
        if not journal.default_account_id:
            raise UserError(_(
                "The purchase journal %(journal)s has no default expense account: set one on the journal "
                "(Invoicing › Configuration › Journals; the field shows to users with Show Full Accounting "
                "Features), then Create Bill.", journal=journal.display_name))
        return journal

    @api.model
    def _l10n_cl_dte_purchase_taxes(self, company, cache):
        """``{"vat": IVA 19%, code: {rate: tax}}``: the chart's purchase taxes by SII code."""
        key = ("taxes", company.id)
        if key not in cache:
            taxes = self.env["account.tax"].sudo().search(
                [("company_id", "=", company.id), ("type_tax_use", "=", "purchase"), ("amount_type", "=", "percent"),
                 ("l10n_cl_sii_code", "!=", False), ("price_include", "=", False)], order="sequence, id")
            by_code = {}
            for tax in taxes:
                by_code.setdefault(tax.l10n_cl_sii_code, {}).setdefault(Decimal(repr(abs(tax.amount))), tax)
            default = company.account_purchase_tax_id
            vat = default if default.l10n_cl_sii_code == VAT_SII_CODE and default.amount == 19 else \
                by_code.get(VAT_SII_CODE, {}).get(Decimal(19), self.env["account.tax"])
            cache[key] = {"vat": vat, "codes": by_code}
        return cache[key]

    @api.model
    def _l10n_cl_dte_additional_tax(self, taxes, code, rate):
        """The purchase tax of SII code ``code`` (at ``rate`` % when the DTE states it), or an empty recordset."""
        found = taxes["codes"].get(code, {})
        if rate is not None and rate in found:
            return found[rate]
        return next(iter(found.values())) if found and rate is None else self.env["account.tax"]

    def _l10n_cl_dte_bill_lines(self, content, partner, taxes, problems, currency, cache):
        all_exempt = content.document_type in EXEMPT_TYPES
        rates = {code: rate for code, rate, _amount in content.totals.additional_taxes}
        commands, lines_taxable, lines_exempt = [], Decimal(0), Decimal(0)
        vat = taxes["vat"]
        if not vat and not all_exempt:
            problems.append(_("The chart has no purchase IVA of 19 percent (SII code 14): the lines are booked without IVA."))
        for line in content.lines:
            if not line.billable:
                continue
            exempt = line.exempt or all_exempt
            line_taxes = self.env["account.tax"]
            if exempt:
                lines_exempt += line.amount
            else:
                lines_taxable += line.amount
                line_taxes |= vat
                for code in line.additional_tax_codes:
                    tax = self._l10n_cl_dte_additional_tax(taxes, code, rates.get(code))
                    if not tax:
                        rate = rates.get(code)
                        problems.append(_("Line %(line)s: the chart has no purchase tax with SII code %(code)s "
                                          "(%(rate)s %%); the line is booked without it.", line=line.number,
                                          code=code, rate="?" if rate is None else rate))
                    line_taxes |= tax
            quantity, price, discount, note = _bill_amounts(line, currency, self._l10n_cl_dte_price_digits(cache))
            name = "\n".join(filter(None, [line.name, line.description, note])) or _("Item")
            product = self._l10n_cl_dte_product(partner, line, cache)
            commands.append(Command.create({
                "product_id": product.id or False, "name": name, "quantity": quantity, "price_unit": price,
                "discount": discount, "tax_ids": [Command.set(line_taxes.ids)],
            }))
        for adjustment in content.adjustments:
            if not adjustment.billable:
                continue
            exempt = adjustment.exempt or all_exempt
            value = adjustment.value
            if adjustment.value_type == "%":
                value = _round((lines_exempt if exempt else lines_taxable) * value / 100)
            sign = -1 if adjustment.movement == "D" else 1
            default_name = _("Global discount") if sign < 0 else _("Global surcharge")
            commands.append(Command.create({
                "name": adjustment.description or default_name, "quantity": 1, "price_unit": float(sign * value),
                "tax_ids": [Command.set([] if exempt or not vat else vat.ids)],
            }))
        for commission in content.commissions:
            label = commission.description or _("Commission")
            if commission.net:
                commands.append(Command.create({"name": label, "quantity": 1, "price_unit": -float(commission.net),
                                                "tax_ids": [Command.set(vat.ids)]}))
            if commission.exempt:
                commands.append(Command.create({"name": label, "quantity": 1,
                                                "price_unit": -float(commission.exempt),
                                                "tax_ids": [Command.set([])]}))
        for amount, label in ((content.totals.deposit, _("Deposit on containers (GrntDep)")),
                              (-(content.totals.construction_credit or 0),
                               _("Construction companies' credit (CredEC)"))):
            if amount:
                commands.append(Command.create({"name": label, "quantity": 1, "price_unit": float(amount),
                                                "tax_ids": [Command.set([])]}))
        return commands

    @api.model
    def _l10n_cl_dte_price_digits(self, cache):
        if "price_digits" not in cache:
            cache["price_digits"] = self.env["decimal.precision"].precision_get("Product Price")
        return cache["price_digits"]

    def _l10n_cl_dte_bill_notes(self, content):
        notes = []
        other = content.other_currency
        if other and other.currency:
            notes.append(_("The DTE also states its total in %(currency)s: %(total)s (exchange rate %(rate)s).",
                           currency=other.currency, total=other.total or "?", rate=other.exchange_rate or "?"))
        return "\n".join(notes) or False

    # --- products ------------------------------------------------------------------------------

    @api.model
    def _l10n_cl_dte_product(self, partner, line, cache):
        """The product of a received line: supplier code, supplier name, barcode, internal code, name."""
        key = ("product", partner.id, line.codes, line.name)
        if key in cache:
            return cache[key]
        Product = self.env["product.product"].sudo()
        Supplierinfo = self.env["product.supplierinfo"].sudo()
        company = self.company_id
        product = Product
        codes = [value for _kind, value in line.codes]
        supplier = [("partner_id", "in", (partner | partner.commercial_partner_id).ids),
                    ("company_id", "in", (False, company.id))]
        if codes:
            product = _supplierinfo_product(Supplierinfo.search(supplier + [("product_code", "in", codes)], limit=1))
        if not product and line.name:
            product = _supplierinfo_product(Supplierinfo.search(supplier + [("product_name", "=", line.name)],
                                                                limit=1))
        for kind, value in line.codes:
            if product:
                break
            if kind.upper() in BARCODE_KINDS:
                product = Product._retrieve_product(barcode=value, company=company)
        for _kind, value in line.codes:
            if product:
                break
            product = Product._retrieve_product(barcode=value, default_code=value, company=company)
        if not product and line.name:
            product = Product._retrieve_product(name=line.name, company=company)
        cache[key] = product
        return product

    # --- references ----------------------------------------------------------------------------

    def _l10n_cl_dte_link_references(self, move, content, problems, cache):
        """Record the DTE's references on the bill; a note names the bill it corrects."""
        if not content.references:
            return
        if "types" not in cache:
            cache["types"] = {document_type.code: document_type for document_type in self.env[
                "l10n_latam.document.type"].with_context(active_test=False).search([("country_id.code", "=", "CL")])}
        types = cache["types"]
        other_types = dict(self.env["l10n_cl_dte.reference"]._fields["other_type"].selection)
        values = []
        for reference in content.references:
            document_type = types.get(reference.document_type)
            if not document_type and reference.document_type not in other_types:
                continue
            values.append({
                "move_id": move.id,
                "document_type_id": document_type.id if document_type else False,
                "other_type": False if document_type else reference.document_type,
                "folio": reference.folio or "0",
                "date": reference.date or content.issue_date,
                "code": str(reference.code) if reference.code in (1, 2, 3) else False,
                "reason": (reference.reason or "")[:90] or False,
            })
            if document_type and reference.folio.isdigit() and content.document_type in (56, 61):
                corrected = self.search([
                    ("company_id", "=", self.company_id.id), ("issuer_rut", "=", self.issuer_rut),
                    ("document_type_code", "=", int(reference.document_type)),
                    ("folio", "=", int(reference.folio)), ("state", "!=", "refused"),
                ], limit=1)
                if corrected.move_id and content.document_type == 61 and corrected.move_id.move_type == "in_invoice":
                    move.reversed_entry_id = corrected.move_id
                elif not corrected.move_id:
                    problems.append(_("It refers to %(type)s %(folio)s, which was not received here.",
                                      type=document_type.display_name, folio=reference.folio))
        if values:
            self.env["l10n_cl_dte.reference"].sudo().create(values)

    # --- totals --------------------------------------------------------------------------------

    def _l10n_cl_dte_match_totals(self, move, content, taxes):
        """Set each tax group to the DTE's amount where Odoo's rounding differs; say what else differs."""
        currency = move.currency_id
        totals = content.totals
        notes = []
        targets = {}
        vat_amount = (totals.vat or 0) - (totals.commissions_vat or 0)
        if taxes["vat"] and (vat_amount or totals.vat is not None):
            targets[taxes["vat"].tax_group_id.id] = Decimal(vat_amount)
        rates = {code: rate for code, rate, _amount in totals.additional_taxes}
        for code, _rate, amount in totals.additional_taxes:
            tax = self._l10n_cl_dte_additional_tax(taxes, code, rates.get(code))
            if tax:
                group = tax.tax_group_id.id
                targets[group] = targets.get(group, Decimal(0)) + (-amount if tax.amount < 0 else amount)
        summary = move.tax_totals
        adjusted = []
        for subtotal in summary.get("subtotals", []):
            for group in subtotal.get("tax_groups", []):
                wanted = targets.get(group["id"])
                if wanted is None or float_is_zero(float(wanted) - group["tax_amount_currency"],
                                                   precision_rounding=currency.rounding):
                    continue
                adjusted.append((group["group_name"], group["tax_amount_currency"], float(wanted)))
                group["tax_amount_currency"] = float(wanted)
        if adjusted:
            move.tax_totals = summary
            for name, odoo_amount, dte_amount in adjusted:
                notes.append(_("%(tax)s set to the DTE's %(dte)s (Odoo computed %(odoo)s: its rounding differs).",
                               tax=name, dte=_money(dte_amount), odoo=_money(odoo_amount)))
        if float_compare(move.amount_total, float(totals.total), precision_rounding=currency.rounding):
            notes.append(_("The bill totals %(odoo)s but the DTE states %(dte)s (net %(net)s, exempt %(exempt)s, IVA "
                           "%(vat)s): check its lines and taxes.", odoo=_money(move.amount_total),
                           dte=_money(totals.total), net=_money(totals.net or 0), exempt=_money(totals.exempt or 0),
                           vat=_money(totals.vat or 0)))
        return notes

    # --- guías ---------------------------------------------------------------------------------

    def _l10n_cl_dte_link_picking(self, content, cache):
        """Link a guía de despacho to the one incoming receipt it matches (by reference, else by products)."""
        self.ensure_one()
        partner = self.partner_id or self._l10n_cl_dte_supplier(self.company_id, content.issuer)
        pickings = self.env["stock.picking"].sudo().search([
            ("company_id", "=", self.company_id.id), ("picking_type_code", "=", "incoming"),
            ("partner_id", "child_of", partner.commercial_partner_id.id), ("state", "!=", "cancel"),
        ])
        names = {reference.folio for reference in content.references if reference.folio}
        match = pickings.filtered(lambda picking: picking.origin in names or picking.name in names)
        if not match:
            wanted = {}
            for line in content.lines:
                product = self._l10n_cl_dte_product(partner, line, cache)
                if not product:
                    wanted = None
                    break
                wanted[product.id] = wanted.get(product.id, 0.0) + float(line.quantity or 0)
            if wanted:
                match = pickings.filtered(lambda picking: _picking_quantities(picking) == wanted)
        if len(match) == 1:
            self.picking_id = match
            match.message_post(body=_("Guía de despacho %(folio)s of %(supplier)s received for this receipt.",
                                      folio=self.folio, supplier=partner.name))
        else:
            self.booking_message = _("No incoming receipt of %(supplier)s matches this guía de despacho%(many)s.",
                                     supplier=partner.name, many=_(" (several do)") if match else "")


def _supplierinfo_product(supplierinfo):
    return supplierinfo.product_id or supplierinfo.product_tmpl_id.product_variant_id


def _picking_quantities(picking):
    quantities = {}
    for move in picking.move_ids.filtered(lambda m: m.state != "cancel"):
        quantities[move.product_id.id] = quantities.get(move.product_id.id, 0.0) + move.product_uom_qty
    return quantities


def _round(value):
    return value.quantize(Decimal(1), rounding="ROUND_HALF_UP")


def _money(value):
    return f"{value:,.0f}".replace(",", ".")


def _bill_amounts(line, currency, price_digits):
    """``(quantity, price, discount %, note)`` whose Odoo amount is exactly the line's ``MontoItem``."""
    amount = line.amount
    quantity = line.quantity or Decimal(1)
    price = line.price if line.price is not None else amount / quantity
    discount = Decimal(0)
    if not (line.surcharge_amount or line.surcharge_percent):
        if line.discount_percent:
            discount = line.discount_percent
        elif line.discount_amount and quantity * price:
            discount = line.discount_amount * 100 / (quantity * price)
    exact = Decimal(1).scaleb(-price_digits)
    candidates = [(quantity, price, discount)]
    if amount % quantity == 0 or (amount / quantity) == (amount / quantity).quantize(exact):
        candidates.append((quantity, amount / quantity, Decimal(0)))
    for candidate_quantity, candidate_price, candidate_discount in candidates:
        if candidate_price != candidate_price.quantize(exact) or candidate_discount != candidate_discount.quantize(
                Decimal("0.01")):
            continue
        if candidate_quantity * candidate_price * (100 - candidate_discount) / 100 == amount:
            return float(candidate_quantity), float(candidate_price), float(candidate_discount), ""
    note = f"{_plain(quantity)} x {_plain(price)}"
    if line.discount_amount or line.discount_percent:
        note += f" - {_plain(line.discount_amount or 0)}"
    if line.surcharge_amount or line.surcharge_percent:
        note += f" + {_plain(line.surcharge_amount or 0)}"
    return 1.0, float(float_round(float(amount), precision_rounding=currency.rounding)), 0.0, note


def _plain(value):
    return format(Decimal(value).normalize(), "f")
