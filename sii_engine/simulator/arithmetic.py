"""The SII's amount checks on a received DTE: the verifier's, answered as the SII answers.

The amounts are recomputed by :func:`sii_engine.verify.totals_problems`, the
one implementation of the SII's arithmetic on received XML: lines
(``MontoItem = QtyItem × PrcItem − DescuentoMonto + RecargoMonto``), the net and
exempt sums after global discounts/surcharges, IVA, additional taxes and
MntTotal. Here each problem becomes the SII's kind of answer: a wrong line is
an objection (the boleta API's "Valor Detalle Distinto a Precio * Cantidad",
nivel 1), a wrong total rejects the document. Amounts the verifier cannot
recompute (unknown taxes, commissions, unreadable numbers) are left
unchecked rather than guessed.
"""

from ..verify import totals_problems
from .issues import issue


def check_amounts(body):
    """Return the issues found in ``body`` (``<Documento>``/``<Exportaciones>``)."""
    try:
        problems, _summary = totals_problems(body)
    except (ArithmeticError, ValueError, TypeError):  # unreadable or absurd amounts: the schema's business
        return []
    return [issue(problem.kind, problem, line=problem.line) for problem in problems or ()]
