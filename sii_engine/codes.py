"""The SII's document codes and the rules that hang on them, in one place.

Which types are boletas, exports, notes; how many lines each may hold; the
reasons a reference gives; the names and legends the SII prescribes for the
printed document. The Odoo addon, its reports and the POS import them from
here rather than declaring them again.

Sources: "Formato Documentos Tributarios Electrónicos" (TipoDTE, CodRef, the
60-line detail limit), "Formato Boletas Electrónicas" (1000 lines), and the
"Manual de muestras impresas" (manual_upload, §1.1.4 and §1.5: the names in
the document box and the legends under the stamp).
"""

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
# Credit and debit notes: they must cite the document they modify.
NOTE_TYPES = frozenset({NOTA_DEBITO, NOTA_CREDITO, NOTA_DEBITO_EXPORTACION, NOTA_CREDITO_EXPORTACION})
SUPPORTED_TYPES = frozenset({33, 34, 39, 41, 46, 52, 56, 61, 110, 111, 112})

MAX_LINES = 60
MAX_BOLETA_LINES = 1000

# SII reference codes (CodRef) for credit and debit notes, and the reason (RazonRef) each gives
# by default: the SII's own Spanish wording, whatever the user's language.
CODREF_ANNUL = 1
CODREF_TEXT = 2
CODREF_AMOUNTS = 3
REFERENCE_REASONS = {CODREF_ANNUL: "Anula documento", CODREF_TEXT: "Corrige texto", CODREF_AMOUNTS: "Corrige montos"}

# The document's name in the SII box of its printed copy: legal text, the same in every language.
DOCUMENT_NAMES = {
    FACTURA: "FACTURA ELECTRÓNICA",
    FACTURA_EXENTA: "FACTURA NO AFECTA O EXENTA ELECTRÓNICA",
    BOLETA: "BOLETA ELECTRÓNICA",
    BOLETA_EXENTA: "BOLETA NO AFECTA O EXENTA ELECTRÓNICA",
    FACTURA_COMPRA: "FACTURA DE COMPRA ELECTRÓNICA",
    GUIA_DESPACHO: "GUÍA DE DESPACHO ELECTRÓNICA",
    NOTA_DEBITO: "NOTA DE DÉBITO ELECTRÓNICA",
    NOTA_CREDITO: "NOTA DE CRÉDITO ELECTRÓNICA",
    FACTURA_EXPORTACION: "FACTURA DE EXPORTACIÓN ELECTRÓNICA",
    NOTA_DEBITO_EXPORTACION: "NOTA DE DÉBITO DE EXPORTACIÓN ELECTRÓNICA",
    NOTA_CREDITO_EXPORTACION: "NOTA DE CRÉDITO DE EXPORTACIÓN ELECTRÓNICA",
}

# The legends printed under the stamp (manual_upload §1.5), untranslated.
STAMP_LEGEND = "Timbre Electrónico SII"
VERIFY_LEGEND = "Verifique documento: www.sii.cl"


def is_boleta(document_type):
    return int(document_type) in BOLETA_TYPES


def is_export(document_type):
    return int(document_type) in EXPORT_TYPES


def is_note(document_type):
    return int(document_type) in NOTE_TYPES


def max_lines(document_type):
    """How many detail lines (``Detalle``) the SII accepts on a document of this type."""
    return MAX_BOLETA_LINES if is_boleta(document_type) else MAX_LINES


def resolution_legend(number, date):
    """The line under the stamp naming the resolution that authorises the issuer: "Res. N° 80 de 2014".

    The manual's example is "Res. 158 de 2010"; "N°" before the number is the usual print.
    ``date`` is the resolution's date (or its year); without it the year is left out.
    """
    year = getattr(date, "year", date)
    return f"Res. N° {number or 0} de {year}" if year else f"Res. N° {number or 0}"
