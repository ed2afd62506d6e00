"""Deciding the reception codes of an EnvioDTE received from a supplier.

:func:`assess_envelope` runs the engine's verifier on the envelope
(:func:`sii_engine.verify.verify_element`: schema, signatures, TED and the
CAF's FRMA against the trusted SII keys) and turns its report into the
``RecepcionEnvio`` the SII's exchange format asks for, ready for
:func:`~.answer.build_reception_answer`:

=========================================  ============================================
envelope                                   ``EstadoRecepEnv``
=========================================  ============================================
already received, byte for byte            90 (the caller knows: ``repeated_file``)
not XML, refused by the safe parser        91
not an EnvioDTE                            99
schema                                     1
envelope signature, or RutEnvia not signer 2
Caratula's RutReceptor not this company    3
Caratula's counts                          99
=========================================  ============================================

Each document of an envelope received (0): signature 1; issuer not the
Caratula's RutEmisor 2; receiver not this company 3; already received (the
caller's ``already_received``) or twice in the envelope 4; any other failed
check of the verifier (TED, CAF, the TED's data) 99. Recomputed totals are
not a reception matter (the commercial answer is): they do not refuse a DTE.
A document whose type the schema's ``DTEType`` does not list, or whose header
is unreadable, cannot be named in the answer and is counted in the glosa.
"""

import base64
import binascii
import datetime
from decimal import Decimal, InvalidOperation

from .. import rut as rut_module
from .. import verify as verify_module
from ..errors import RutError, XmlInputError
from ..totals import round_amount
from ..xmlutil import DSIG_NS, clean_text, find, findtext, local, parse
from .codes import DocumentStatus, EnvelopeStatus
from .models import DocumentReception, DocumentRef, EnvelopeReception

#: ``DTEType`` of SiiTypes_v10.xsd: the only types a RecepcionDTE may name.
ANSWERABLE_TYPES = frozenset({33, 34, 46, 52, 56, 61})
# Checks about the envelope as a whole and what each decides.
_ENVELOPE_CHECKS = (
    (verify_module.SCHEMA, EnvelopeStatus.SCHEMA_ERROR),
    (verify_module.SIGNATURE, EnvelopeStatus.SIGNATURE_ERROR),
    (verify_module.SENDER, EnvelopeStatus.SIGNATURE_ERROR),
)
_NOT_RECEPTION_MATTERS = frozenset({verify_module.TOTALS})
# Envelope checks that speak of single documents: answered per document (2 and 4), not for the envelope.
_PER_DOCUMENT = frozenset({verify_module.COVER_ISSUER, verify_module.UNIQUE})


def assess_envelope(data, *, company_rut, envelope_code, file_name, received_at=None, trusted_keys=None,
                    already_received=(), repeated_file=False, report=None):
    """The :class:`~.models.EnvelopeReception` of a received EnvioDTE.

    :param data: the file's bytes, or its root element from :func:`~.sniff.sniff`.
    :param company_rut: this company, who must be the receiver.
    :param envelope_code: ``CodEnvio``, this company's number for the envelope.
    :param file_name: ``NmbEnvio``, the attachment's name.
    :param trusted_keys: IDK → SII public key for the CAFs' FRMA; default the
        SII's real keys (certification and production).
    :param already_received: ``(issuer RUT, type, folio)`` of DTEs received before.
    :param repeated_file: this very file was received before.
    :param report: the verifier's report of this envelope, when the caller already has it
        (see :func:`~.inbox.receive_envelope`): the envelope is not verified twice.
    """
    company_rut = rut_module.normalize(company_rut)
    base = {"file_name": file_name, "received_at": received_at or datetime.datetime.now().replace(microsecond=0),
            "envelope_code": envelope_code, "envelope_id": ""}
    if hasattr(data, "tag"):
        root = data
    else:
        try:
            root = parse(data)
        except XmlInputError as error:
            return _refused(base, EnvelopeStatus.UNREADABLE_FILE, error.params.get("reason", str(error)))
    if local(root.tag) != "EnvioDTE":
        return _refused(base, EnvelopeStatus.OTHER, f"no es un EnvioDTE sino <{local(root.tag)}>")
    cover = find(root, "SetDTE/Caratula")
    base.update(
        envelope_id=clean_text(find(root, "SetDTE").get("ID"), 80) if find(root, "SetDTE") is not None else "",
        digest=_digest(root),
        issuer_rut=_rut(findtext(cover, "RutEmisor")) if cover is not None else None,
        receiver_rut=_rut(findtext(cover, "RutReceptor")) if cover is not None else None,
    )
    if repeated_file:
        return _refused(base, EnvelopeStatus.REPEATED_FILE, "")
    if report is None:
        report = verify_module.verify_element(root, trusted_keys)
    for name, status in _ENVELOPE_CHECKS:
        failed = [check for check in report.find(name, "envelope") if not check.ok]
        if failed:
            return _refused(base, status, failed[0].detail)
    if base["receiver_rut"] != company_rut:
        return _refused(base, EnvelopeStatus.RECEIVER_RUT_ERROR,
                        f"RutReceptor {findtext(cover, 'RutReceptor')} no es {company_rut}")
    other = [check for check in report.failures if check.subject == "envelope" and check.name not in _PER_DOCUMENT]
    if other:
        return _refused(base, EnvelopeStatus.OTHER, other[0].detail)
    documents, unnamed = _documents(root, report, company_rut, base["issuer_rut"], set(already_received))
    glosa = EnvelopeStatus.OK.glosa
    if unnamed:
        glosa += f"; {unnamed} documento(s) sin tipo o datos legibles no informado(s)"
    return EnvelopeReception(status=EnvelopeStatus.OK, glosa=glosa, documents=tuple(documents), **base)


def _refused(base, status, detail):
    glosa = status.glosa + (f": {detail.splitlines()[0]}" if detail else "")
    return EnvelopeReception(status=status, glosa=clean_text(glosa, 256), **base)


def _documents(root, report, company_rut, issuer_rut, already_received):
    documents, unnamed, seen = [], 0, set()
    for dte in find(root, "SetDTE").iterchildren():
        if not isinstance(dte.tag, str) or local(dte.tag) != "DTE":
            continue
        document = _document_ref(dte)
        if document is None:
            unnamed += 1
            continue
        subject = verify_module.document_subject(dte)
        status, detail = _document_status(report, subject, document, company_rut, issuer_rut,
                                          already_received, seen)
        seen.add(document.key)
        glosa = status.glosa + (f": {detail.splitlines()[0]}" if detail else "")
        documents.append(DocumentReception(document=document, status=status, glosa=clean_text(glosa, 256)))
    return documents, unnamed


def _document_status(report, subject, document, company_rut, issuer_rut, already_received, seen):
    failures = [check for check in report.failures
                if check.subject == subject and check.name not in _NOT_RECEPTION_MATTERS]
    signature = [check for check in failures if check.name == verify_module.SIGNATURE]
    if signature:
        return DocumentStatus.SIGNATURE_ERROR, signature[0].detail
    if document.issuer_rut != issuer_rut:
        return DocumentStatus.ISSUER_RUT_ERROR, f"RUTEmisor {document.issuer_rut} no es RutEmisor {issuer_rut}"
    if document.receiver_rut != company_rut:
        return DocumentStatus.RECEIVER_RUT_ERROR, f"RUTRecep {document.receiver_rut} no es {company_rut}"
    if document.key in already_received or document.key in seen:
        return DocumentStatus.REPEATED, ""
    if failures:
        return DocumentStatus.OTHER, f"{failures[0].name}: {failures[0].detail}"
    return DocumentStatus.OK, ""


def _document_ref(dte, types=ANSWERABLE_TYPES):
    """The DocumentRef of a received DTE, or None when its header cannot name it (as one of ``types``)."""
    body = next((child for child in dte if isinstance(child.tag, str) and local(child.tag) != "Signature"), None)
    header = find(body, "Encabezado") if body is not None else None
    if header is None:
        return None
    try:
        document_type = int(findtext(header, "IdDoc/TipoDTE", "").strip())
        folio = int(findtext(header, "IdDoc/Folio", "").strip())
        issue_date = datetime.date.fromisoformat(findtext(header, "IdDoc/FchEmis", "").strip())
        issuer = rut_module.normalize(findtext(header, "Emisor/RUTEmisor"))
        receiver = rut_module.normalize(findtext(header, "Receptor/RUTRecep"))
        total = int(round_amount(Decimal(findtext(header, "Totales/MntTotal", "").strip())))
    except (ValueError, InvalidOperation, RutError):
        return None
    if document_type not in types or not 0 < folio < 10 ** 10 or not 0 <= total < 10 ** 18:
        return None
    return DocumentRef(document_type, folio, issue_date, issuer, receiver, total)


def _rut(value):
    try:
        return rut_module.normalize(value)
    except RutError:
        return None


def _digest(root):
    """The DigestValue of the envelope's own signature, when it is base64 (else not reported)."""
    signatures = [child for child in root if isinstance(child.tag, str) and child.tag == f"{{{DSIG_NS}}}Signature"]
    if not signatures:
        return None
    value = "".join((signatures[-1].findtext(f".//{{{DSIG_NS}}}DigestValue") or "").split())
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return value or None
