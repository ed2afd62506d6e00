from odoo import api, fields, models

from ..sii_engine import document as engine_document

# TpoDocRef values besides DTE codes: the SII's table of referenced documents.
OTHER_REFERENCE_TYPES = [
    ("801", "801 - Purchase Order"),
    ("802", "802 - Order Note"),
    ("803", "803 - Contract"),
    ("804", "804 - Resolution"),
    ("805", "805 - ChileCompra Process"),
    ("806", "806 - ChileCompra Record"),
    ("807", "807 - DUS"),
    ("808", "808 - Bill of Lading"),
    ("809", "809 - AWB"),
    ("810", "810 - MIC/DTA"),
    ("811", "811 - Consignment Note"),
    ("812", "812 - SNA Resolution"),
    ("813", "813 - Passport"),
    ("814", "814 - Exchange Deposit Certificate"),
    ("815", "815 - Pledge Voucher"),
    ("HES", "HES - Service Entry Sheet"),
    ("HEM", "HEM - Goods Entry Sheet"),
    ("SET", "SET - SII Certification Test Set"),
]

REFERENCE_CODES = [
    ("1", "1 - Annuls the referenced document"),
    ("2", "2 - Corrects text of the referenced document"),
    ("3", "3 - Corrects amounts of the referenced document"),
]


class L10nClDteReference(models.Model):
    """A document an electronic document refers to (``<Referencia>``): of an invoice or of a transfer's guía."""

    _name = "l10n_cl_dte.reference"
    _description = "DTE Reference"
    _order = "sequence, id"

    move_id = fields.Many2one("account.move", ondelete="cascade", index="btree_not_null")
    picking_id = fields.Many2one("stock.picking", string="Transfer", ondelete="cascade", index="btree_not_null")
    sequence = fields.Integer(default=10)
    document_type_id = fields.Many2one(
        "l10n_latam.document.type",
        string="Referenced DTE Type",
        domain="[('country_id.code', '=', 'CL')]",
        help="The type of the referenced tax document; leave empty to cite another kind of document.",
    )
    other_type = fields.Selection(OTHER_REFERENCE_TYPES, string="Other Referenced Document")
    folio = fields.Char(string="Referenced Number", required=True)
    date = fields.Date(string="Referenced Date", required=True, default=fields.Date.context_today)
    code = fields.Selection(REFERENCE_CODES, string="SII Reference Code")
    reason = fields.Char(size=90)

    _sql_constraints = [
        (
            "one_type",
            "CHECK((document_type_id IS NULL) != (other_type IS NULL))",
            "A reference cites either a tax document type or another document, not both or none.",
        ),
        (
            "one_parent",
            "CHECK((move_id IS NULL) != (picking_id IS NULL))",
            "A reference belongs to one invoice or one transfer, not both or none.",
        ),
    ]

    @api.depends("document_type_id", "other_type", "folio")
    def _compute_display_name(self):
        for reference in self:
            kind = reference.document_type_id.code or reference.other_type or ""
            reference.display_name = f"{kind} {reference.folio or ''}".strip()

    def _l10n_cl_dte_type_code(self):
        self.ensure_one()
        return self.document_type_id.code or self.other_type

    def _l10n_cl_dte_engine_reference(self):
        """This reference as the engine's ``Referencia``."""
        self.ensure_one()
        return engine_document.Reference(
            document_type=self._l10n_cl_dte_type_code(),
            folio=self.folio,
            date=self.date,
            code=int(self.code) if self.code else None,
            reason=self.reason or "",
        )
