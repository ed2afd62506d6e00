"""The Aduana's code tables of export documents, as records users can browse and pick from.

The engine's CSV files (``sii_engine/data/aduana``, origin in their README) are
the one source of truth: :meth:`_l10n_cl_dte_load_aduana_tables` creates a
record for each code that has none yet, at every install and update, and
never rewrites one — users may edit a gloss or archive a code they never use.
The engine checks the codes a document carries against the same files.
"""

from odoo import api, fields, models

from ..sii_engine import aduana

TABLES = [
    (aduana.SALE_MODALITIES, "Sale Modality"),
    (aduana.SALE_CLAUSES, "Sale Clause"),
    (aduana.TRANSPORT_WAYS, "Transport Way"),
    (aduana.PORTS, "Port"),
    (aduana.PACKAGE_TYPES, "Package Type"),
    (aduana.UNITS, "Unit of Measure"),
    (aduana.EXPORT_PAYMENT_FORMS, "Export Payment Form"),
    (aduana.COUNTRIES, "Country"),
]


class L10nClDteAduanaCode(models.Model):
    """One code of one of the Aduana's tables (sale modality, port, country...)."""

    _name = "l10n_cl_dte.aduana.code"
    _description = "Aduana Code"
    _order = "aduana_table, code"
    _rec_names_search = ["name", "code"]

    aduana_table = fields.Selection(TABLES, string="Table", required=True, index=True, readonly=True)
    code = fields.Integer(required=True, readonly=True, aggregator=False,
                          help="The number the electronic document carries (Aduana, Anexo 51).")
    name = fields.Char(string="Gloss", required=True)
    active = fields.Boolean(default=True)
    incoterm_id = fields.Many2one(
        "account.incoterms", string="Incoterm",
        help="Sale clauses: the Incoterms rule an invoice's Incoterm turns into this clause.",
    )
    country_id = fields.Many2one("res.country", string="ISO Country", help="Countries: the country of this code.")
    country_code = fields.Char(related="country_id.code", string="ISO Code")

    _sql_constraints = [
        ("table_code_unique", "unique(aduana_table, code)", "Each code appears once in its Aduana table."),
    ]

    @api.depends("code", "name")
    def _compute_display_name(self):
        for record in self:
            record.display_name = f"{record.code} - {record.name}" if record.name else str(record.code)

    @api.model
    def _l10n_cl_dte_load_aduana_tables(self):
        """Create a record for each code of the engine's tables that has none; never rewrite one."""
        existing = {(record.aduana_table, record.code) for record in self.with_context(active_test=False).search([])}
        incoterms = {incoterm.code: incoterm.id
                     for incoterm in self.env["account.incoterms"].with_context(active_test=False).search([])}
        countries = {country.code: country.id for country in self.env["res.country"].search([])}
        self.create([
            {
                "aduana_table": table,
                "code": row["code"],
                "name": row["name"],
                "incoterm_id": incoterms.get(row.get("incoterm")),
                "country_id": countries.get(row.get("iso")),
            }
            for table, _label in TABLES
            for row in aduana.rows(table)
            if (table, row["code"]) not in existing
        ])

    @api.model
    def _l10n_cl_dte_find(self, table, **conditions):
        """The active code of ``table`` matching ``conditions`` (``incoterm_id=``, ``country_id=``), if any."""
        domain = [("aduana_table", "=", table)] + [(name, "=", value) for name, value in conditions.items()]
        return self.search(domain, limit=1) if all(conditions.values()) else self.browse()
