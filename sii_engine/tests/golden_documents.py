"""The documents of the golden XML files (fixtures/golden): exports 110-112 with their customs
data in dollars, a boleta above 135 UF (Ley 21.713) and a factura on credit with installments.

Each golden file is the unsigned DTE (``dte.build_dte``: no TED, no signature, which depend on
the session's generated keys), pretty-printed. ``UPDATE_GOLDEN=1`` rewrites them: read the
diff before committing it.
"""

import datetime
import os
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from sii_engine import document as dm
from sii_engine import dte
from sii_engine.caf import load_caf
from sii_engine.errors import MissingFieldError

GOLDEN = Path(__file__).parent / "fixtures" / "golden"
ISSUER_RUT = "76192083-9"  # the simulator kit's COMPANY
ISSUE_DATE = datetime.date(2024, 12, 16)
INVOICE_FOLIO = 7
# 135 UF in pesos as the caller computes it (UF of the issue date x 135): a value of the test's.
THRESHOLD_135_UF = Decimal(5_106_044)
TIMESTAMP = datetime.datetime(2024, 12, 16, 12, 0, 0)


def issuer():
    return dm.Issuer(
        rut=ISSUER_RUT,
        name="Viña Ñandú Exportaciones SpA",
        activity="Elaboración y exportación de vinos",
        economic_activities=(110200,),
        address="Camino a Pirque 1450",
        commune="Pirque",
        city="Santiago",
        email="facturacion@nandu.example.cl",
    )


def foreign_buyer():
    return dm.Receiver(
        rut="55555555-5",
        name="Pacific Wine Importers Inc.",
        activity="Importador de vinos",
        address="1200 Harbor Blvd, Long Beach CA",
        nationality="225",
        foreign_id="94-1234567",
    )


def export_customs(**changes):
    values = {
        "sale_modality": 1,  # a firme
        "sale_clause": 1,  # CIF
        "transport_way": 1,  # marítima, fluvial y lacustre
        "transport_name": "MSC VALPARAISO",
        "carrier_rut": "96707720-8",
        "carrier_name": "Naviera del Pacífico S.A.",
        "booking": "BK-2024-1216",
        "operator": "MSC",
        "loading_port": 906,  # San Antonio
        "unloading_port": 175,  # Long Beach
        "tare": 2300,
        "tare_unit": 6,  # KN
        "gross_weight": Decimal("1250.5"),
        "gross_weight_unit": 6,
        "net_weight": Decimal("1100"),
        "net_weight_unit": 6,
        "packages": [
            dm.Package(type_code=22, quantity=93, marks="ÑANDÚ WINES 1-93"),  # caja de cartón
            dm.Package(type_code=73, quantity=1, container_id="MSCU1234565", seal="CL-778899",
                       seal_issuer="Servicio Nacional de Aduanas"),  # contenedor de 20 pies
        ],
        "freight": Decimal("180.5"),
        "insurance": Decimal("19.5"),
        "receiver_country": 225,  # U.S.A.
        "destination_country": 225,
    }
    values.update(changes)
    return dm.Customs(**values)


def _export(document_type, folio, lines, references=(), customs=None, **fields):
    return dm.Document(
        document_type=document_type,
        folio=folio,
        issue_date=ISSUE_DATE,
        issuer=issuer(),
        receiver=foreign_buyer(),
        lines=lines,
        references=list(references),
        currency="DOLAR USA",
        other_currency="PESO CL",
        exchange_rate=Decimal("940.25"),
        transport=dm.Transport(customs=customs) if customs else None,
        **fields,
    )


def export_invoice(**customs_changes):
    """110: 90 cases of red and 3 of white wine, CIF Long Beach, US$ 4,309.35 (the issue's example total)."""
    return _export(
        dm.FACTURA_EXPORTACION, INVOICE_FOLIO,
        [
            dm.Line("Vino tinto reserva caja 12", Decimal(90), Decimal("45.50"), unit="CJ"),
            dm.Line("Vino blanco gran reserva caja 6", Decimal(3), Decimal("71.45"), unit="CJ"),
        ],
        customs=export_customs(**customs_changes),
        export_payment_form=11,  # acreditivo hasta 1 año
    )


def _reference_to_invoice(code, reason):
    return dm.Reference(document_type="110", folio=str(INVOICE_FOLIO), date=ISSUE_DATE, code=code, reason=reason)


def export_debit_note():
    """111: a price difference on the invoice, US$ 12.3456 (4 decimals, as the schema allows)."""
    return _export(
        dm.NOTA_DEBITO_EXPORTACION, 3,
        [dm.Line("Diferencia de precio vino tinto", Decimal(1), Decimal("12.3456"))],
        references=[_reference_to_invoice(dm.CODREF_AMOUNTS, "Diferencia de precio")],
    )


def export_credit_note():
    """112: 3 cases returned, with the customs data of the return."""
    return _export(
        dm.NOTA_CREDITO_EXPORTACION, 4,
        [dm.Line("Vino tinto reserva caja 12", Decimal(3), Decimal("45.50"), unit="CJ")],
        references=[_reference_to_invoice(dm.CODREF_AMOUNTS, "Devolución de 3 cajas dañadas")],
        customs=dm.Customs(sale_clause=1, transport_way=1, receiver_country=225, destination_country=225),
    )


def _domestic(document_type, folio, receiver, lines, values, changes):
    document = {"document_type": document_type, "folio": folio, "issue_date": ISSUE_DATE, "issuer": issuer(),
                "receiver": receiver, "lines": lines, **values}
    document.update(changes)
    return dm.Document(**document)


def boleta_above_135_uf(**changes):
    """39 of 5,490,000 pesos paid in cash: the buyer's RUT, name, e-mail and phone, MedioPago 1."""
    buyer = dm.Receiver(rut="12345678-5", name="María José Pérez Soto", email="mjperez@example.cl",
                        phone="+56 9 8765 4321", internal_code="CLI-0042")
    return _domestic(dm.BOLETA, 21, buyer, [dm.Line("Refrigerador side by side 600 L", Decimal(1), Decimal(5_490_000))], {
        "payment_method": 1,  # efectivo
        "software_provider_rut": ISSUER_RUT,  # software of its own: the issuer's RUT
        "threshold_135_uf": THRESHOLD_135_UF,
    }, changes)


def factura_on_credit(**changes):
    """33 on credit (FmaPago 2) due in 90 days, paid in three installments of 297,500 pesos."""
    customer = dm.Receiver(rut="77777777-7", name="Distribuidora de Vinos del Sur Ltda.",
                           activity="Venta al por mayor de bebidas", address="Av. Alemania 0450", commune="Temuco",
                           city="Temuco")
    return _domestic(dm.FACTURA, 35, customer, [dm.Line("Vino tinto reserva caja 12", Decimal(3), Decimal(250_000),
                                                        unit="CJ")], {
        "payment_form": 2,  # crédito
        "due_date": ISSUE_DATE + datetime.timedelta(days=90),
        "payments": [
            dm.Payment(ISSUE_DATE + datetime.timedelta(days=days), Decimal(297_500), f"Cuota {number} de 3")
            for number, days in enumerate((30, 60, 90), 1)
        ],
        "payment_method": "PE",  # pago a cuenta corriente
    }, changes)


GOLDEN_DOCUMENTS = {
    "110_export_invoice_cif_usd": export_invoice,
    "111_export_debit_note_usd": export_debit_note,
    "112_export_credit_note_usd": export_credit_note,
    "39_boleta_above_135_uf_cash": boleta_above_135_uf,
    "33_factura_credit_installments": factura_on_credit,
}


def unsigned_xml(document):
    element, _totals = dte.build_dte(document)
    return etree.tostring(element, encoding="ISO-8859-1", xml_declaration=True, pretty_print=True)


def assert_golden(name, document):
    path = GOLDEN / f"{name}.xml"
    produced = unsigned_xml(document)
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_bytes(produced)
    assert path.exists(), f"{path.name} is missing: run with UPDATE_GOLDEN=1 and review it"
    assert produced.decode("ISO-8859-1") == path.read_bytes().decode("ISO-8859-1"), (
        f"{path.name} differs from what the engine builds; if the change is intended, "
        "rewrite it with UPDATE_GOLDEN=1 and review the diff"
    )


# --- issuing them in the tests -----------------------------------------------------------------


def make_cafs(authority, document_types):
    """``{type: Caf}`` of the golden issuer, signed by the test ``authority``."""
    return {
        document_type: load_caf(authority.issue_caf(ISSUER_RUT, "Viña Ñandú", document_type, 1, 100),
                                authority.trusted_keys())
        for document_type in document_types
    }


def issue(document, cafs, signer):
    return dte.issue(document, cafs[document.document_type], signer, timestamp=TIMESTAMP)


def refused_field(document, cafs, signer, error=MissingFieldError):
    """The SII tag the typed ``error`` refusing ``document`` names."""
    with pytest.raises(error) as raised:
        issue(document, cafs, signer)
    return raised.value.params["field"]
