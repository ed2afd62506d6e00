import base64
from contextlib import contextmanager

from odoo import Command
from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from ..sii_engine import identities
from ..sii_engine.simulator import start_simulator
from .chilean_company import CERTIFICATE_PASSWORD, COMPANY_RUT, SIGNER_RUT, load_caf, make_issuer, vat_19  # noqa: F401

CUSTOMER_RUT = "60803000-K"


class SimulatorRequestsMixin:
    """Lets a test case's transport reach the local SII simulator through Odoo's request guard."""

    @classmethod
    def _request_handler(cls, session, request, /, **kwargs):
        # Odoo's harness compares a request timeout with a number; the transport gives (connect, read).
        timeout = kwargs.get("timeout")
        if isinstance(timeout, tuple):
            kwargs["timeout"] = max(timeout)
        return super()._request_handler(session, request, **kwargs)


class TestClDteCommon(SimulatorRequestsMixin, AccountTestInvoicingCommon):
    """A Chilean company set up for electronic documents against the simulator's stand-in SII.

    Every identity is generated here: the "SII" key signing the CAFs (IDK 9999,
    trusted only in the simulator environment) and a self-signed certificate
    carrying the signer's RUT.
    """

    @classmethod
    @AccountTestInvoicingCommon.setup_country("cl")
    def setUpClass(cls):
        super().setUpClass()
        cls.authority = identities.TestAuthority()
        cls.company = cls.company_data["company"]
        cls.certificate = make_issuer(cls.env, cls.company, cls.authority)
        cls.pkcs12 = base64.b64decode(cls.certificate.file)
        cls.acteco = cls.company.l10n_cl_dte_acteco_ids
        cls.doc_33 = cls.env.ref("l10n_cl.dc_a_f_dte")
        cls.doc_34 = cls.env.ref("l10n_cl.dc_y_f_dte")
        cls.doc_56 = cls.env.ref("l10n_cl.dc_nd_f_dte")
        cls.doc_61 = cls.env.ref("l10n_cl.dc_nc_f_dte")
        cls.doc_110 = cls.env.ref("l10n_cl.dc_fe_dte")
        cls.customer = cls.env["res.partner"].create({
            "name": "Servicio de Impuestos Internos",
            "is_company": True,
            "country_id": cls.env.ref("base.cl").id,
            "l10n_latam_identification_type_id": cls.env.ref("l10n_cl.it_RUT").id,
            "vat": CUSTOMER_RUT,
            "l10n_cl_sii_taxpayer_type": "1",
            "l10n_cl_activity_description": "Gobierno",
            "street": "Teatinos 120",
            "city": "Santiago",
        })
        cls.vat_tax = vat_19(cls.env, cls.company)
        cls.sale_journal = cls.company_data["default_journal_sale"]
        cls.sale_journal.l10n_latam_use_documents = True

    @classmethod
    def start_sii_simulator(cls):
        """The local SII simulator on 127.0.0.1, trusted by the company, for the whole class."""
        cls.simulator = start_simulator(authority=cls.authority, processing_polls=1)
        cls.addClassCleanup(cls.simulator.stop)
        cls.sii = cls.simulator.app
        cls.company.write({
            "l10n_cl_dte_simulator_url": cls.simulator.base_url,
            "l10n_cl_dte_customer_exchange": "never",
        })
        cls.Envelope = cls.env["l10n_cl_dte.envelope"]

    @classmethod
    def load_caf(cls, document_type, first, last, company=None, authority=None, rut=COMPANY_RUT):
        return load_caf(
            cls.env, company or cls.company, authority or cls.authority, document_type.code, first, last, rut=rut
        )

    @classmethod
    def load_invoice_cafs(cls, first=1, last=50):
        """CAFs for the facturas (33), facturas exentas (34) and their notes (56, 61)."""
        for document_type in (cls.doc_33, cls.doc_34, cls.doc_56, cls.doc_61):
            cls.load_caf(document_type, first, last)

    def make_account_manager(self, login):
        """An accounting manager of the company: who the SII alerts go to."""
        return self.env["res.users"].create({
            "name": "SII Manager", "login": login, "company_id": self.company.id,
            "company_ids": [(6, 0, self.company.ids)],
            "groups_id": [(6, 0, [self.env.ref("account.group_account_manager").id])],
        })

    def make_invoice(self, document_type=None, lines=None, partner=None, move_type="out_invoice", **values):
        lines = lines or [{"price_unit": 1000.0, "quantity": 2}]
        return self.env["account.move"].create({
            "move_type": move_type,
            "partner_id": (partner or self.customer).id,
            "journal_id": self.sale_journal.id,
            "invoice_date": "2026-11-20",
            "l10n_latam_document_type_id": (document_type or self.doc_33).id,
            "invoice_line_ids": [
                Command.create({
                    "product_id": self.product_a.id,
                    "tax_ids": [Command.set(self.vat_tax.ids)],
                    **line,
                })
                for line in lines
            ],
            **values,
        })

    @contextmanager
    def assertRefused(self, exception, message):
        """Like assertRaisesRegex, but inside Odoo's savepoint, as a failed request rolls back."""
        with self.assertRaises(exception) as caught:
            yield caught
        self.assertRegex(str(caught.exception), message)
