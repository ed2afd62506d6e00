"""EnvioRecibos: the receiver's receipt of goods or services (Ley 19.983).

Each ``Recibo`` names one document and where its goods were received, carries
the declaration of the law's letter b) of art. 4 and c) of art. 5 in the exact
words the schema fixes, and is signed on its own over its ``DocumentoRecibo``
by the person receiving (``RutFirma``, the certificate's holder). The
``SetRecibos`` holding them is signed again as a whole; validation is
against ``EnvioRecibos_v10.xsd``.

No namespace but the SII's is declared anywhere: a receipt's signature then
verifies both in place and taken out on its own, however the issuer checks it.
"""

from lxml import etree

from .. import schema as schema_module
from .. import signature as signature_module
from . import writing
from .codes import DECLARATION
from .errors import ExchangeBuildError
from .writing import add

#: The ``ID`` of the signed ``<SetRecibos>``.
SET_ID = "SetDteRecibidos"
_DOCUMENT = "EnvioRecibos"
MAX_PLACE = 80  # Recinto


def receipt_id(document):
    """The ``ID`` of a receipt's ``DocumentoRecibo``: ``T33F1234``."""
    return f"T{int(document.document_type)}F{int(document.folio)}"


def build_receipts(receipts, *, responder_rut, recipient_rut, certificate, contact=None, timestamp=None):
    """The signed ``EnvioRecibos`` holding one signed ``Recibo`` per item of ``receipts``.

    :param receipts: :class:`~.models.Receipt` (``document`` and ``place``), all
        of documents issued by ``recipient_rut`` to ``responder_rut``.
    :param responder_rut: the receiver of the goods (this company), ``RutResponde``.
    :param recipient_rut: the documents' issuer, ``RutRecibe``.
    :returns: the file's bytes (ISO-8859-1, with XML declaration).
    """
    receipts = list(receipts)
    if not receipts:
        raise ExchangeBuildError(document=_DOCUMENT, reason="there is no receipt to send")
    responder = writing.rut(responder_rut, "RutResponde", _DOCUMENT)
    recipient = writing.rut(recipient_rut, "RutRecibe", _DOCUMENT)
    root = etree.Element(writing.tag("EnvioRecibos"), nsmap=writing.NSMAP, version="1.0")
    set_element = etree.SubElement(root, writing.tag("SetRecibos"), ID=SET_ID)
    cover = etree.SubElement(set_element, writing.tag("Caratula"), version="1.0")
    add(cover, "RutResponde", responder)
    add(cover, "RutRecibe", recipient)
    writing.add_contact(cover, contact)
    add(cover, "TmstFirmaEnv", writing.moment(timestamp))
    seen = set()
    for receipt in receipts:
        document = receipt.document
        if (writing.rut(document.issuer_rut, "the issuer's RUT", _DOCUMENT),
                writing.rut(document.receiver_rut, "the receiver's RUT", _DOCUMENT)) != (recipient, responder):
            raise ExchangeBuildError(document=_DOCUMENT, reason=(
                f"document {document.document_type} {document.folio} was issued by {document.issuer_rut} to "
                f"{document.receiver_rut}; this set is from {responder} to {recipient}"))
        identifier = receipt_id(document)
        if identifier in seen:
            raise ExchangeBuildError(document=_DOCUMENT, reason=f"document {identifier} has two receipts")
        seen.add(identifier)
        set_element.append(_signed_receipt(receipt, identifier, certificate, timestamp))
    return writing.finish(root, SET_ID, certificate, schema_module.ENVIO_RECIBOS)


def _signed_receipt(receipt, identifier, certificate, timestamp):
    element = etree.Element(writing.tag("Recibo"), nsmap=writing.NSMAP, version="1.0")
    document = etree.SubElement(element, writing.tag("DocumentoRecibo"), ID=identifier)
    writing.add_document(document, receipt.document, _DOCUMENT, type_tag="TipoDoc")
    add(document, "Recinto", writing.text(receipt.place, "the place of reception (Recinto)", _DOCUMENT, MAX_PLACE))
    add(document, "RutFirma", certificate.holder_rut)
    add(document, "Declaracion", DECLARATION)
    add(document, "TmstFirmaRecibo", writing.moment(timestamp))
    signature_module.sign_reference(element, identifier, certificate)
    return element
