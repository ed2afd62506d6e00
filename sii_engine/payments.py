"""How a document says it is paid, and what a boleta above 135 UF must say (Ley 21.713).

Facturas and notes (DTE format 2.4.2): ``FmaPago`` 1 cash, 2 credit, 3 free
delivery; ``FchVenc`` the due date; ``MntPagos`` the installments of a sale on
credit (up to 30, date and whole amount each), which must add up to the total;
``MedioPago`` a code (EF cash, PE account transfer, TC card, CH cheque…).

Boletas (boleta format 4.1 of 2024-12-31, Ley 21.713): ``MedioPago`` 1 cash,
2 electronic payment, 3 electronic transfer, 4 cheque, 5 other. A boleta whose
total exceeds 135 UF must carry the buyer's RUT (not 66666666-6) and name and
its ``MedioPago``; paid in cash, also the buyer's e-mail (``CorreoRecep``) or
phone (``TelefonoRecep``). The caller gives 135 UF in pesos of the issue date
(``Document.threshold_135_uf``); without it the rule is not applied.
``RUTProvSW`` names the boleta software's provider (the issuer itself for
software of its own).
"""

from .document import BOLETA_TYPES
from .errors import FieldValueError, MissingFieldError, RutError
from .rut import GENERIC_RECEIVER_RUT
from .rut import normalize as normalize_rut

PAYMENT_FORMS = {1: "Contado", 2: "Crédito", 3: "Sin costo (entrega gratuita)"}
CASH, CREDIT, FREE = 1, 2, 3
BOLETA_PAYMENT_METHODS = {1: "Efectivo", 2: "Pago electrónico", 3: "Transferencia electrónica", 4: "Cheque", 5: "Otro"}
BOLETA_CASH = 1
DTE_PAYMENT_METHODS = {
    "CH": "Cheque",
    "CF": "Cheque a fecha",
    "LT": "Letra",
    "EF": "Efectivo",
    "PE": "Pago a cuenta corriente",
    "TC": "Tarjeta de crédito",
    "OT": "Otro",
}
MAX_INSTALLMENTS = 30


def check_payment(document):
    """Refuse payment data the SII's schema or format does not accept, naming the field."""
    boleta = document.document_type in BOLETA_TYPES
    if not boleta and document.payment_form is not None and document.payment_form not in PAYMENT_FORMS:
        raise FieldValueError(field="FmaPago", value=str(document.payment_form),
                              reason="it is 1 (cash), 2 (credit) or 3 (free delivery)")
    if document.due_date and document.due_date < document.issue_date:
        raise FieldValueError(field="FchVenc", value=document.due_date.isoformat(),
                              reason=f"the due date is before the issue date {document.issue_date.isoformat()}")
    _check_payment_method(document, boleta)
    if document.payments:
        _check_installments(document, boleta)
    if boleta and document.software_provider_rut:
        try:
            normalize_rut(document.software_provider_rut)
        except RutError:
            raise FieldValueError(field="RUTProvSW", value=document.software_provider_rut,
                                  reason="it is not a valid RUT") from None


def _check_payment_method(document, boleta):
    method = document.payment_method
    if method is None or method == "":
        return
    if boleta:
        if method not in BOLETA_PAYMENT_METHODS:
            raise FieldValueError(field="MedioPago", value=str(method),
                                  reason="on a boleta it is 1 (cash), 2 (electronic payment), 3 (transfer), "
                                         "4 (cheque) or 5 (other)")
    elif method not in DTE_PAYMENT_METHODS:
        raise FieldValueError(field="MedioPago", value=str(method),
                              reason="it is one of " + ", ".join(DTE_PAYMENT_METHODS))


def _check_installments(document, boleta):
    if boleta:
        raise FieldValueError(field="MntPagos", value=str(len(document.payments)),
                              reason="a boleta carries no installments")
    if len(document.payments) > MAX_INSTALLMENTS:
        raise FieldValueError(field="MntPagos", value=str(len(document.payments)),
                              reason=f"the SII takes at most {MAX_INSTALLMENTS} installments")
    for number, payment in enumerate(document.payments, 1):
        if not payment.date:
            raise MissingFieldError(field="MntPagos/FchPago", reason=f"give the date of installment {number}")
        amount = payment.amount
        if amount is None or amount < 0 or amount != amount.to_integral_value():
            raise FieldValueError(field="MntPagos/MntPago", value=str(amount),
                                  reason=f"installment {number} must be a whole amount of zero or more")


def check_payment_totals(document, totals):
    """The rules that depend on the totals: installments add up, and the boleta above 135 UF."""
    if document.payments and not document.is_export:
        paid = sum(payment.amount for payment in document.payments)
        if paid != totals.total:
            raise FieldValueError(field="MntPagos", value=format(paid, "f"),
                                  reason=f"the installments add up to {paid}, the document's total is {totals.total}")
    threshold = document.threshold_135_uf
    if document.document_type in BOLETA_TYPES and threshold is not None and totals.total > threshold:
        check_identified_sale(document, totals.total)


def check_identified_sale(document, total):
    """A boleta above 135 UF names its buyer and how it was paid (Ley 21.713)."""
    above = f"a boleta of {total} pesos, above 135 UF ({document.threshold_135_uf} pesos), "
    receiver = document.receiver
    try:
        rut = normalize_rut(receiver.rut)
    except RutError:
        rut = None
    if rut in (None, GENERIC_RECEIVER_RUT):
        raise MissingFieldError(field="RUTRecep", reason=above + "carries the buyer's own RUT")
    if not (receiver.name or "").strip():
        raise MissingFieldError(field="RznSocRecep", reason=above + "carries the buyer's name")
    if document.payment_method in (None, ""):
        raise MissingFieldError(field="MedioPago", reason=above + "says how it was paid")
    if document.payment_method == BOLETA_CASH and not ((receiver.email or "").strip() or (receiver.phone or "").strip()):
        raise MissingFieldError(field="CorreoRecep", reason=above + "paid in cash, carries the buyer's e-mail "
                                                                    "(CorreoRecep) or phone (TelefonoRecep)")
