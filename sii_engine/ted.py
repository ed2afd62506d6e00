"""The electronic stamp (Timbre Electrónico, TED) printed on every DTE.

``FRMT`` is SHA1withRSA with the CAF's private key over ``<DD>`` serialized
without namespaces nor whitespace between tags, as ISO-8859-1 bytes.
"""

import base64
import datetime
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from . import rut as rut_module
from .caf import parse_caf_element
from .errors import CafMismatchError, FolioOutOfRangeError, SignatureVerificationError, TedError
from .xmlutil import SII_NS, clean_text, find, findtext, flatten, local

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
    total: int
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


def build_ted(caf, rut, data, timestamp):
    """Return the ``<TED>`` element (SII namespace) stamping ``data`` with ``caf``.

    ``rut`` is the issuer's; the CAF must be for that RUT and document type, and
    the folio within its range.
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

    ted = etree.Element(_qualified("TED"), version="1.0")
    dd = etree.SubElement(ted, _qualified("DD"))
    for tag, text in (
        ("RE", issuer),
        ("TD", str(int(data.document_type))),
        ("F", str(int(data.folio))),
        ("FE", data.issue_date.isoformat()),
        ("RR", rut_module.normalize(data.receiver_rut)),
        ("RSR", clean_text(data.receiver_name, RECEIVER_NAME_LENGTH) or "Sin nombre"),
        ("MNT", str(int(data.total))),
        ("IT1", clean_text(data.first_item, FIRST_ITEM_LENGTH) or "Sin detalle"),
    ):
        etree.SubElement(dd, _qualified(tag)).text = text
    dd.append(_to_sii_namespace(caf.element))
    etree.SubElement(dd, _qualified("TSTED")).text = timestamp.strftime("%Y-%m-%dT%H:%M:%S")
    signature = caf.private_key.sign(flatten(dd), padding.PKCS1v15(), hashes.SHA1())
    etree.SubElement(ted, _qualified("FRMT"), algoritmo="SHA1withRSA").text = base64.b64encode(signature).decode()
    return ted


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
            total=int(findtext(dd, "MNT")),
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
