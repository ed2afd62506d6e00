"""What an export must say about its customs (``Transporte/Aduana``) and currencies.

The SII's DTE format (version 2.4.2, 2024-02, "obligatoriedad" columns for the
factura de exportación 110 and its notes 111/112) requires of a 110:

* ``CodModVenta``, ``CodClauVenta`` and ``TotClauVenta`` unless ``IndServicio``
  says it sells services (3, 4 hotel, 5 international land transport, 6 used
  abroad);
* ``CodViaTransp`` unless ``IndServicio`` is 4 (hotel services);
* ``CodPaisRecep`` always, ``CodPaisDestin`` and ``TotBultos`` for goods;
* the unit of every weight given (``CodUnidMedTara``, ``CodUnidPesoBruto``,
  ``CodUnidPesoNeto``).

Every code must be one of the Aduana's tables (:mod:`.aduana`). A 111 or 112
must refer to the export document it modifies (TpoDocRef 110, 111 or 112, with
its CodRef). Since 2017 an export in a foreign currency also states its totals
in pesos (``OtraMoneda``: PESO CL, ``TpoCambio``). What the format leaves to
the issuer is derived here: ``TotClauVenta`` is the document's total,
``TotBultos`` the packages added up, ``CodPaisRecep`` the receiver's
nationality (both from the Aduana's country table).
"""

import dataclasses

from stdnum.cl import rut as stdnum_rut

from . import aduana
from .document import FACTURA_EXPORTACION, NOTA_CREDITO_EXPORTACION, NOTA_DEBITO_EXPORTACION, Customs
from .errors import FieldValueError, MissingFieldError, RutError
from .rut import normalize as normalize_rut
from .totals import EXPORT_DECIMALS, is_foreign_currency, other_currency, round_amount

# IndServicio of an export invoice that sells services, not goods.
SERVICE_INDICATORS = frozenset({3, 4, 5, 6})
HOTEL_SERVICES = 4
MAX_PACKAGE_TYPES = 10
EXPORT_DOCUMENT_TYPES = ("110", "111", "112")


def effective_customs(document, totals):
    """The ``Aduana`` block as written: the caller's, with what the format leaves derivable filled in.

    None when the document has none and needs none (anything but a 110).
    """
    customs = document.transport.customs if document.transport else None
    if customs is None:
        if document.document_type != FACTURA_EXPORTACION:
            return None
        customs = Customs()
    changes = {}
    if customs.sale_clause_total is not None:
        changes["sale_clause_total"] = round_amount(customs.sale_clause_total, True)
    elif customs.sale_clause is not None and totals.total > 0:
        changes["sale_clause_total"] = round_amount(totals.total, True)
    if customs.total_packages is None and customs.packages and all(item.quantity for item in customs.packages):
        changes["total_packages"] = sum(int(item.quantity) for item in customs.packages)
    nationality = (document.receiver.nationality or "").strip()
    if customs.receiver_country is None and nationality.isdigit():
        changes["receiver_country"] = int(nationality)
    for name in ("gross_weight", "net_weight"):
        if getattr(customs, name) is not None:
            changes[name] = round_amount(getattr(customs, name), True)
    for name in ("freight", "insurance"):
        if getattr(customs, name) is not None:
            changes[name] = round_amount(getattr(customs, name), EXPORT_DECIMALS)
    return dataclasses.replace(customs, **changes)


def check_export(document, totals):
    """Refuse an export (or a guía's customs block) the SII would refuse, naming the field."""
    if document.is_export:
        _check_currencies(document)
        if document.receiver.nationality:
            _check_code("Nacionalidad", document.receiver.nationality)
        if document.document_type in (NOTA_DEBITO_EXPORTACION, NOTA_CREDITO_EXPORTACION):
            _check_note_reference(document)
    if document.export_payment_form is not None:
        _check_code("FmaPagExp", document.export_payment_form)
    if document.transport:
        _check_transport(document.transport)
    customs = effective_customs(document, totals)
    if customs is None:
        return
    _check_customs_values(customs)
    if document.document_type == FACTURA_EXPORTACION:
        _check_invoice_requirements(document, customs)


def _check_currencies(document):
    names = aduana.currency_names()
    if document.currency and document.currency not in names:
        raise FieldValueError(field="TpoMoneda", value=document.currency,
                              reason="it is not one of the SII's currency names (DOLAR USA, EURO, PESO CL…)")
    other = other_currency(document)
    if other and other not in names:
        raise FieldValueError(field="OtraMoneda/TpoMoneda", value=other,
                              reason="it is not one of the SII's currency names (PESO CL, DOLAR USA…)")
    if is_foreign_currency(document) and not document.exchange_rate:
        raise MissingFieldError(
            field="OtraMoneda/TpoCambio",
            reason=f"an export in {document.currency} states its totals in pesos at the exchange rate of its "
                   "issue date (Banco Central de Chile)",
        )


def _check_note_reference(document):
    for reference in document.references:
        if str(reference.document_type).strip() in EXPORT_DOCUMENT_TYPES:
            if reference.code is None:
                raise MissingFieldError(field="Referencia/CodRef",
                                        reason=f"say how the note modifies {reference.document_type} "
                                               f"{reference.folio} (1 annuls, 2 corrects text, 3 corrects amounts)")
            return
    raise MissingFieldError(
        field="Referencia",
        reason="an export credit or debit note must refer to the export invoice or note it modifies "
               "(TpoDocRef 110, 111 or 112)",
    )


def _check_transport(transport):
    _check_rut("RUTTrans", transport.carrier_rut)
    _check_rut("Chofer/RUTChofer", transport.driver_rut)
    # Chofer holds both or nothing.
    if transport.driver_rut and not transport.driver_name:
        raise MissingFieldError(field="Chofer/NombreChofer", reason=f"name the driver whose RUT is {transport.driver_rut}")
    if transport.driver_name and not transport.driver_rut:
        raise MissingFieldError(field="Chofer/RUTChofer", reason=f"give the RUT of the driver {transport.driver_name}")


def transport_rut(value):
    """A carrier's or driver's RUT in SII form, checked by its verifier digit only.

    :func:`.rut.normalize` also wants 7 or more digits, as a company's RUT has;
    a driver's RUN may be shorter (LibreDTE's guía examples carry 1-9 and 2-7).
    """
    try:
        return normalize_rut(value)
    except RutError:
        compact = stdnum_rut.compact(str(value or ""))
        number, verifier = compact[:-1], compact[-1:]
        if not number.isdigit() or stdnum_rut.calc_check_digit(number) != verifier:
            raise
        return f"{int(number)}-{verifier}"


def _check_rut(tag, value):
    if not value:
        return
    try:
        transport_rut(value)
    except RutError:
        raise FieldValueError(field=tag, value=value, reason="it is not a valid RUT") from None


def _check_code(tag, value):
    if not aduana.is_code(tag, value):
        raise FieldValueError(field=tag, value=str(value),
                              reason=f"it is not a code of the Aduana's table ({aduana.TABLE_OF_TAG[tag]})")


_CODES = (
    ("CodModVenta", "sale_modality"),
    ("CodClauVenta", "sale_clause"),
    ("CodViaTransp", "transport_way"),
    ("CodPtoEmbarque", "loading_port"),
    ("CodPtoDesemb", "unloading_port"),
    ("CodUnidMedTara", "tare_unit"),
    ("CodUnidPesoBruto", "gross_weight_unit"),
    ("CodUnidPesoNeto", "net_weight_unit"),
    ("CodPaisRecep", "receiver_country"),
    ("CodPaisDestin", "destination_country"),
)

# (amount field, its unit's field), the unit being required with the amount.
_UNITS = (
    ("Tara", "tare", "CodUnidMedTara", "tare_unit"),
    ("PesoBruto", "gross_weight", "CodUnidPesoBruto", "gross_weight_unit"),
    ("PesoNeto", "net_weight", "CodUnidPesoNeto", "net_weight_unit"),
)


def _check_customs_values(customs):
    for tag, name in _CODES:
        if getattr(customs, name) is not None:
            _check_code(tag, getattr(customs, name))
    _check_rut("RUTCiaTransp", customs.carrier_rut)
    for tag, name, unit_tag, unit_name in _UNITS:
        value = getattr(customs, name)
        if value is None:
            continue
        if value < 0 or (tag == "Tara" and value == 0):
            raise FieldValueError(field=tag, value=str(value), reason="it must be a positive amount")
        if getattr(customs, unit_name) is None:
            raise MissingFieldError(field=unit_tag, reason=f"say in which unit {tag} {value} is measured")
    for tag, name in (("TotClauVenta", "sale_clause_total"), ("MntFlete", "freight"), ("MntSeguro", "insurance")):
        value = getattr(customs, name)
        if value is not None and value <= 0:
            raise FieldValueError(field=tag, value=format(value, "f"), reason="it must be greater than zero")
    for tag, name in (("TotItems", "total_items"), ("TotBultos", "total_packages")):
        value = getattr(customs, name)
        if value is not None and int(value) < 1:
            raise FieldValueError(field=tag, value=str(value), reason="it must be a positive whole number")
    _check_packages(customs)


def _check_packages(customs):
    if len(customs.packages) > MAX_PACKAGE_TYPES:
        raise FieldValueError(field="TipoBultos", value=str(len(customs.packages)),
                              reason=f"the SII takes at most {MAX_PACKAGE_TYPES} kinds of packages")
    for number, package in enumerate(customs.packages, 1):
        if package.type_code is None:
            raise MissingFieldError(field="TipoBultos/CodTpoBultos", reason=f"say what kind package {number} is")
        _check_code("CodTpoBultos", package.type_code)
        if not package.quantity or int(package.quantity) < 1:
            raise MissingFieldError(field="TipoBultos/CantBultos",
                                    reason=f"say how many packages of kind {package.type_code} there are")
    quantities = [int(package.quantity) for package in customs.packages]
    if quantities and customs.total_packages is not None and sum(quantities) != int(customs.total_packages):
        raise FieldValueError(field="TotBultos", value=str(customs.total_packages),
                              reason=f"the kinds of packages (TipoBultos) add up to {sum(quantities)}")


def _check_invoice_requirements(document, customs):
    services = document.service_indicator in SERVICE_INDICATORS
    required = [("CodPaisRecep", customs.receiver_country, "the country of the foreign receiver")]
    if document.service_indicator != HOTEL_SERVICES:
        required.append(("CodViaTransp", customs.transport_way, "how the goods leave Chile (sea, air, road…)"))
    if not services:
        required += [
            ("CodModVenta", customs.sale_modality, "the sale modality (firm sale, consignment…)"),
            ("CodClauVenta", customs.sale_clause, "the sale clause of the DUS (the Incoterm: FOB, CIF…)"),
            ("TotClauVenta", customs.sale_clause_total, "the total of the sale clause"),
            ("CodPaisDestin", customs.destination_country, "the country the goods go to"),
            ("TotBultos", customs.total_packages, "how many packages are shipped"),
        ]
    for tag, value, what in required:
        if value is None:
            kind = "services" if services else "goods"
            raise MissingFieldError(field=tag, reason=f"an export invoice of {kind} states {what}")
