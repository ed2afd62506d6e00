"""The plain data a DTE is built from.

A :class:`Document` is what an invoice, a credit note or a POS order becomes
before it is XML. Amounts are :class:`~decimal.Decimal`; the builder computes
the totals by the SII's rules (see :mod:`sii_engine.totals`). Field names are
English; the docstrings give the SII tag each one becomes.

:func:`document_from_dict` reads the same data written with the SII's own tag
names (``Encabezado``/``IdDoc``/``TipoDTE``…), the JSON format the CLI takes.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .errors import DocumentError

FACTURA = 33
FACTURA_EXENTA = 34
BOLETA = 39
BOLETA_EXENTA = 41
FACTURA_COMPRA = 46
GUIA_DESPACHO = 52
NOTA_DEBITO = 56
NOTA_CREDITO = 61
FACTURA_EXPORTACION = 110
NOTA_DEBITO_EXPORTACION = 111
NOTA_CREDITO_EXPORTACION = 112

BOLETA_TYPES = frozenset({BOLETA, BOLETA_EXENTA})
EXPORT_TYPES = frozenset({FACTURA_EXPORTACION, NOTA_DEBITO_EXPORTACION, NOTA_CREDITO_EXPORTACION})
EXEMPT_TYPES = frozenset({FACTURA_EXENTA, BOLETA_EXENTA}) | EXPORT_TYPES
SUPPORTED_TYPES = frozenset({33, 34, 39, 41, 46, 52, 56, 61, 110, 111, 112})

MAX_LINES = 60
MAX_BOLETA_LINES = 1000

# SII reference codes (CodRef) for credit and debit notes.
CODREF_ANNUL = 1
CODREF_TEXT = 2
CODREF_AMOUNTS = 3


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


def _as_list(value):
    if value is None or value is False:
        return []
    return value if isinstance(value, list) else [value]


def _decimal(value, what, default=None):
    if value is None or value is False or value == "":
        return default
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DocumentError(reason=f"{what} must be a number, got {value!r}") from None


def _date(value, what, default=None):
    if not value:
        return default
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise DocumentError(reason=f"{what} must be a date YYYY-MM-DD, got {value!r}") from None


def _int(value, what, default=None):
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DocumentError(reason=f"{what} must be a whole number, got {value!r}") from None


def document_from_dict(data, folio=None, issue_date=None):
    """Build a :class:`Document` from a dict keyed by the SII's tag names."""
    if not isinstance(data, dict) or "Encabezado" not in data:
        raise DocumentError(reason="the document must have an 'Encabezado'")
    header = data["Encabezado"]
    id_doc = header.get("IdDoc") or {}
    issuer_data = header.get("Emisor") or {}
    receiver_data = header.get("Receptor") or {}
    totals = header.get("Totales") or {}
    other_currency = header.get("OtraMoneda") or {}
    foreign = receiver_data.get("Extranjero") or {}
    document_type = _int(id_doc.get("TipoDTE"), "TipoDTE")
    acteco = _as_list(issuer_data.get("Acteco"))
    issuer = Issuer(
        rut=issuer_data.get("RUTEmisor", ""),
        name=issuer_data.get("RznSoc") or issuer_data.get("RznSocEmisor") or "",
        activity=issuer_data.get("GiroEmis") or issuer_data.get("GiroEmisor") or "",
        economic_activities=tuple(_int(code, "Acteco") for code in acteco),
        address=issuer_data.get("DirOrigen", ""),
        commune=issuer_data.get("CmnaOrigen", ""),
        city=issuer_data.get("CiudadOrigen", ""),
        branch_code=_int(issuer_data.get("CdgSIISucur"), "CdgSIISucur"),
        email=issuer_data.get("CorreoEmisor", ""),
        phone=str(issuer_data.get("Telefono", "")),
    )
    receiver = Receiver(
        rut=receiver_data.get("RUTRecep", ""),
        name=receiver_data.get("RznSocRecep", ""),
        activity=receiver_data.get("GiroRecep", ""),
        address=receiver_data.get("DirRecep", ""),
        commune=receiver_data.get("CmnaRecep", ""),
        city=receiver_data.get("CiudadRecep", ""),
        email=receiver_data.get("CorreoRecep", ""),
        contact=receiver_data.get("Contacto", ""),
        nationality=str(foreign.get("Nacionalidad", "")),
        foreign_id=str(foreign.get("NumId", "")),
        phone=str(receiver_data.get("TelefonoRecep", "")),
        internal_code=str(receiver_data.get("CdgIntRecep", "")),
    )
    lines = [_line_from_dict(item, index) for index, item in enumerate(_as_list(data.get("Detalle")), 1)]
    adjustments = [
        GlobalAdjustment(
            movement=item.get("TpoMov", "D"),
            value_type=item.get("TpoValor", "%"),
            value=_decimal(item.get("ValorDR"), "ValorDR", Decimal(0)),
            description=item.get("GlosaDR", ""),
            exempt=bool(_int(item.get("IndExeDR"), "IndExeDR", 0)),
        )
        for item in _as_list(data.get("DscRcgGlobal"))
    ]
    references = [
        Reference(
            document_type=str(item.get("TpoDocRef", "")),
            folio=str(item.get("FolioRef", "")),
            date=_date(item.get("FchRef"), "FchRef"),
            code=_int(item.get("CodRef"), "CodRef"),
            reason=item.get("RazonRef", ""),
            global_reference=bool(_int(item.get("IndGlobal"), "IndGlobal", 0)),
        )
        for item in _as_list(data.get("Referencia"))
    ]
    return Document(
        document_type=document_type,
        folio=folio if folio is not None else _int(id_doc.get("Folio"), "Folio"),
        issue_date=issue_date or _date(id_doc.get("FchEmis"), "FchEmis", datetime.date.today()),
        issuer=issuer,
        receiver=receiver,
        lines=lines,
        global_adjustments=adjustments,
        references=references,
        payment_form=_int(id_doc.get("FmaPago"), "FmaPago"),
        due_date=_date(id_doc.get("FchVenc"), "FchVenc"),
        service_indicator=_int(id_doc.get("IndServicio"), "IndServicio"),
        net_prices=bool(_int(id_doc.get("IndMntNeto"), "IndMntNeto", 0)),
        dispatch_type=_int(id_doc.get("TipoDespacho"), "TipoDespacho"),
        transfer_indicator=_int(id_doc.get("IndTraslado"), "IndTraslado"),
        currency=totals.get("TpoMoneda", ""),
        other_currency=other_currency.get("TpoMoneda", ""),
        exchange_rate=_decimal(other_currency.get("TpoCambio"), "TpoCambio"),
        vat_rate=_decimal(totals.get("TasaIVA"), "TasaIVA", Decimal(19)),
        payments=[_payment_from_dict(item, index) for index, item in enumerate(_as_list(id_doc.get("MntPagos")), 1)],
        payment_method=_payment_method(id_doc.get("MedioPago"), document_type),
        export_payment_form=_int(id_doc.get("FmaPagExp"), "FmaPagExp"),
        transport=_transport_from_dict(header.get("Transporte")),
        software_provider_rut=str(header.get("RUTProvSW") or ""),
    )


def _payment_from_dict(item, index):
    return Payment(
        date=_date(item.get("FchPago"), f"FchPago of MntPagos {index}"),
        amount=_decimal(item.get("MntPago"), f"MntPago of MntPagos {index}", Decimal(0)),
        description=item.get("GlosaPagos", "") or "",
    )


def _payment_method(value, document_type):
    """MedioPago: a number 1-5 on boletas, a code (EF, PE, TC…) on the other DTEs."""
    if value is None or value == "":
        return None
    if document_type in BOLETA_TYPES:
        return _int(value, "MedioPago")
    return str(value).strip().upper()


def _transport_from_dict(data):
    if not data:
        return None
    driver = data.get("Chofer") or {}
    customs = data.get("Aduana")
    return Transport(
        plate=data.get("Patente", "") or "",
        carrier_rut=data.get("RUTTrans", "") or "",
        driver_rut=driver.get("RUTChofer", "") or "",
        driver_name=driver.get("NombreChofer", "") or "",
        destination_address=data.get("DirDest", "") or "",
        destination_commune=data.get("CmnaDest", "") or "",
        destination_city=data.get("CiudadDest", "") or "",
        customs=_customs_from_dict(customs) if customs else None,
    )


def _customs_from_dict(data):
    values = {name: _read_tag(data, tag, kind) for tag, name, kind, _length in CUSTOMS_TAGS if kind is not Package}
    values["packages"] = [
        Package(**{name: _read_tag(item, tag, kind, f" of TipoBultos {index}") for tag, name, kind, _length in PACKAGE_TAGS})
        for index, item in enumerate(_as_list(data.get("TipoBultos")), 1)
    ]
    return Customs(**values)


def _read_tag(data, tag, kind, where=""):
    value = data.get(tag)
    if kind is int:
        return _int(value, tag + where)
    if kind is Decimal:
        return _decimal(value, tag + where)
    return str(value or "")


def _line_from_dict(item, index):
    code = item.get("CdgItem")
    if isinstance(code, list):
        code = code[0] if code else None
    retention = item.get("Retenedor") or {}
    return Line(
        name=item.get("NmbItem", ""),
        quantity=_decimal(item.get("QtyItem"), f"QtyItem of line {index}", Decimal(1)),
        price=_decimal(item.get("PrcItem"), f"PrcItem of line {index}", Decimal(0)),
        description=item.get("DscItem", "") or "",
        unit=item.get("UnmdItem", ""),
        exempt=bool(_int(item.get("IndExe"), "IndExe", 0)),
        discount_percent=_decimal(item.get("DescuentoPct"), f"DescuentoPct of line {index}"),
        discount_amount=_decimal(item.get("DescuentoMonto"), f"DescuentoMonto of line {index}"),
        surcharge_percent=_decimal(item.get("RecargoPct"), f"RecargoPct of line {index}"),
        surcharge_amount=_decimal(item.get("RecargoMonto"), f"RecargoMonto of line {index}"),
        item_code=(str(code.get("TpoCodigo", "")), str(code.get("VlrCodigo", ""))) if code else None,
        additional_tax_code=_int(item.get("CodImpAdic"), "CodImpAdic"),
        retention=retention.get("IndAgente", "") if isinstance(retention, dict) else "",
    )
