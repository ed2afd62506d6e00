"""What the SII checks on a received envelope, stage by stage.

1. schema (EnvioDTE_v10 / EnvioBOLETA_v11, which include each DTE): else RSC;
2. carátula: RutEmisor is the uploading company, RutEnvia the uploading
   person, RutReceptor the SII, SubTotDTE counts the documents, the
   resolution is the company's (when known): else RCT;
3. envelope signature, made by RutEnvia: else RFR;
4. each document: its own signature, its TED against its CAF and the CAF's
   FRMA against the trusted "SII" keys, folio within the CAF, TED data equal
   to the document's, issuer = company, amounts (see :mod:`.arithmetic`).

This module looks at the XML only; what depends on history (repeated folios,
forced outcomes) is decided by the simulator when it registers the envelope.
"""

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from cryptography import x509

from .. import envelope as envelope_module
from .. import rut as rut_module
from .. import schema as schema_module
from .. import signature as signature_module
from ..certificate import holder_rut
from ..codes import EXPORT_TYPES
from ..errors import (
    CafError,
    CafMismatchError,
    CertificateNoRutError,
    FolioOutOfRangeError,
    RutError,
    SignatureVerificationError,
    XmlInputError,
)
from ..ted import verify_ted
from ..totals import round_amount
from ..xmlutil import find, findtext, local
from . import codes
from .arithmetic import check_amounts
from .issues import MINOR_OBJECTION, OBJECTION, REJECT, issue

ENVIO_DTE = "EnvioDTE"
ENVIO_BOLETA = "EnvioBOLETA"
_SCHEMAS = {ENVIO_DTE: schema_module.ENVIO_DTE, ENVIO_BOLETA: schema_module.ENVIO_BOLETA}
MAX_REPORTED_ERRORS = 20


@dataclass
class DocumentCheck:
    document_type: int = None
    folio: int = None
    issuer_rut: str = None
    receiver_rut: str = None
    issue_date: str = None
    total: int = None
    issues: list = field(default_factory=list)
    not_authorized: bool = False  # the CAF is not the SII's or the folio is outside it
    references: list = field(default_factory=list)  # (TpoDocRef, FolioRef, CodRef)
    payment_form: int = None  # FmaPago: 1 cash, 2 credit, 3 free (the RCV takes no event on 1 and 3)
    override: str = None  # an outcome forced by a test

    @property
    def outcome(self):
        if self.override:
            return self.override
        levels = {found.level for found in self.issues}
        if REJECT in levels:
            return codes.REJECTED
        if levels & {OBJECTION, MINOR_OBJECTION}:
            return codes.OBJECTED
        return codes.ACCEPTED

    def as_dict(self):
        data = dict(self.__dict__)
        data["issues"] = [found.as_dict() for found in self.issues]
        data["references"] = [list(reference) for reference in self.references]
        data["outcome"] = self.outcome
        return data


@dataclass
class EnvelopeCheck:
    kind: str
    state: str
    errors: list = field(default_factory=list)
    issuer_rut: str = None
    sender_rut: str = None
    documents: list = field(default_factory=list)


def check_envelope(root, *, kind, company_rut, sender_rut, trusted_keys, resolution=None):
    """Run the SII's checks on a parsed envelope sent as ``kind`` by ``sender_rut`` for ``company_rut``."""
    if local(root.tag) != kind:
        return EnvelopeCheck(kind=local(root.tag), state=codes.SCHEMA_REJECTED,
                             errors=[f"Se esperaba <{kind}> y se recibio <{local(root.tag)}>"])
    errors = schema_module.validation_errors(root, _SCHEMAS[kind])
    if errors:
        return EnvelopeCheck(kind=kind, state=codes.SCHEMA_REJECTED, errors=errors[:MAX_REPORTED_ERRORS])
    cover = envelope_module.cover_of(root)
    documents = envelope_module.envelope_documents(root)
    result = EnvelopeCheck(kind=kind, state=codes.PROCESSED, issuer_rut=normalized_rut(cover["issuer_rut"]),
                           sender_rut=normalized_rut(cover["sender_rut"]))
    result.errors = _cover_errors(cover, documents, company_rut, sender_rut, resolution)
    if result.errors:
        result.state = codes.COVER_REJECTED
        return result
    result.errors = signature_errors(root, result.sender_rut)
    if result.errors:
        result.state = codes.SIGNATURE_REJECTED
        return result
    result.documents = [check_document(dte, result.issuer_rut, trusted_keys) for dte in documents]
    return result


def normalized_rut(value):
    try:
        return rut_module.normalize(value)
    except RutError:
        return None


def _cover_errors(cover, documents, company_rut, sender_rut, resolution):
    errors = []
    if normalized_rut(cover["issuer_rut"]) != company_rut:
        errors.append(f"(CRT-3-10) RUT Emisor de la Caratula [{cover['issuer_rut']}] distinto al de la Empresa"
                      f" del Upload [{company_rut}]")
    if normalized_rut(cover["sender_rut"]) != sender_rut:
        errors.append(f"(CRT-3-11) RUT envia diferente al Upload [{cover['sender_rut']}] <> [{sender_rut}]")
    if normalized_rut(cover["receiver_rut"]) != rut_module.SII_RUT:
        errors.append(f"(CRT-3-12) RUT Receptor de la Caratula [{cover['receiver_rut']}] no es el del SII")
    actual = Counter(_document_type(dte) for dte in documents)
    if dict(actual) != cover["subtotals"]:
        errors.append(f"(CRT-3-13) SubTotDTE {cover['subtotals']} no cuadra con los documentos {dict(actual)}")
    if resolution is not None and (cover["resolution_date"], str(cover["resolution_number"])) != (
        resolution[0], str(resolution[1])
    ):
        errors.append("(CRT-3-19) Fecha/Numero Resolucion Invalido")
    return errors


def _document_type(dte):
    try:
        return int(findtext(_body(dte), "Encabezado/IdDoc/TipoDTE"))
    except (TypeError, ValueError):
        return None


def _body(dte):
    return next((child for child in dte if isinstance(child.tag, str) and local(child.tag) != "Signature"), None)


def signature_errors(root, sender_rut):
    try:
        pem = signature_module.verify(root)
    except SignatureVerificationError as error:
        return [f"(FIR-3-1) Firma del Envio Incorrecta: {error}"]
    try:
        signer = holder_rut(x509.load_pem_x509_certificate(pem))
    except (CertificateNoRutError, ValueError):
        return ["(FIR-3-2) El certificado de la firma del Envio no indica RUT"]
    if signer != sender_rut:
        return [f"(FIR-3-3) Firmante del Envio [{signer}] distinto a RutEnvia [{sender_rut}]"]
    return []


def check_document(dte, company_rut, trusted_keys):
    """Check one ``<DTE>`` of an envelope whose carátula names ``company_rut``."""
    result = DocumentCheck()
    body = _body(dte)
    try:
        result.document_type = int(findtext(body, "Encabezado/IdDoc/TipoDTE"))
        result.folio = int(findtext(body, "Encabezado/IdDoc/Folio"))
        result.issuer_rut = rut_module.normalize(findtext(body, "Encabezado/Emisor/RUTEmisor"))
        result.receiver_rut = rut_module.normalize(findtext(body, "Encabezado/Receptor/RUTRecep"))
        result.issue_date = findtext(body, "Encabezado/IdDoc/FchEmis")
        total = findtext(body, "Encabezado/Totales/MntTotal")
        result.total = int(round_amount(Decimal(total.strip()))) if total else None
    except (TypeError, ValueError, ArithmeticError, RutError, XmlInputError) as error:
        result.issues.append(issue("unreadable", error))
        return result
    result.references = _references(body)
    payment_form = (findtext(body, "Encabezado/IdDoc/FmaPago") or "").strip()
    result.payment_form = int(payment_form) if payment_form.isdecimal() and len(payment_form) < 3 else None
    if result.issuer_rut != company_rut:
        result.issues.append(issue("issuer_mismatch", f"[{result.issuer_rut}] <> [{company_rut}]"))
    try:
        signature_module.verify_dte(dte)
    except SignatureVerificationError as error:
        result.issues.append(issue("dte_signature", error))
    result.issues += _stamp_issues(body, result, trusted_keys)
    result.issues += check_amounts(body)
    return result


def _references(body):
    references = []
    for element in body:
        if isinstance(element.tag, str) and local(element.tag) == "Referencia":
            code = findtext(element, "CodRef")
            references.append((findtext(element, "TpoDocRef"), findtext(element, "FolioRef"),
                               int(code) if code and code.isdigit() else None))
    return references


def _declared_total(body, result):
    """What MNT must be: MntTotal in whole pesos, or exactly MntTotal on an export (4 decimals in its currency)."""
    if result.document_type not in EXPORT_TYPES:
        return result.total
    try:
        return Decimal(findtext(body, "Encabezado/Totales/MntTotal").strip())
    except (AttributeError, ArithmeticError):
        return None


def _stamp_issues(body, result, trusted_keys):
    ted = find(body, "TED")
    if ted is None:
        result.not_authorized = True
        return [issue("ted_missing")]
    try:
        stamp = verify_ted(ted, trusted_keys)
    except FolioOutOfRangeError as error:
        result.not_authorized = True
        return [issue("folio_out_of_range", error)]
    except CafMismatchError as error:
        result.not_authorized = True
        return [issue("caf_mismatch", error)]
    except CafError as error:
        result.not_authorized = True
        return [issue("caf_untrusted", error)]
    except SignatureVerificationError as error:
        return [issue("ted_signature", error)]
    data = stamp.data
    stamped = (stamp.issuer_rut, data.document_type, data.folio, data.issue_date.isoformat(), normalized_rut(data.receiver_rut),
               data.total)
    declared = (result.issuer_rut, result.document_type, result.folio, result.issue_date, result.receiver_rut,
                _declared_total(body, result))
    if stamped != declared:
        names = ("RE", "TD", "F", "FE", "RR", "MNT")
        differing = [name for name, a, b in zip(names, stamped, declared, strict=True) if a != b]
        return [issue("ted_data", f"{', '.join(differing)} del TED no coinciden con el documento")]
    return []

