"""What the simulator finds wrong in a document, in the shape of the SII's detail.

The boleta API reports each error as ``{seccion, linea, nivel, codigo,
descripcion, detalle}`` (tests/fixtures/sii_responses/14); nivel 3 rejects the
document, nivel 1-2 are objections (reparos). The codes below are the
simulator's own catalogue (the SII does not publish one); sections follow the
SII's: CRT carátula, HED header, DET detail lines, TED stamp, FIR signature.
"""

from dataclasses import asdict, dataclass

REJECT = 3
OBJECTION = 2
MINOR_OBJECTION = 1


@dataclass(frozen=True)
class Issue:
    section: str
    level: int
    code: int
    description: str
    detail: str = ""
    line: int = None

    def as_dict(self):
        return asdict(self)


def issue(kind, detail="", line=None):
    section, level, code, description = CATALOGUE[kind]
    return Issue(section=section, level=level, code=code, description=description, detail=str(detail), line=line)


CATALOGUE = {
    # document signature and stamp
    "dte_signature": ("FIR", REJECT, 1, "Firma del DTE Incorrecta"),
    "ted_signature": ("TED", REJECT, 2, "Timbre Electronico (FRMT) Incorrecto"),
    "caf_untrusted": ("TED", REJECT, 3, "CAF No Autorizado por el SII"),
    "folio_out_of_range": ("TED", REJECT, 4, "Folio Fuera del Rango Autorizado (CAF)"),
    "caf_mismatch": ("TED", REJECT, 5, "CAF No Corresponde al Emisor o Tipo de Documento"),
    "ted_data": ("TED", REJECT, 6, "Datos del Timbre (DD) No Coinciden con el Documento"),
    "ted_missing": ("TED", REJECT, 7, "Documento sin Timbre Electronico"),
    # header
    "issuer_mismatch": ("HED", REJECT, 10, "RUT Emisor del DTE Distinto al de la Empresa que Envia"),
    "repeated": ("HED", REJECT, 11, "DTE Repetido: Folio ya Recibido por el SII"),
    "unreadable": ("HED", REJECT, 12, "Datos del Encabezado Ilegibles"),
    # amounts
    "net_amount": ("HED", REJECT, 20, "Monto Neto Distinto a la Suma de los Items Afectos"),
    "exempt_amount": ("HED", REJECT, 21, "Monto Exento Distinto a la Suma de los Items Exentos"),
    "vat_amount": ("HED", REJECT, 22, "Monto IVA Distinto al Calculado"),
    "additional_tax": ("HED", REJECT, 23, "Monto de Impuesto Adicional Distinto al Calculado"),
    "total_amount": ("HED", REJECT, 24, "Monto Total Distinto a la Suma de los Montos"),
    "line_amount": ("DET", MINOR_OBJECTION, 200, "Valor Detalle Distinto a Precio * Cantidad"),
    # forced by a test
    "forced_rejection": ("HED", REJECT, 900, "Rechazo Forzado (simulador)"),
    "forced_objection": ("HED", OBJECTION, 901, "Reparo Forzado (simulador)"),
}
