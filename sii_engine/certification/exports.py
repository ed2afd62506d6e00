"""The export cases of a test set (EXPORTACION 1 and 2) as export documents.

The set names customs data the way the Aduana's tables gloss it ("DOLAR USA",
"FOB", "AEREO", "ARICA", "CONTENEDOR REFRIGERADO"): each is looked up in the
engine's copy of those tables (:mod:`sii_engine.aduana`) by its accent-free,
upper-case name, and a name not found is an error naming the case.

The set's instructions, applied here: freight and insurance go in the
``Aduana`` fields and also as two global surcharges; the commissions abroad
are a global surcharge of a percentage of the sale clause's total; a line
surcharge or discount applies to the lines it names; a case whose items have
a value but no quantity sells services (``IndServicio`` 3), and one that
names the receiver's nationality only sells hotel services (4). The
documents the set cites (MIC, DUS, AWB, the SNA's resolution) are references
with the SII's codes for them.
"""

from .. import aduana
from ..document import Customs, GlobalAdjustment, Package, Transport
from ..errors import DocumentError
from ..totals import round_amount
from .setfile import normalized

SERVICES = 3
HOTEL_SERVICES = 4
# TpoDocRef of the documents an export cites (formato_dte, Referencias: 807 DUS … 812 SNA resolution).
EXPORT_REFERENCE_TYPES = {
    "DUS": "807",
    "B/L": "808",
    "AWB": "809",
    "MIC": "810",
    "MIC (MANIFIESTO INTERNACIONAL)": "810",
    "MIC/DTA": "810",
    "RESOLUCION SNA": "812",
}
_TABLES = (
    ("sale_modality", aduana.SALE_MODALITIES),
    ("transport_way", aduana.TRANSPORT_WAYS),
    ("loading_port", aduana.PORTS),
    ("unloading_port", aduana.PORTS),
    ("tare_unit", aduana.UNITS),
    ("gross_weight_unit", aduana.UNITS),
    ("net_weight_unit", aduana.UNITS),
)


def code(table, name, case_id, what):
    """The Aduana's code of ``name`` in ``table`` (None when the set gives no name)."""
    if not name:
        return None
    wanted = normalized(name)
    for row in aduana.rows(table):
        if normalized(row["name"]) == wanted:
            return row["code"]
    raise DocumentError(reason=f"case {case_id}: {what} {name!r} is not in the Aduana's table {table}")


def export_fields(case, lines, *, exchange_rate):
    """``(fields, adjustments, references)`` of an export invoice case.

    ``fields`` are the :class:`~sii_engine.document.Document` fields (currency, customs,
    service indicator…); ``lines`` are the case's lines, changed in place by the line
    surcharges and discounts the set gives.
    """
    export = case.export
    if export.currency and normalized(export.currency) not in {normalized(name) for name in aduana.currency_names()}:
        raise DocumentError(reason=f"case {case.case_id}: the currency {export.currency!r} is not one of the SII's")
    for number, percent in export.line_discounts.items():
        if not 1 <= number <= len(lines):
            raise DocumentError(reason=f"case {case.case_id}: there is no line {number} to discount")
        lines[number - 1].discount_percent = percent
    for line in lines if export.line_surcharge_percent else ():
        line.surcharge_percent = export.line_surcharge_percent
    country = code(aduana.COUNTRIES, export.country or export.nationality, case.case_id, "the country")
    hotel = bool(export.nationality) and not export.transport_way
    services = all(line.quantity == 1 and item.amount is not None for line, item in zip(lines, case.lines, strict=True))
    clause = aduana.sale_clause(export.sale_clause) if export.sale_clause else None
    if export.sale_clause and clause is None:
        raise DocumentError(reason=f"case {case.case_id}: the sale clause {export.sale_clause!r} is not known")
    values = {name: code(table, getattr(export, name), case.case_id, name.replace("_", " "))
              for name, table in _TABLES}
    packages = []
    if export.package_type:
        packages = [Package(type_code=code(aduana.PACKAGE_TYPES, export.package_type, case.case_id, "the package"),
                            quantity=int(export.total_packages or 0) or None)]
    customs = Customs(
        sale_clause=clause, sale_clause_total=export.sale_clause_total, packages=packages,
        total_packages=int(export.total_packages) if export.total_packages else None,
        freight=export.freight, insurance=export.insurance, receiver_country=country,
        destination_country=None if hotel or services else country, **values)
    payment_form = code(aduana.EXPORT_PAYMENT_FORMS, export.payment_form, case.case_id, "the payment form")
    fields = {
        "currency": currency_name(export.currency),
        "exchange_rate": exchange_rate,
        "export_payment_form": payment_form,
        "service_indicator": HOTEL_SERVICES if hotel else SERVICES if services else None,
        "transport": Transport(customs=customs),
    }
    adjustments = [GlobalAdjustment(movement="R", value_type="$", value=amount, description=name)
                   for name, amount in (("Flete", export.freight), ("Seguro", export.insurance)) if amount]
    if export.commission_percent:
        base = export.sale_clause_total
        if base is None:
            raise DocumentError(reason=f"case {case.case_id}: the commissions are a percentage of the sale "
                                       "clause's total, which the case does not give")
        adjustments.append(GlobalAdjustment(
            movement="R", value_type="$", value=round_amount(base * export.commission_percent / 100, True),
            description="Comisiones en el extranjero"))
    references = []
    for name in export.references:
        reference_type = EXPORT_REFERENCE_TYPES.get(normalized(name))
        if reference_type is None:
            raise DocumentError(reason=f"case {case.case_id}: the reference {name!r} is not a document type "
                                       "this engine knows")
        references.append((reference_type, name))
    return fields, adjustments, references


def currency_name(name):
    wanted = normalized(name or "")
    return next((known for known in aduana.currency_names() if normalized(known) == wanted), name)


def note_fields(target):
    """What an export note takes from the export document it modifies: its currency and rate."""
    return {"currency": target.currency, "exchange_rate": target.exchange_rate,
            "other_currency": target.other_currency, "service_indicator": target.service_indicator}

