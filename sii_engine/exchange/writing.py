"""What the exchange builders share: fields in the schema's order, signing, validation.

Every value is checked or cleaned before it is written, so that a defect of
what was given is a typed error naming it, never an invalid signed file.
"""

import datetime

from lxml import etree

from .. import rut as rut_module
from .. import schema as schema_module
from .. import signature as signature_module
from ..errors import RutError
from ..xmlutil import ENCODING, SII_NS, XML_DECLARATION, clean_text
from .errors import ExchangeBuildError

NSMAP = {None: SII_NS}
MAX_GLOSA = 256


def tag(name):
    return f"{{{SII_NS}}}{name}"


def add(parent, name, text):
    element = etree.SubElement(parent, tag(name))
    element.text = text
    return element


def rut(value, what, document):
    try:
        return rut_module.normalize(value)
    except RutError:
        raise ExchangeBuildError(document=document, reason=f"{what} {value!r} is not a valid RUT") from None


def positive(value, what, document, digits=10):
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1 or len(str(number)) > digits:
        raise ExchangeBuildError(document=document,
                                 reason=f"{what} must be a positive number of at most {digits} digits, not {value!r}")
    return number


def code(enumeration, value, document):
    """``value`` as a member of ``enumeration`` (one of :mod:`.codes`), or a typed error."""
    try:
        return enumeration(int(value))
    except (TypeError, ValueError):
        known = ", ".join(str(int(member)) for member in enumeration)
        raise ExchangeBuildError(document=document,
                                 reason=f"{value!r} is not a {enumeration.__name__} ({known})") from None


def moment(value):
    """``YYYY-MM-DDTHH:MM:SS`` (the SII's dateTime, local time, no fraction)."""
    return (value or datetime.datetime.now()).strftime("%Y-%m-%dT%H:%M:%S")


def text(value, what, document, length=MAX_GLOSA, required=True):
    cleaned = clean_text(value, length)
    if required and not cleaned:
        raise ExchangeBuildError(document=document, reason=f"{what} is empty")
    return cleaned


def add_contact(cover, contact):
    """NmbContacto, FonoContacto, MailContacto (each optional), in the schema's order."""
    if contact is None:
        return
    for name, value, length in (("NmbContacto", contact.name, 40), ("FonoContacto", contact.phone, 40),
                                ("MailContacto", contact.email, 80)):
        cleaned = clean_text(value, length)
        if cleaned:
            add(cover, name, cleaned)


def add_document(parent, document, document_name, type_tag="TipoDTE"):
    """TipoDTE (or TipoDoc), Folio, FchEmis, RUTEmisor, RUTRecep, MntTotal of ``document``."""
    issue_date = document.issue_date
    if isinstance(issue_date, datetime.datetime):
        issue_date = issue_date.date()
    if not isinstance(issue_date, datetime.date):
        raise ExchangeBuildError(document=document_name, reason=f"the issue date {issue_date!r} is not a date")
    try:
        total = int(document.total)
    except (TypeError, ValueError):
        total = -1
    if total < 0:
        raise ExchangeBuildError(document=document_name, reason=f"the total {document.total!r} is not an amount")
    add(parent, type_tag, str(positive(document.document_type, "the document type", document_name, digits=3)))
    add(parent, "Folio", str(positive(document.folio, "the folio", document_name)))
    add(parent, "FchEmis", issue_date.isoformat())
    add(parent, "RUTEmisor", rut(document.issuer_rut, "the issuer's RUT", document_name))
    add(parent, "RUTRecep", rut(document.receiver_rut, "the receiver's RUT", document_name))
    add(parent, "MntTotal", str(total))


def finish(root, reference_id, certificate, schema_name):
    """Sign the element ``reference_id`` of ``root``, validate ``root``, return its bytes."""
    signature_module.sign_reference(root, reference_id, certificate)
    schema_module.validate(root, schema_name)
    return XML_DECLARATION + etree.tostring(root, encoding=ENCODING, xml_declaration=False)
