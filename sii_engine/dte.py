"""Build, stamp, sign and validate one DTE.

:func:`issue` is the whole pipeline for one document: the XML in the schema's
order, the TED made with the CAF, the XMLDSig made with the certificate over
``<Documento>`` (``xmlns`` declared on ``<DTE>`` so the DTE verifies on its
own, as the SII checks it), then validation against the SII schema.
"""

import datetime
import functools
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from . import customs as customs_module
from . import payments as payments_module
from . import schema as schema_module
from . import signature as signature_module
from .document import (
    BOLETA_TYPES,
    CUSTOMS_TAGS,
    EXEMPT_TYPES,
    EXPORT_TYPES,
    GUIA_DESPACHO,
    MAX_BOLETA_LINES,
    MAX_LINES,
    PACKAGE_TAGS,
    SUPPORTED_TYPES,
    Package,
)
from .errors import DocumentError, FieldRutError, RutError
from .rut import normalize as normalize_rut
from .ted import StampData, _stamp  # build_ted with its barcode text
from .totals import compute_totals, exchange_rate, other_currency, round_amount
from .xmlutil import SII_NS, clean_text, to_bytes

_NSMAP = {None: SII_NS}


@functools.cache
def _tag(name):
    return f"{{{SII_NS}}}{name}"


def _add(parent, name, value=None, length=None):
    """Append ``<name>`` with ``value`` (cleaned, truncated); skip empty values."""
    if value is None:
        return None
    # Plain strings first, the most frequent (an empty one cleans to "" and is skipped),
    # and no ``value == ""`` for numbers: comparing a Decimal with a str goes through
    # an isinstance check against numbers.Rational, an ABC, slow for nothing.
    if type(value) is str:
        text = clean_text(value, length)
        if not text:
            return None
    elif isinstance(value, Decimal):
        text = _number(value)
    elif isinstance(value, (datetime.date, int)):
        text = value.isoformat() if isinstance(value, datetime.date) else str(value)
    else:
        if value == "":
            return None
        text = clean_text(value, length)
        if not text:
            return None
    element = etree.SubElement(parent, _tag(name))
    element.text = text
    return element


def _number(value):
    text = format(value.normalize(), "f")
    return text


@dataclass(frozen=True)
class IssuedDte:
    """A stamped and signed DTE, ready to be stored and sent."""

    document_type: int
    folio: int
    xml: bytes  # the signed DTE, ISO-8859-1, with XML declaration
    ted: bytes  # the flattened <TED>, the text of the printed barcode
    total: Decimal
    totals: object

    @property
    def body(self):
        """The DTE without its XML declaration, to paste into an envelope."""
        return self.xml.split(b"?>", 1)[1].lstrip()


def check_document(document):
    """Refuse what the SII would refuse before any folio is stamped."""
    if document.document_type not in SUPPORTED_TYPES:
        raise DocumentError(reason=f"document type {document.document_type} is not supported")
    if not document.folio or int(document.folio) < 1:
        raise DocumentError(reason="the folio must be a positive number")
    limit = MAX_BOLETA_LINES if document.is_boleta else MAX_LINES
    if not document.lines and document.document_type != GUIA_DESPACHO:
        raise DocumentError(reason="the document has no lines")
    if len(document.lines) > limit:
        raise DocumentError(reason=f"the document has {len(document.lines)} lines; the SII accepts at most {limit}")
    _field_rut(document.issuer.rut, "Emisor/RUTEmisor")
    _field_rut(document.receiver.rut, "Receptor/RUTRecep")
    if not document.is_boleta:
        if not document.issuer.activity:
            raise DocumentError(reason="the issuer has no line of business (giro)")
        if not document.issuer.economic_activities:
            raise DocumentError(reason="the issuer has no economic activity code (Acteco)")
        if len(document.issuer.economic_activities) > 4:
            raise DocumentError(reason="the SII accepts at most 4 economic activity codes (Acteco)")
        if not document.receiver.name:
            raise DocumentError(reason="the receiver has no name")
    for index, line in enumerate(document.lines, 1):
        if not clean_text(line.name):
            raise DocumentError(reason=f"line {index} has no name")
        if line.quantity is not None and line.quantity < 0 or line.price is not None and line.price < 0:
            raise DocumentError(reason=f"line {index} ({line.name}) has a negative quantity or price")
        if line.additional_tax_code and document.is_boleta:
            raise DocumentError(reason=f"line {index} ({line.name}): boletas carry no additional tax codes")
    for reference in document.references:
        if reference.code not in (None, 1, 2, 3):
            raise DocumentError(reason=f"CodRef {reference.code} is not 1 (annul), 2 (text) or 3 (amounts)")
    if document.document_type in (56, 61, 111, 112) and not document.references:
        raise DocumentError(reason="a credit or debit note must refer to the document it modifies")
    payments_module.check_payment(document)


def _field_rut(value, field):
    """Check a RUT, naming its field when wrong: "'' is not a valid RUT" alone does not say
    that the receiver is missing."""
    try:
        normalize_rut(value)
    except RutError:
        raise FieldRutError(field=field, rut=value) from None


def build_dte(document, totals=None):
    """The unsigned ``<DTE>`` element (no TED yet) and its computed totals."""
    check_document(document)
    totals = totals or compute_totals(document)
    customs_module.check_export(document, totals)
    payments_module.check_payment_totals(document, totals)
    dte = etree.Element(_tag("DTE"), version="1.0", nsmap=_NSMAP)
    body_tag = "Exportaciones" if document.document_type in EXPORT_TYPES else "Documento"
    body = etree.SubElement(dte, _tag(body_tag), ID=document.document_id)
    header = etree.SubElement(body, _tag("Encabezado"))
    if document.is_boleta:
        _boleta_header(header, document, totals)
    else:
        _header(header, document, totals)
    _details(body, document, totals)
    _global_adjustments(body, document)
    _references(body, document)
    return dte, totals


def _header(header, document, totals):
    id_doc = etree.SubElement(header, _tag("IdDoc"))
    _add(id_doc, "TipoDTE", document.document_type)
    _add(id_doc, "Folio", int(document.folio))
    _add(id_doc, "FchEmis", document.issue_date)
    export = document.is_export
    if not export:
        _add(id_doc, "TipoDespacho", document.dispatch_type)
        _add(id_doc, "IndTraslado", document.transfer_indicator)
    else:
        _add(id_doc, "TipoDespacho", document.dispatch_type)
    _add(id_doc, "IndServicio", document.service_indicator)
    _add(id_doc, "FmaPago", document.payment_form)
    _payment_terms(id_doc, document)
    _add(id_doc, "FchVenc", document.due_date)

    issuer = document.issuer
    emisor = etree.SubElement(header, _tag("Emisor"))
    _add(emisor, "RUTEmisor", normalize_rut(issuer.rut))
    _add(emisor, "RznSoc", issuer.name, 100)
    _add(emisor, "GiroEmis", issuer.activity, 80)
    _add(emisor, "Telefono", issuer.phone, 20)
    _add(emisor, "CorreoEmisor", issuer.email, 80)
    for code in issuer.economic_activities[:4]:
        _add(emisor, "Acteco", int(code))
    _add(emisor, "CdgSIISucur", issuer.branch_code)
    _add(emisor, "DirOrigen", issuer.address, 70)
    _add(emisor, "CmnaOrigen", issuer.commune, 20)
    _add(emisor, "CiudadOrigen", issuer.city, 20)

    receiver = document.receiver
    receptor = etree.SubElement(header, _tag("Receptor"))
    _add(receptor, "RUTRecep", normalize_rut(receiver.rut))
    _add(receptor, "RznSocRecep", receiver.name, 100)
    if export and (receiver.nationality or receiver.foreign_id):
        foreign = etree.SubElement(receptor, _tag("Extranjero"))
        _add(foreign, "NumId", receiver.foreign_id, 20)
        _add(foreign, "Nacionalidad", receiver.nationality, 3)
    _add(receptor, "GiroRecep", receiver.activity, 40)
    _add(receptor, "Contacto", receiver.contact, 80)
    _add(receptor, "CorreoRecep", receiver.email, 80)
    _add(receptor, "DirRecep", receiver.address, 70)
    _add(receptor, "CmnaRecep", receiver.commune, 20)
    _add(receptor, "CiudadRecep", receiver.city, 20)

    _transport(header, document, totals)
    totales = etree.SubElement(header, _tag("Totales"))
    if export:
        _add(totales, "TpoMoneda", document.currency or "PESO CL", 15)
        _add(totales, "MntExe", totals.exempt)
        _add(totales, "MntTotal", totals.total)
        if totals.other_currency_total is not None:
            other = etree.SubElement(header, _tag("OtraMoneda"))
            _add(other, "TpoMoneda", other_currency(document), 15)
            _add(other, "TpoCambio", exchange_rate(document))
            _add(other, "MntExeOtrMnda", totals.other_currency_exempt)
            _add(other, "MntTotOtrMnda", totals.other_currency_total)
        return
    _add(totales, "MntNeto", totals.net)
    _add(totales, "MntExe", totals.exempt)
    _add(totales, "TasaIVA", totals.vat_rate)
    _add(totales, "IVA", totals.vat)
    for code, rate, amount in totals.additional_taxes:
        tax = etree.SubElement(totales, _tag("ImptoReten"))
        _add(tax, "TipoImp", code)
        _add(tax, "TasaImp", rate)
        _add(tax, "MontoImp", amount)
    _add(totales, "IVANoRet", totals.vat_not_retained)
    _add(totales, "MntTotal", totals.total)


def _boleta_header(header, document, totals):
    id_doc = etree.SubElement(header, _tag("IdDoc"))
    _add(id_doc, "TipoDTE", document.document_type)
    _add(id_doc, "Folio", int(document.folio))
    _add(id_doc, "FchEmis", document.issue_date)
    _add(id_doc, "IndServicio", document.service_indicator or 3)
    if document.net_prices:
        _add(id_doc, "IndMntNeto", 2)
    _add(id_doc, "FchVenc", document.due_date)
    _add(id_doc, "MedioPago", document.payment_method)

    issuer = document.issuer
    emisor = etree.SubElement(header, _tag("Emisor"))
    _add(emisor, "RUTEmisor", normalize_rut(issuer.rut))
    _add(emisor, "RznSocEmisor", issuer.name, 100)
    _add(emisor, "GiroEmisor", issuer.activity, 80)
    _add(emisor, "CdgSIISucur", issuer.branch_code)
    _add(emisor, "DirOrigen", issuer.address, 70)
    _add(emisor, "CmnaOrigen", issuer.commune, 20)
    _add(emisor, "CiudadOrigen", issuer.city, 20)

    receiver = document.receiver
    receptor = etree.SubElement(header, _tag("Receptor"))
    _add(receptor, "RUTRecep", normalize_rut(receiver.rut))
    _add(receptor, "CdgIntRecep", receiver.internal_code, 20)
    _add(receptor, "RznSocRecep", receiver.name, 100)
    _add(receptor, "Contacto", receiver.contact, 80)
    _add(receptor, "CorreoRecep", receiver.email, 80)
    _add(receptor, "TelefonoRecep", receiver.phone, 20)
    _add(receptor, "DirRecep", receiver.address, 70)
    _add(receptor, "CmnaRecep", receiver.commune, 20)
    _add(receptor, "CiudadRecep", receiver.city, 20)

    if document.software_provider_rut:
        _add(header, "RUTProvSW", normalize_rut(document.software_provider_rut))
    totales = etree.SubElement(header, _tag("Totales"))
    _add(totales, "MntNeto", totals.net)
    _add(totales, "MntExe", totals.exempt)
    _add(totales, "IVA", totals.vat)
    _add(totales, "MntTotal", totals.total)


def _payment_terms(id_doc, document):
    """FmaPagExp, MntPagos and MedioPago, between FmaPago and FchVenc as the schema orders IdDoc."""
    _add(id_doc, "FmaPagExp", document.export_payment_form)
    for payment in document.payments:
        installment = etree.SubElement(id_doc, _tag("MntPagos"))
        _add(installment, "FchPago", payment.date)
        _add(installment, "MntPago", int(payment.amount))
        _add(installment, "GlosaPagos", payment.description, 40)
    _add(id_doc, "MedioPago", document.payment_method)


def _transport(header, document, totals):
    """Transporte, with its Aduana block on exports (customs.effective_customs)."""
    transport = document.transport
    customs = customs_module.effective_customs(document, totals)
    if transport is None and customs is None:
        return
    element = etree.SubElement(header, _tag("Transporte"))
    if transport is not None:
        _add(element, "Patente", transport.plate, 8)
        if transport.carrier_rut:
            _add(element, "RUTTrans", customs_module.transport_rut(transport.carrier_rut))
        if transport.driver_rut:
            driver = etree.SubElement(element, _tag("Chofer"))
            _add(driver, "RUTChofer", customs_module.transport_rut(transport.driver_rut))
            _add(driver, "NombreChofer", transport.driver_name, 30)
        _add(element, "DirDest", transport.destination_address, 70)
        _add(element, "CmnaDest", transport.destination_commune, 20)
        _add(element, "CiudadDest", transport.destination_city, 20)
    if customs is not None:
        _customs(element, customs)


def _customs(transport, customs):
    aduana = etree.SubElement(transport, _tag("Aduana"))
    for tag, name, kind, length in CUSTOMS_TAGS:
        value = getattr(customs, name)
        if kind is Package:
            for package in value:
                packages = etree.SubElement(aduana, _tag(tag))
                for package_tag, package_name, _kind, package_length in PACKAGE_TAGS:
                    _add(packages, package_tag, getattr(package, package_name), package_length)
        elif kind == "RUT":
            _add(aduana, tag, customs_module.transport_rut(value) if value else None)
        else:
            _add(aduana, tag, value, length)


def _details(body, document, totals):
    boleta = document.is_boleta
    all_exempt = document.document_type in EXEMPT_TYPES
    for number, (line, amounts) in enumerate(zip(document.lines, totals.lines, strict=True), 1):
        detail = etree.SubElement(body, _tag("Detalle"))
        _add(detail, "NroLinDet", number)
        if line.item_code:
            code = etree.SubElement(detail, _tag("CdgItem"))
            _add(code, "TpoCodigo", line.item_code[0], 10)
            _add(code, "VlrCodigo", line.item_code[1], 35)
        if line.exempt or all_exempt:
            _add(detail, "IndExe", 1)
        if line.retention and not boleta:
            retention = etree.SubElement(detail, _tag("Retenedor"))
            _add(retention, "IndAgente", line.retention, 1)
        _add(detail, "NmbItem", line.name, 80)
        _add(detail, "DscItem", line.description, 1000)
        # A guía without valuation still states what travels: its quantities, with no price.
        if line.price or document.document_type == GUIA_DESPACHO and line.quantity:
            _add(detail, "QtyItem", line.quantity)
            _add(detail, "UnmdItem", line.unit, 4)
        if line.price:
            _add(detail, "PrcItem", line.price)
        if amounts.discount:
            _add(detail, "DescuentoPct", line.discount_percent)
            _add(detail, "DescuentoMonto", amounts.discount)
        if amounts.surcharge:
            _add(detail, "RecargoPct", line.surcharge_percent)
            _add(detail, "RecargoMonto", amounts.surcharge)
        if line.additional_tax_code and not boleta:
            _add(detail, "CodImpAdic", line.additional_tax_code)
        _add(detail, "MontoItem", amounts.amount)


def _global_adjustments(body, document):
    for number, adjustment in enumerate(document.global_adjustments, 1):
        element = etree.SubElement(body, _tag("DscRcgGlobal"))
        _add(element, "NroLinDR", number)
        _add(element, "TpoMov", adjustment.movement)
        _add(element, "GlosaDR", adjustment.description, 45)
        _add(element, "TpoValor", adjustment.value_type)
        _add(element, "ValorDR", adjustment.value)
        if adjustment.exempt:
            _add(element, "IndExeDR", 1)


def _references(body, document):
    boleta = document.is_boleta
    for number, reference in enumerate(document.references, 1):
        element = etree.SubElement(body, _tag("Referencia"))
        _add(element, "NroLinRef", number)
        _add(element, "TpoDocRef", reference.document_type, 3)
        if reference.global_reference and not boleta:
            _add(element, "IndGlobal", 1)
        # Outside boletas FolioRef is mandatory; the SII's rule is 0 when there is
        # no folio to name (IndGlobal, the certification SET reference).
        _add(element, "FolioRef", reference.folio or (None if boleta else "0"), 18)
        if not boleta:
            _add(element, "FchRef", reference.date or document.issue_date)
        _add(element, "CodRef", reference.code)
        _add(element, "RazonRef", reference.reason, 90)


def _ted_total(document, totals):
    """The TED's MNT: MntTotal exactly on exports (decimals and all, as written), whole pesos otherwise."""
    if document.is_export:
        return Decimal(_number(totals.total))
    return int(round_amount(totals.total))


def issue(document, caf, certificate, timestamp=None, validate=True):
    """Build, stamp with ``caf``, sign with ``certificate`` and validate one DTE."""
    timestamp = (timestamp or datetime.datetime.now()).replace(microsecond=0)
    dte, totals = build_dte(document)
    body = dte[0]
    stamp = StampData(
        document_type=document.document_type,
        folio=int(document.folio),
        issue_date=document.issue_date,
        receiver_rut=document.receiver.rut,
        receiver_name=document.receiver.name or "Sin nombre",
        total=_ted_total(document, totals),
        first_item=document.lines[0].name if document.lines else "Sin detalle",
    )
    ted, barcode_text = _stamp(caf, document.issuer.rut, stamp, timestamp)
    body.append(ted)
    _add(body, "TmstFirma", timestamp.strftime("%Y-%m-%dT%H:%M:%S"))
    signature_module.sign_reference(dte, document.document_id, certificate)
    if validate:
        schema_module.validate(dte, schema_module.BOLETA if document.document_type in BOLETA_TYPES else schema_module.DTE)
    return IssuedDte(
        document_type=document.document_type,
        folio=int(document.folio),
        xml=to_bytes(dte, declaration=True),
        ted=barcode_text,  # ted_barcode_text(ted), made along with the TED
        total=totals.total,
        totals=totals,
    )
