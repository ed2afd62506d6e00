"""The plain data a DTE is built from.

A :class:`Document` is what an invoice, a credit note or a POS order becomes
before it is XML. Amounts are :class:`~decimal.Decimal`; the builder computes
the totals by the SII's rules (see :mod:`sii_engine.totals`). Field names are
English; the docstrings give the SII tag each one becomes.

:func:`document_from_dict` reads the same data written with the SII's own tag
names (``Encabezado``/``IdDoc``/``TipoDTE``…), the JSON format the CLI takes.
"""

import datetime
import math
from dataclasses import dataclass, field
from decimal import Decimal

from .amounts import parse_amount

# The type codes and their rules live in :mod:`.codes`; these names stay importable from here.
from .codes import (  # noqa: F401
    BOLETA,
    BOLETA_EXENTA,
    BOLETA_TYPES,
    CODREF_AMOUNTS,
    CODREF_ANNUL,
    CODREF_TEXT,
    EXEMPT_TYPES,
    EXPORT_TYPES,
    FACTURA,
    FACTURA_COMPRA,
    FACTURA_EXENTA,
    FACTURA_EXPORTACION,
    GUIA_DESPACHO,
    MAX_BOLETA_LINES,
    MAX_LINES,
    NOTA_CREDITO,
    NOTA_CREDITO_EXPORTACION,
    NOTA_DEBITO,
    NOTA_DEBITO_EXPORTACION,
    SUPPORTED_TYPES,
)
from .errors import DocumentError, DocumentFieldError


@dataclass
class Issuer:
    rut: str  # RUTEmisor
    name: str  # RznSoc (RznSocEmisor on boletas)
    activity: str = ""  # GiroEmis: the company's line of business
    economic_activities: tuple = ()  # Acteco codes, up to 4
    address: str = ""  # DirOrigen
    commune: str = ""  # CmnaOrigen
    city: str = ""  # CiudadOrigen
    branch_code: int = None  # CdgSIISucur
    email: str = ""  # CorreoEmisor
    phone: str = ""  # Telefono


@dataclass
class Receiver:
    rut: str  # RUTRecep (66666666-6 when a boleta has none; 55555555-5 abroad)
    name: str = ""  # RznSocRecep
    activity: str = ""  # GiroRecep
    address: str = ""  # DirRecep
    commune: str = ""  # CmnaRecep
    city: str = ""  # CiudadRecep
    email: str = ""  # CorreoRecep
    contact: str = ""  # Contacto
    nationality: str = ""  # Extranjero/Nacionalidad (SII country code), exports
    foreign_id: str = ""  # Extranjero/NumId, exports
    phone: str = ""  # TelefonoRecep (boletas)
    internal_code: str = ""  # CdgIntRecep: the issuer's code for the customer


@dataclass
class Line:
    name: str  # NmbItem
    quantity: Decimal = Decimal(1)  # QtyItem
    price: Decimal = Decimal(0)  # PrcItem: net, or gross on a boleta
    description: str = ""  # DscItem
    unit: str = ""  # UnmdItem
    exempt: bool = False  # IndExe = 1
    discount_percent: Decimal = None  # DescuentoPct
    discount_amount: Decimal = None  # DescuentoMonto (computed from the percent when given)
    surcharge_percent: Decimal = None  # RecargoPct
    surcharge_amount: Decimal = None  # RecargoMonto
    item_code: tuple = None  # CdgItem: (TpoCodigo, VlrCodigo)
    additional_tax_code: int = None  # CodImpAdic (see totals.ADDITIONAL_TAXES)
    retention: str = ""  # Retenedor/IndAgente ("R"), with a retained tax
    amount: Decimal = None  # MontoItem as the caller's books hold it; computed when None


@dataclass
class GlobalAdjustment:
    """DscRcgGlobal: a discount (``D``) or surcharge (``R``) on the whole document."""

    movement: str = "D"  # TpoMov: D discount, R surcharge
    value_type: str = "%"  # TpoValor: % or $
    value: Decimal = Decimal(0)  # ValorDR
    description: str = ""  # GlosaDR
    exempt: bool = False  # IndExeDR = 1: applies to the exempt amount


@dataclass
class Reference:
    """Referencia: a document this one refers to (the invoice a note corrects, a PO…)."""

    document_type: str  # TpoDocRef: a DTE type, 801 purchase order, SET for certification…
    folio: str = ""  # FolioRef
    date: datetime.date = None  # FchRef
    code: int = None  # CodRef: 1 annuls, 2 corrects text, 3 corrects amounts
    reason: str = ""  # RazonRef
    global_reference: bool = False  # IndGlobal


@dataclass
class Payment:
    """MntPagos: one installment of a sale on credit."""

    date: datetime.date  # FchPago
    amount: Decimal  # MntPago
    description: str = ""  # GlosaPagos


@dataclass
class Package:
    """Transporte/Aduana/TipoBultos: one kind of package of an export."""

    type_code: int = None  # CodTpoBultos (data/aduana/tipos_bulto.csv)
    quantity: int = None  # CantBultos
    marks: str = ""  # Marcas
    container_id: str = ""  # IdContainer
    seal: str = ""  # Sello
    seal_issuer: str = ""  # EmisorSello


@dataclass
class Customs:
    """Transporte/Aduana: the customs data of an export (codes from data/aduana)."""

    sale_modality: int = None  # CodModVenta
    sale_clause: int = None  # CodClauVenta (from the Incoterm: aduana.sale_clause)
    sale_clause_total: Decimal = None  # TotClauVenta; the document's total when None
    transport_way: int = None  # CodViaTransp
    transport_name: str = ""  # NombreTransp: the ship, flight…
    carrier_rut: str = ""  # RUTCiaTransp
    carrier_name: str = ""  # NomCiaTransp
    carrier_extra_id: str = ""  # IdAdicTransp
    booking: str = ""  # Booking
    operator: str = ""  # Operador
    loading_port: int = None  # CodPtoEmbarque
    loading_port_extra_id: str = ""  # IdAdicPtoEmb
    unloading_port: int = None  # CodPtoDesemb
    unloading_port_extra_id: str = ""  # IdAdicPtoDesemb
    tare: int = None  # Tara
    tare_unit: int = None  # CodUnidMedTara
    gross_weight: Decimal = None  # PesoBruto
    gross_weight_unit: int = None  # CodUnidPesoBruto
    net_weight: Decimal = None  # PesoNeto
    net_weight_unit: int = None  # CodUnidPesoNeto
    total_items: int = None  # TotItems
    total_packages: int = None  # TotBultos; the packages' CantBultos added up when None
    packages: list = field(default_factory=list)  # TipoBultos: Package, up to 10
    freight: Decimal = None  # MntFlete
    insurance: Decimal = None  # MntSeguro
    receiver_country: int = None  # CodPaisRecep; the receiver's Nacionalidad when None
    destination_country: int = None  # CodPaisDestin


# Transporte/Aduana and its TipoBultos in the schema's order: (SII tag, field, kind, max length).
# The JSON reader and the XML builder (dte._customs) both follow these tables.
CUSTOMS_TAGS = (
    ("CodModVenta", "sale_modality", int, None),
    ("CodClauVenta", "sale_clause", int, None),
    ("TotClauVenta", "sale_clause_total", Decimal, None),
    ("CodViaTransp", "transport_way", int, None),
    ("NombreTransp", "transport_name", str, 40),
    ("RUTCiaTransp", "carrier_rut", "RUT", None),
    ("NomCiaTransp", "carrier_name", str, 40),
    ("IdAdicTransp", "carrier_extra_id", str, 20),
    ("Booking", "booking", str, 20),
    ("Operador", "operator", str, 20),
    ("CodPtoEmbarque", "loading_port", int, None),
    ("IdAdicPtoEmb", "loading_port_extra_id", str, 20),
    ("CodPtoDesemb", "unloading_port", int, None),
    ("IdAdicPtoDesemb", "unloading_port_extra_id", str, 20),
    ("Tara", "tare", int, None),
    ("CodUnidMedTara", "tare_unit", int, None),
    ("PesoBruto", "gross_weight", Decimal, None),
    ("CodUnidPesoBruto", "gross_weight_unit", int, None),
    ("PesoNeto", "net_weight", Decimal, None),
    ("CodUnidPesoNeto", "net_weight_unit", int, None),
    ("TotItems", "total_items", int, None),
    ("TotBultos", "total_packages", int, None),
    ("TipoBultos", "packages", Package, None),
    ("MntFlete", "freight", Decimal, None),
    ("MntSeguro", "insurance", Decimal, None),
    ("CodPaisRecep", "receiver_country", int, None),
    ("CodPaisDestin", "destination_country", int, None),
)
PACKAGE_TAGS = (
    ("CodTpoBultos", "type_code", int, None),
    ("CantBultos", "quantity", int, None),
    ("Marcas", "marks", str, 255),
    ("IdContainer", "container_id", str, 25),
    ("Sello", "seal", str, 20),
    ("EmisorSello", "seal_issuer", str, 70),
)


@dataclass
class Transport:
    """Transporte: who carries the goods and where to (guías, exports)."""

    plate: str = ""  # Patente
    carrier_rut: str = ""  # RUTTrans
    driver_rut: str = ""  # Chofer/RUTChofer
    driver_name: str = ""  # Chofer/NombreChofer
    destination_address: str = ""  # DirDest
    destination_commune: str = ""  # CmnaDest
    destination_city: str = ""  # CiudadDest
    customs: Customs = None  # Aduana


@dataclass
class Document:
    document_type: int  # TipoDTE
    folio: int  # Folio
    issue_date: datetime.date  # FchEmis
    issuer: Issuer
    receiver: Receiver
    lines: list = field(default_factory=list)
    global_adjustments: list = field(default_factory=list)
    references: list = field(default_factory=list)
    payment_form: int = None  # FmaPago: 1 cash, 2 credit, 3 free
    due_date: datetime.date = None  # FchVenc
    service_indicator: int = None  # IndServicio (boletas: 3 sales and services by default)
    net_prices: bool = False  # IndMntNeto: a boleta whose prices are net
    dispatch_type: int = None  # TipoDespacho (guías)
    transfer_indicator: int = None  # IndTraslado (guías: 1 sale … 9)
    currency: str = ""  # TpoMoneda of the totals, exports (e.g. "DOLAR USA")
    other_currency: str = ""  # OtraMoneda/TpoMoneda, exports ("PESO CL")
    exchange_rate: Decimal = None  # OtraMoneda/TpoCambio
    vat_rate: Decimal = Decimal(19)  # TasaIVA
    payments: list = field(default_factory=list)  # MntPagos: Payment installments, up to 30
    payment_method: object = None  # MedioPago: 1-5 on boletas (payments.BOLETA_PAYMENT_METHODS), "EF"… otherwise
    export_payment_form: int = None  # FmaPagExp (data/aduana/formas_pago_exportacion.csv)
    transport: Transport = None  # Transporte (with Aduana on exports)
    software_provider_rut: str = ""  # RUTProvSW (boletas): the issuer's own RUT for software of its own
    # Not an SII tag: 135 UF in pesos on the issue date, given by the caller; above it a
    # boleta must identify the buyer and the payment method (Ley 21.713, payments.py).
    threshold_135_uf: Decimal = None

    @property
    def is_boleta(self):
        return self.document_type in BOLETA_TYPES

    @property
    def is_export(self):
        return self.document_type in EXPORT_TYPES

    @property
    def document_id(self):
        """The ``ID`` of ``<Documento>``, the signature's reference."""
        return f"T{self.document_type}F{self.folio}"


# --- from SII-tag dictionaries (the CLI's JSON) ---------------------------------
#
# The JSON comes from outside: every object, list, text and number is checked for
# its shape, and a wrong one is a DocumentFieldError naming its path
# ("Encabezado/Receptor", "Detalle[2]/PrcItem"), never an AttributeError.


def _object(value, path, required=False):
    """``value`` as a dict: ``{}`` when absent (unless ``required``), an error when not an object."""
    if value is None or value is False or value == "":
        if required:
            raise DocumentFieldError(field=path, reason="it is required (a JSON object)")
        return {}
    if not isinstance(value, dict):
        raise DocumentFieldError(field=path, reason=f"it must be a JSON object, not {_json_kind(value)}")
    return value


def _objects(value, path):
    """``value`` (one object or a list of them) as ``[(path[i], dict)]``."""
    if value is None or value is False or value == "":
        return []
    items = value if isinstance(value, list) else [value]
    return [(f"{path}[{index}]", _object(item, f"{path}[{index}]", required=True))
            for index, item in enumerate(items, 1)]


def _text(value, path):
    """Text fields take text or a number, nothing else."""
    if value is None or value is False:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal)) or isinstance(value, float) and math.isfinite(value):
        return str(value)
    raise DocumentFieldError(field=path, reason=f"it must be text, not {_json_kind(value)}")


def _json_kind(value):
    if isinstance(value, bool):
        return "true/false"
    return {dict: "an object", list: "a list", str: "text", type(None): "null"}.get(type(value), "a number")


def _decimal(value, what, default=None):
    if value is None or value is False or value == "":
        return default
    return parse_amount(value, what)


def _date(value, what, default=None):
    if not value:
        return default
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str):
        raise DocumentFieldError(field=what, reason=f"it must be a date YYYY-MM-DD, not {_json_kind(value)}")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise DocumentFieldError(field=what, reason=f"it must be a date YYYY-MM-DD, got {value!r}") from None


def _int(value, what, default=None):
    if value is None or value == "":
        return default
    if isinstance(value, (dict, list)):
        raise DocumentFieldError(field=what, reason=f"it must be a whole number, not {_json_kind(value)}")
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise DocumentFieldError(field=what, reason=f"it must be a whole number, got {value!r}") from None


def document_from_dict(data, folio=None, issue_date=None):
    """Build a :class:`Document` from a dict keyed by the SII's tag names."""
    if not isinstance(data, dict) or "Encabezado" not in data:
        raise DocumentError(reason="the document must have an 'Encabezado'")
    header = _object(data["Encabezado"], "Encabezado", required=True)
    id_doc = _object(header.get("IdDoc"), "Encabezado/IdDoc", required=True)
    issuer_data = _object(header.get("Emisor"), "Encabezado/Emisor", required=True)
    receiver_data = _object(header.get("Receptor"), "Encabezado/Receptor")
    totals = _object(header.get("Totales"), "Encabezado/Totales")
    other_currency = _object(header.get("OtraMoneda"), "Encabezado/OtraMoneda")
    foreign = _object(receiver_data.get("Extranjero"), "Encabezado/Receptor/Extranjero")
    document_type = _int(id_doc.get("TipoDTE"), "Encabezado/IdDoc/TipoDTE")
    if document_type is None:
        raise DocumentFieldError(field="Encabezado/IdDoc/TipoDTE", reason="it is required (33, 39, 61...)")

    def issuer_text(*names):
        return next((_text(issuer_data[name], f"Encabezado/Emisor/{name}") for name in names
                     if issuer_data.get(name)), "")

    def receiver_text(name):
        return _text(receiver_data.get(name), f"Encabezado/Receptor/{name}")

    acteco = issuer_data.get("Acteco")
    acteco = acteco if isinstance(acteco, list) else [] if acteco in (None, False, "") else [acteco]
    issuer = Issuer(
        rut=issuer_text("RUTEmisor"),
        name=issuer_text("RznSoc", "RznSocEmisor"),
        activity=issuer_text("GiroEmis", "GiroEmisor"),
        economic_activities=tuple(_int(code, "Encabezado/Emisor/Acteco") for code in acteco),
        address=issuer_text("DirOrigen"),
        commune=issuer_text("CmnaOrigen"),
        city=issuer_text("CiudadOrigen"),
        branch_code=_int(issuer_data.get("CdgSIISucur"), "Encabezado/Emisor/CdgSIISucur"),
        email=issuer_text("CorreoEmisor"),
        phone=issuer_text("Telefono"),
    )
    receiver = Receiver(
        rut=receiver_text("RUTRecep"),
        name=receiver_text("RznSocRecep"),
        activity=receiver_text("GiroRecep"),
        address=receiver_text("DirRecep"),
        commune=receiver_text("CmnaRecep"),
        city=receiver_text("CiudadRecep"),
        email=receiver_text("CorreoRecep"),
        contact=receiver_text("Contacto"),
        nationality=_text(foreign.get("Nacionalidad"), "Encabezado/Receptor/Extranjero/Nacionalidad"),
        foreign_id=_text(foreign.get("NumId"), "Encabezado/Receptor/Extranjero/NumId"),
        phone=receiver_text("TelefonoRecep"),
        internal_code=receiver_text("CdgIntRecep"),
    )
    lines = [_line_from_dict(item, path) for path, item in _objects(data.get("Detalle"), "Detalle")]
    adjustments = [
        GlobalAdjustment(
            movement=_text(item.get("TpoMov", "D"), f"{path}/TpoMov"),
            value_type=_text(item.get("TpoValor", "%"), f"{path}/TpoValor"),
            value=_decimal(item.get("ValorDR"), f"{path}/ValorDR", Decimal(0)),
            description=_text(item.get("GlosaDR"), f"{path}/GlosaDR"),
            exempt=bool(_int(item.get("IndExeDR"), f"{path}/IndExeDR", 0)),
        )
        for path, item in _objects(data.get("DscRcgGlobal"), "DscRcgGlobal")
    ]
    references = [
        Reference(
            document_type=_text(item.get("TpoDocRef"), f"{path}/TpoDocRef"),
            folio=_text(item.get("FolioRef"), f"{path}/FolioRef"),
            date=_date(item.get("FchRef"), f"{path}/FchRef"),
            code=_int(item.get("CodRef"), f"{path}/CodRef"),
            reason=_text(item.get("RazonRef"), f"{path}/RazonRef"),
            global_reference=bool(_int(item.get("IndGlobal"), f"{path}/IndGlobal", 0)),
        )
        for path, item in _objects(data.get("Referencia"), "Referencia")
    ]
    return Document(
        document_type=document_type,
        folio=folio if folio is not None else _int(id_doc.get("Folio"), "Encabezado/IdDoc/Folio"),
        issue_date=issue_date or _date(id_doc.get("FchEmis"), "Encabezado/IdDoc/FchEmis", datetime.date.today()),
        issuer=issuer,
        receiver=receiver,
        lines=lines,
        global_adjustments=adjustments,
        references=references,
        payment_form=_int(id_doc.get("FmaPago"), "Encabezado/IdDoc/FmaPago"),
        due_date=_date(id_doc.get("FchVenc"), "Encabezado/IdDoc/FchVenc"),
        service_indicator=_int(id_doc.get("IndServicio"), "Encabezado/IdDoc/IndServicio"),
        net_prices=bool(_int(id_doc.get("IndMntNeto"), "Encabezado/IdDoc/IndMntNeto", 0)),
        dispatch_type=_int(id_doc.get("TipoDespacho"), "Encabezado/IdDoc/TipoDespacho"),
        transfer_indicator=_int(id_doc.get("IndTraslado"), "Encabezado/IdDoc/IndTraslado"),
        currency=_text(totals.get("TpoMoneda"), "Encabezado/Totales/TpoMoneda"),
        other_currency=_text(other_currency.get("TpoMoneda"), "Encabezado/OtraMoneda/TpoMoneda"),
        exchange_rate=_decimal(other_currency.get("TpoCambio"), "Encabezado/OtraMoneda/TpoCambio"),
        vat_rate=_decimal(totals.get("TasaIVA"), "Encabezado/Totales/TasaIVA", Decimal(19)),
        payments=[_payment_from_dict(item, path)
                  for path, item in _objects(id_doc.get("MntPagos"), "Encabezado/IdDoc/MntPagos")],
        payment_method=_payment_method(id_doc.get("MedioPago"), document_type),
        export_payment_form=_int(id_doc.get("FmaPagExp"), "Encabezado/IdDoc/FmaPagExp"),
        transport=_transport_from_dict(_object(header.get("Transporte"), "Encabezado/Transporte")),
        software_provider_rut=_text(header.get("RUTProvSW"), "Encabezado/RUTProvSW"),
    )


def _payment_from_dict(item, path):
    return Payment(
        date=_date(item.get("FchPago"), f"{path}/FchPago"),
        amount=_decimal(item.get("MntPago"), f"{path}/MntPago", Decimal(0)),
        description=_text(item.get("GlosaPagos"), f"{path}/GlosaPagos"),
    )


def _payment_method(value, document_type):
    """MedioPago: a number 1-5 on boletas, a code (EF, PE, TC…) on the other DTEs."""
    if value is None or value == "":
        return None
    if document_type in BOLETA_TYPES:
        return _int(value, "Encabezado/IdDoc/MedioPago")
    return _text(value, "Encabezado/IdDoc/MedioPago").strip().upper()


def _transport_from_dict(data):
    if not data:
        return None
    path = "Encabezado/Transporte"
    driver = _object(data.get("Chofer"), f"{path}/Chofer")
    customs = _object(data.get("Aduana"), f"{path}/Aduana")
    return Transport(
        plate=_text(data.get("Patente"), f"{path}/Patente"),
        carrier_rut=_text(data.get("RUTTrans"), f"{path}/RUTTrans"),
        driver_rut=_text(driver.get("RUTChofer"), f"{path}/Chofer/RUTChofer"),
        driver_name=_text(driver.get("NombreChofer"), f"{path}/Chofer/NombreChofer"),
        destination_address=_text(data.get("DirDest"), f"{path}/DirDest"),
        destination_commune=_text(data.get("CmnaDest"), f"{path}/CmnaDest"),
        destination_city=_text(data.get("CiudadDest"), f"{path}/CiudadDest"),
        customs=_customs_from_dict(customs) if customs else None,
    )


def _customs_from_dict(data):
    path = "Encabezado/Transporte/Aduana"
    values = {name: _read_tag(data, tag, kind, f"{path}/{tag}")
              for tag, name, kind, _length in CUSTOMS_TAGS if kind is not Package}
    values["packages"] = [
        Package(**{name: _read_tag(item, tag, kind, f"{item_path}/{tag}") for tag, name, kind, _length in PACKAGE_TAGS})
        for item_path, item in _objects(data.get("TipoBultos"), f"{path}/TipoBultos")
    ]
    return Customs(**values)


def _read_tag(data, tag, kind, path):
    value = data.get(tag)
    if kind is int:
        return _int(value, path)
    if kind is Decimal:
        return _decimal(value, path)
    return _text(value, path)


def _line_from_dict(item, path):
    code = item.get("CdgItem")
    if isinstance(code, list):
        code = code[0] if code else None
    code = _object(code, f"{path}/CdgItem")
    retention = _object(item.get("Retenedor"), f"{path}/Retenedor")
    return Line(
        name=_text(item.get("NmbItem"), f"{path}/NmbItem"),
        quantity=_decimal(item.get("QtyItem"), f"{path}/QtyItem", Decimal(1)),
        price=_decimal(item.get("PrcItem"), f"{path}/PrcItem", Decimal(0)),
        description=_text(item.get("DscItem"), f"{path}/DscItem"),
        unit=_text(item.get("UnmdItem"), f"{path}/UnmdItem"),
        exempt=bool(_int(item.get("IndExe"), f"{path}/IndExe", 0)),
        discount_percent=_decimal(item.get("DescuentoPct"), f"{path}/DescuentoPct"),
        discount_amount=_decimal(item.get("DescuentoMonto"), f"{path}/DescuentoMonto"),
        surcharge_percent=_decimal(item.get("RecargoPct"), f"{path}/RecargoPct"),
        surcharge_amount=_decimal(item.get("RecargoMonto"), f"{path}/RecargoMonto"),
        item_code=(_text(code.get("TpoCodigo"), f"{path}/CdgItem/TpoCodigo"),
                   _text(code.get("VlrCodigo"), f"{path}/CdgItem/VlrCodigo")) if code else None,
        additional_tax_code=_int(item.get("CodImpAdic"), f"{path}/CodImpAdic"),
        retention=_text(retention.get("IndAgente"), f"{path}/Retenedor/IndAgente"),
    )
