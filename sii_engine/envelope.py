"""Envelopes: EnvioDTE (facturas, notes, guías, exports) and EnvioBOLETA.

Each DTE was signed on its own; it is pasted into the envelope byte for byte
so its signature still verifies, then the ``SetDTE`` is signed by the person
sending (``RutEnvia``, the certificate's holder).
"""

import datetime
from collections import Counter

from lxml import etree

from . import rut as rut_module
from . import schema as schema_module
from . import signature as signature_module
from .document import BOLETA_TYPES
from .errors import EnvelopeError, XmlInputError
from .xmlutil import SII_NS, XML_DECLARATION, XSI_NS, find, findtext, parse, strip_declaration

ENVIO_DTE = "EnvioDTE"
ENVIO_BOLETA = "EnvioBOLETA"
MAX_DOCUMENTS = {ENVIO_DTE: 2000, ENVIO_BOLETA: 500}
_SCHEMA_FILES = {ENVIO_DTE: "EnvioDTE_v10.xsd", ENVIO_BOLETA: "EnvioBOLETA_v11.xsd"}
SET_ID = "SetDoc"


def kind_for(document_type):
    return ENVIO_BOLETA if int(document_type) in BOLETA_TYPES else ENVIO_DTE


def _document_type(dte_bytes):
    marker = dte_bytes.find(b"<TipoDTE>")
    if marker < 0:
        raise EnvelopeError(reason="a document has no <TipoDTE>")
    end = dte_bytes.find(b"</TipoDTE>", marker)
    return int(dte_bytes[marker + 9:end])


def build_envelope(
    dtes,
    issuer_rut,
    certificate,
    resolution_date,
    resolution_number,
    receiver_rut=rut_module.SII_RUT,
    timestamp=None,
    kind=None,
    validate=True,
):
    """Return the signed envelope (bytes, ISO-8859-1) holding ``dtes``.

    ``dtes`` are signed DTEs as bytes (with or without XML declaration).
    ``receiver_rut`` is the SII's for a submission, the customer's for the
    exchange copy. The kind follows from the documents unless given.
    """
    bodies = [strip_declaration(dte) for dte in dtes]
    if not bodies:
        raise EnvelopeError(reason="there are no documents to send")
    types = [_document_type(body) for body in bodies]
    kinds = {kind_for(document_type) for document_type in types}
    if kind is None:
        if len(kinds) > 1:
            raise EnvelopeError(reason="boletas and other documents go in separate envelopes")
        kind = kinds.pop()
    elif kinds != {kind}:
        raise EnvelopeError(reason=f"an {kind} holds only {'boletas' if kind == ENVIO_BOLETA else 'non-boleta DTEs'}")
    if len(bodies) > MAX_DOCUMENTS[kind]:
        raise EnvelopeError(reason=f"an {kind} holds at most {MAX_DOCUMENTS[kind]} documents, not {len(bodies)}")
    timestamp = (timestamp or datetime.datetime.now()).replace(microsecond=0)

    root = etree.Element(f"{{{SII_NS}}}{kind}", nsmap={None: SII_NS, "xsi": XSI_NS}, version="1.0")
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{SII_NS} {_SCHEMA_FILES[kind]}")
    set_dte = etree.SubElement(root, f"{{{SII_NS}}}SetDTE", ID=SET_ID)
    cover = etree.SubElement(set_dte, f"{{{SII_NS}}}Caratula", version="1.0")
    for tag, text in (
        ("RutEmisor", rut_module.normalize(issuer_rut)),
        ("RutEnvia", certificate.holder_rut),
        ("RutReceptor", rut_module.normalize(receiver_rut)),
        ("FchResol", resolution_date.isoformat()),
        ("NroResol", str(int(resolution_number))),
        ("TmstFirmaEnv", timestamp.strftime("%Y-%m-%dT%H:%M:%S")),
    ):
        etree.SubElement(cover, f"{{{SII_NS}}}{tag}").text = text
    for document_type, count in sorted(Counter(types).items()):
        subtotal = etree.SubElement(cover, f"{{{SII_NS}}}SubTotDTE")
        etree.SubElement(subtotal, f"{{{SII_NS}}}TpoDTE").text = str(document_type)
        etree.SubElement(subtotal, f"{{{SII_NS}}}NroDTE").text = str(count)

    head, tail = etree.tostring(root, encoding="ISO-8859-1", xml_declaration=False).split(b"</SetDTE>")
    text = XML_DECLARATION + head + b"\n" + b"\n".join(bodies) + b"\n</SetDTE>" + tail
    envelope = parse(text)
    signature_module.sign_reference(envelope, SET_ID, certificate)
    if validate:
        schema_module.validate(envelope, _SCHEMA_FILES[kind])
    return XML_DECLARATION + etree.tostring(envelope, encoding="ISO-8859-1", xml_declaration=False)


def envelope_documents(envelope):
    """The ``<DTE>`` elements of a parsed envelope."""
    set_dte = find(envelope, "SetDTE")
    if set_dte is None:
        raise XmlInputError(reason="the envelope has no <SetDTE>")
    return [child for child in set_dte if isinstance(child.tag, str) and etree.QName(child).localname == "DTE"]


def cover_of(envelope):
    cover = find(envelope, "SetDTE/Caratula")
    return {
        "issuer_rut": findtext(cover, "RutEmisor"),
        "sender_rut": findtext(cover, "RutEnvia"),
        "receiver_rut": findtext(cover, "RutReceptor"),
        "resolution_date": findtext(cover, "FchResol"),
        "resolution_number": findtext(cover, "NroResol"),
        "subtotals": {
            int(findtext(item, "TpoDTE")): int(findtext(item, "NroDTE"))
            for item in cover
            if isinstance(item.tag, str) and etree.QName(item).localname == "SubTotDTE"
        },
    }
