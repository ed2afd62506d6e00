"""The certification's GUIA DE DESPACHO set issued from real deliveries, and its LIBRO DE GUIAS.

Each guía case becomes a delivery of the workspace's warehouse: the case's
items (products found or created by their names), quantities, and, when the
case gives prices, the prices the guía states; the transfer indicator
(``IndTraslado``) and dispatch type (``TipoDespacho``) the set names. The
delivery carries the SET reference and is validated: its guía is issued by the
transfers' own path (:mod:`.stock_picking`), folio from the company's CAF of
type 52, then sent and followed as any transfer's guía.

The book of guías (:mod:`sii_engine.certification.guide_book`) is built from
those guías as their signed DTEs state them, with the set's rules: the guía
"invoiced in the period" names the basic set's first factura (as the engine's
command line does), the annulled one is marked cancelled after sending.
"""

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError

from ..sii_engine import codes, xmlutil
from ..sii_engine.certification import guide_book, setfile
from .stock_picking import INTERNAL_TRANSFER


class L10nClDteCertification(models.Model):
    _inherit = "l10n_cl_dte.certification"

    warehouse_id = fields.Many2one(
        "stock.warehouse", string="Warehouse of the Guides", check_company=True,
        default=lambda self: self._default_warehouse(),
        help="The set's dispatch guides are deliveries of this warehouse to the customer of the cases.",
    )

    @api.model
    def _default_warehouse(self):
        return self.env["stock.warehouse"].search([("company_id", "=", self.env.company.id)], limit=1)

    def _l10n_cl_dte_issue_problem_list(self):
        problems = super()._l10n_cl_dte_issue_problem_list()
        if not self.case_ids.filtered(lambda case: case.set_id.kind == setfile.GUIA_DESPACHO
                                      and not case._l10n_cl_dte_issued()):
            return problems
        if not self.warehouse_id:
            problems.append(_("Choose the warehouse the set's dispatch guides leave from: each guide is one of its "
                              "deliveries."))
        elif not self.warehouse_id.out_type_id.default_location_src_id:
            problems.append(_("The warehouse %s has no delivery operation type with a source location: the set's "
                              "dispatch guides are its deliveries.", self.warehouse_id.display_name))
        return problems

class L10nClDteCertificationCase(models.Model):
    _inherit = "l10n_cl_dte.certification.case"

    def _l10n_cl_dte_issue_guia(self, engine_case, document):
        """The validated delivery of this guía case, its guía issued with the SET reference."""
        self.ensure_one()
        workspace = self.certification_id
        delivery = workspace.warehouse_id.out_type_id
        source = delivery.default_location_src_id
        destination = delivery.default_location_dest_id or self.env.ref("stock.stock_location_customers")
        internal = str(document.transfer_indicator) == INTERNAL_TRANSFER
        valued = any(line.price for line in document.lines)
        picking = self.env["stock.picking"].create({
            "picking_type_id": delivery.id,
            "company_id": workspace.company_id.id,
            # Goods moved between the company's premises go to the company itself (the guía says so).
            "partner_id": (workspace.company_id.partner_id if internal else workspace.partner_id).id,
            "location_id": source.id,
            "location_dest_id": destination.id,
            "origin": self.display_name,
            "l10n_cl_dte_transfer_indicator": str(document.transfer_indicator),
            "l10n_cl_dte_dispatch_type": str(document.dispatch_type) if document.dispatch_type else False,
            "l10n_cl_dte_valuation": "product" if valued else "none",
            "move_ids": [Command.create({
                "name": line.name,
                "company_id": workspace.company_id.id,
                "product_id": (product := self._l10n_cl_dte_guia_product(line.name)).id,
                "product_uom_qty": float(line.quantity),
                "product_uom": product.uom_id.id,
                "location_id": source.id,
                "location_dest_id": destination.id,
                "l10n_cl_dte_price_unit": float(line.price or 0),
            }) for line in document.lines],
            "l10n_cl_dte_reference_ids": [Command.create(self._l10n_cl_dte_reference_values(reference))
                                          for reference in document.references],
        })
        picking.action_confirm()
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.move_ids.picked = True
        # Everything is delivered (no backorder to ask about); the customer is not texted about a test set.
        if picking.with_context(skip_sms=True).button_validate() is not True or picking.state != "done":
            raise UserError(_("CASO %(case)s: the delivery %(picking)s could not be validated.",
                              case=self.case_ref, picking=picking.name))
        if not picking.l10n_cl_dte_status:  # its operation type does not issue guías on validation
            picking.action_l10n_cl_dte_issue_guia()
        return picking

    def _l10n_cl_dte_guia_product(self, name):
        """The company's goods named as the case's item, created (VAT on sales) the first time."""
        company = self.company_id
        products = self.env["product.product"]
        product = products.search([*products._check_company_domain(company), ("name", "=", name),
                                   ("type", "=", "consu")], limit=1)
        return product or products.create({
            "name": name,
            "type": "consu",
            "company_id": company.id,
            "taxes_id": [Command.set(self.certification_id._l10n_cl_dte_vat_tax().ids)],
        })


class L10nClDteCertificationSet(models.Model):
    _inherit = "l10n_cl_dte.certification.set"

    def _l10n_cl_dte_guide_book(self, engine_set, date, common):
        """The signed ``LibroGuia`` of the guías the workspace issued, read from their signed DTEs."""
        workspace = self.certification_id
        cases = workspace.case_ids.filtered(lambda case: case.set_id.kind == setfile.GUIA_DESPACHO)
        if not cases or cases.filtered(lambda case: not case.picking_id.l10n_cl_dte_file_id):
            raise UserError(_("Issue the dispatch guides' set first: the book of guides lists them."))
        guides = [guide_book.signed_guide(case.case_ref, xmlutil.parse(case.picking_id.l10n_cl_dte_file_id.raw))
                  for case in cases]
        invoices = {}
        if engine_set.invoiced_cases:
            # The guía "invoiced in the period" is billed by the basic set's first factura, issued the same day.
            invoice = workspace.case_ids.filtered(
                lambda case: case.set_id.kind == setfile.BASICO and case.document_type_id.code == str(codes.FACTURA)
            )[:1].move_id
            if not invoice.l10n_cl_dte_folio:
                raise UserError(_("Issue the basic set's documents first: the guide invoiced in the period names "
                                  "its factura."))
            reference = guide_book.InvoiceReference(document_type=codes.FACTURA, folio=invoice.l10n_cl_dte_folio,
                                                    date=invoice.l10n_cl_dte_date or date)
            invoices = dict.fromkeys(engine_set.invoiced_cases, reference)
        return guide_book.build_guide_book(guides, engine_set, invoices=invoices, **common)
