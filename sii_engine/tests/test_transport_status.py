"""The status model: every code the references name, and the two they disagree on."""

import pytest

from sii_engine.transport import status as status_module
from sii_engine.transport.status import (
    DOCUMENT_CODES,
    ENVELOPE_CODES,
    State,
    TypeCount,
    document_state,
    envelope_state,
)


def test_prd_is_pdr_in_process_not_a_rejection():
    """Decision (see sii_engine.transport.status): PRD is read as PDR, "envío en proceso".

    Odoo's l10n_cl_edi lists PRD among rejections, LibreDTE among the
    non-final codes; a rejection would make the caller re-issue documents the
    SII may still accept, so the engine keeps asking.
    """
    assert envelope_state("PRD")[:2] == envelope_state("PDR")[:2]
    state, final, _ = envelope_state("PRD")
    assert state == State.IN_PROCESS
    assert final is False
    assert "PRD" in status_module.__doc__ and "Decision" in status_module.__doc__


def test_rlv_is_accepted_with_objections_like_rpr():
    """Decision: RLV ("aceptado con reparos leves") is a valid document with objections, final."""
    for code in ("RLV", "RPR"):
        state, final, _ = document_state(code)
        assert state == State.OBJECTED
        assert final is True
    assert "RLV" in status_module.__doc__


@pytest.mark.parametrize("code", ["REC", "SOK", "CRT", "FOK", "PDR", "PRD", "-11"])
def test_envelope_codes_in_process(code):
    assert envelope_state(code)[:2] == (State.IN_PROCESS, False)


@pytest.mark.parametrize("code", ["RSC", "RFR", "RCT", "RCH", "RPT", "VOF"])
def test_envelope_codes_rejected(code):
    assert envelope_state(code)[:2] == (State.REJECTED, True)


def test_codes_are_read_whatever_their_case_and_spaces():
    assert envelope_state(" rsc ")[0] == State.REJECTED
    assert document_state("dok")[0] == State.ACCEPTED


@pytest.mark.parametrize(
    "counts, state",
    [
        ((TypeCount(33, 1, 1, 0, 0),), State.ACCEPTED),
        ((TypeCount(33, 2, 1, 0, 1),), State.OBJECTED),
        ((TypeCount(33, 1, 0, 1, 0),), State.REJECTED),
        ((TypeCount(33, 2, 1, 1, 0),), State.MIXED),
        ((TypeCount(33, 1, 1, 0, 0), TypeCount(61, 1, 0, 1, 0)), State.MIXED),
        ((TypeCount(33, 1, 1, 0, 0), TypeCount(61, 2, 0, 0, 2)), State.OBJECTED),
        ((TypeCount(33, 2, 0, 2, 0), TypeCount(61, 1, 0, 1, 0)), State.REJECTED),
    ],
)
def test_epr_is_decided_by_its_counts(counts, state):
    assert envelope_state("EPR", counts)[:2] == (state, True)


def test_epr_without_counts_is_not_final():
    assert envelope_state("EPR")[:2] == (State.IN_PROCESS, False)


def test_epr_with_documents_not_yet_counted_is_not_an_acceptance():
    # 3 informed, only 2 accounted for: not every document was accepted
    assert envelope_state("EPR", (TypeCount(33, 3, 2, 0, 0),))[0] == State.MIXED


def test_document_codes():
    expected = {
        "DOK": State.ACCEPTED, "DNK": State.MISMATCH, "FAU": State.NOT_FOUND, "FNA": State.REJECTED,
        "FAN": State.REJECTED, "EMP": State.REJECTED, "RPR": State.OBJECTED, "RLV": State.OBJECTED,
        "RCH": State.REJECTED, "TMD": State.ACCEPTED, "TMC": State.ACCEPTED, "MMD": State.ACCEPTED,
        "MMC": State.ACCEPTED, "AND": State.ACCEPTED, "ANC": State.ACCEPTED,
    }
    assert {code: document_state(code)[0] for code in expected} == expected
    assert set(expected) == set(DOCUMENT_CODES)


def test_unknown_codes_are_flagged_not_guessed():
    assert envelope_state("ZZZ")[:2] == (State.UNKNOWN, False)
    assert document_state("ZZZ")[:2] == (State.UNKNOWN, False)
    assert "EPR" not in ENVELOPE_CODES  # decided by its counts, never by a table


def test_summary_for_logs_and_messages():
    from sii_engine.transport.status import ENVELOPE, SiiStatus

    status = SiiStatus(ENVELOPE, "EPR", "Envio Procesado", State.MIXED, True, track_id="1000",
                       counts=(TypeCount(33, 2, 1, 1, 0),))
    assert status.summary() == (
        "EPR (Envio Procesado): mixed; type 33: 2 informed, 1 accepted, 1 rejected, 0 objected"
    )
    pending = SiiStatus(ENVELOPE, "SOK", "Schema Validado", State.IN_PROCESS, False)
    assert pending.summary() == "SOK (Schema Validado): in_process, not final"
