"""RespuestaDTE: the receiver's answer to the issuer of the DTEs it received.

Two kinds, never mixed in one file (the schema's ``choice``):

* :func:`build_reception_answer` — ``RecepcionEnvio``: each received envelope
  (EnvioDTE) and each of its documents, received or not and why
  (``EstadoRecepEnv`` / ``EstadoRecepDTE``), sent on reception;
* :func:`build_result_answer` — ``ResultadoDTE``: the commercial result of each
  document (``EstadoDTE``: accepted, accepted with discrepancies, rejected).

The ``Resultado`` is signed (XMLDSig, the SII profile) by the certificate's
holder and the whole is validated against ``RespuestaEnvioDTE_v10.xsd``.
"""

from lxml import etree

from .. import schema as schema_module
from ..xmlutil import clean_text
from . import writing
from .codes import CommercialStatus, DocumentStatus, EnvelopeStatus
from .errors import ExchangeBuildError
from .writing import add

#: The ``ID`` of the signed ``<Resultado>``.
RESULT_ID = "ResultadoEnvio"
MAX_DETAILS = 9999  # NroDetalles: 4 digits
_DOCUMENT = "RespuestaDTE"


def build_reception_answer(receptions, *, responder_rut, recipient_rut, certificate, response_id, contact=None,
                           timestamp=None):
    """The signed ``RespuestaDTE`` acknowledging the reception of ``receptions``.

    :param receptions: :class:`~.models.EnvelopeReception` (one per envelope
        received from the same issuer), each with its ``documents``.
    :param responder_rut: the receiver of the DTEs (this company), ``RutResponde``.
    :param recipient_rut: their issuer, who gets the answer, ``RutRecibe``.
    :param response_id: ``IdRespuesta``, this company's number for the answer.
    :returns: the file's bytes (ISO-8859-1, with XML declaration).
    """
    receptions = list(receptions)
    root, result = _answer(len(receptions), responder_rut, recipient_rut, response_id, contact, timestamp)
    for reception in receptions:
        _add_reception(result, reception)
    return writing.finish(root, RESULT_ID, certificate, schema_module.RESPUESTA_ENVIO_DTE)


def build_result_answer(results, *, responder_rut, recipient_rut, certificate, response_id, contact=None,
                        timestamp=None):
    """The signed ``RespuestaDTE`` carrying the commercial result of each document in ``results``.

    :param results: :class:`~.models.CommercialResult`, all of documents issued by ``recipient_rut``.
    """
    results = list(results)
    root, result = _answer(len(results), responder_rut, recipient_rut, response_id, contact, timestamp)
    recipient = writing.rut(recipient_rut, "RutRecibe", _DOCUMENT)
    for item in results:
        if writing.rut(item.document.issuer_rut, "the issuer's RUT", _DOCUMENT) != recipient:
            raise ExchangeBuildError(document=_DOCUMENT, reason=(
                f"document {item.document.document_type} {item.document.folio} was issued by "
                f"{item.document.issuer_rut}, not by {recipient}, who gets this answer"))
        _add_result(result, item)
    return writing.finish(root, RESULT_ID, certificate, schema_module.RESPUESTA_ENVIO_DTE)


def _answer(details, responder_rut, recipient_rut, response_id, contact, timestamp):
    if details < 1:
        raise ExchangeBuildError(document=_DOCUMENT, reason="there is nothing to answer")
    if details > MAX_DETAILS:
        raise ExchangeBuildError(document=_DOCUMENT, reason=f"one answer holds at most {MAX_DETAILS} details")
    root = etree.Element(writing.tag("RespuestaDTE"), nsmap=writing.NSMAP, version="1.0")
    result = etree.SubElement(root, writing.tag("Resultado"), ID=RESULT_ID)
    cover = etree.SubElement(result, writing.tag("Caratula"), version="1.0")
    add(cover, "RutResponde", writing.rut(responder_rut, "RutResponde", _DOCUMENT))
    add(cover, "RutRecibe", writing.rut(recipient_rut, "RutRecibe", _DOCUMENT))
    add(cover, "IdRespuesta", str(writing.positive(response_id, "IdRespuesta", _DOCUMENT)))
    add(cover, "NroDetalles", str(details))
    writing.add_contact(cover, contact)
    add(cover, "TmstFirmaResp", writing.moment(timestamp))
    return root, result


def _add_reception(result, reception):
    status = writing.code(EnvelopeStatus, reception.status, _DOCUMENT)
    element = etree.SubElement(result, writing.tag("RecepcionEnvio"))
    add(element, "NmbEnvio", writing.text(reception.file_name, "NmbEnvio (the file's name)", _DOCUMENT, 80))
    add(element, "FchRecep", writing.moment(reception.received_at))
    add(element, "CodEnvio", str(writing.positive(reception.envelope_code, "CodEnvio", _DOCUMENT)))
    add(element, "EnvioDTEID", clean_text(reception.envelope_id, 80))
    if reception.digest:
        add(element, "Digest", "".join(str(reception.digest).split()))
    for name, value in (("RutEmisor", reception.issuer_rut), ("RutReceptor", reception.receiver_rut)):
        if value:
            add(element, name, writing.rut(value, name, _DOCUMENT))
    add(element, "EstadoRecepEnv", str(int(status)))
    add(element, "RecepEnvGlosa", clean_text(reception.glosa, writing.MAX_GLOSA) or status.glosa)
    documents = list(reception.documents)
    if documents:
        add(element, "NroDTE", str(len(documents)))
    for item in documents:
        document_status = writing.code(DocumentStatus, item.status, _DOCUMENT)
        detail = etree.SubElement(element, writing.tag("RecepcionDTE"))
        writing.add_document(detail, item.document, _DOCUMENT)
        add(detail, "EstadoRecepDTE", str(int(document_status)))
        add(detail, "RecepDTEGlosa", clean_text(item.glosa, writing.MAX_GLOSA) or document_status.glosa)


def _add_result(result, item):
    status = writing.code(CommercialStatus, item.status, _DOCUMENT)
    element = etree.SubElement(result, writing.tag("ResultadoDTE"))
    writing.add_document(element, item.document, _DOCUMENT)
    add(element, "CodEnvio", str(writing.positive(item.envelope_code, "CodEnvio", _DOCUMENT)))
    add(element, "EstadoDTE", str(int(status)))
    add(element, "EstadoDTEGlosa", clean_text(item.glosa, writing.MAX_GLOSA) or status.glosa)
    if item.reason_code is not None:
        if status == CommercialStatus.ACCEPTED:
            raise ExchangeBuildError(document=_DOCUMENT, reason="an accepted document has no rejection or "
                                                                "discrepancy code (CodRchDsc)")
        try:
            code = int(item.reason_code)
        except (TypeError, ValueError):
            code = 0
        if not -999 <= code <= -1:
            raise ExchangeBuildError(document=_DOCUMENT, reason=f"CodRchDsc is a negative number of at most 3 "
                                                                f"digits, not {item.reason_code!r}")
        add(element, "CodRchDsc", str(code))
