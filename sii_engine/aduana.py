"""The Aduana's code tables that export documents carry (``data/aduana``).

Each table maps a code to its gloss; ``data/aduana/README.md`` says where
each comes from. The tables are read once, on first use.
"""

import csv
import functools
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data" / "aduana"

SALE_MODALITIES = "modalidades_venta"  # CodModVenta
SALE_CLAUSES = "clausulas_venta"  # CodClauVenta
TRANSPORT_WAYS = "vias_transporte"  # CodViaTransp
PORTS = "puertos"  # CodPtoEmbarque, CodPtoDesemb
PACKAGE_TYPES = "tipos_bulto"  # CodTpoBultos
UNITS = "unidades"  # CodUnidMedTara, CodUnidPesoBruto, CodUnidPesoNeto
EXPORT_PAYMENT_FORMS = "formas_pago_exportacion"  # FmaPagExp
COUNTRIES = "paises"  # CodPaisRecep, CodPaisDestin, Nacionalidad
CURRENCIES = "monedas"  # TpoMoneda

TABLES = (SALE_MODALITIES, SALE_CLAUSES, TRANSPORT_WAYS, PORTS, PACKAGE_TYPES, UNITS, EXPORT_PAYMENT_FORMS, COUNTRIES)

# Which table each SII tag's code belongs to.
TABLE_OF_TAG = {
    "CodModVenta": SALE_MODALITIES,
    "CodClauVenta": SALE_CLAUSES,
    "CodViaTransp": TRANSPORT_WAYS,
    "CodPtoEmbarque": PORTS,
    "CodPtoDesemb": PORTS,
    "CodTpoBultos": PACKAGE_TYPES,
    "CodUnidMedTara": UNITS,
    "CodUnidPesoBruto": UNITS,
    "CodUnidPesoNeto": UNITS,
    "FmaPagExp": EXPORT_PAYMENT_FORMS,
    "CodPaisRecep": COUNTRIES,
    "CodPaisDestin": COUNTRIES,
    "Nacionalidad": COUNTRIES,
}


@functools.cache
def rows(table):
    """Every row of ``table`` as a dict of its CSV columns (``code`` as int where the table has codes)."""
    with (DATA_DIR / f"{table}.csv").open(encoding="utf-8", newline="") as stream:
        result = list(csv.DictReader(stream))
    for row in result:
        if row.get("code"):
            row["code"] = int(row["code"])
    return tuple(result)


@functools.cache
def codes(table):
    """``{code: gloss}`` of a code table."""
    return {row["code"]: row["name"] for row in rows(table)}


def is_code(tag, value):
    """Whether ``value`` is a code of the table the SII tag ``tag`` takes."""
    try:
        return int(value) in codes(TABLE_OF_TAG[tag])
    except (TypeError, ValueError):
        return False


@functools.cache
def _clause_by_incoterm():
    return {row["incoterm"]: row["code"] for row in rows(SALE_CLAUSES) if row["incoterm"]}


def sale_clause(incoterm):
    """The ``CodClauVenta`` of an Incoterms rule code (``"FOB"`` → 5), or None."""
    return _clause_by_incoterm().get((incoterm or "").strip().upper())


@functools.cache
def _country_by_iso():
    return {row["iso"]: row["code"] for row in rows(COUNTRIES) if row["iso"]}


def country(iso):
    """The Aduana's country code of an ISO 3166 alpha-2 code (``"US"`` → 225), or None."""
    return _country_by_iso().get((iso or "").strip().upper())


@functools.cache
def currency_names():
    """The currency names a DTE may carry in ``TpoMoneda`` (the schema's ``TipMonType``)."""
    return frozenset(row["name"] for row in rows(CURRENCIES))


@functools.cache
def _currency_by_iso():
    return {row["iso"]: row["name"] for row in rows(CURRENCIES) if row["iso"]}


def currency(iso):
    """The ``TpoMoneda`` of an ISO 4217 code (``"USD"`` → ``"DOLAR USA"``), or None."""
    return _currency_by_iso().get((iso or "").strip().upper())
