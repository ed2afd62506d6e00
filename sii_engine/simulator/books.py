"""What the SII checks on a received book: LibroCompraVenta (IEV/IEC) and LibroGuia.

Books are uploaded like envelopes (DTEUpload) and queried like them
(getEstUp). The checks, stage by stage, with the envelope's states:

1. schema (LibroCV_v10 / LibroGuia_v10): else RSC;
2. carátula: RutEmisorLibro is the uploading company, RutEnvia the uploading
   person; the summary squares with the details (per TpoDoc: TotDoc and the
   sums of MntExe, MntNeto, MntIVA and MntTotal; for guías the live sale
   guías and their total): else RCT, naming what does not square;
3. signature of ``EnvioLibro``, made by RutEnvia: else RFR.

A book that passes is EPR, with no documents of its own.
"""

from collections import defaultdict
from decimal import Decimal, InvalidOperation

from .. import schema as schema_module
from ..xmlutil import children, find, findtext, local
from . import codes
from .validation import MAX_REPORTED_ERRORS, EnvelopeCheck, normalized_rut, signature_errors

SCHEMAS = {"LibroCompraVenta": "LibroCV_v10.xsd", "LibroGuia": "LibroGuia_v10.xsd"}
_SUMMED = (("TotMntExe", "MntExe"), ("TotMntNeto", "MntNeto"), ("TotMntIVA", "MntIVA"), ("TotMntTotal", "MntTotal"))


def is_book(root):
    return local(root.tag) in SCHEMAS


def check_book(root, *, company_rut, sender_rut):
    """Run the SII's checks on a parsed book sent by ``sender_rut`` for ``company_rut``."""
    kind = local(root.tag)
    errors = schema_module.validation_errors(root, SCHEMAS[kind])
    if errors:
        return EnvelopeCheck(kind=kind, state=codes.SCHEMA_REJECTED, errors=errors[:MAX_REPORTED_ERRORS])
    cover = find(root, "EnvioLibro/Caratula")
    issuer, sender = normalized_rut(findtext(cover, "RutEmisorLibro")), normalized_rut(findtext(cover, "RutEnvia"))
    result = EnvelopeCheck(kind=kind, state=codes.PROCESSED, issuer_rut=issuer, sender_rut=sender)
    if issuer != company_rut:
        result.errors.append(f"(CRT-3-10) RUT Emisor del Libro [{issuer}] distinto al de la Empresa del Upload "
                             f"[{company_rut}]")
    if sender != sender_rut:
        result.errors.append(f"(CRT-3-11) RUT envia diferente al Upload [{sender}] <> [{sender_rut}]")
    book = find(root, "EnvioLibro")
    result.errors += _purchase_sales_squares(book) if kind == "LibroCompraVenta" else _guides_square(book)
    if result.errors:
        result.state = codes.COVER_REJECTED
        return result
    result.errors = signature_errors(root, sender)
    if result.errors:
        result.state = codes.SIGNATURE_REJECTED
    return result


def _amount(element, name):
    try:
        return Decimal(findtext(element, name) or 0)
    except InvalidOperation:
        return None


def _purchase_sales_squares(book):
    details = defaultdict(list)
    for detail in children(book, "Detalle"):
        details[findtext(detail, "TpoDoc")].append(detail)
    errors = []
    summary = find(book, "ResumenPeriodo")
    summarized = set()
    for totals in children(summary, "TotalesPeriodo") if summary is not None else ():
        document_type = findtext(totals, "TpoDoc")
        summarized.add(document_type)
        group = details.get(document_type, [])
        if group and int(findtext(totals, "TotDoc")) != len(group):
            errors.append(f"(LCV-1) TpoDoc {document_type}: TotDoc {findtext(totals, 'TotDoc')} y {len(group)} "
                          "documentos en el detalle")
        for total_tag, detail_tag in _SUMMED if group else ():
            expected = sum(_amount(detail, detail_tag) or 0 for detail in group)
            if _amount(totals, total_tag) != expected:
                errors.append(f"(LCV-2) TpoDoc {document_type}: {total_tag} {findtext(totals, total_tag)} no cuadra "
                              f"con la suma del detalle {expected}")
    for document_type in sorted(set(details) - summarized):
        errors.append(f"(LCV-3) TpoDoc {document_type} del detalle sin resumen")
    return errors


def _guides_square(book):
    summary = find(book, "ResumenPeriodo")
    if summary is None:
        return ["(LGD-1) Libro sin ResumenPeriodo"]
    sales = [detail for detail in children(book, "Detalle")
             if findtext(detail, "TpoOper") == "1" and findtext(detail, "Anulado") not in ("1", "2")]
    errors = []
    if int(findtext(summary, "TotGuiaVenta")) != len(sales):
        errors.append(f"(LGD-2) TotGuiaVenta {findtext(summary, 'TotGuiaVenta')} y {len(sales)} guias de venta "
                      "vigentes en el detalle")
    expected = sum(_amount(detail, "MntTotal") or 0 for detail in sales)
    if _amount(summary, "TotMntGuiaVta") != expected:
        errors.append(f"(LGD-3) TotMntGuiaVta {findtext(summary, 'TotMntGuiaVta')} no cuadra con el detalle {expected}")
    return errors
