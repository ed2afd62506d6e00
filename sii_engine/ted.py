"""The electronic stamp (Timbre Electrónico, TED) printed on every DTE.

``FRMT`` is SHA1withRSA with the CAF's private key over ``<DD>`` serialized
without namespaces nor whitespace between tags, as ISO-8859-1 bytes.
"""

import base64
import datetime
from copy import deepcopy
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from . import rut as rut_module
from .caf import parse_caf_element
from .errors import CafMismatchError, FolioOutOfRangeError, SignatureVerificationError, TedError
from .xmlutil import (
    ENCODING,
    SII_NS,
    XML_DECLARATION,
    PerObjectCache,
    clean_text,
    find,
    findtext,
    flatten,
    local,
    parse,
)

RECEIVER_NAME_LENGTH = 40
FIRST_ITEM_LENGTH = 40


@dataclass(frozen=True)
class StampData:
    """What a TED certifies about its document."""

    document_type: int
    folio: int
    issue_date: datetime.date
    receiver_rut: str
    receiver_name: str
    total: int  # MNT: whole pesos; a Decimal on exports, exactly their MntTotal
    first_item: str


def _qualified(tag):
    return f"{{{SII_NS}}}{tag}"


def _to_sii_namespace(element):
    """Copy a no-namespace element tree into the SII namespace."""
    result = etree.Element(_qualified(local(element.tag)), dict(element.attrib))
    result.text = element.text
    for child in element:
        if isinstance(child.tag, str):
            result.append(_to_sii_namespace(child))
    return result


def _prepare_caf(caf):
    """``(namespaced, flat)``: the CAF in the SII namespace, as the DTE's TED carries it,
    and the same CAF as :func:`~.xmlutil.flatten` renders it, the form the FRMT signs.

    Both are templates to ``deepcopy`` (a copy in C) into each TED, made once per Caf
    instead of converting and flattening the CAF on every stamp. ``flat`` is the
    flattened bytes parsed back, so it is by construction what ``flatten`` makes.
    """
    namespaced = _to_sii_namespace(caf.element)
    return namespaced, parse(XML_DECLARATION + flatten(namespaced))


_prepared_cafs = PerObjectCache(_prepare_caf)


def _stamp_fields(issuer, data, timestamp):
    """The DD's fields around the CAF: ``(before, after)``, lists of (tag, text)."""
    before = (
        ("RE", issuer),
        ("TD", str(int(data.document_type))),
        ("F", str(int(data.folio))),
        ("FE", data.issue_date.isoformat()),
        ("RR", rut_module.normalize(data.receiver_rut)),
        ("RSR", clean_text(data.receiver_name, RECEIVER_NAME_LENGTH) or "Sin nombre"),
        ("MNT", _amount_text(data.total)),
        ("IT1", clean_text(data.first_item, FIRST_ITEM_LENGTH) or "Sin detalle"),
    )
    after = (("TSTED", timestamp.strftime("%Y-%m-%dT%H:%M:%S")),)
    return before, after


def _amount_text(total):
    """MNT as written: a Decimal keeps its digits (an export's MntTotal), anything else is whole."""
    return format(total, "f") if isinstance(total, Decimal) else str(int(total))


def _read_amount(text):
    """MNT as read: whole pesos as an int; an export's decimal total (``30.00``) as a Decimal."""
    text = (text or "").strip()
    if "." not in text:
        return int(text)
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"MNT {text!r} is not an amount") from None


def build_ted(caf, rut, data, timestamp):
    """Return the ``<TED>`` element (SII namespace) stamping ``data`` with ``caf``.

    ``rut`` is the issuer's; the CAF must be for that RUT and document type, and
    the folio within its range.
    """
    return _stamp(caf, rut, data, timestamp)[0]


def _stamp(caf, rut, data, timestamp):
    """:func:`build_ted`, also returning the TED's barcode text: ``(ted, barcode_text)``.

    ``barcode_text`` is ``ted_barcode_text(ted)``, made without flattening ``ted``:
    the TED is built twice from the same fields, once in the SII namespace for the
    DTE and once already flat (no namespace, no whitespace between tags), whose
    ``<DD>`` serialized is the data the FRMT signs — the same bytes ``flatten(dd)``
    gives, at a fraction of its cost.
    """
    if caf.private_key is None:
        raise TedError("The CAF has no private key: load the CAF file the SII issued, not a copy from a TED")
    issuer = rut_module.normalize(rut)
    if caf.rut != issuer or caf.document_type != int(data.document_type):
        raise CafMismatchError(
            caf_rut=caf.rut, caf_type=caf.document_type, rut=issuer, doc_type=data.document_type
        )
    if not caf.contains(data.folio):
        raise FolioOutOfRangeError(folio=data.folio, first=caf.first_folio, last=caf.last_folio)

    namespaced_caf, flat_caf = _prepared_cafs.get(caf)
    before, after = _stamp_fields(issuer, data, timestamp)

    flat_dd = etree.Element("DD")
    for tag, text in before:
        etree.SubElement(flat_dd, tag).text = text
    flat_dd.append(deepcopy(flat_caf))
    for tag, text in after:
        etree.SubElement(flat_dd, tag).text = text
    signature = caf.private_key.sign(
        etree.tostring(flat_dd, encoding=ENCODING, xml_declaration=False), padding.PKCS1v15(), hashes.SHA1()
    )
    frmt = base64.b64encode(signature).decode()

    flat_ted = etree.Element("TED", version="1.0")
    flat_ted.append(flat_dd)
    etree.SubElement(flat_ted, "FRMT", algoritmo="SHA1withRSA").text = frmt
    barcode_text = etree.tostring(flat_ted, encoding=ENCODING, xml_declaration=False)

    ted = etree.Element(_qualified("TED"), version="1.0")
    dd = etree.SubElement(ted, _qualified("DD"))
    for tag, text in before:
        etree.SubElement(dd, _qualified(tag)).text = text
    dd.append(deepcopy(namespaced_caf))
    for tag, text in after:
        etree.SubElement(dd, _qualified(tag)).text = text
    etree.SubElement(ted, _qualified("FRMT"), algoritmo="SHA1withRSA").text = frmt
    return ted, barcode_text


@dataclass(frozen=True)
class VerifiedStamp:
    issuer_rut: str
    data: StampData
    caf: object


def verify_ted(ted, trusted_keys=None):
    """Verify a ``<TED>``: the CAF's FRMA, the folio range and the FRMT.

    Returns a :class:`VerifiedStamp`; raises a typed error naming the failed check.
    """
    dd = find(ted, "DD")
    frmt = findtext(ted, "FRMT")
    caf_element = find(dd, "CAF") if dd is not None else None
    if dd is None or not frmt or caf_element is None:
        raise SignatureVerificationError(reason="the TED has no DD, CAF or FRMT")
    caf = parse_caf_element(caf_element, trusted_keys)
    try:
        issuer = rut_module.normalize(findtext(dd, "RE"))
        data = StampData(
            document_type=int(findtext(dd, "TD")),
            folio=int(findtext(dd, "F")),
            issue_date=datetime.date.fromisoformat(findtext(dd, "FE")),
            receiver_rut=findtext(dd, "RR"),
            receiver_name=findtext(dd, "RSR", ""),
            total=_read_amount(findtext(dd, "MNT")),
            first_item=findtext(dd, "IT1", ""),
        )
    except (TypeError, ValueError) as error:
        raise SignatureVerificationError(reason=f"a TED field is missing or wrong ({error})") from None
    if caf.rut != issuer or caf.document_type != data.document_type:
        raise CafMismatchError(caf_rut=caf.rut, caf_type=caf.document_type, rut=issuer, doc_type=data.document_type)
    if not caf.contains(data.folio):
        raise FolioOutOfRangeError(folio=data.folio, first=caf.first_folio, last=caf.last_folio)
    try:
        caf.public_key.verify(base64.b64decode(frmt), flatten(dd), padding.PKCS1v15(), hashes.SHA1())
    except (InvalidSignature, ValueError):  # ValueError: FRMT is not base64
        raise SignatureVerificationError(reason="the TED's FRMT does not match its DD (the stamp was altered)") from None
    return VerifiedStamp(issuer_rut=issuer, data=data, caf=caf)


def ted_barcode_text(ted):
    """The TED as the text encoded in the printed barcode (flattened, ISO-8859-1)."""
    return flatten(ted)
