"""Envelopes: EnvioDTE (facturas, notes, guías, exports) and EnvioBOLETA.

Each DTE was signed on its own; it is pasted into the envelope byte for byte
so its signature still verifies, then the ``SetDTE`` is signed by the person
sending (``RutEnvia``, the certificate's holder).

The sender's signature vouches for every document inside, so before signing
each DTE is read and refused when it is not the envelope issuer's, not of a type
the SII takes, or its own signature no longer verifies (edited after signing).
"""

import datetime
from collections import Counter

from lxml import etree

from . import rut as rut_module
from . import schema as schema_module
from . import signature as signature_module
from .document import BOLETA_TYPES, SUPPORTED_TYPES
from .errors import EnvelopeError, RutError, SignatureVerificationError, XmlInputError
from .xmlutil import SII_NS, XML_DECLARATION, XSI_NS, find, findtext, local, parse, strip_declaration

ENVIO_DTE = "EnvioDTE"
ENVIO_BOLETA = "EnvioBOLETA"
MAX_DOCUMENTS = {ENVIO_DTE: 2000, ENVIO_BOLETA: 500}
_SCHEMA_FILES = {ENVIO_DTE: "EnvioDTE_v10.xsd", ENVIO_BOLETA: "EnvioBOLETA_v11.xsd"}
# The SII also takes liquidación-facturas (43): this engine does not issue them, but a
# receiver gets them from its agents (see stand_in_supplier, which makes one to receive).
ENVELOPE_TYPES = SUPPORTED_TYPES | {43}
SET_ID = "SetDoc"


def kind_for(document_type):
    return ENVIO_BOLETA if int(document_type) in BOLETA_TYPES else ENVIO_DTE


def _declared_type(dte_bytes, number):
    """The TipoDTE of a DTE read from its bytes, to count documents per kind before parsing any."""
    marker = dte_bytes.find(b"<TipoDTE>")
    if marker < 0:
        raise EnvelopeError(reason=f"document {number} has no <TipoDTE>")
    text = dte_bytes[marker + 9:dte_bytes.find(b"</TipoDTE>", marker, marker + 40)]
    return _supported_type(text.decode("latin-1"), f"document {number}")


def _supported_type(text, name):
    text = text.strip()
    if not text.isdigit() or len(text) > 3 or int(text) not in ENVELOPE_TYPES:
        raise EnvelopeError(reason=f"{name}: TipoDTE {text[:20]!r} is not a document type the SII takes in an "
                                   f"envelope ({', '.join(str(t) for t in sorted(ENVELOPE_TYPES))})")
    return int(text)


def _checked_document_type(dte_bytes, number, issuer_rut, check_signature):
    """The TipoDTE of the ``number``-th DTE, once it is known to belong in this envelope."""
    try:
        dte = parse(dte_bytes)
    except XmlInputError as error:
        raise EnvelopeError(reason=f"document {number} is not readable XML: {error.params.get('reason', error)}") from None
    body = signature_module.dte_body(dte) if local(dte.tag) == "DTE" else None
    if body is None:
        raise EnvelopeError(reason=f"document {number} is a <{local(dte.tag)}>, not a <DTE> with its <Documento>")
    type_text = (findtext(body, "Encabezado/IdDoc/TipoDTE") or "").strip()
    folio = (findtext(body, "Encabezado/IdDoc/Folio") or "?").strip()
    name = f"document {number} (T{type_text[:20]}F{folio[:20]})"
    document_type = _supported_type(type_text, name)
    document_issuer = findtext(body, "Encabezado/Emisor/RUTEmisor")
    try:
        same_issuer = rut_module.normalize(document_issuer) == issuer_rut
    except RutError:
        same_issuer = False
    if not same_issuer:
        raise EnvelopeError(reason=f"{name} is issued by {document_issuer!r}, not by the envelope's issuer "
                                   f"{issuer_rut}: each issuer sends its documents in its own envelope")
    if check_signature:
        try:
            # Parsed from its own bytes, the DTE already stands alone: verified as it is, and
            # through verify_dte (the namespace variants some issuers sign in) only if need be.
            try:
                signature_module.verify(dte)
            except SignatureVerificationError:
                signature_module.verify_dte(dte)
        except SignatureVerificationError as error:
            raise EnvelopeError(reason=f"{name}: its own signature does not verify "
                                       f"({error.params.get('reason', error)}); it was changed after signing "
                                       "or never signed, and the SII would reject it") from None
    return document_type


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
    check_documents=True,
):
    """Return the signed envelope (bytes, ISO-8859-1) holding ``dtes``.

    ``dtes`` are signed DTEs as bytes (with or without XML declaration).
    ``receiver_rut`` is the SII's for a submission, the customer's for the
    exchange copy. The kind follows from the documents unless given.
    ``check_documents=False`` skips verifying each DTE's own signature (only
    to make defective envelopes on purpose, as the simulator's tests do).
    """
    bodies = [strip_declaration(dte) for dte in dtes]
    if not bodies:
        raise EnvelopeError(reason="there are no documents to send")
    # Counted before any document is parsed or verified: that work grows with them.
    types = [_declared_type(body, number) for number, body in enumerate(bodies, 1)]
    kinds = {kind_for(document_type) for document_type in types}
    if kind is None:
        if len(kinds) > 1:
            raise EnvelopeError(reason="boletas and other documents go in separate envelopes")
        kind = kinds.pop()
    elif kinds != {kind}:
        raise EnvelopeError(reason=f"an {kind} holds only {'boletas' if kind == ENVIO_BOLETA else 'non-boleta DTEs'}")
    if len(bodies) > MAX_DOCUMENTS[kind]:
        raise EnvelopeError(reason=f"an {kind} holds at most {MAX_DOCUMENTS[kind]} documents, not {len(bodies)}")
    issuer = rut_module.normalize(issuer_rut)
    for number, (dte, declared) in enumerate(zip(dtes, types, strict=True), 1):
        if _checked_document_type(dte, number, issuer, check_documents) != declared:
            raise EnvelopeError(reason=f"document {number}: its <TipoDTE> is not where a DTE has it")
    timestamp = (timestamp or datetime.datetime.now()).replace(microsecond=0)

    root = etree.Element(f"{{{SII_NS}}}{kind}", nsmap={None: SII_NS, "xsi": XSI_NS}, version="1.0")
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{SII_NS} {_SCHEMA_FILES[kind]}")
    set_dte = etree.SubElement(root, f"{{{SII_NS}}}SetDTE", ID=SET_ID)
    cover = etree.SubElement(set_dte, f"{{{SII_NS}}}Caratula", version="1.0")
    for tag, text in (
        ("RutEmisor", issuer),
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
