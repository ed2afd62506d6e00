"""What a received DTE says, as typed values: what a receiver books it from.

:func:`read_dte` reads a ``<DTE>`` element that came through the safe parser
(:func:`sii_engine.xmlutil.parse`, via :func:`~.sniff.sniff`) and that the
verifier passed (schema, signatures, TED): the header, the lines, the global
discounts and surcharges, the references, the totals as the issuer declared
them (never recomputed here: the receiver books what the document states) and
the TED's barcode text. A field the receiver needs that is missing or garbled
raises :class:`~.errors.ExchangeFormatError` naming it; amounts are read
bounded (:func:`sii_engine.amounts.parse_amount`).

The three bodies are read alike: ``<Documento>`` (33, 34, 46, 52, 56, 61...),
``<Liquidacion>`` (43, with its ``<Comisiones>``) and ``<Exportaciones>``.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from .. import rut as rut_module
from ..amounts import parse_amount
from ..document import Issuer, Receiver
from ..errors import AmountError, RutError
from ..signature import dte_body
from ..ted import ted_barcode_text
from ..xmlutil import children, find, findtext, local
from .errors import ExchangeFormatError

_DOCUMENT = "DTE"


@dataclass(frozen=True)
class ReceivedLine:
    """``Detalle``: one line as the issuer wrote it."""

    number: int  # NroLinDet
    name: str  # NmbItem
    amount: Decimal  # MontoItem: the line's net amount (after its discount and surcharge)
    codes: tuple = ()  # CdgItem: ((TpoCodigo, VlrCodigo), ...)
    exempt_indicator: int = None  # IndExe: 1 exempt, 2 not billable, 6 not billable (guía)...
    description: str = ""  # DscItem
    quantity: Decimal = None  # QtyItem
    unit: str = ""  # UnmdItem
    price: Decimal = None  # PrcItem
    discount_percent: Decimal = None  # DescuentoPct
    discount_amount: Decimal = None  # DescuentoMonto
    surcharge_percent: Decimal = None  # RecargoPct
    surcharge_amount: Decimal = None  # RecargoMonto
    additional_tax_codes: tuple = ()  # CodImpAdic (up to 2)
    retention: str = ""  # Retenedor/IndAgente

    @property
    def exempt(self):
        return self.exempt_indicator == 1

    @property
    def billable(self):
        """Lines with IndExe 2 or 6 are informative: outside the totals."""
        return self.exempt_indicator not in (2, 6)


@dataclass(frozen=True)
class ReceivedAdjustment:
    """``DscRcgGlobal``: a global discount (``D``) or surcharge (``R``)."""

    movement: str  # TpoMov
    value_type: str  # TpoValor: % or $
    value: Decimal  # ValorDR
    description: str = ""  # GlosaDR
    exempt_indicator: int = None  # IndExeDR: 1 on the exempt amount, 2 on what is not billable

    @property
    def exempt(self):
        return self.exempt_indicator == 1

    @property
    def billable(self):
        return self.exempt_indicator != 2


@dataclass(frozen=True)
class ReceivedReference:
    """``Referencia``: a document this one refers to."""

    document_type: str  # TpoDocRef: a DTE type, 801 purchase order, SET...
    folio: str = ""  # FolioRef
    date: datetime.date = None  # FchRef
    code: int = None  # CodRef: 1 annuls, 2 corrects text, 3 corrects amounts
    reason: str = ""  # RazonRef
    global_reference: bool = False  # IndGlobal


@dataclass(frozen=True)
class ReceivedCommission:
    """``Comisiones`` of a liquidación-factura (43): what the agent charged."""

    movement: str  # TipoMovim: C commission, O other charge
    description: str  # Glosa
    net: Decimal = Decimal(0)  # ValComNeto
    exempt: Decimal = Decimal(0)  # ValComExe
    vat: Decimal = Decimal(0)  # ValComIVA


@dataclass(frozen=True)
class DeclaredTotals:
    """``Totales`` as the issuer declared them."""

    total: Decimal  # MntTotal
    net: Decimal = None  # MntNeto
    exempt: Decimal = None  # MntExe
    vat_rate: Decimal = None  # TasaIVA
    vat: Decimal = None  # IVA
    additional_taxes: tuple = ()  # ImptoReten: ((TipoImp, TasaImp or None, MontoImp), ...)
    vat_not_retained: Decimal = None  # IVANoRet
    construction_credit: Decimal = None  # CredEC: the 65% credit of construction companies
    deposit: Decimal = None  # GrntDep: deposits on containers, added to the total
    commissions_net: Decimal = None  # ValComNeto (43)
    commissions_exempt: Decimal = None  # ValComExe (43)
    commissions_vat: Decimal = None  # ValComIVA (43)
    currency: str = ""  # TpoMoneda (exports)


@dataclass(frozen=True)
class OtherCurrency:
    """``OtraMoneda``: the amounts also stated in another currency."""

    currency: str  # TpoMoneda, as the SII names currencies ("DOLAR USA", "EURO", "PESO CL"...)
    exchange_rate: Decimal = None  # TpoCambio
    total: Decimal = None  # MntTotOtrMnda


@dataclass(frozen=True)
class ReceivedDte:
    """A received DTE's content."""

    document_type: int
    folio: int
    issue_date: datetime.date
    issuer: Issuer
    receiver: Receiver
    totals: DeclaredTotals
    lines: tuple = ()  # ReceivedLine
    adjustments: tuple = ()  # ReceivedAdjustment
    references: tuple = ()  # ReceivedReference
    commissions: tuple = ()  # ReceivedCommission (43)
    other_currency: OtherCurrency = None
    due_date: datetime.date = None  # FchVenc
    payment_form: int = None  # FmaPago: 1 cash, 2 credit, 3 free
    dispatch_type: int = None  # TipoDespacho (guías)
    transfer_indicator: int = None  # IndTraslado (guías)
    ted: bytes = None  # the TED as the printed barcode encodes it
    signed_at: datetime.datetime = None  # TmstFirma

    @property
    def key(self):
        return (self.issuer.rut, self.document_type, self.folio)


def read_dte(dte):
    """The :class:`ReceivedDte` of a ``<DTE>`` element (parsed by :func:`xmlutil.parse`)."""
    body = dte_body(dte)
    if body is None:
        raise ExchangeFormatError(document=_DOCUMENT, reason="the <DTE> holds no <Documento>, <Liquidacion> or "
                                                             "<Exportaciones>")
    header = _required(body, "Encabezado")
    id_doc = _required(header, "IdDoc")
    issuer = _required(header, "Emisor")
    receiver = _required(header, "Receptor")
    totals = _required(header, "Totales")
    children = [child for child in body if isinstance(child.tag, str)]
    ted = next((child for child in children if local(child.tag) == "TED"), None)
    return ReceivedDte(
        document_type=_integer(id_doc, "TipoDTE", required=True),
        folio=_integer(id_doc, "Folio", required=True),
        issue_date=_date(id_doc, "FchEmis", required=True),
        due_date=_date(id_doc, "FchVenc"),
        payment_form=_integer(id_doc, "FmaPago"),
        dispatch_type=_integer(id_doc, "TipoDespacho"),
        transfer_indicator=_integer(id_doc, "IndTraslado"),
        issuer=_issuer(issuer),
        receiver=_receiver(receiver),
        totals=_totals(totals),
        other_currency=_other_currency(find(header, "OtraMoneda")),
        lines=tuple(_line(child, number) for number, child in
                    enumerate((c for c in children if local(c.tag) == "Detalle"), 1)),
        adjustments=tuple(_adjustment(child) for child in children if local(child.tag) == "DscRcgGlobal"),
        references=tuple(_reference(child) for child in children if local(child.tag) == "Referencia"),
        commissions=tuple(_commission(child) for child in children if local(child.tag) == "Comisiones"),
        ted=ted_barcode_text(ted) if ted is not None else None,
        signed_at=_moment(body, "TmstFirma"),
    )


# --- parts ---------------------------------------------------------------------------------------


def _issuer(element):
    return Issuer(
        rut=_rut(element, "RUTEmisor"),
        name=_text(element, "RznSoc") or _text(element, "RznSocEmisor"),
        activity=_text(element, "GiroEmis") or _text(element, "GiroEmisor"),
        economic_activities=_codes(element, "Acteco"),
        address=_text(element, "DirOrigen"),
        commune=_text(element, "CmnaOrigen"),
        city=_text(element, "CiudadOrigen"),
        email=_text(element, "CorreoEmisor"),
        phone=_text(element, "Telefono"),
    )


def _receiver(element):
    return Receiver(
        rut=_rut(element, "RUTRecep"),
        name=_text(element, "RznSocRecep"),
        activity=_text(element, "GiroRecep"),
        address=_text(element, "DirRecep"),
        commune=_text(element, "CmnaRecep"),
        city=_text(element, "CiudadRecep"),
        email=_text(element, "CorreoRecep"),
        contact=_text(element, "Contacto"),
    )


def _totals(element):
    taxes = []
    for tax in children(element, "ImptoReten"):
        taxes.append((_integer(tax, "TipoImp", required=True), _amount(tax, "TasaImp"),
                      _amount(tax, "MontoImp") or Decimal(0)))
    return DeclaredTotals(
        total=_amount(element, "MntTotal", required=True),
        net=_amount(element, "MntNeto"),
        exempt=_amount(element, "MntExe"),
        vat_rate=_amount(element, "TasaIVA"),
        vat=_amount(element, "IVA"),
        additional_taxes=tuple(taxes),
        vat_not_retained=_amount(element, "IVANoRet"),
        construction_credit=_amount(element, "CredEC"),
        deposit=_amount(element, "GrntDep"),
        commissions_net=_amount(element, "Comisiones/ValComNeto"),
        commissions_exempt=_amount(element, "Comisiones/ValComExe"),
        commissions_vat=_amount(element, "Comisiones/ValComIVA"),
        currency=_text(element, "TpoMoneda"),
    )


def _other_currency(element):
    if element is None:
        return None
    return OtherCurrency(currency=_text(element, "TpoMoneda"), exchange_rate=_amount(element, "TpoCambio"),
                         total=_amount(element, "MntTotOtrMnda"))


def _line(element, position):
    codes = []
    for code in children(element, "CdgItem"):
        value = _text(code, "VlrCodigo")
        if value:
            codes.append((_text(code, "TpoCodigo"), value))
    return ReceivedLine(
        number=_integer(element, "NroLinDet") or position,
        codes=tuple(codes),
        exempt_indicator=_integer(element, "IndExe"),
        retention=_text(element, "Retenedor/IndAgente"),
        name=_text(element, "NmbItem"),
        description=_text(element, "DscItem"),
        quantity=_amount(element, "QtyItem"),
        unit=_text(element, "UnmdItem"),
        price=_amount(element, "PrcItem"),
        discount_percent=_amount(element, "DescuentoPct"),
        discount_amount=_amount(element, "DescuentoMonto"),
        surcharge_percent=_amount(element, "RecargoPct"),
        surcharge_amount=_amount(element, "RecargoMonto"),
        additional_tax_codes=_codes(element, "CodImpAdic"),
        amount=_amount(element, "MontoItem", required=True),
    )


def _adjustment(element):
    return ReceivedAdjustment(
        movement=_text(element, "TpoMov"),
        value_type=_text(element, "TpoValor"),
        value=_amount(element, "ValorDR", required=True),
        description=_text(element, "GlosaDR"),
        exempt_indicator=_integer(element, "IndExeDR"),
    )


def _reference(element):
    return ReceivedReference(
        document_type=_text(element, "TpoDocRef"),
        folio=_text(element, "FolioRef"),
        date=_date(element, "FchRef"),
        code=_integer(element, "CodRef"),
        reason=_text(element, "RazonRef"),
        global_reference=_text(element, "IndGlobal") == "1",
    )


def _commission(element):
    return ReceivedCommission(
        movement=_text(element, "TipoMovim"),
        description=_text(element, "Glosa"),
        net=_amount(element, "ValComNeto") or Decimal(0),
        exempt=_amount(element, "ValComExe") or Decimal(0),
        vat=_amount(element, "ValComIVA") or Decimal(0),
    )


# --- fields --------------------------------------------------------------------------------------


def _codes(element, name):
    """The numeric codes a repeated element carries (Acteco, CodImpAdic); anything else is skipped."""
    return tuple(int(child.text) for child in children(element, name) if (child.text or "").strip().isdigit())


def _where(element, path):
    return f"<{local(element.tag)}>/<{path}>"


def _text(element, path):
    return " ".join((findtext(element, path) or "").split())


def _required(element, name):
    found = find(element, name)
    if found is None:
        raise ExchangeFormatError(document=_DOCUMENT, reason=f"<{local(element.tag)}> has no <{name}>")
    return found


def _raw(element, path, required):
    value = (findtext(element, path) or "").strip()
    if not value and required:
        raise ExchangeFormatError(document=_DOCUMENT, reason=f"{_where(element, path)} is missing")
    return value


def _integer(element, path, required=False):
    value = _raw(element, path, required)
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise ExchangeFormatError(document=_DOCUMENT, reason=f"{_where(element, path)} {value[:40]!r} is not a number")
    return int(value)


def _amount(element, path, required=False):
    value = _raw(element, path, required)
    if not value:
        return None
    try:
        return parse_amount(value, path)
    except AmountError as error:
        raise ExchangeFormatError(document=_DOCUMENT, reason=f"{_where(element, path)}: {error}") from None


def _date(element, path, required=False):
    value = _raw(element, path, required)
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ExchangeFormatError(document=_DOCUMENT,
                                  reason=f"{_where(element, path)} {value[:40]!r} is not a date") from None


def _moment(element, path):
    value = _raw(element, path, False)
    try:
        return datetime.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _rut(element, path):
    value = _raw(element, path, True)
    try:
        return rut_module.normalize(value)
    except RutError:
        raise ExchangeFormatError(document=_DOCUMENT,
                                  reason=f"{_where(element, path)} {value[:40]!r} is not a valid RUT") from None
