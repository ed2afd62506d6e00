"""LibreDTE's example inputs (``fixtures/libredte_inputs``) as the tests issue them.

LibreDTE's export examples 110_001, 111_001 and 112_001 predate the SII's rule
of 2017 that an export in a foreign currency states its totals in pesos
(``OtraMoneda``: PESO CL at ``TpoCambio``); the engine refuses them as they
are (test_exports.py). The tests give them the rate LibreDTE's own 110_002
uses, and nothing else.
"""

import copy
import json
from pathlib import Path

from sii_engine import document as document_module

INPUTS = Path(__file__).parent / "fixtures" / "libredte_inputs"
EXPORT_TYPES = {110, 111, 112}
LIBREDTE_RATE = {"TpoMoneda": "PESO CL", "TpoCambio": 500}  # as in 110_002_otra_moneda.json


def as_issued(data):
    """A copy of ``data`` with the exchange rate an export in a foreign currency needs."""
    data = copy.deepcopy(data)
    header = data.get("Encabezado") or {}
    document_type = int((header.get("IdDoc") or {}).get("TipoDTE") or 0)
    currency = (header.get("Totales") or {}).get("TpoMoneda", "")
    if document_type in EXPORT_TYPES and currency not in ("", "PESO CL") and not header.get("OtraMoneda"):
        header["OtraMoneda"] = dict(LIBREDTE_RATE)
    return data


def load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def document(path, **kwargs):
    """The Document of the input at ``path`` as the tests issue it."""
    return document_module.document_from_dict(as_issued(load(path)), **kwargs)
