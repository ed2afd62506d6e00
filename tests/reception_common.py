"""A company receiving DTEs: a stand-in supplier, real MIME messages, the SII simulator with its registry.

The supplier is another company made with the engine
(:class:`~..sii_engine.stand_in_supplier.StandInSupplier`): CAFs signed by the
same stand-in SII the company trusts in the simulator environment, its own
certificate. Its documents reach the simulator the way the supplier sends them
(an EnvioDTE to the SII, uploaded with its own certificate) and the company
the way the supplier e-mails them (an EnvioDTE addressed to the company).
"""

import datetime
from email.message import EmailMessage
from email.utils import make_msgid

from odoo import Command

from ..sii_engine import document as engine_document
from ..sii_engine.simulator import start_simulator
from ..sii_engine.stand_in_supplier import SII_RUT, StandInSupplier
from ..sii_engine.transport import SiiClient
from .common import COMPANY_RUT, CUSTOMER_RUT, SIGNER_RUT, TestClDteCommon

SUPPLIER_EMAIL = "dte@losandes.example"
CUSTOMER_SIGNER_RUT = "15555555-6"
INBOX_EMAIL = "dte@receptora.example"


class TestReceptionCommon(TestClDteCommon):
    """The test company receives; ``cls.supplier`` sends; the simulator is the SII, with the RCV."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = start_simulator(authority=cls.authority, processing_polls=0,
                                        company_users={COMPANY_RUT: [SIGNER_RUT],
                                                       CUSTOMER_RUT: [CUSTOMER_SIGNER_RUT]})
        cls.addClassCleanup(cls.simulator.stop)
        cls.sii = cls.simulator.app
        cls.company.write({
            "l10n_cl_dte_simulator_url": cls.simulator.base_url,
            "l10n_cl_dte_customer_exchange": "never",
            "l10n_cl_dte_email": INBOX_EMAIL,
            "name": "Receptora de Prueba SpA",
        })
        cls.supplier = StandInSupplier(cls.authority, email=SUPPLIER_EMAIL, key_size=1024)
        cls.supplier_client = SiiClient("certification", cls.supplier.certificate, cls.supplier.rut,
                                        base_url=cls.simulator.base_url)
        cls.addClassCleanup(cls.supplier_client.close)
        cls.company_data["default_journal_purchase"].l10n_latam_use_documents = True
        cls.Received = cls.env["l10n_cl_dte.received"]
        cls.File = cls.env["l10n_cl_dte.received.file"]
        cls.today = datetime.date.today()
        cls.next_folio = 1000

    def setUp(self):
        super().setUp()
        self.sii.reset()  # each test's documents are new to the SII (the database rolls back, the simulator not)

    # --- the supplier ------------------------------------------------------------------------

    @classmethod
    def receiver(cls):
        return engine_document.Receiver(COMPANY_RUT, cls.company.name, "Servicios informaticos", "Teatinos 120",
                                        "Santiago", "Santiago")

    def folio(self):
        type(self).next_folio += 1
        return type(self).next_folio

    def supplier_dte(self, document_type=33, folio=None, lines=None, totals=None, edit=None, **fields):
        """A signed DTE of the supplier to the company."""
        fields.setdefault("issue_date", self.today)
        document = self.supplier.document(document_type, folio or self.folio(), self.receiver(), lines=lines,
                                          **fields)
        return self.supplier.issue(document, totals=totals, edit=edit)

    def supplier_envelope(self, dtes, to_sii=True):
        """The EnvioDTE the company receives; with ``to_sii``, the supplier first sends the same DTEs to the SII."""
        if to_sii:
            self.supplier_client.upload_envelope(self.supplier.envelope(dtes, SII_RUT))
        return self.supplier.envelope(dtes, COMPANY_RUT)

    # --- delivery ----------------------------------------------------------------------------

    @staticmethod
    def mime_message(attachments, subject="Envio de DTE", sender=SUPPLIER_EMAIL, to=INBOX_EMAIL,
                     content_type=("application", "xml")):
        """A real MIME message with ``attachments`` (``[(file name, bytes)]``), as a supplier's mailer sends it."""
        message = EmailMessage()
        message["From"] = sender
        message["To"] = to
        message["Subject"] = subject
        message["Message-Id"] = make_msgid(domain="losandes.example")
        message.set_content("Adjuntamos documentos tributarios electronicos.")
        for name, data in attachments:
            maintype, subtype = ("application", "pdf") if name.endswith(".pdf") else content_type
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        return message.as_bytes()

    def deliver(self, message, company=None):
        """Odoo's mail gateway processes ``message`` for the DTE inbox; the files it made, newest first."""
        before = self.File.search([]).ids
        self.env["mail.thread"].sudo().message_process(
            "l10n_cl_dte.received.file", message, custom_values={"company_id": (company or self.company).id})
        return self.File.search([("id", "not in", before)], order="id")

    def receive(self, dtes, to_sii=True, name="EnvioDTE.xml"):
        """The supplier e-mails an envelope of ``dtes``: the received file."""
        files = self.deliver(self.mime_message([(name, self.supplier_envelope(dtes, to_sii=to_sii))]))
        self.assertEqual(len(files), 1)
        return files

    def line(self, name, quantity, price, **values):
        from decimal import Decimal

        return engine_document.Line(name, Decimal(str(quantity)), Decimal(str(price)), **values)

    def make_product(self, name, **values):
        return self.env["product.product"].create({"name": name, "type": "consu", **values})

    def supplierinfo(self, product, **values):
        return self.env["product.supplierinfo"].create({
            "partner_id": self.supplier_partner().id, "product_tmpl_id": product.product_tmpl_id.id, **values})

    def supplier_partner(self):
        partner = self.env["res.partner"].search([("vat", "=", self.supplier.rut)], limit=1)
        return partner or self.env["res.partner"].create({
            "name": self.supplier.name, "vat": self.supplier.rut, "is_company": True,
            "country_id": self.env.ref("base.cl").id,
            "l10n_latam_identification_type_id": self.env.ref("l10n_cl.it_RUT").id,
            "l10n_cl_sii_taxpayer_type": "1",
        })

    def purchase_tax(self, code, amount):
        return self.env["account.tax"].search([
            ("company_id", "=", self.company.id), ("type_tax_use", "=", "purchase"),
            ("l10n_cl_sii_code", "=", code), ("amount", "=", amount)], limit=1)

    def sent_mails(self, model, record):
        return self.env["mail.mail"].search([("model", "=", model), ("res_id", "=", record.id)])


def command_lines(records):
    return [Command.set(records.ids)]
