"""A stand-in supplier: another company that sends its DTEs to a receiver (tests, benchmarks, the demo).

What a receiving company gets from a real supplier, made with the engine as
that supplier would: CAFs signed by a stand-in SII (a
:class:`~sii_engine.identities.TestAuthority`, trusted only where it is
configured), a self-signed certificate carrying the supplier's signer RUT,
signed DTEs of the types a receiver books, and the EnvioDTE addressed to the
receiver (the exchange copy) or to the SII (60803000-K, the upload).

Liquidación-facturas (43) are not something this engine issues for its
users; :meth:`StandInSupplier.issue` makes one by the same steps as any DTE, in
the schema's ``<Liquidacion>`` (each line names the liquidated document's type
``TpoDocLiq``; the agent's commissions follow the references), so the
reception of that type can be exercised too.
"""

import datetime
from decimal import Decimal

from lxml import etree

from . import caf as caf_module
from . import certificate as certificate_module
from . import document as document_module
from . import dte as dte_module
from . import envelope as envelope_module
from . import identities
from . import schema as schema_module
from . import signature as signature_module
from .ted import StampData, _stamp
from .totals import round_amount
from .xmlutil import SII_NS, to_bytes

SII_RUT = "60803000-K"  # the receiver of every envelope uploaded to the SII
LIQUIDACION_FACTURA = 43
RESOLUTION = (datetime.date(2014, 8, 22), 80)


def _tag(name):
    return f"{{{SII_NS}}}{name}"


class StandInSupplier:
    """A supplier (``rut``, ``name``) whose CAFs ``authority`` signs and whose ``signer_rut`` signs its DTEs."""

    def __init__(self, authority, rut="96874030-K", name="Distribuidora Los Andes SpA", signer_rut="13251326-0",
                 signer_name="Firmante Proveedor", email="dte@losandes.example", password="proveedor",
                 key_size=2048):
        self.authority = authority
        self.rut = rut
        self.name = name
        self.email = email
        self.password = password
        self.pkcs12 = identities.make_pkcs12(signer_rut, signer_name, password, key_size=key_size)
        self.certificate = certificate_module.load_pkcs12(self.pkcs12, password)
        self._cafs = {}

    @property
    def issuer(self):
        return document_module.Issuer(
            rut=self.rut, name=self.name, activity="Venta al por mayor de articulos de ferreteria",
            economic_activities=(466302,), address="Av. Matta 1234", commune="Santiago", city="Santiago",
            email=self.email,
        )

    def caf(self, document_type, last=100000):
        """This supplier's CAF for ``document_type`` (folios 1..``last``), made once."""
        if document_type not in self._cafs:
            raw = self.authority.issue_caf(self.rut, self.name, document_type, 1, last)
            self._cafs[document_type] = caf_module.load_caf(raw, self.authority.trusted_keys())
        return self._cafs[document_type]

    def document(self, document_type, folio, receiver, lines=None, issue_date=None, **fields):
        """A :class:`~sii_engine.document.Document` of this supplier to ``receiver`` (a Receiver)."""
        lines = lines or [
            document_module.Line("Tornillo hexagonal 3/8", Decimal(120), Decimal(85), unit="UN",
                                 item_code=("INT1", "TOR-38")),
            document_module.Line("Servicio de instalacion", Decimal(1), Decimal(45000)),
        ]
        return document_module.Document(
            document_type=document_type, folio=folio, issue_date=issue_date or datetime.date.today(),
            issuer=self.issuer, receiver=receiver, lines=list(lines), **fields,
        )

    def issue(self, document, timestamp=None, totals=None, edit=None):
        """The signed DTE (bytes) of ``document``; a type 43 is made as a liquidación-factura.

        ``totals`` (a :class:`~sii_engine.totals.Totals`) are written instead of
        the engine's: a supplier whose arithmetic differs (IVA rounded line by
        line, say) still sends a validly stamped and signed document. ``edit``,
        called with the built ``<DTE>`` before it is stamped and signed, adds
        what this engine does not write (another currency on a factura, say).
        """
        if document.document_type == LIQUIDACION_FACTURA:
            return self._liquidacion(document, timestamp)
        if totals is None and edit is None:
            return dte_module.issue(document, self.caf(document.document_type), self.certificate, timestamp).xml
        dte, totals = dte_module.build_dte(document, totals)
        if edit is not None:
            edit(dte)
        return self._stamp_and_sign(dte, document, document.document_type, int(round_amount(totals.total)), timestamp)

    def envelope(self, dtes, receiver_rut, check_documents=None):
        """The signed EnvioDTE holding ``dtes`` (bytes), addressed to ``receiver_rut``.

        The envelope builder checks each DTE (its type among those this engine
        issues, its signature) unless ``check_documents`` is False; by default
        it does, except for an envelope holding a liquidación-factura.
        """
        dtes = list(dtes)
        if check_documents is None:
            check_documents = not any(b"<TipoDTE>43</TipoDTE>" in dte for dte in dtes)
        return envelope_module.build_envelope(dtes, self.rut, self.certificate, *RESOLUTION,
                                              receiver_rut=receiver_rut, check_documents=check_documents)

    # --- liquidación-factura -------------------------------------------------------------------

    def _liquidacion(self, document, timestamp, commission_rate=Decimal(10)):
        """A 43: the lines as sales made on the receiver's behalf, minus a commission of ``commission_rate`` %."""
        as_invoice = document_module.Document(**{**document.__dict__, "document_type": 33})
        dte, totals = dte_module.build_dte(as_invoice)
        body = dte[0]
        body.tag = _tag("Liquidacion")
        body.set("ID", f"T{LIQUIDACION_FACTURA}F{int(document.folio)}")
        header = body.find(_tag("Encabezado"))
        header.find(f"{_tag('IdDoc')}/{_tag('TipoDTE')}").text = str(LIQUIDACION_FACTURA)
        for detail in body.findall(_tag("Detalle")):
            liquidated = etree.Element(_tag("TpoDocLiq"))
            liquidated.text = "33"
            codes = detail.findall(_tag("CdgItem"))
            (codes[-1] if codes else detail.find(_tag("NroLinDet"))).addnext(liquidated)
        commission_net = round_amount((totals.net or 0) * commission_rate / 100)
        commission_vat = round_amount(commission_net * document.vat_rate / 100)
        total = int(round_amount(totals.total - commission_net - commission_vat))
        totales = header.find(_tag("Totales"))
        summary = etree.Element(_tag("Comisiones"))
        for name, value in (("ValComNeto", commission_net), ("ValComExe", 0), ("ValComIVA", commission_vat)):
            etree.SubElement(summary, _tag(name)).text = str(int(value))
        totales.find(_tag("MntTotal")).addprevious(summary)
        totales.find(_tag("MntTotal")).text = str(total)
        line = etree.SubElement(body, _tag("Comisiones"))
        for name, value in (("NroLinCom", "1"), ("TipoMovim", "C"), ("Glosa", "Comision por venta"),
                            ("TasaComision", str(commission_rate)), ("ValComNeto", str(int(commission_net))),
                            ("ValComExe", "0"), ("ValComIVA", str(int(commission_vat)))):
            etree.SubElement(line, _tag(name)).text = value
        return self._stamp_and_sign(dte, document, LIQUIDACION_FACTURA, total, timestamp)

    def _stamp_and_sign(self, dte, document, document_type, total, timestamp):
        """Stamp the built ``dte`` with this supplier's CAF, sign and validate it, as :func:`dte.issue` does."""
        timestamp = (timestamp or datetime.datetime.now()).replace(microsecond=0)
        body = dte[0]
        stamp = StampData(
            document_type=document_type, folio=int(document.folio), issue_date=document.issue_date,
            receiver_rut=document.receiver.rut, receiver_name=document.receiver.name or "Sin nombre", total=total,
            first_item=document.lines[0].name if document.lines else "Sin detalle",
        )
        ted, _barcode = _stamp(self.caf(document_type), self.rut, stamp, timestamp)
        body.append(ted)
        etree.SubElement(body, _tag("TmstFirma")).text = timestamp.strftime("%Y-%m-%dT%H:%M:%S")
        signature_module.sign_reference(dte, body.get("ID"), self.certificate)
        schema_module.validate(dte, schema_module.DTE)
        return to_bytes(dte, declaration=True)
