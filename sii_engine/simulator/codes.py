"""The SII's status codes and their texts, as its manuals and APIs spell them.

Sources: "Envío Automático de DTE" (DTEUpload STATUS), "Autenticación
Automática" (seed/token ESTADO), "Consulta de estado de envío" and "Consulta
de estado de DTE" (getEstUp / getEstDte ESTADO, ERR_CODE), the boleta REST
API (estado, detalle_rep_rech). Texts are kept ASCII where the SII's
transcribed answers are ASCII ("Envio Procesado").
"""

# --- DTEUpload <STATUS> --------------------------------------------------------

UPLOAD_OK = 0
UPLOAD_SENDER_NOT_ALLOWED = 1
UPLOAD_BAD_SIZE = 2
UPLOAD_TRUNCATED = 3
UPLOAD_NOT_AUTHENTICATED = 5
UPLOAD_COMPANY_NOT_AUTHORIZED = 6
UPLOAD_SCHEMA = 7
UPLOAD_SIGNATURE = 8
UPLOAD_BLOCKED = 9
UPLOAD_INTERNAL = 99

UPLOAD_STATUS_TEXT = {
    UPLOAD_OK: "Upload OK",
    UPLOAD_SENDER_NOT_ALLOWED: "El Sender no tiene permiso para enviar",
    UPLOAD_BAD_SIZE: "Error en tamano del archivo (muy grande o muy chico)",
    UPLOAD_TRUNCATED: "Archivo cortado (tamano <> al parametro size)",
    UPLOAD_NOT_AUTHENTICATED: "No esta autenticado",
    UPLOAD_COMPANY_NOT_AUTHORIZED: "Empresa no autorizada a enviar archivos",
    UPLOAD_SCHEMA: "Esquema Invalido",
    UPLOAD_SIGNATURE: "Firma del Documento",
    UPLOAD_BLOCKED: "Sistema Bloqueado",
    UPLOAD_INTERNAL: "Error Interno",
}

# --- envelope (envío) states: getEstUp <ESTADO>, REST "estado" ----------------------

RECEIVED = "REC"
SCHEMA_OK = "SOK"
COVER_OK = "CRT"
SIGNATURE_OK = "FOK"
IN_PROCESS = "PDR"
PROCESSED = "EPR"
SCHEMA_REJECTED = "RSC"
SIGNATURE_REJECTED = "RFR"
COVER_REJECTED = "RCT"
REPEATED = "RPT"

# Progression of an envelope that passes every stage, in the SII's order.
PENDING_PROGRESSION = (RECEIVED, SCHEMA_OK, COVER_OK, SIGNATURE_OK, IN_PROCESS)
# The stages passed before a rejection: an envelope rejected for its carátula
# was seen as REC then SOK before it turned RCT.
PASSED_BEFORE = {
    SCHEMA_REJECTED: 1,
    REPEATED: 1,
    COVER_REJECTED: 2,
    SIGNATURE_REJECTED: 3,
    PROCESSED: 5,
}

ENVELOPE_TEXT = {
    RECEIVED: "Envio Recibido",
    SCHEMA_OK: "Schema Validado",
    COVER_OK: "Caratula OK",
    SIGNATURE_OK: "Firma de Envio Validada",
    IN_PROCESS: "Envio en Proceso",
    PROCESSED: "Envio Procesado",
    SCHEMA_REJECTED: "Rechazado por Error en Schema",
    SIGNATURE_REJECTED: "Rechazado por Error en Firma",
    COVER_REJECTED: "Rechazado por Error en Caratula",
    REPEATED: "Envio Repetido Rechazado",
}

# --- per-document outcome inside a processed envelope ---------------------------

ACCEPTED = "DOK"  # accepted without objections
REJECTED = "RCH"
OBJECTED = "RPR"  # accepted with objections (reparos)
OBJECTED_MINOR = "RLV"  # accepted with minor objections (reparos leves)

DOCUMENT_TEXT = {
    ACCEPTED: "Dte Aceptado",
    REJECTED: "Dte Rechazado",
    OBJECTED: "Dte Aceptado con reparos",
    OBJECTED_MINOR: "Dte Aceptado con Reparos Leves",
}

# --- getEstDte <ESTADO> / REST boleta estado "codigo" ------------------------------

DTE_STATE_TEXT = {
    "DOK": "Documento Recibido por el SII. Datos Coinciden con los Registrados.",
    "DNK": "Documento Recibido por el SII pero Datos NO Coinciden con los registrados.",
    "FAU": "Documento No Recibido por el SII.",
    "FNA": "Documento No Autorizado.",
    "FAN": "Documento Anulado.",
    "EMP": "Empresa no autorizada a Emitir Documentos Tributarios Electronicos",
    "TMD": "Existe Nota de Debito que Modifica Texto Documento.",
    "TMC": "Existe Nota de Credito que Modifica Textos Documento.",
    "MMD": "Existe Nota de Debito que Modifica Montos Documento.",
    "MMC": "Existe Nota de Credito que Modifica Montos Documento.",
    "AND": "Existe Nota de Debito que Anula Documento",
    "ANC": "Existe Nota de Credito que Anula Documento",
}
DTE_STATE_ERR_CODE = {
    "DOK": 0, "DNK": 1, "FAU": 3, "FNA": 4, "FAN": 5, "EMP": 6,
    "TMD": 10, "TMC": 11, "MMD": 12, "MMC": 13, "AND": 14, "ANC": 15,
}
# What a note does to the document it refers to: (note type, CodRef) -> state.
NOTE_EFFECT = {
    (56, 1): "AND", (56, 2): "TMD", (56, 3): "MMD",
    (61, 1): "ANC", (61, 2): "TMC", (61, 3): "MMC",
}

# --- authentication ESTADO (seed / token) -----------------------------------------

AUTH_OK = "00"
AUTH_TEXT = {
    "00": "Token Creado",
    "02": "XML Invalido (SAXException), funcion valSignedXml",
    "04": "XML Invalido, elemento Signature no existe, funcion valSignedXml",
    "05": "XML Invalido, firma invalida, funcion valSignedXml",
    "06": "XML Invalido, elemento Semilla no existe, funcion getSeed",
    "08": "ERROR RETORNO",
    "11": "XML Invalido, elemento Certificate no existe, funcion getCertificado",
    "-07": "Error (12) parse ERROR en Validacion del RUT",
    "-3": "Error en Autenticacion",
}
SEED_UNKNOWN = "NO Existe SEED"
SEED_EXPIRED = "TIME-OUT DEL SEED"

# --- token errors of the SOAP queries (getEstUp / getEstDte <ESTADO>) -------------------

TOKEN_COOKIE_INACTIVE = "001"
TOKEN_INACTIVE = "002"
TOKEN_UNKNOWN = "003"
TOKEN_TEXT = {
    TOKEN_COOKIE_INACTIVE: "Cookie Inactivo (o token no existe)",
    TOKEN_INACTIVE: "Token Inactivo",
    TOKEN_UNKNOWN: "Token No Existe",
}
QUERY_BAD_INPUT = "-11"  # ERR_CODE 1: the envío is not the company's / missing parameters
QUERY_BAD_INPUT_TEXT = "El envio no es de la Empresa, faltan parametros de entrada."
