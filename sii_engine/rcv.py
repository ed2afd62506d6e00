"""The SII's registry of acceptances and claims of received DTEs (RCV), without the network.

Ley 19.983 as amended by Ley 20.956: the receiver of a factura (33, 34) or a
liquidación-factura (43) may, within 8 calendar days of the SII's reception
of the document, accept its content (ACD), acknowledge the goods or services
(ERM), claim its content (RCD) or claim a partial or total lack of goods (RFP,
RFT); after that the document is tacitly accepted. The SII's service
"WS Consulta y Registro de Aceptación/Reclamo a DTE recibido" (v1.2,
07/08/2017) records them; its answer codes are :class:`RcvCode`, as the
manual's tables give them (LibreDTE's ``RegistroCompraVenta`` and other
clients transcribe the same tables; 27 was added by the SII later).

The client is :mod:`sii_engine.transport.rcv`; the simulator uses the same
deadline rule (:func:`acceptance_deadline`).
"""

import datetime
from dataclasses import dataclass
from enum import Enum, IntEnum

#: Calendar days after the SII's reception to accept or claim (Ley 19.983 art. 3, Ley 20.956).
ACCEPTANCE_DAYS = 8
#: The document types the registry takes.
RCV_DOCUMENT_TYPES = frozenset({33, 34, 43})
#: How the service writes dates: ``21-02-2017 19:02:03``.
DATE_FORMAT = "%d-%m-%Y %H:%M:%S"


class RcvAction(str, Enum):
    """``accionDoc`` of ``ingresarAceptacionReclamoDoc``."""

    ACCEPT = "ACD"  # Acepta Contenido del Documento
    RECEIPT_OF_GOODS = "ERM"  # Otorga Recibo de Mercaderías o Servicios
    CLAIM_CONTENT = "RCD"  # Reclamo al Contenido del Documento
    CLAIM_PARTIAL_LACK = "RFP"  # Reclamo por Falta Parcial de Mercaderías
    CLAIM_TOTAL_LACK = "RFT"  # Reclamo por Falta Total de Mercaderías

    @property
    def is_claim(self):
        return self in CLAIMS

    @property
    def description(self):
        return ACTION_TEXT[self.value]


CLAIMS = frozenset({RcvAction.CLAIM_CONTENT, RcvAction.CLAIM_PARTIAL_LACK, RcvAction.CLAIM_TOTAL_LACK})
GOODS_CLAIMS = frozenset({RcvAction.CLAIM_PARTIAL_LACK, RcvAction.CLAIM_TOTAL_LACK})

ACTION_TEXT = {
    "ACD": "Acepta Contenido del Documento",
    "ERM": "Otorga Recibo de Mercaderías o Servicios",
    "RCD": "Reclamo al Contenido del Documento",
    "RFP": "Reclamo por Falta Parcial de Mercaderías",
    "RFT": "Reclamo por Falta Total de Mercaderías",
}
#: What ``listarEventosHistDoc`` calls each event (ERM as the SII wrote it in a real answer;
#: NCA/ENC are events the SII adds when a credit note refers to the document).
EVENT_TEXT = {
    **ACTION_TEXT,
    "ERM": "Acuse de Recibo de Mercaderías y Servicios Ley 19.983",
    "NCA": "Recepción de NC de anulación que referencia al documento",
    "ENC": "Recepción de NC, distinta de anulación, que referencia al documento",
}


class RcvCode(IntEnum):
    """``codResp`` of the service (the manual's tables)."""

    INTERNAL_ERROR = -1  # Error Interno: reintentar más tarde
    OK = 0  # Acción Completada OK
    BAD_ISSUER_RUT = 1  # Rut Emisor Erróneo
    BAD_FOLIO = 2  # Número de Folio Erróneo
    TYPE_NOT_IN_REGISTRY = 3  # Tipo de documento no corresponde (distinto de 33, 34, 43)
    BAD_ACTION = 4  # Acción inválida
    ALREADY_CLAIMED = 5  # DTE ya está reclamado
    RECEIPT_OF_CLAIMED = 6  # No se puede acusar recibo de mercadería de DTE previamente reclamado
    ALREADY_REGISTERED = 7  # Evento registrado previamente
    DEADLINE_PASSED = 8  # Pasados 8 días después de la recepción no es posible registrar reclamos o eventos
    NO_RECORDS = 9  # No existen registros de acuerdo a los parámetros ingresados
    BEFORE_2017 = 10  # Documento no emitido y/o recibido en el SII desde el 14 de enero de 2017
    CLAIM_OF_ACCEPTED = 11  # No se puede reclamar DTE previamente aceptado
    ACCEPT_OF_CLAIMED = 12  # No se puede dar por aceptado DTE previamente rechazado
    CLAIM_OF_RECEIVED = 13  # No se puede reclamar DTE previamente registrado como acuso recibo mercadería
    NOT_ISSUER_OR_RECEIVER = 14  # Acción autorizada sólo para empresa receptora o emisora
    EVENTS_LISTED = 15  # Listado de eventos del documento
    NO_EVENTS = 16  # Documento no presenta eventos de reclamos o acuse de recibo
    NOT_RECEIVER = 17  # Acción autorizada solo para empresa receptora
    NOT_RECEIVED = 18  # Documento no ha sido recibido
    GOODS_ALREADY_CLAIMED = 19  # Reclamo de mercaderías ya realizado
    NOT_CEDIBLE_TYPE = 20  # Tipo de documento no es cedible
    ANNULLED_BY_NOTE = 21  # DTE no cedible: anulado por nota de crédito del emisor dentro de los 8 días
    NO_CLAIM_NOR_RECEIPT = 22  # No existe registro de reclamo o de recepción de mercaderías o servicios
    CEDIBLE = 23  # DTE Cedible, sin reclamos
    CLAIMED_NOT_CEDIBLE = 24  # DTE No Cedible: reclamado por el receptor
    CEDIBLE_TACITLY = 25  # DTE Cedible: pasados 8 días se entiende dado el acuse de recibo
    PAID_OR_FREE = 27  # No se puede registrar un evento de un DTE pagado al contado o gratuito


#: The manual's text for each code (what the simulator answers in ``descResp``).
CODE_TEXT = {
    -1: "Error Interno, Rut Receptor debe reintentar mas tarde",
    0: "Acción Completada OK",
    1: "Rut Emisor Erróneo",
    2: "Número de Folio Erróneo",
    3: "Tipo de documento no corresponde (distinto de 33, 34, 43)",
    4: "Acción inválida",
    5: "DTE ya está reclamado por {previous}",
    6: "No se puede acusar recibo de mercadería de DTE previamente reclamado por {previous}",
    7: "Evento registrado previamente",
    8: "Pasados 8 días después de la recepción no es posible registrar reclamos o eventos",
    9: "No existen registros de acuerdo a los parámetros ingresados",
    10: "Documento no emitido y/o recibido en el SII desde el 14 de enero de 2017 en adelante",
    11: "No se puede reclamar DTE previamente aceptado",
    12: "No se puede dar por aceptado DTE previamente rechazado por {previous}",
    13: "No se puede reclamar DTE previamente registrado como acuso recibo mercadería",
    14: "Acción autorizada sólo para empresa receptora o emisora",
    15: "Listado de eventos del documento",
    16: "Documento no presenta eventos de reclamos o acuse de recibo",
    17: "Acción autorizada solo para empresa receptora",
    18: "Documento no ha sido recibido",
    19: "Reclamo de mercaderías ya realizado",
    20: "Tipo de documento no es cedible",
    21: "DTE No cedible, referenciado por nota de crédito de anulación del emisor dentro de los primeros 8 días",
    22: "No existe registro de reclamo o de recepción de mercadería o servicios",
    23: "DTE Cedible, sin reclamos",
    24: "DTE No Cedible, reclamado por el receptor",
    25: "DTE Cedible, habiendo pasado 8 días se entiende dado acuse de recibo",
    27: "No se puede registrar un evento (acuse de recibo, reclamo o aceptación de contenido) de un DTE pagado "
        "al contado o gratuito",
}

#: Answers of ``ingresarAceptacionReclamoDoc`` that leave the action registered.
REGISTERED = frozenset({RcvCode.OK, RcvCode.ALREADY_REGISTERED})
#: Answers of ``listarEventosHistDoc`` that are a list (possibly empty).
LISTED = frozenset({RcvCode.EVENTS_LISTED, RcvCode.NO_EVENTS})
#: Answers of ``consultarDocDteCedible`` about a document the SII has (the others refuse the query).
CEDIBLE_ANSWERS = frozenset({RcvCode.NOT_CEDIBLE_TYPE, RcvCode.ANNULLED_BY_NOTE, RcvCode.NO_CLAIM_NOR_RECEIPT,
                             RcvCode.CEDIBLE, RcvCode.CLAIMED_NOT_CEDIBLE, RcvCode.CEDIBLE_TACITLY})
CEDIBLE = frozenset({RcvCode.CEDIBLE, RcvCode.CEDIBLE_TACITLY})
NOT_FOUND = frozenset({RcvCode.NO_RECORDS, RcvCode.NOT_RECEIVED})


def known_code(code):
    """``code`` as an :class:`RcvCode`, or None for a code the manual does not list."""
    try:
        return RcvCode(int(code))
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class RcvEvent:
    """One event of a document's history (``listaEventosDoc``)."""

    code: str  # ACD, ERM, RCD, RFP, RFT, NCA, ENC...
    description: str
    responsible_rut: str  # who registered it (a person's RUT, with verifier)
    at: datetime.datetime

    @property
    def is_claim(self):
        return self.code in {action.value for action in CLAIMS}


# --- the 8 days --------------------------------------------------------------------------------


def acceptance_deadline(reception):
    """The last moment to accept or claim a document the SII received at ``reception``.

    The 8 calendar days follow the day of reception (days counted "corridos
    siguientes a su recepción"): received any time on 16 May, the last day is
    24 May, to its end. ``reception`` is the SII's reception datetime
    (naive Chile local time, as the service gives it; an aware one keeps its zone).
    """
    if not isinstance(reception, datetime.datetime):
        reception = datetime.datetime.combine(reception, datetime.time())
    last_day = reception.date() + datetime.timedelta(days=ACCEPTANCE_DAYS)
    return datetime.datetime.combine(last_day, datetime.time.max, tzinfo=reception.tzinfo)


def within_deadline(reception, now):
    """True while an acceptance or a claim can still be registered."""
    return now <= acceptance_deadline(reception)


def is_tacitly_accepted(reception, now, events=()):
    """True once the 8 days passed with no claim registered: the document stands accepted
    (and its goods received) by law. ``events`` are the document's :class:`RcvEvent`."""
    return not within_deadline(reception, now) and not any(event.is_claim for event in events)


def parse_date(text):
    """A datetime from the service's ``DD-MM-YYYY HH:MM:SS`` (or None for an empty value)."""
    text = (text or "").strip()
    if not text:
        return None
    return datetime.datetime.strptime(text, DATE_FORMAT)
