"""Payment data: facturas on credit (FmaPago, FchVenc, MntPagos) and the boleta of 2024 (Ley 21.713).

A boleta above 135 UF names its buyer and how it was paid (boleta format 4.1, 2024-12-31);
the golden documents are built to their golden XML, issued, verified and accepted by the
simulator; each rule refuses with a typed error naming the field.
"""

import dataclasses
import datetime
from decimal import Decimal

import pytest

from sii_engine import document as dm
from sii_engine import xmlutil
from sii_engine.errors import FieldValueError
from sii_engine.tests import conftest_simulator as kit
from sii_engine.tests import golden_documents as golden
from sii_engine.tests.conftest_simulator import (
    envelope_of,
    est_dte,
    hdr,
    poll_est_up,
    rest_envelope_status,
    rest_token,
    rest_upload,
    soap_token,
    upload_ok,
)
from sii_engine.verify import TOTALS, verify_file

authority, signer, sii = kit.authority, kit.signer, kit.sii
BOLETA = "39_boleta_above_135_uf_cash"
FACTURA = "33_factura_credit_installments"


@pytest.fixture(scope="module")
def cafs(authority):
    return golden.make_cafs(authority, (33, 39))


# --- golden documents --------------------------------------------------------------------------


@pytest.mark.parametrize("name", [BOLETA, FACTURA])
def test_golden_xml(name):
    golden.assert_golden(name, golden.GOLDEN_DOCUMENTS[name]())


@pytest.mark.parametrize("name", [BOLETA, FACTURA])
def test_issued_schema_valid_and_verified(name, cafs, signer, authority):
    issued = golden.issue(golden.GOLDEN_DOCUMENTS[name](), cafs, signer)
    report = verify_file(issued.xml, authority.trusted_keys())
    assert report.ok, report.format()
    assert "agree" in report.find(TOTALS)[0].detail


def test_the_sii_tag_input_reads_the_2024_fields():
    data = {
        "Encabezado": {
            "IdDoc": {"TipoDTE": 39, "Folio": 21, "FchEmis": golden.ISSUE_DATE.isoformat(), "MedioPago": "1"},
            "Emisor": {"RUTEmisor": golden.ISSUER_RUT, "RznSocEmisor": "Viña Ñandú Exportaciones SpA",
                       "GiroEmisor": "Elaboración y exportación de vinos", "DirOrigen": "Camino a Pirque 1450",
                       "CmnaOrigen": "Pirque", "CiudadOrigen": "Santiago"},
            "Receptor": {"RUTRecep": "12345678-5", "CdgIntRecep": "CLI-0042", "RznSocRecep": "María José Pérez Soto",
                         "CorreoRecep": "mjperez@example.cl", "TelefonoRecep": "+56 9 8765 4321"},
            "RUTProvSW": golden.ISSUER_RUT,
        },
        "Detalle": [{"NmbItem": "Refrigerador side by side 600 L", "QtyItem": 1, "PrcItem": 5490000}],
    }
    golden.assert_golden(BOLETA, dm.document_from_dict(data))
    factura = {
        "Encabezado": {
            "IdDoc": {"TipoDTE": 33, "Folio": 35, "FchEmis": "2024-12-16", "FmaPago": 2, "MedioPago": "pe",
                      "FchVenc": "2025-03-16",
                      "MntPagos": [{"FchPago": date, "MntPago": 297500, "GlosaPagos": f"Cuota {number} de 3"}
                                   for number, date in enumerate(("2025-01-15", "2025-02-14", "2025-03-16"), 1)]},
            "Emisor": {"RUTEmisor": golden.ISSUER_RUT, "RznSoc": "Viña Ñandú Exportaciones SpA",
                       "GiroEmis": "Elaboración y exportación de vinos", "Acteco": 110200,
                       "CorreoEmisor": "facturacion@nandu.example.cl", "DirOrigen": "Camino a Pirque 1450",
                       "CmnaOrigen": "Pirque", "CiudadOrigen": "Santiago"},
            "Receptor": {"RUTRecep": "77777777-7", "RznSocRecep": "Distribuidora de Vinos del Sur Ltda.",
                         "GiroRecep": "Venta al por mayor de bebidas", "DirRecep": "Av. Alemania 0450",
                         "CmnaRecep": "Temuco", "CiudadRecep": "Temuco"},
        },
        "Detalle": [{"NmbItem": "Vino tinto reserva caja 12", "QtyItem": 3, "UnmdItem": "CJ", "PrcItem": 250000}],
    }
    golden.assert_golden(FACTURA, dm.document_from_dict(factura))


def test_the_simulator_accepts_the_factura_on_credit(sii, cafs, signer):
    issued = golden.issue(golden.factura_on_credit(), cafs, signer)
    token = soap_token(sii.base_url, signer)
    _states, final = poll_est_up(sii.base_url, token, upload_ok(sii.base_url, token, envelope_of([issued], signer)))
    assert [element.text for element in final.find(f"{{{kit.SII_NS}}}RESP_BODY")] == ["33", "1", "1", "0", "0"]
    answer = est_dte(sii.base_url, token, 33, issued.folio, issued.total, issue_date=golden.ISSUE_DATE,
                     receiver="77777777-7")
    assert hdr(answer, "ESTADO") == "DOK"


def test_the_simulator_accepts_the_boleta_above_135_uf(sii, cafs, signer):
    issued = golden.issue(golden.boleta_above_135_uf(), cafs, signer)
    token = rest_token(sii.base_url, signer)
    received = rest_upload(sii.base_url, token, envelope_of([issued], signer)).json()
    for _ in range(6):
        final = rest_envelope_status(sii.base_url, token, received["trackid"]).json()
        if final["estado"] == "EPR":
            break
    assert final["estadistica"] == [{"tipo": 39, "informados": 1, "aceptados": 1, "rechazados": 0, "reparos": 0}]


# --- the boleta above 135 UF (Ley 21.713) ---------------------------------------------------------


def test_a_boleta_above_135_uf_without_payment_method_is_refused(cafs, signer):
    assert golden.refused_field(golden.boleta_above_135_uf(payment_method=None), cafs, signer) == "MedioPago"


def test_a_boleta_above_135_uf_names_its_buyer(cafs, signer):
    anonymous = golden.boleta_above_135_uf(receiver=dm.Receiver(rut="66666666-6", name="Cliente"))
    assert golden.refused_field(anonymous, cafs, signer) == "RUTRecep"
    nameless = golden.boleta_above_135_uf(receiver=dm.Receiver(rut="12345678-5", email="x@example.cl"))
    assert golden.refused_field(nameless, cafs, signer) == "RznSocRecep"


def test_cash_above_135_uf_needs_the_buyers_email_or_phone(cafs, signer):
    unreachable = dm.Receiver(rut="12345678-5", name="María José Pérez Soto")
    assert golden.refused_field(golden.boleta_above_135_uf(receiver=unreachable), cafs, signer) == "CorreoRecep"
    by_phone = dm.Receiver(rut="12345678-5", name="María José Pérez Soto", phone="+56 9 8765 4321")
    issued = golden.issue(golden.boleta_above_135_uf(receiver=by_phone), cafs, signer)
    assert xmlutil.findtext(xmlutil.parse(issued.xml)[0], "Encabezado/Receptor/TelefonoRecep") == "+56 9 8765 4321"
    # Paid by card, no contact is needed.
    golden.issue(golden.boleta_above_135_uf(receiver=unreachable, payment_method=2), cafs, signer)


def test_the_135_uf_rule_applies_above_the_threshold_only(cafs, signer):
    anonymous = dm.Receiver(rut="66666666-6")
    at_threshold = golden.boleta_above_135_uf(receiver=anonymous, payment_method=None,
                                              threshold_135_uf=Decimal(5_490_000))
    golden.issue(at_threshold, cafs, signer)
    below = dataclasses.replace(at_threshold, threshold_135_uf=Decimal(5_489_999))
    assert golden.refused_field(below, cafs, signer) == "RUTRecep"
    # Without the threshold (the caller did not give it) the rule is not applied.
    golden.issue(dataclasses.replace(at_threshold, threshold_135_uf=None), cafs, signer)


@pytest.mark.parametrize("changes, tag", [
    ({"payment_method": 6}, "MedioPago"),
    ({"payment_method": "EF"}, "MedioPago"),
    ({"software_provider_rut": "76192083-1"}, "RUTProvSW"),
    ({"payments": [dm.Payment(golden.ISSUE_DATE, Decimal(5_490_000))]}, "MntPagos"),
])
def test_wrong_boleta_payment_data_is_refused(changes, tag, cafs, signer):
    assert golden.refused_field(golden.boleta_above_135_uf(**changes), cafs, signer, FieldValueError) == tag


# --- facturas on credit --------------------------------------------------------------------------


def _installments(*amounts):
    return [dm.Payment(golden.ISSUE_DATE + datetime.timedelta(days=30 * number), Decimal(amount))
            for number, amount in enumerate(amounts, 1)]


@pytest.mark.parametrize("changes, tag", [
    ({"payment_form": 4}, "FmaPago"),
    ({"payment_method": 1}, "MedioPago"),
    ({"due_date": golden.ISSUE_DATE - datetime.timedelta(days=1)}, "FchVenc"),
    ({"payments": _installments(297_500, 297_500, 297_499)}, "MntPagos"),
    ({"payments": _installments(297_500, 297_500, "297499.5", "0.5")}, "MntPagos/MntPago"),
])
def test_wrong_credit_terms_are_refused(changes, tag, cafs, signer):
    assert golden.refused_field(golden.factura_on_credit(**changes), cafs, signer, FieldValueError) == tag


def test_thirty_installments_are_the_most(cafs, signer):
    issued = golden.issue(golden.factura_on_credit(payments=_installments(*[29_750] * 30)), cafs, signer)
    id_doc = xmlutil.find(xmlutil.parse(issued.xml)[0], "Encabezado/IdDoc")
    assert [xmlutil.local(child.tag) for child in id_doc].count("MntPagos") == 30
    too_many = _installments(*([28_790] * 30 + [28_800]))
    assert golden.refused_field(golden.factura_on_credit(payments=too_many), cafs, signer, FieldValueError) == "MntPagos"


def test_an_installment_without_date_is_refused(cafs, signer):
    undated = [dm.Payment(None, Decimal(892_500))]
    assert golden.refused_field(golden.factura_on_credit(payments=undated), cafs, signer) == "MntPagos/FchPago"


def test_a_cash_factura_carries_its_payment_form(cafs, signer):
    issued = golden.issue(golden.factura_on_credit(payment_form=1, due_date=None, payments=[]), cafs, signer)
    id_doc = xmlutil.find(xmlutil.parse(issued.xml)[0], "Encabezado/IdDoc")
    assert xmlutil.findtext(id_doc, "FmaPago") == "1"
    assert xmlutil.find(id_doc, "MntPagos") is None and xmlutil.find(id_doc, "FchVenc") is None
