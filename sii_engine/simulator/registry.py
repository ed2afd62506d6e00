"""Registering a checked envelope: what depends on what the SII received before.

* an envelope byte-identical to one already processed is RPT (repeated);
* a document whose RUT/type/folio was already accepted (earlier or earlier in
  the same envelope) is rejected as repeated;
* outcomes forced by a test are applied last;
* accepted and objected documents enter the registry that getEstDte and the
  boleta estado read; a note (56/61) marks the document it refers to
  (ANC/AND annulled, MMC/MMD amounts, TMC/TMD texts).
"""

from . import codes
from .issues import CATALOGUE, MINOR_OBJECTION, Issue, issue
from .state import document_key

FORCED_OUTCOMES = frozenset({"accepted", "rejected", "objected", "objected_minor", "annulled"})
_NOTE_STRENGTH = {"TMC": 1, "TMD": 1, "MMC": 2, "MMD": 2, "ANC": 3, "AND": 3}


def register_envelope(state, check, upload):
    """Store the envelope ``check`` received as ``upload`` (a dict); return its record."""
    with state.lock:
        data = state.data
        envelope_state, errors = check.state, list(check.errors)
        if envelope_state == codes.PROCESSED:
            earlier = next((r for r in data["envelopes"].values()
                            if r["digest"] == upload["digest"] and r["state"] == codes.PROCESSED), None)
            if earlier is not None:
                envelope_state = codes.REPEATED
                errors = [f"Envio repetido: ya recibido con TrackID {earlier['track_id']}"]
        documents = []
        if envelope_state == codes.PROCESSED:
            seen = set()
            for document in check.documents:
                _decide(state, document, seen)
                _store(state, document, upload["track_id"])
                documents.append(document.as_dict())
        record = {
            **upload,
            "kind": check.kind,
            "state": envelope_state,
            "errors": errors,
            "polls": 0,
            "documents": documents,
        }
        data["envelopes"][str(upload["track_id"])] = record
        state.save()
        return record


def _decide(state, document, seen):
    if document.document_type is None or document.folio is None:
        return
    key = document_key(document.issuer_rut, document.document_type, document.folio)
    if document.outcome != codes.REJECTED:
        earlier = state.data["documents"].get(key)
        if earlier is not None:
            document.issues.append(issue("repeated", f"TrackID {earlier['track_id']}"))
        elif key in seen:
            document.issues.append(issue("repeated", "dos veces en el mismo envio"))
    seen.add(key)
    rule = state.data["forced"].get(key)
    if rule is not None:
        _apply_rule(document, rule)


def _apply_rule(document, rule):
    outcome, reason = rule["outcome"], rule.get("reason") or ""
    if outcome == "rejected":
        document.issues.append(issue("forced_rejection", reason))
    elif outcome == "objected":
        document.issues.append(issue("forced_objection", reason))
    elif outcome == "objected_minor":
        document.issues.append(Issue("HED", MINOR_OBJECTION, 902, "Reparo Leve Forzado (simulador)", reason))
        document.override = codes.OBJECTED_MINOR
    elif outcome == "accepted":
        document.override = codes.ACCEPTED


def _store(state, document, track_id):
    if document.document_type is None or document.folio is None:
        return
    key = document_key(document.issuer_rut, document.document_type, document.folio)
    if document.outcome == codes.REJECTED:
        repeated = any(found.code == CATALOGUE["repeated"][2] for found in document.issues)
        if not repeated:  # a rejected copy must not hide the accepted original
            state.data["rejected"][key] = {"track_id": track_id, "not_authorized": document.not_authorized}
        return
    rule = state.data["forced"].get(key) or {}
    state.data["documents"][key] = {
        "track_id": track_id,
        "outcome": document.outcome,
        "receiver_rut": document.receiver_rut,
        "issue_date": document.issue_date,
        "total": document.total,
        "annulled": rule.get("outcome") == "annulled",
        "payment_form": document.payment_form,
        "modified_by": None,
    }
    state.data["rejected"].pop(key, None)
    _apply_note(state, document)


def _apply_note(state, document):
    for reference_type, reference_folio, code in document.references:
        effect = codes.NOTE_EFFECT.get((document.document_type, code))
        if effect is None or not str(reference_type).isdigit() or not str(reference_folio).isdigit():
            continue
        target = state.data["documents"].get(document_key(document.issuer_rut, reference_type, reference_folio))
        if target is None:
            continue
        current = target.get("modified_by")
        if current is None or _NOTE_STRENGTH[effect] >= _NOTE_STRENGTH[current]:
            target["modified_by"] = effect
