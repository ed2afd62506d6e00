"""The codes of the exchange between taxpayers, as the SII's schemas define them.

``RespuestaEnvioDTE_v10.xsd`` enumerates ``EstadoRecepEnv`` (an envelope's
reception), ``EstadoRecepDTE`` (each document's reception) and ``EstadoDTE``
(the commercial result); each code's ``glosa`` is the schema's own
documentation of it, the text written when no other is given.
``Recibos_v10.xsd`` fixes the Ley 19.983 declaration every receipt carries.
"""

from enum import IntEnum


class _Coded(IntEnum):
    """An integer code that also carries the SII's text for it (``glosa``)."""

    def __new__(cls, value, glosa):
        member = int.__new__(cls, value)
        member._value_ = value
        member.glosa = glosa
        return member


class EnvelopeStatus(_Coded):
    """``EstadoRecepEnv``: how an envelope (EnvioDTE) was received."""

    OK = 0, "Envio Recibido Conforme"
    SCHEMA_ERROR = 1, "Envio Rechazado - Error de Schema"
    SIGNATURE_ERROR = 2, "Envio Rechazado - Error de Firma"
    RECEIVER_RUT_ERROR = 3, "Envio Rechazado - RUT Receptor No Corresponde"
    REPEATED_FILE = 90, "Envio Rechazado - Archivo Repetido"
    UNREADABLE_FILE = 91, "Envio Rechazado - Archivo Ilegible"
    OTHER = 99, "Envio Rechazado - Otros"


class DocumentStatus(_Coded):
    """``EstadoRecepDTE``: how one document of a received envelope was received."""

    OK = 0, "DTE Recibido OK"
    SIGNATURE_ERROR = 1, "DTE No Recibido - Error de Firma"
    ISSUER_RUT_ERROR = 2, "DTE No Recibido - Error en RUT Emisor"
    RECEIVER_RUT_ERROR = 3, "DTE No Recibido - Error en RUT Receptor"
    REPEATED = 4, "DTE No Recibido - DTE Repetido"
    OTHER = 99, "DTE No Recibido - Otros"


class CommercialStatus(_Coded):
    """``EstadoDTE``: the receiver's commercial answer to a document."""

    ACCEPTED = 0, "DTE Aceptado OK"
    ACCEPTED_WITH_DISCREPANCIES = 1, "DTE Aceptado con Discrepancias"
    REJECTED = 2, "DTE Rechazado"


#: ``Recibo/DocumentoRecibo/Declaracion``: the schema fixes this exact text (no accents,
#: as the SII writes it); a receipt with any other text is not valid.
DECLARATION = (
    "El acuse de recibo que se declara en este acto, de acuerdo a lo dispuesto en la letra b) del Art. 4, "
    "y la letra c) del Art. 5 de la Ley 19.983, acredita que la entrega de mercaderias o servicio(s) "
    "prestado(s) ha(n) sido recibido(s)."
)
