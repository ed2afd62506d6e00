"""Validation against the SII's XML schemas shipped in ``data/xsd``.

Each thread holds its own compiled schemas (lxml validators keep per-call
state); a finished thread's schemas go to the next thread.
Boletas have no top-level element in the SII's schemas (``EnvioBOLETA_v11``
defines ``BOLETADefType`` only inside the envelope), so a one-line wrapper
schema declares ``<DTE>`` of that type to validate a boleta on its own.
"""

import threading
from pathlib import Path

from lxml import etree

from .errors import SchemaValidationError
from .xmlutil import local

XSD_DIR = Path(__file__).parent / "data" / "xsd"

DTE = "DTE_v10.xsd"
ENVIO_DTE = "EnvioDTE_v10.xsd"
ENVIO_BOLETA = "EnvioBOLETA_v11.xsd"
BOLETA = "BOLETA (EnvioBOLETA_v11.xsd BOLETADefType)"
RESPUESTA_ENVIO_DTE = "RespuestaEnvioDTE_v10.xsd"
ENVIO_RECIBOS = "EnvioRecibos_v10.xsd"
RECIBO = "Recibos_v10.xsd"

_BOLETA_WRAPPER = f"""<?xml version="1.0" encoding="ISO-8859-1"?>
<xs:schema targetNamespace="http://www.sii.cl/SiiDte" xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:SiiDte="http://www.sii.cl/SiiDte" elementFormDefault="qualified">
  <xs:include schemaLocation="{(XSD_DIR / ENVIO_BOLETA).as_uri()}"/>
  <xs:element name="DTE" type="SiiDte:BOLETADefType"/>
</xs:schema>""".encode("latin-1")

_cache = threading.local()
# Compiled schemas of finished threads, ready for the next thread: servers that
# start a thread per request (Odoo's threaded mode, the simulator) would
# otherwise compile the XSDs (~0.1 s) on every request.
_spare = {}
_spare_lock = threading.Lock()


class _HeldSchemas(dict):
    """The schemas one thread holds; given back to the spares when the thread ends."""

    def __del__(self):
        with _spare_lock:
            for name, schema in self.items():
                _spare.setdefault(name, []).append(schema)


def _compile(name):
    if name == BOLETA:
        document = etree.fromstring(_BOLETA_WRAPPER, base_url=(XSD_DIR / "boleta-wrapper.xsd").as_uri())
        return etree.XMLSchema(etree.ElementTree(document))
    return etree.XMLSchema(etree.parse(str(XSD_DIR / name)))


def _load(name):
    """This thread's compiled schema ``name`` (lxml validators are not shared between threads)."""
    held = getattr(_cache, "schemas", None)
    if held is None:
        held = _cache.schemas = _HeldSchemas()
    schema = held.get(name)
    if schema is None:
        with _spare_lock:
            spares = _spare.get(name)
            schema = spares.pop() if spares else None
        held[name] = schema = schema if schema is not None else _compile(name)
    return schema


def schema_for(element):
    """The schema that governs ``element`` (a DTE, a boleta, an envelope or an exchange answer)."""
    tag = local(element.tag)
    if tag == "EnvioDTE":
        return ENVIO_DTE
    if tag == "EnvioBOLETA":
        return ENVIO_BOLETA
    if tag == "RespuestaDTE":
        return RESPUESTA_ENVIO_DTE
    if tag == "EnvioRecibos":
        return ENVIO_RECIBOS
    if tag == "Recibo":
        return RECIBO
    if tag == "DTE":
        document_type = element.findtext(".//{*}IdDoc/{*}TipoDTE")
        return BOLETA if document_type in ("39", "41") else DTE
    raise SchemaValidationError(tag, [f"no SII schema has a root element <{tag}>"])


def validation_errors(element, name=None):
    """List the schema errors of ``element`` as 'line N: <Element>: message'."""
    name = name or schema_for(element)
    schema = _load(name)
    if schema.validate(element):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]


def validate(element, name=None):
    """Raise :class:`SchemaValidationError` naming each element and rule broken."""
    name = name or schema_for(element)
    errors = validation_errors(element, name)
    if errors:
        raise SchemaValidationError(name, errors)
    return element
