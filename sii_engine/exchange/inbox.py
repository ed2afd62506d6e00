"""Receiving a supplier's EnvioDTE: one verification, the reception answer, and each document's content.

:func:`receive_envelope` is what a receiver's inbox does with an EnvioDTE:
the verifier runs once (:func:`sii_engine.verify.verify_element`: schema,
signatures, TED, the CAF's FRMA against the trusted SII keys); from its report
come the ``RecepcionEnvio`` to answer with (:func:`~.reception.assess_envelope`)
and, for every document, whether it was received and why not. A received
document's content is read (:func:`~.content.read_dte`) so the receiver can
book it; every document keeps its XML as it came.

Liquidación-facturas (43) are received like the others, though the
``RecepcionDTE`` of the answer cannot name them (the schema's ``DTEType`` does
not list 43): they are counted in the envelope's glosa.
"""

from dataclasses import dataclass

from lxml import etree

from .. import verify as verify_module
from ..errors import XmlInputError
from ..xmlutil import ENCODING, XML_DECLARATION, find, local
from . import reception as reception_module
from .codes import DocumentStatus
from .content import read_dte
from .models import DocumentRef

#: What a receiver books: facturas, liquidación-facturas, facturas de compra, guías and notes.
RECEIVABLE_TYPES = frozenset({33, 34, 43, 46, 52, 56, 61})


@dataclass(frozen=True)
class ReceivedDocument:
    """One ``<DTE>`` of a received envelope."""

    subject: str  # T33F12, as the verifier names it
    status: DocumentStatus
    glosa: str
    xml: bytes  # the <DTE> as it came (ISO-8859-1, with XML declaration)
    document: DocumentRef = None  # None when the header cannot name it
    content: object = None  # a content.ReceivedDte, for a received document

    @property
    def received(self):
        return self.status == DocumentStatus.OK and self.content is not None


@dataclass(frozen=True)
class Delivery:
    """A received EnvioDTE: its reception (what to answer) and its documents."""

    reception: object  # models.EnvelopeReception
    documents: tuple = ()  # ReceivedDocument
    report: object = None  # the verifier's Report, None when the file was not verified


def receive_envelope(root, *, company_rut, envelope_code, file_name, received_at=None, trusted_keys=None,
                     already_received=(), repeated_file=False):
    """The :class:`Delivery` of an EnvioDTE root (from :func:`~.sniff.sniff`) sent to ``company_rut``.

    The parameters are :func:`~.reception.assess_envelope`'s. Documents are
    listed only when the envelope itself was received (``EstadoRecepEnv`` 0).
    """
    report = None
    if not repeated_file and local(root.tag) == "EnvioDTE":
        report = verify_module.verify_element(root, trusted_keys)
    reception = reception_module.assess_envelope(
        root, company_rut=company_rut, envelope_code=envelope_code, file_name=file_name, received_at=received_at,
        trusted_keys=trusted_keys, already_received=already_received, repeated_file=repeated_file, report=report,
    )
    if not reception.received:
        return Delivery(reception=reception, report=report)
    company_rut = reception.receiver_rut
    documents, seen, already = [], set(), set(already_received)
    for dte in find(root, "SetDTE").iterchildren():
        if isinstance(dte.tag, str) and local(dte.tag) == "DTE":
            documents.append(_document(dte, report, company_rut, reception.issuer_rut, already, seen))
    return Delivery(reception=reception, documents=tuple(documents), report=report)


def _document(dte, report, company_rut, issuer_rut, already, seen):
    subject = verify_module.document_subject(dte)
    xml = XML_DECLARATION + etree.tostring(dte, encoding=ENCODING, xml_declaration=False)
    reference = reception_module._document_ref(dte, RECEIVABLE_TYPES)
    if reference is None:
        return ReceivedDocument(subject=subject, status=DocumentStatus.OTHER, xml=xml, glosa=(
            f"{DocumentStatus.OTHER.glosa}: {subject} is not a document this company receives, or its header "
            f"(type, folio, date, RUTs, total) is unreadable"))
    status, detail = reception_module._document_status(report, subject, reference, company_rut, issuer_rut,
                                                       already, seen)
    seen.add(reference.key)
    glosa = status.glosa + (f": {detail.splitlines()[0]}" if detail else "")
    content = None
    if status == DocumentStatus.OK:
        try:
            content = read_dte(dte)
        except XmlInputError as error:
            status, glosa = DocumentStatus.OTHER, f"{DocumentStatus.OTHER.glosa}: {error}"
    return ReceivedDocument(subject=subject, status=status, glosa=glosa[:256], xml=xml, document=reference,
                            content=content)
