"""The SII's test set (*set de pruebas*) as the SII writes it, read into typed cases.

The SII hands a company that applies for certification a text file: sets
(``SET BASICO - NUMERO DE ATENCION: 4352553``) each holding numbered cases
(``CASO 4352553-1``) — a document type, a table of items, a global discount,
a reference to an earlier case with its reason — or, for the purchase book, a
table of received documents with the special rule each illustrates. The file
is ISO-8859-1 with tabs and runs of spaces as column separators (the manual
"Instructivo set de pruebas"; examples in the tests' fixtures).

The file comes from outside: its size and its lines are bounded, and every
line inside a case or a table is either understood or refused with a
:class:`~sii_engine.errors.SetFileError` naming its line number — the cases
become signed documents, so a line silently skipped would be a wrong one.
Free text between sets (the SII's instructions) is kept, not interpreted,
except for the few instructions the books depend on (the proportionality
factor of common-use VAT, the guías invoiced or cancelled).
"""

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .. import codes
from ..errors import SetFileError

MAX_BYTES = 1024 * 1024
MAX_LINE_LENGTH = 1000
MAX_CASES = 200
MAX_PURCHASES = 200

# Set kinds, by the words of the set's title (the first that matches).
BASICO = "basico"
LIBRO_VENTAS = "libro_ventas"
LIBRO_COMPRAS = "libro_compras"
GUIA_DESPACHO = "guia_despacho"
LIBRO_GUIAS = "libro_guias"
EXPORTACION_1 = "exportacion_1"
EXPORTACION_2 = "exportacion_2"
FACTURA_COMPRA = "factura_compra"
FACTURA_EXENTA = "factura_exenta"
BOLETA = "boleta"
_KINDS_BY_TITLE = (
    ("EXPORTACION (1)", EXPORTACION_1),
    ("EXPORTACION (2)", EXPORTACION_2),
    ("FACTURA DE COMPRA", FACTURA_COMPRA),
    ("LIBRO DE VENTAS", LIBRO_VENTAS),
    ("LIBRO DE COMPRAS", LIBRO_COMPRAS),
    ("LIBRO DE GUIAS", LIBRO_GUIAS),
    ("GUIA DE DESPACHO", GUIA_DESPACHO),
    ("EXENTA", FACTURA_EXENTA),
    ("BOLETA", BOLETA),
    ("BASICO", BASICO),
)
# A set without a title (the SII's cases pasted on their own) takes its kind from its documents.
_KINDS_BY_TYPE = (
    ({codes.FACTURA_EXPORTACION}, EXPORTACION_1),
    ({codes.FACTURA_COMPRA}, FACTURA_COMPRA),
    ({codes.GUIA_DESPACHO}, GUIA_DESPACHO),
    ({codes.FACTURA_EXENTA}, FACTURA_EXENTA),
    ({codes.BOLETA, codes.BOLETA_EXENTA}, BOLETA),
    ({codes.FACTURA}, BASICO),
)

# The documents of the cases, by the SII's names.
DOCUMENT_TYPES = {
    "FACTURA ELECTRONICA": codes.FACTURA,
    "FACTURA NO AFECTA O EXENTA ELECTRONICA": codes.FACTURA_EXENTA,
    "FACTURA EXENTA ELECTRONICA": codes.FACTURA_EXENTA,
    "FACTURA DE COMPRA ELECTRONICA": codes.FACTURA_COMPRA,
    "GUIA DE DESPACHO": codes.GUIA_DESPACHO,
    "GUIA DE DESPACHO ELECTRONICA": codes.GUIA_DESPACHO,
    "NOTA DE DEBITO ELECTRONICA": codes.NOTA_DEBITO,
    "NOTA DE CREDITO ELECTRONICA": codes.NOTA_CREDITO,
    "FACTURA DE EXPORTACION ELECTRONICA": codes.FACTURA_EXPORTACION,
    "NOTA DE DEBITO DE EXPORTACION ELECTRONICA": codes.NOTA_DEBITO_EXPORTACION,
    "NOTA DE CREDITO DE EXPORTACION ELECTRONICA": codes.NOTA_CREDITO_EXPORTACION,
    "BOLETA ELECTRONICA": codes.BOLETA,
    "BOLETA EXENTA ELECTRONICA": codes.BOLETA_EXENTA,
    "BOLETA NO AFECTA O EXENTA ELECTRONICA": codes.BOLETA_EXENTA,
}
# The received documents of the purchase book (TpoDoc of the IEC), paper ones included.
PURCHASE_TYPES = {
    "FACTURA": 30,
    "FACTURA EXENTA": 32,
    "NOTA DE DEBITO": 55,
    "NOTA DE CREDITO": 60,
    "FACTURA ELECTRONICA": codes.FACTURA,
    "FACTURA NO AFECTA O EXENTA ELECTRONICA": codes.FACTURA_EXENTA,
    "FACTURA DE COMPRA ELECTRONICA": codes.FACTURA_COMPRA,
    "NOTA DE DEBITO ELECTRONICA": codes.NOTA_DEBITO,
    "NOTA DE CREDITO ELECTRONICA": codes.NOTA_CREDITO,
}

# The purchase book's special rules, by the entry's observation.
RULE_CREDIT = "credit"  # a purchase of the business, with VAT credit
RULE_COMMON_USE = "common_use"  # IVAUsoComun, with the set's proportionality factor
RULE_DISCOUNT_NOTE = "discount_note"  # a credit note for a discount on an earlier invoice
RULE_FREE_DELIVERY = "free_delivery"  # IVANoRec code 4: a free delivery from the supplier
RULE_TOTAL_RETENTION = "total_retention"  # OtrosImp 15: VAT retained in full by the buyer
_PURCHASE_RULES = (
    (re.compile(r"DEL GIRO CON DERECHO A CREDITO$"), RULE_CREDIT),
    (re.compile(r"CON IVA USO COMUN$"), RULE_COMMON_USE),
    (re.compile(r"^NOTA DE CREDITO POR DESCUENTO (?:A )?FACTURA(?: ELECTRONICA)? (?P<folio>\d+)$"), RULE_DISCOUNT_NOTE),
    (re.compile(r"^ENTREGA GRATUITA DEL PROVEEDOR$"), RULE_FREE_DELIVERY),
    (re.compile(r"^COMPRA CON RETENCION TOTAL DEL IVA$"), RULE_TOTAL_RETENTION),
)

# A note's reason → CodRef: 1 annuls, 2 corrects a text, 3 corrects amounts.
_REFERENCE_CODES = (
    (re.compile(r"^ANULA\b"), codes.CODREF_ANNUL),
    (re.compile(r"^(?:CORRIGE|MODIFICA) (?:GIRO|TEXTO|RAZON SOCIAL|DIRECCION|NOMBRE)\b"), codes.CODREF_TEXT),
    (re.compile(r"^(?:DEVOLUCION\b|MODIFICA MONTO|CORRIGE MONTO|DESCUENTO\b|RECARGO\b)"), codes.CODREF_AMOUNTS),
)

# Guías: MOTIVO → IndTraslado, TRASLADO POR → TipoDespacho.
TRANSFER_INDICATORS = {
    "VENTA": 1,
    "VENTAS POR EFECTUAR": 2,
    "CONSIGNACION": 3,
    "ENTREGA GRATUITA": 4,
    "TRASLADO DE MATERIALES ENTRE BODEGAS DE LA EMPRESA": 5,
    "TRASLADOS INTERNOS": 5,
    "OTROS TRASLADOS NO VENTA": 6,
    "GUIA DE DEVOLUCION": 7,
    "TRASLADO PARA EXPORTACION": 8,
    "VENTA PARA EXPORTACION": 9,
}
DISPATCH_TYPES = {
    "CLIENTE": 1,
    "EMISOR DEL DOCUMENTO AL LOCAL DEL CLIENTE": 2,
    "EMISOR DEL DOCUMENTO A OTRAS INSTALACIONES": 3,
}

# The item table's columns → ItemLine fields.
_COLUMNS = {
    "CANTIDAD": "quantity",
    "PRECIO UNITARIO": "price",
    "VALOR UNITARIO": "price",
    "UNIDAD MEDIDA": "unit",
    "DESCUENTO ITEM": "discount_percent",
    "VALOR LINEA": "amount",
}
# The export block: "KEY:   value" → ExportData field (text as the SII writes it).
_EXPORT_KEYS = {
    "MONEDA DE LA OPERACION": "currency",
    "FORMA DE PAGO EXPORTACION": "payment_form",
    "MODALIDAD DE VENTA": "sale_modality",
    "CLAUSULA DE VENTA DE EXPORTACION": "sale_clause",
    "TOTAL CLAUSULA DE VENTA": "sale_clause_total",
    "VIA DE TRANSPORTE": "transport_way",
    "PUERTO DE EMBARQUE": "loading_port",
    "PUERTO DE DESEMBARQUE": "unloading_port",
    "UNIDAD DE MEDIDA DE TARA": "tare_unit",
    "UNIDAD PESO BRUTO": "gross_weight_unit",
    "UNIDAD PESO NETO": "net_weight_unit",
    "TIPO DE BULTO": "package_type",
    "TOTAL BULTOS": "total_packages",
    "FLETE (**)": "freight",
    "SEGURO (**)": "insurance",
    "PAIS RECEPTOR Y PAIS DESTINO": "country",
    "NACIONALIDAD": "nationality",
}
_EXPORT_AMOUNTS = {"sale_clause_total", "freight", "insurance", "total_packages"}


@dataclass(frozen=True)
class ItemLine:
    """One row of a case's item table."""

    name: str  # NmbItem, as the SII wrote it ("ITEM 3 SERVICIO EXENTO")
    quantity: Decimal = None  # CANTIDAD
    price: Decimal = None  # PRECIO/VALOR UNITARIO; None when the note takes the invoice's
    unit: str = ""  # UNIDAD MEDIDA
    discount_percent: Decimal = None  # DESCUENTO ITEM
    amount: Decimal = None  # VALOR LINEA: the line's value without a quantity (exports)
    exempt: bool = False  # the name says EXENTO
    line_no: int = 0
    reduce: Decimal = None  # boleta sets: how much a later note takes off this line (Rebajar)


@dataclass(frozen=True)
class CaseReference:
    """A note's ``REFERENCIA``: the earlier case it modifies, why, and the CodRef that reason means."""

    case_id: str  # "4352553-1"
    document_type: int  # the referenced case's document type
    reason: str  # RAZON REFERENCIA, as written
    code: int  # CodRef
    line_no: int = 0


@dataclass(frozen=True)
class GuideTransfer:
    """A guía's ``MOTIVO`` (IndTraslado) and ``TRASLADO POR`` (TipoDespacho)."""

    reason: str
    transfer_indicator: int
    dispatched_by: str = ""
    dispatch_type: int = None


@dataclass
class ExportData:
    """The export block of a case, as the SII names things (the issuer maps them to customs codes)."""

    references: list = field(default_factory=list)  # REFERENCIA: MIC, DUS, AWB, RESOLUCION SNA…
    currency: str = ""
    payment_form: str = ""
    sale_modality: str = ""
    sale_clause: str = ""
    sale_clause_total: Decimal = None
    transport_way: str = ""
    loading_port: str = ""
    unloading_port: str = ""
    tare_unit: str = ""
    gross_weight_unit: str = ""
    net_weight_unit: str = ""
    package_type: str = ""
    total_packages: Decimal = None
    freight: Decimal = None
    insurance: Decimal = None
    country: str = ""  # receiver's and destination country
    nationality: str = ""  # the receiver's nationality (services)
    commission_percent: Decimal = None  # global surcharge: % of the sale clause's total
    line_surcharge_percent: Decimal = None  # surcharge on every item line (commissions)
    line_discounts: dict = field(default_factory=dict)  # item number (1-based) → discount %


@dataclass
class Case:
    case_id: str  # "4352553-1": the attention number and the case's number
    document_type: int = None  # TipoDTE
    lines: list = field(default_factory=list)  # ItemLine
    global_discount_percent: Decimal = None  # DESCUENTO GLOBAL ITEMES AFECTOS
    reference: CaseReference = None
    transfer: GuideTransfer = None
    export: ExportData = None
    prices_from_reference: bool = False  # "LOS PRECIOS UNITARIOS … DEBEN SER LOS MISMOS DE LA FACTURA"
    line_no: int = 0
    annul: bool = False  # boleta sets: a later note annuls this boleta (Anular)

    @property
    def attention(self):
        return self.case_id.split("-")[0]

    @property
    def number(self):
        return int(self.case_id.split("-")[1])

    @property
    def reference_reason(self):
        """``RazonRef`` of the SET reference: "CASO 4352553-1"."""
        return f"CASO {self.case_id}"


@dataclass(frozen=True)
class PurchaseEntry:
    """One received document of the purchase-book set."""

    document_type: int  # TpoDoc
    folio: int  # NroDoc
    observation: str
    rule: str  # RULE_*
    exempt: Decimal = None  # MONTO EXENTO
    net: Decimal = None  # MONTO AFECTO
    referenced_folio: int = None  # the invoice a discount note refers to
    line_no: int = 0


@dataclass
class CertificationSet:
    kind: str
    attention: str  # NUMERO DE ATENCION: FolioNotificacion of its book, FolioRef of its documents
    title: str = ""
    cases: list = field(default_factory=list)
    purchases: list = field(default_factory=list)  # PurchaseEntry (LIBRO DE COMPRAS)
    proportionality_factor: Decimal = None  # common-use VAT (LIBRO DE COMPRAS)
    invoiced_cases: set = field(default_factory=set)  # LIBRO DE GUIAS: guías invoiced in the period
    cancelled_cases: set = field(default_factory=set)  # LIBRO DE GUIAS: guías cancelled
    instructions: list = field(default_factory=list)  # the SII's free text
    line_no: int = 0

    def case(self, case_id):
        return next((case for case in self.cases if case.case_id == case_id), None)


def normalized(text):
    """Upper case, no accents, single spaces: how names are compared.

    The SII's accents reach companies in every encoding, mangled ones included
    ("ATENCIï¿½N"): letters that are not ASCII after removing accents are dropped.
    """
    text = unicodedata.normalize("NFKD", text.upper())
    text = "".join(char for char in text if char.isascii() and not unicodedata.combining(char))
    return " ".join(text.split())


def decode(data):
    """The set's text: ISO-8859-1 as the SII writes it, or UTF-8 when it was converted."""
    if isinstance(data, str):
        return data
    if len(data) > MAX_BYTES:
        raise SetFileError(line=0, reason=f"the file is larger than {MAX_BYTES // 1024} KiB; is it a set de pruebas?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("iso-8859-1")


_SEPARATOR = re.compile(r"\s*\t\s*| {2,}")
_SET_HEADER = re.compile(r"^SET (?P<title>.+?) - NUMERO DE ATENCI[^:]*:\s*(?P<attention>\d+)\s*$")
_CASE_HEADER = re.compile(r"^CASO\s*(?P<attention>\d+)-(?P<number>\d+)\s*$")
_UNDERLINE = re.compile(r"^=+$")
_DASHES = re.compile(r"^-{10,}$")
_CASE_REFERENCE = re.compile(r"^(?P<type>.+?) CORRESPONDIENTE A CASO\s*(?P<case>\d+-\d+)$")
_PERCENT = re.compile(r"^(?P<value>\d+(?:[.,]\d+)?)\s*%$")
_GLOBAL_DISCOUNT = re.compile(r"^DESCUENTO GLOBAL ITEM(?:E)?S AFECTOS\s+(?P<value>\d+(?:[.,]\d+)?)\s*%$")
_LINE_SURCHARGE = re.compile(r"^%\s*(?P<value>\d+(?:[.,]\d+)?) RECARGO EN LA LINEA DE ITEM\b")
_COMMISSION = re.compile(
    r"^COMISIONES EN EL EXTRANJERO \(RECARGOS GLOBALES\):\s*(?P<value>\d+(?:[.,]\d+)?)\s*% DEL TOTAL DE LA CLAUSULA$")
_LINE_DISCOUNT = re.compile(r"^DESCUENTO LINEA # ?(?P<line>\d+):\s*(?P<value>\d+(?:[.,]\d+)?)\s*%$")
_SAME_PRICES = re.compile(
    r"^(?:EL PRECIO UNITARIO DEL ITEM DEBE SER EL MISMO|LOS PRECIOS UNITARIOS DE LOS ITEMS DEBEN SER LOS MISMOS) DE LA FACTURA$")
_EXEMPT = re.compile(r"\bEXENTO\b")
_FACTOR = re.compile(r"FACTOR DE PROPORCIONALIDAD (?:DEL IVA )?ES DE (?P<value>\d+(?:[.,]\d+)?)")
_GUIDE_CASE = re.compile(r"EL CASO (?P<number>\d+) CORRESPONDE A UNA GUIA (?P<what>QUE SE FACTURO EN EL PERIODO|ANULADA)")


def _number(text, line_no, what):
    text = text.strip().replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise SetFileError(line=line_no, reason=f"{what} must be a number, not {text!r}") from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e15"):
        raise SetFileError(line=line_no, reason=f"{what} {text!r} is out of range")
    return value


def _percent(text, line_no, what):
    match = _PERCENT.match(text.strip())
    if not match:
        raise SetFileError(line=line_no, reason=f"{what} must be a percentage such as 10%, not {text.strip()!r}")
    value = _number(match["value"], line_no, what)
    if value > 100:
        raise SetFileError(line=line_no, reason=f"{what} {text.strip()!r} is above 100%")
    return value


def _fields(text):
    return [part.strip() for part in _SEPARATOR.split(text.strip()) if part.strip()]


class _Parser:
    def __init__(self, text):
        self.lines = text.splitlines()
        self.sets = []
        self.current_set = None
        self.case = None
        self.columns = None  # the item table being read
        self.purchase_state = None  # None, "header", "entries"
        self.entry = []  # the lines of the purchase entry being read

    def parse(self):
        for line_no, raw in enumerate(self.lines, 1):
            if len(raw) > MAX_LINE_LENGTH:
                raise SetFileError(line=line_no, reason=f"the line is longer than {MAX_LINE_LENGTH} characters")
            self._line(line_no, raw, normalized(raw))
        self._close_entry(len(self.lines))
        if self.purchase_state == "header":
            raise SetFileError(line=len(self.lines), reason="the purchase book's table has no entries")
        for test_set in self.sets:
            self._finish_set(test_set)
        if not self.sets:
            raise SetFileError(line=len(self.lines), reason="no SET header nor CASO found: is this a set de pruebas?")
        return self.sets

    # --- structure -----------------------------------------------------------------

    def _line(self, line_no, raw, text):
        header = _SET_HEADER.match(text)
        if header:
            self._close_entry(line_no)
            self.case = self.columns = self.purchase_state = None
            kind = next((kind for words, kind in _KINDS_BY_TITLE if words in header["title"]), None)
            if kind is None:
                raise SetFileError(line=line_no, reason=f"the set {header['title']!r} is not a kind the SII hands out")
            self.current_set = CertificationSet(
                kind=kind, attention=header["attention"], title=header["title"], line_no=line_no)
            self.sets.append(self.current_set)
            return
        case = _CASE_HEADER.match(text)
        if case:
            self._start_case(line_no, case)
            return
        if self.case is not None:
            self._case_line(line_no, raw, text)
        elif self.current_set is not None and self.current_set.kind == LIBRO_COMPRAS and (
                self.purchase_state or _UNDERLINE.match(text) and not self.current_set.purchases):
            self._purchase_line(line_no, raw, text)
        elif self.current_set is not None and text:
            self.current_set.instructions.append(text)

    def _start_case(self, line_no, match):
        self.columns = None
        attention = match["attention"]
        if self.current_set is None or self.current_set.attention != attention:
            if self.current_set is not None and self.current_set.title:
                raise SetFileError(line=line_no, reason=f"the case belongs to attention number {attention}, "
                                                        f"not to the set's {self.current_set.attention}")
            self.current_set = CertificationSet(kind="", attention=attention, line_no=line_no)
            self.sets.append(self.current_set)
        case_id = f"{attention}-{int(match['number'])}"
        if self.current_set.case(case_id):
            raise SetFileError(line=line_no, reason=f"the case {case_id} appears twice")
        if len(self.current_set.cases) >= MAX_CASES:
            raise SetFileError(line=line_no, reason=f"a set holds at most {MAX_CASES} cases")
        self.case = Case(case_id=case_id, line_no=line_no)
        self.current_set.cases.append(self.case)

    # --- cases -----------------------------------------------------------------------

    def _case_line(self, line_no, raw, text):
        case = self.case
        if not text:
            self.columns = None
            return
        if _DASHES.match(text):
            self.case = self.columns = None
            return
        if self.columns is not None:
            self._item_line(line_no, raw, text)
            return
        if _UNDERLINE.match(text):
            return
        head, _, rest = raw.strip().partition("\t")
        key = normalized(head)
        value = normalized(rest)
        if key == "DOCUMENTO":
            if case.document_type is not None:
                raise SetFileError(line=line_no, reason="the case names its DOCUMENTO twice")
            case.document_type = DOCUMENT_TYPES.get(value)
            if case.document_type is None:
                raise SetFileError(line=line_no, reason=f"{rest.strip()!r} is not a document type of the SII's sets")
        elif key == "REFERENCIA":
            self._reference(line_no, value)
        elif key == "RAZON REFERENCIA":
            self._reason(line_no, rest.strip(), value)
        elif normalized(_fields(raw)[0]) == "ITEM":
            self._table_header(line_no, raw)
        elif key in ("MOTIVO:", "TRASLADO POR:"):
            self._transfer(line_no, key, rest.strip(), value)
        else:
            self._case_text(line_no, text)

    def _case_text(self, line_no, text):
        case = self.case
        match = _GLOBAL_DISCOUNT.match(text)
        if match:
            case.global_discount_percent = _percent(match["value"] + "%", line_no, "the global discount")
            return
        if _SAME_PRICES.match(text):
            case.prices_from_reference = True
            return
        for pattern, handler in ((_LINE_SURCHARGE, self._line_surcharge), (_COMMISSION, self._commission),
                                 (_LINE_DISCOUNT, self._line_discount)):
            match = pattern.match(text)
            if match:
                handler(line_no, match)
                return
        key, colon, value = text.partition(":")
        key = key.strip()
        if colon and (key == "REFERENCIA" or key in _EXPORT_KEYS):
            self._export_field(line_no, key, value.strip())
            return
        raise SetFileError(line=line_no, reason=f"the line {text!r} of case {case.case_id} is not a layout the "
                                                "SII's sets use")

    def _reference(self, line_no, value):
        match = _CASE_REFERENCE.match(value)
        if not match:
            raise SetFileError(line=line_no, reason="REFERENCIA must read '<document> CORRESPONDIENTE A CASO <n>-<m>'")
        referenced = self.current_set.case(_case_id(match["case"]))
        if referenced is None or referenced is self.case:
            raise SetFileError(line=line_no, reason=f"the case {match['case']} is not an earlier case of this set")
        self.case.reference = CaseReference(
            case_id=referenced.case_id, document_type=referenced.document_type, reason="", code=None,
            line_no=line_no)

    def _reason(self, line_no, reason, value):
        reference = self.case.reference
        if reference is None:
            raise SetFileError(line=line_no, reason="RAZON REFERENCIA comes before the REFERENCIA it explains")
        code = next((code for pattern, code in _REFERENCE_CODES if pattern.match(value)), None)
        if code is None:
            raise SetFileError(line=line_no, reason=f"the reason {reason!r} neither annuls, corrects a text nor "
                                                    "corrects amounts")
        self.case.reference = CaseReference(
            case_id=reference.case_id, document_type=reference.document_type, reason=reason, code=code,
            line_no=reference.line_no)

    def _transfer(self, line_no, key, written, value):
        transfer = self.case.transfer
        if key == "MOTIVO:":
            indicator = TRANSFER_INDICATORS.get(value)
            if indicator is None:
                raise SetFileError(line=line_no, reason=f"the MOTIVO {written!r} is not a kind of transfer (IndTraslado)")
            self.case.transfer = GuideTransfer(reason=written, transfer_indicator=indicator)
            return
        dispatch = DISPATCH_TYPES.get(value)
        if transfer is None or dispatch is None:
            raise SetFileError(line=line_no, reason=f"TRASLADO POR {written!r} must follow a MOTIVO and be one of "
                                                    + ", ".join(DISPATCH_TYPES))
        self.case.transfer = GuideTransfer(reason=transfer.reason, transfer_indicator=transfer.transfer_indicator,
                                           dispatched_by=written, dispatch_type=dispatch)

    def _table_header(self, line_no, raw):
        names = [normalized(name) for name in _fields(raw)[1:]]
        unknown = [name for name in names if name not in _COLUMNS]
        if unknown or not names:
            raise SetFileError(line=line_no, reason=f"the item table's columns {unknown or names} are not known")
        if self.case.lines:
            raise SetFileError(line=line_no, reason="the case has a second item table")
        self.columns = names

    def _item_line(self, line_no, raw, text):
        if len(self.case.lines) >= codes.MAX_LINES:
            raise SetFileError(line=line_no, reason=f"a case holds at most {codes.MAX_LINES} items")
        parts = _fields(raw)
        if len(parts) != len(self.columns) + 1:
            raise SetFileError(line=line_no, reason=f"the item row has {len(parts)} fields; the table's header "
                                                    f"asks for {len(self.columns) + 1} (ITEM, {', '.join(self.columns)})")
        name, values = parts[0], {}
        for column, value in zip(self.columns, parts[1:], strict=True):
            target = _COLUMNS[column]
            if target == "unit":
                values[target] = value[:4]
            elif target == "discount_percent":
                values[target] = _percent(value, line_no, "DESCUENTO ITEM")
            else:
                values[target] = _number(value, line_no, column)
        self.case.lines.append(ItemLine(name=name, exempt=bool(_EXEMPT.search(normalized(name))),
                                        line_no=line_no, **values))

    # --- exports ---------------------------------------------------------------------

    def _export(self):
        if self.case.export is None:
            self.case.export = ExportData()
        return self.case.export

    def _export_field(self, line_no, key, value):
        export = self._export()
        if not value:
            raise SetFileError(line=line_no, reason=f"{key} has no value")
        if key == "REFERENCIA":
            export.references.append(value)
            return
        target = _EXPORT_KEYS[key]
        setattr(export, target, _number(value, line_no, key) if target in _EXPORT_AMOUNTS else value)

    def _line_surcharge(self, line_no, match):
        self._export().line_surcharge_percent = _percent(match["value"] + "%", line_no, "the line surcharge")

    def _commission(self, line_no, match):
        self._export().commission_percent = _percent(match["value"] + "%", line_no, "the commission")

    def _line_discount(self, line_no, match):
        self._export().line_discounts[int(match["line"])] = _percent(match["value"] + "%", line_no, "the discount")

    # --- the purchase book -------------------------------------------------------------

    def _purchase_line(self, line_no, raw, text):
        if _UNDERLINE.match(text):
            self._close_entry(line_no)
            self.purchase_state = {None: "header", "header": "entries", "entries": None}[self.purchase_state]
            return
        if self.purchase_state == "header":
            if text not in ("TIPO DOCUMENTO FOLIO", "OBSERVACIONES", "MONTO EXENTO MONTO AFECTO"):
                raise SetFileError(line=line_no, reason=f"{text!r} is not a column of the purchase book's table")
            return
        if not text:
            self._close_entry(line_no)
            return
        self.entry.append((line_no, raw))
        if len(self.entry) > 3:
            raise SetFileError(line=line_no, reason="a purchase entry has three lines: type and folio, "
                                                    "observation, exempt and taxed amounts")

    def _close_entry(self, line_no):
        if not self.entry:
            return
        entry, self.entry = self.entry, []
        first_no = entry[0][0]
        if len(entry) != 3:
            raise SetFileError(line=entry[-1][0], reason="a purchase entry has three lines: type and folio, "
                                                         "observation, exempt and taxed amounts")
        if len(self.current_set.purchases) >= MAX_PURCHASES:
            raise SetFileError(line=first_no, reason=f"the purchase book holds at most {MAX_PURCHASES} entries")
        (type_no, type_line), (_obs_no, observation), (amount_no, amounts) = entry
        parts = _fields(type_line)
        document_type = PURCHASE_TYPES.get(normalized(" ".join(parts[:-1])))
        if len(parts) < 2 or document_type is None or not parts[-1].isdigit():
            raise SetFileError(line=type_no, reason=f"{type_line.strip()!r} must be a document type and its folio")
        observation = normalized(observation)
        rule, referenced = None, None
        for pattern, candidate in _PURCHASE_RULES:
            match = pattern.search(observation)
            if match:
                rule, referenced = candidate, int(match["folio"]) if "folio" in match.re.groupindex else None
                break
        if rule is None:
            raise SetFileError(line=_obs_no, reason=f"the observation {observation!r} is not a rule the purchase "
                                                    "book knows")
        exempt_text, _, net_text = amounts.partition("\t")
        values = _fields(net_text)
        if len(values) > 1 or not exempt_text.strip() and not values:
            raise SetFileError(line=amount_no, reason="the amounts line must hold the exempt amount, the taxed "
                                                      "amount or both")
        exempt = _number(exempt_text, amount_no, "MONTO EXENTO") if exempt_text.strip() else None
        net = _number(values[0], amount_no, "MONTO AFECTO") if values else None
        self.current_set.purchases.append(PurchaseEntry(
            document_type=document_type, folio=int(parts[-1]), observation=observation, rule=rule,
            exempt=exempt, net=net, referenced_folio=referenced, line_no=first_no))

    # --- after the last line -----------------------------------------------------------

    def _finish_set(self, test_set):
        for case in test_set.cases:
            if case.document_type is None:
                raise SetFileError(line=case.line_no, reason=f"the case {case.case_id} names no DOCUMENTO")
            if case.reference and case.reference.code is None:
                raise SetFileError(line=case.reference.line_no, reason="the REFERENCIA has no RAZON REFERENCIA")
            if case.document_type in codes.NOTE_TYPES and case.reference is None:
                raise SetFileError(line=case.line_no, reason=f"the note of case {case.case_id} has no REFERENCIA")
            if not case.lines and not case.reference:
                raise SetFileError(line=case.line_no, reason=f"the case {case.case_id} has no items")
        if not test_set.kind:
            types = {case.document_type for case in test_set.cases}
            test_set.kind = next((kind for wanted, kind in _KINDS_BY_TYPE if types & wanted), BASICO)
        text = " ".join(test_set.instructions)
        factor = _FACTOR.search(text)
        if factor:
            test_set.proportionality_factor = _number(factor["value"], test_set.line_no, "the proportionality factor")
        if test_set.kind == LIBRO_COMPRAS:
            if not test_set.purchases:
                raise SetFileError(line=test_set.line_no, reason="the purchase book set has no entries")
            if any(entry.rule == RULE_COMMON_USE for entry in test_set.purchases) and (
                    test_set.proportionality_factor is None or test_set.proportionality_factor > 1):
                raise SetFileError(line=test_set.line_no, reason="common-use VAT needs the set's proportionality "
                                                                 "factor (between 0 and 1)")
        for match in _GUIDE_CASE.finditer(text):
            cancelled = match["what"] == "ANULADA"
            (test_set.cancelled_cases if cancelled else test_set.invoiced_cases).add(int(match["number"]))


def _case_id(text):
    attention, number = text.split("-")
    return f"{attention}-{int(number)}"


def parse_set_file(data):
    """Every set of an SII set-de-pruebas file (bytes or text) as :class:`CertificationSet`."""
    return _Parser(decode(data)).parse()


# --- boleta sets ---------------------------------------------------------------------------
#
# The boleta set as LibreDTE's example writes it: a CSV (";") with the columns
# Folio;IndExe;NmbItem;QtyItem;UnmdItem;PrcItem;Anular;Rebajar. A row with a Folio opens
# a case (a boleta); the rows after it without one are its further lines.

BOLETA_COLUMNS = ("Folio", "IndExe", "NmbItem", "QtyItem", "UnmdItem", "PrcItem", "Anular", "Rebajar")


def parse_boleta_set(data, attention="BOLETA"):
    """The cases of a boleta set (CSV) as one :class:`CertificationSet` of kind :data:`BOLETA`."""
    text = decode(data)
    rows = csv.reader(text.splitlines(), delimiter=";")
    header = next(rows, None)
    if header is None or tuple(column.strip() for column in header) != BOLETA_COLUMNS:
        raise SetFileError(line=1, reason="the boleta set's header must be " + ";".join(BOLETA_COLUMNS))
    test_set = CertificationSet(kind=BOLETA, attention=attention, line_no=1)
    for line_no, row in enumerate(rows, 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(BOLETA_COLUMNS) or any(len(cell) > MAX_LINE_LENGTH for cell in row):
            raise SetFileError(line=line_no, reason=f"a boleta row has {len(BOLETA_COLUMNS)} fields separated by ';'")
        folio, exempt, name, quantity, unit, price, annul, reduce = (cell.strip() for cell in row)
        if folio:
            if not folio.isdigit() or len(test_set.cases) >= MAX_CASES:
                raise SetFileError(line=line_no, reason=f"the case number {folio!r} must be a number "
                                                        f"(at most {MAX_CASES} cases)")
            case_id = f"{attention}-{int(folio)}"
            if test_set.case(case_id):
                raise SetFileError(line=line_no, reason=f"the case {folio} appears twice")
            test_set.cases.append(Case(case_id=case_id, document_type=codes.BOLETA, line_no=line_no,
                                       annul=annul == "1"))
        elif not test_set.cases:
            raise SetFileError(line=line_no, reason="the first row must open a case (its Folio)")
        elif annul:
            raise SetFileError(line=line_no, reason="Anular applies to a whole boleta: give it on its first row")
        case = test_set.cases[-1]
        if exempt not in ("", "1") or annul not in ("", "1") or not name:
            raise SetFileError(line=line_no, reason="IndExe and Anular are empty or 1, and NmbItem is required")
        if len(case.lines) >= codes.MAX_BOLETA_LINES:
            raise SetFileError(line=line_no, reason=f"a boleta holds at most {codes.MAX_BOLETA_LINES} lines")
        case.lines.append(ItemLine(
            name=name, quantity=_number(quantity, line_no, "QtyItem"), price=_number(price, line_no, "PrcItem"),
            unit=unit[:4], exempt=exempt == "1", line_no=line_no,
            reduce=_number(reduce, line_no, "Rebajar") if reduce else None))
    if not test_set.cases:
        raise SetFileError(line=1, reason="the boleta set has no cases")
    return test_set
