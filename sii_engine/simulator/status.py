"""What the SII answers about an envelope or a document, in SOAP and REST shape.

An envelope is checked when it arrives, but its result is revealed like the
SII's: the first ``processing_polls`` status queries see it in process (REC,
SOK, CRT, FOK, PDR: only the stages it did pass), the next ones see its final
state.
"""

import datetime
from decimal import Decimal

from ..totals import round_amount
from . import codes, sii_time
from .soap import respuesta
from .state import document_key


def visible_state(record, processing_polls):
    """``(state, final)`` as a status query made after ``record['polls']`` earlier ones sees it."""
    final = record["state"]
    polls = record.get("polls", 0)
    if polls >= processing_polls:
        return final, True
    passed = codes.PASSED_BEFORE.get(final, 1)
    return codes.PENDING_PROGRESSION[min(polls, passed - 1)], False


def statistics(record):
    """Per document type: informados, aceptados, rechazados, reparos (in order of type)."""
    by_type = {}
    for document in record["documents"]:
        counts = by_type.setdefault(document["document_type"], {"informados": 0, "aceptados": 0,
                                                                  "rechazados": 0, "reparos": 0})
        counts["informados"] += 1
        outcome = document["outcome"]
        if outcome == codes.ACCEPTED:
            counts["aceptados"] += 1
        elif outcome == codes.REJECTED:
            counts["rechazados"] += 1
        else:
            counts["reparos"] += 1
    return [{"tipo": document_type, **counts} for document_type, counts in sorted(by_type.items())]


# --- SOAP getEstUp ------------------------------------------------------------------


def est_up_xml(record, state_code, final, attention):
    track_id = f"{record['track_id']:010d}"
    header = [("TRACKID", track_id), ("ESTADO", state_code), ("GLOSA", codes.ENVELOPE_TEXT[state_code]),
              ("NUM_ATENCION", attention)]
    if final and state_code != codes.PROCESSED:
        return respuesta(header=header[1:])  # like the SII's RSC answer: no TRACKID, no body
    body = []
    if final:
        for row in statistics(record):
            body += [("TIPO_DOCTO", row["tipo"]), ("INFORMADOS", row["informados"]), ("ACEPTADOS", row["aceptados"]),
                     ("RECHAZADOS", row["rechazados"]), ("REPAROS", row["reparos"])]
    return respuesta(header=header, body=body, body_first=True)


def est_up_error_xml(estado, glosa, attention, extra=()):
    return respuesta(header=[("ESTADO", estado), ("GLOSA", glosa), *extra, ("NUM_ATENCION", attention)])


# --- REST boleta.electronica.envio/{rut}-{dv}-{trackid} --------------------------------


def rest_envelope(record, state_code, final):
    answer = {
        "rut_emisor": record["company_rut"],
        "rut_envia": record["sender_rut"],
        "trackid": record["track_id"],
        "fecha_recepcion": sii_time.local(record["received_at"]).strftime("%d/%m/%Y %H:%M:%S"),
        "estado": state_code,
        "estadistica": None,
        "detalle_rep_rech": None,
    }
    if not final:
        return answer
    if state_code != codes.PROCESSED:
        answer["estadistica"] = []
        answer["detalle_rep_rech"] = [{
            "tipo": None,
            "folio": None,
            "estado": codes.REJECTED,
            "descripcion": codes.ENVELOPE_TEXT[state_code],
            "error": [{"seccion": state_code, "linea": None, "nivel": 3, "codigo": 1,
                       "descripcion": codes.ENVELOPE_TEXT[state_code], "detalle": detail}
                      for detail in record["errors"]],
        }]
        return answer
    answer["estadistica"] = statistics(record)
    answer["detalle_rep_rech"] = [
        {
            "tipo": document["document_type"],
            "folio": document["folio"],
            "estado": document["outcome"],
            "descripcion": codes.DOCUMENT_TEXT[document["outcome"]],
            "error": [_api_issue(found) for found in document["issues"]],
        }
        for document in record["documents"]
        if document["outcome"] != codes.ACCEPTED
    ]
    return answer


def _api_issue(found):
    return {"seccion": found["section"], "linea": found["line"], "nivel": found["level"], "codigo": found["code"],
            "descripcion": found["description"], "detalle": found["detail"]}


# --- getEstDte / boleta estado ----------------------------------------------------------


def document_state(state, *, company_rut, document_type, folio, receiver_rut, issue_date, amount,
                   unauthorized_companies=()):
    """``(code, detail)`` of a document as getEstDte and the boleta estado answer it."""
    if company_rut in unauthorized_companies:
        return "EMP", ""
    key = document_key(company_rut, document_type, folio)
    record = state.document(key)
    if record is None:
        rejected = state.rejected_document(key)
        return ("FNA" if rejected and rejected["not_authorized"] else "FAU"), ""
    differing = [name for name, declared, asked in (
        ("RUT Receptor", record["receiver_rut"], receiver_rut),
        ("Fecha Emision", record["issue_date"], issue_date),
        ("Monto", record["total"], amount),
    ) if asked is not None and declared != asked]
    if differing:
        return "DNK", "No coinciden: " + ", ".join(differing)
    if record.get("annulled"):
        return "FAN", ""
    return record.get("modified_by") or "DOK", ""


def parse_date(text):
    """A date as the SII's queries write it: DDMMYYYY, DD-MM-YYYY or YYYY-MM-DD (ISO string or None)."""
    text = (text or "").strip()
    for pattern in ("%d%m%Y", "%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    return None


def parse_amount(text):
    """An amount as queried, rounded half up to pesos like the TED's MNT (or None)."""
    try:
        return int(round_amount(Decimal(str(text).strip())))
    except (ArithmeticError, ValueError):
        return None
