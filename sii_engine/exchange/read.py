"""Reading a received RespuestaDTE or EnvioRecibos: which documents, what it says, who signed.

What arrives is hostile. Bytes are read only through
:func:`sii_engine.xmlutil.parse` (no DTD, no entities, no network, bounded
size); an element handed in must come from it too (e.g. from
:func:`~.sniff.sniff`, so nothing is parsed twice). A file whose root is not
the expected one, or that lacks or garbles a field the answer needs, raises a
typed error naming it. Schema errors and bad signatures do not raise: they are
reported (``schema_errors``, ``signature``, ``verified``) so the caller can
keep the file and show why it is not trusted.

A signature counts only if it is over the very element read: its
``Reference`` must name the ``ID`` of that element, and that ``ID`` must
appear once in the file (else another element could carry the signed content
while the one read says something else).
"""

import datetime

from cryptography import x509

from .. import rut as rut_module
from .. import schema as schema_module
from .. import signature as signature_module
from ..certificate import holder_rut
from ..errors import CertificateError, RutError, SignatureVerificationError
from ..xmlutil import DSIG_NS, MAX_INPUT_BYTES, children, find, findtext, local, parse
from .codes import CommercialStatus, DocumentStatus, EnvelopeStatus
from .errors import ExchangeFormatError, NotExchangeDocumentError
from .models import (
    AnswerCover,
    CommercialResult,
    Contact,
    DocumentReception,
    DocumentRef,
    EnvelopeReception,
    Receipt,
    ReceivedAnswer,
    ReceivedReceipts,
    SignatureCheck,
)

MAX_SCHEMA_ERRORS = 20
# What verifying a malformed signature may raise besides SignatureVerificationError.
_SIGNATURE_FAILURES = (SignatureVerificationError, ValueError, TypeError, AttributeError)


def read_answer(data, *, max_bytes=MAX_INPUT_BYTES):
    """A received ``RespuestaDTE`` (bytes, or a root element from :func:`xmlutil.parse`) as a
    :class:`~.models.ReceivedAnswer`."""
    root, result, cover, reader = _open(data, "RespuestaDTE", "Resultado", max_bytes)
    receptions = tuple(_reception(reader, element) for element in children(result, "RecepcionEnvio"))
    results = tuple(_result(reader, element) for element in children(result, "ResultadoDTE"))
    return ReceivedAnswer(
        cover=AnswerCover(
            responder_rut=reader.rut(cover, "RutResponde"),
            recipient_rut=reader.rut(cover, "RutRecibe"),
            signed_at=reader.moment(cover, "TmstFirmaResp"),
            response_id=reader.integer(cover, "IdRespuesta"),
            details=reader.integer(cover, "NroDetalles"),
            contact=_contact(cover),
        ),
        receptions=receptions,
        results=results,
        signature=_check_signature(root, result, root),
        schema_errors=_schema_errors(root, schema_module.RESPUESTA_ENVIO_DTE),
    )


def read_receipts(data, *, max_bytes=MAX_INPUT_BYTES):
    """A received ``EnvioRecibos`` (bytes, or a root element from :func:`xmlutil.parse`) as a
    :class:`~.models.ReceivedReceipts`."""
    root, set_element, cover, reader = _open(data, "EnvioRecibos", "SetRecibos", max_bytes)
    receipts = []
    for recibo in children(set_element, "Recibo"):
        document = _child(recibo, "DocumentoRecibo", "EnvioRecibos")
        signer = reader.rut(document, "RutFirma")
        check = _check_signature(recibo, document, root)
        if check.ok and check.signer_rut != signer:
            check = SignatureCheck(False, check.signer_rut,
                                   f"RutFirma is {signer}, but the receipt was signed by {check.signer_rut}")
        receipts.append(Receipt(
            document=reader.document(document, "TipoDoc"),
            place=findtext(document, "Recinto", ""),
            signer_rut=signer,
            signed_at=reader.moment(document, "TmstFirmaRecibo"),
            declaration=findtext(document, "Declaracion", ""),
            signature=check,
        ))
    return ReceivedReceipts(
        cover=AnswerCover(
            responder_rut=reader.rut(cover, "RutResponde"),
            recipient_rut=reader.rut(cover, "RutRecibe"),
            signed_at=reader.moment(cover, "TmstFirmaEnv"),
            contact=_contact(cover),
        ),
        receipts=tuple(receipts),
        signature=_check_signature(root, set_element, root),
        schema_errors=_schema_errors(root, schema_module.ENVIO_RECIBOS),
    )


# --- structure ------------------------------------------------------------------------


def _open(data, expected, signed_name, max_bytes):
    """``(root, signed element, its Caratula, a reader)`` of a received file whose root is ``expected``."""
    root = data if hasattr(data, "tag") else parse(data, max_bytes=max_bytes)
    if local(root.tag) != expected:
        raise NotExchangeDocumentError(root=local(root.tag), expected=expected)
    signed = _child(root, signed_name, expected)
    return root, signed, _child(signed, "Caratula", expected), _Reader(expected)


def _child(parent, name, document):
    found = find(parent, name)
    if found is None:
        raise ExchangeFormatError(document=document, reason=f"<{local(parent.tag)}> has no <{name}>")
    return found


def _contact(cover):
    values = [findtext(cover, name) for name in ("NmbContacto", "FonoContacto", "MailContacto")]
    return Contact(*values) if any(values) else None


class _Reader:
    """Typed fields of one received file; a missing or garbled field is an :class:`ExchangeFormatError`."""

    def __init__(self, document):
        self.document_name = document

    def _fail(self, element, name, value, what):
        raise ExchangeFormatError(document=self.document_name,
                                  reason=f"<{local(element.tag)}>/<{name}> {value!r} is not {what}")

    def _text(self, element, name):
        value = findtext(element, name)
        if value is None or not value.strip():
            raise ExchangeFormatError(document=self.document_name,
                                      reason=f"<{local(element.tag)}> has no <{name}>")
        return value.strip()

    def rut(self, element, name):
        value = self._text(element, name)
        try:
            return rut_module.normalize(value)
        except RutError:
            self._fail(element, name, value, "a valid RUT")

    def integer(self, element, name, negative=False):
        value = self._text(element, name)
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or (number >= 0 if negative else number < 0):
            self._fail(element, name, value, "a negative number" if negative else "a number")
        return number

    def moment(self, element, name):
        value = self._text(element, name)
        try:
            return datetime.datetime.fromisoformat(value)
        except ValueError:
            self._fail(element, name, value, "a date and time (YYYY-MM-DDTHH:MM:SS)")

    def date(self, element, name):
        value = self._text(element, name)
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            self._fail(element, name, value, "a date (YYYY-MM-DD)")

    def code(self, element, name, enumeration):
        number = self.integer(element, name)
        try:
            return enumeration(number)
        except ValueError:
            self._fail(element, name, number, f"a code of {enumeration.__name__}")

    def document(self, element, type_tag="TipoDTE"):
        return DocumentRef(
            document_type=self.integer(element, type_tag),
            folio=self.integer(element, "Folio"),
            issue_date=self.date(element, "FchEmis"),
            issuer_rut=self.rut(element, "RUTEmisor"),
            receiver_rut=self.rut(element, "RUTRecep"),
            total=self.integer(element, "MntTotal"),
        )


def _optional_rut(element, name):
    value = findtext(element, name)
    try:
        return rut_module.normalize(value) if value else None
    except RutError:
        return None


def _reception(reader, element):
    documents = tuple(
        DocumentReception(
            document=reader.document(detail),
            status=reader.code(detail, "EstadoRecepDTE", DocumentStatus),
            glosa=findtext(detail, "RecepDTEGlosa", ""),
        )
        for detail in children(element, "RecepcionDTE")
    )
    return EnvelopeReception(
        file_name=findtext(element, "NmbEnvio", ""),
        received_at=reader.moment(element, "FchRecep"),
        envelope_code=reader.integer(element, "CodEnvio"),
        envelope_id=findtext(element, "EnvioDTEID", ""),
        status=reader.code(element, "EstadoRecepEnv", EnvelopeStatus),
        glosa=findtext(element, "RecepEnvGlosa", ""),
        digest=findtext(element, "Digest"),
        issuer_rut=_optional_rut(element, "RutEmisor"),
        receiver_rut=_optional_rut(element, "RutReceptor"),
        documents=documents,
    )


def _result(reader, element):
    reason = findtext(element, "CodRchDsc")
    return CommercialResult(
        document=reader.document(element),
        envelope_code=reader.integer(element, "CodEnvio"),
        status=reader.code(element, "EstadoDTE", CommercialStatus),
        glosa=findtext(element, "EstadoDTEGlosa", ""),
        reason_code=reader.integer(element, "CodRchDsc", negative=True) if reason is not None else None,
    )


# --- checks ---------------------------------------------------------------------------


def _schema_errors(root, name):
    return tuple(schema_module.validation_errors(root, name)[:MAX_SCHEMA_ERRORS])


def _check_signature(holder, signed, root):
    """Whether the ``<Signature>`` child of ``holder`` verifies over ``signed`` (an element with an ID)."""
    signatures = signature_module.signatures_of(holder)
    if not signatures:
        return SignatureCheck(False, None, f"<{local(holder.tag)}> is not signed")
    element_id = signed.get("ID")
    if not element_id:
        return SignatureCheck(False, None, f"<{local(signed.tag)}> has no ID, so no signature can be over it")
    signature = signatures[-1]
    reference = signature.find(f"{{{DSIG_NS}}}SignedInfo/{{{DSIG_NS}}}Reference")
    uri = reference.get("URI") if reference is not None else None
    if uri != f"#{element_id}":
        return SignatureCheck(False, None, f"the signature is over {uri!r}, not over <{local(signed.tag)}> "
                                           f"#{element_id}")
    same_id = sum(1 for node in root.iter() if isinstance(node.tag, str) and node.get("ID") == element_id)
    if same_id != 1:
        return SignatureCheck(False, None, f"{same_id} elements have the ID {element_id!r}")
    pem, error = None, None
    # In place first; then as the signer may have made it, on its own (see signature.verify_dte).
    for candidate in _signature_variants(holder, root):
        try:
            pem = signature_module.verify(*candidate)
            break
        except _SIGNATURE_FAILURES as failure:
            error = error or failure
    if pem is None:
        return SignatureCheck(False, None, str(error))
    try:
        signer = holder_rut(x509.load_pem_x509_certificate(pem))
    except (CertificateError, ValueError):
        return SignatureCheck(True, None, "valid; the certificate names no RUT")
    return SignatureCheck(True, signer, "valid")


def _signature_variants(holder, root):
    yield (root, signature_module.signatures_of(holder)[-1])
    if holder is not root:
        yield (signature_module.standalone(holder),)
        yield (signature_module.without_sii_namespace(holder),)
