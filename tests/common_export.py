"""An exporter: a foreign customer, dollars with a rate, and export invoices with their customs data."""

from odoo import Command

from ..sii_engine import aduana

DOLLAR_IN_PESOS = 950.0  # the rate every export test converts at (pesos per dollar)
EURO_IN_PESOS = 1050.5  # the certification's export set 2 is in euros


class ExportMixin:
    """Mixed into a TestClDteCommon: ``setup_exports()`` in setUpClass, then ``make_export()``."""

    @classmethod
    def setup_exports(cls):
        cls.doc_111 = cls.env.ref("l10n_cl.dc_ndex_dte")
        cls.doc_112 = cls.env.ref("l10n_cl.dc_ncex_dte")
        cls.usd = cls.env.ref("base.USD")
        cls.usd.active = True
        cls.env["res.currency.rate"].create({
            "currency_id": cls.usd.id, "company_id": cls.company.id, "name": "2026-11-01",
            "rate": 1 / DOLLAR_IN_PESOS,
        })
        cls.foreign_customer = cls.env["res.partner"].create({
            "name": "Pacific Imports LLC",
            "is_company": True,
            "country_id": cls.env.ref("base.us").id,
            "l10n_latam_identification_type_id": cls.env.ref("l10n_latam_base.it_vat").id,
            "vat": "94-1234567",
            "l10n_cl_sii_taxpayer_type": "4",
            "street": "100 Harbor Blvd",
            "city": "Miami",
            "email": "imports@pacific.example",
        })
        cls.fob = cls.env.ref("account.incoterm_FOB")

    @classmethod
    def setup_export_sets(cls):
        """What the SII's export sets need besides ``setup_exports``: euros with their rate, CAFs of 110-112."""
        cls.setup_exports()
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        cls.eur_rate = cls.env["res.currency.rate"].create({
            "currency_id": cls.eur.id, "company_id": cls.company.id, "name": "2026-11-01",
            "rate": 1 / EURO_IN_PESOS,
        })
        for document_type in (cls.doc_110, cls.doc_111, cls.doc_112):
            cls.load_caf(document_type, 1, 50)

    @classmethod
    def aduana_code(cls, table, code):
        return cls.env["l10n_cl_dte.aduana.code"].search([("aduana_table", "=", table), ("code", "=", code)])

    @classmethod
    def customs_values(cls):
        """The Export page of a shipment of goods by sea from San Antonio to Miami."""
        return {
            "l10n_cl_dte_sale_modality_id": cls.aduana_code(aduana.SALE_MODALITIES, 1).id,
            "l10n_cl_dte_transport_way_id": cls.aduana_code(aduana.TRANSPORT_WAYS, 1).id,
            "l10n_cl_dte_customs_carrier_name": "Naviera Austral",
            "l10n_cl_dte_customs_carrier_vat": "76086428-5",
            "l10n_cl_dte_loading_port_id": cls.aduana_code(aduana.PORTS, 906).id,
            "l10n_cl_dte_unloading_port_id": cls.aduana_code(aduana.PORTS, 141).id,
            "l10n_cl_dte_gross_weight": 1250.5,
            "l10n_cl_dte_net_weight": 1100.0,
            "l10n_cl_dte_weight_unit_id": cls.aduana_code(aduana.UNITS, 6).id,
            "l10n_cl_dte_export_payment_form_id": cls.aduana_code(aduana.EXPORT_PAYMENT_FORMS, 11).id,
            "l10n_cl_dte_package_ids": [
                Command.create({"type_id": cls.aduana_code(aduana.PACKAGE_TYPES, 80).id, "quantity": 4,
                                "marks": "PACIFIC MIA 1-4"}),
                Command.create({"type_id": cls.aduana_code(aduana.PACKAGE_TYPES, 22).id, "quantity": 12}),
            ],
        }

    def make_export(self, document_type=None, lines=None, **values):
        """A draft export in dollars to the foreign customer, FOB, with the customs data of ``customs_values``."""
        return self.make_invoice(
            document_type or self.doc_110,
            lines=lines or [{"price_unit": 1436.45, "quantity": 3, "tax_ids": []}],
            partner=self.foreign_customer,
            **{"currency_id": self.usd.id, "invoice_incoterm_id": self.fob.id, **self.customs_values(), **values},
        )
