"""SOAP 1.1 rpc as the SII's Axis services speak it.

The request is an rpc call (``<m:getEstUp><RutCompania>…``; literal or
encoded, read by local names). The answer wraps the SII's own XML answer as an
escaped ``xsd:string`` in ``<{operation}Return>``, exactly like the SII does
(see tests/fixtures/sii_responses/01 and 05).
"""

from xml.sax.saxutils import escape

from ..errors import XmlInputError
from ..xmlutil import local, parse
from .http import xml_response

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENCODING = "http://schemas.xmlsoap.org/soap/encoding/"
SII_RESPONSE_NS = "http://www.sii.cl/XMLSchema"
MAX_SOAP_BYTES = 2 * 1024 * 1024

_ATTRIBUTE_ESCAPES = {'"': "&quot;"}


class SoapRequestError(Exception):
    """The request is not a SOAP rpc call we can read: answered with a SOAP Fault."""


def parse_call(body):
    """Return ``(operation, {parameter: text})`` of a SOAP rpc request."""
    call = call_element(body)
    params = {local(child.tag): (child.text or "") for child in call if isinstance(child.tag, str)}
    return local(call.tag), params


def call_element(body):
    """The rpc call element of a SOAP request (the Body's first child)."""
    try:
        envelope = parse(body, max_bytes=MAX_SOAP_BYTES)
    except XmlInputError as error:
        raise SoapRequestError(f"the request is not XML: {error}") from None
    if local(envelope.tag) != "Envelope":
        raise SoapRequestError("the request is not a SOAP envelope")
    soap_body = next((child for child in envelope if isinstance(child.tag, str) and local(child.tag) == "Body"), None)
    call = None
    if soap_body is not None:
        call = next((child for child in soap_body if isinstance(child.tag, str)), None)
    if call is None:
        raise SoapRequestError("the SOAP Body holds no operation")
    return call


def respuesta(header=(), body=(), body_first=False, declaration=True):
    """The SII's ``<SII:RESPUESTA>`` text from ``(tag, value)`` pairs.

    A value that is a list of pairs is written as repeated groups (getEstUp
    writes one TIPO_DOCTO… group per document type).
    """
    hdr = "<SII:RESP_HDR>" + _items(header) + "</SII:RESP_HDR>"
    parts = [hdr]
    if body:
        parts.append("<SII:RESP_BODY>" + _items(body) + "</SII:RESP_BODY>")
        if body_first:
            parts.reverse()
    text = f'<SII:RESPUESTA xmlns:SII="{SII_RESPONSE_NS}">' + "".join(parts) + "</SII:RESPUESTA>"
    if declaration:
        text = '<?xml version="1.0" encoding="UTF-8"?>\n' + text
    return text


def _items(items):
    return "".join(f"<{tag}>{escape(str(value))}</{tag}>" for tag, value in items if value is not None)


def envelope(operation, namespace, inner_xml):
    """The SOAP answer of ``operation`` carrying ``inner_xml`` as an escaped string."""
    escaped = escape(inner_xml, _ATTRIBUTE_ESCAPES)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV_NS}" xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        "   <soapenv:Body>\n"
        f'      <ns1:{operation}Response soapenv:encodingStyle="{SOAP_ENCODING}" xmlns:ns1="{namespace}">\n'
        f'         <{operation}Return xsi:type="xsd:string">{escaped}</{operation}Return>\n'
        f"      </ns1:{operation}Response>\n"
        "   </soapenv:Body>\n"
        "</soapenv:Envelope>"
    )


def answer(operation, namespace, inner_xml):
    return xml_response(envelope(operation, namespace, inner_xml))


def fault(message, code="soapenv:Server.userException"):
    """An Axis-style SOAP Fault (HTTP 500)."""
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV_NS}" xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>{escape(code)}</faultcode><faultstring>{escape(message)}</faultstring>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return xml_response(text, status=500)
