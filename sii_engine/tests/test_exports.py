"""Export documents (110, 111, 112): customs data, amounts in dollars, OtraMoneda, decimal MNT.

The golden documents (golden_documents.py) are built to their golden XML, issued (schema,
signature, TED), read back by the verifier and accepted by the simulator; each rule the
SII sets on exports refuses the document with a typed error naming the field.
"""

import json
from decimal import Decimal

import pytest
from lxml import etree

from sii_engine import document as dm
from sii_engine import dte, ted, xmlutil
from sii_engine.errors import FieldValueError, MissingFieldError
from sii_engine.tests import conftest_simulator as kit
from sii_engine.tests import golden_documents as golden
from sii_engine.tests.conftest_simulator import envelope_of, est_dte, hdr, poll_est_up, soap_token, upload_ok
from sii_engine.tests.libredte_inputs import INPUTS, load
from sii_engine.verify import TED_DATA, TOTALS, verify_file

authority, signer, sii = kit.authority, kit.signer, kit.sii
EXPORTS = ("110_export_invoice_cif_usd", "111_export_debit_note_usd", "112_export_credit_note_usd")


@pytest.fixture(scope="module")
def cafs(authority):
    return golden.make_cafs(authority, (110, 111, 112))


@pytest.fixture(scope="module")
def issued_exports(cafs, signer):
    result = {}
    for name in EXPORTS:
        document = golden.GOLDEN_DOCUMENTS[name]()
        result[name] = dte.issue(document, cafs[document.document_type], signer, timestamp=golden.TIMESTAMP)
    return result


def _check(report, name):
    (found,) = report.find(name)
    return found


# --- golden documents ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXPORTS)
def test_exports_build_their_golden_xml(name):
    golden.assert_golden(name, golden.GOLDEN_DOCUMENTS[name]())


def test_the_sii_tag_input_builds_the_same_export(name="110_export_invoice_cif_usd"):
    """The CLI's JSON (SII tag names) reaches the same XML as the dataclasses."""
    data = {
        "Encabezado": {
            "IdDoc": {"TipoDTE": 110, "Folio": golden.INVOICE_FOLIO, "FchEmis": golden.ISSUE_DATE.isoformat(),
                      "FmaPagExp": 11},
            "Emisor": {"RUTEmisor": golden.ISSUER_RUT, "RznSoc": "Viña Ñandú Exportaciones SpA",
                       "GiroEmis": "Elaboración y exportación de vinos", "Acteco": 110200,
                       "CorreoEmisor": "facturacion@nandu.example.cl", "DirOrigen": "Camino a Pirque 1450",
                       "CmnaOrigen": "Pirque", "CiudadOrigen": "Santiago"},
            "Receptor": {"RUTRecep": "55555555-5", "RznSocRecep": "Pacific Wine Importers Inc.",
                         "Extranjero": {"NumId": "94-1234567", "Nacionalidad": "225"},
                         "GiroRecep": "Importador de vinos", "DirRecep": "1200 Harbor Blvd, Long Beach CA"},
            "Transporte": {"Aduana": {
                "CodModVenta": 1, "CodClauVenta": 1, "CodViaTransp": 1, "NombreTransp": "MSC VALPARAISO",
                "RUTCiaTransp": "96707720-8", "NomCiaTransp": "Naviera del Pacífico S.A.",
                "Booking": "BK-2024-1216", "Operador": "MSC", "CodPtoEmbarque": 906, "CodPtoDesemb": 175,
                "Tara": 2300, "CodUnidMedTara": 6, "PesoBruto": "1250.50", "CodUnidPesoBruto": 6,
                "PesoNeto": 1100, "CodUnidPesoNeto": 6,
                "TipoBultos": [
                    {"CodTpoBultos": 22, "CantBultos": 93, "Marcas": "ÑANDÚ WINES 1-93"},
                    {"CodTpoBultos": 73, "CantBultos": 1, "IdContainer": "MSCU1234565", "Sello": "CL-778899",
                     "EmisorSello": "Servicio Nacional de Aduanas"},
                ],
                "MntFlete": "180.5", "MntSeguro": "19.5", "CodPaisRecep": 225, "CodPaisDestin": 225,
            }},
            "Totales": {"TpoMoneda": "DOLAR USA"},
            "OtraMoneda": {"TpoMoneda": "PESO CL", "TpoCambio": "940.25"},
        },
        "Detalle": [
            {"NmbItem": "Vino tinto reserva caja 12", "QtyItem": 90, "UnmdItem": "CJ", "PrcItem": "45.50"},
            {"NmbItem": "Vino blanco gran reserva caja 6", "QtyItem": 3, "UnmdItem": "CJ", "PrcItem": "71.45"},
        ],
    }
    golden.assert_golden(name, dm.document_from_dict(json.loads(json.dumps(data))))


@pytest.mark.parametrize("name", EXPORTS)
def test_exports_are_schema_valid_signed_and_verified_with_a_decimal_mnt(name, issued_exports, authority):
    issued = issued_exports[name]
    root = xmlutil.parse(issued.xml)
    body = root[0]
    total = xmlutil.findtext(body, "Encabezado/Totales/MntTotal")
    # MNT is MntTotal itself, decimals included: 4309.35, not 4309.
    assert xmlutil.findtext(body, "TED/DD/MNT") == total
    stamp = ted.verify_ted(xmlutil.find(body, "TED"), authority.trusted_keys())
    assert stamp.data.total == Decimal(total) == issued.total
    report = verify_file(issued.xml, authority.trusted_keys())
    assert report.ok, report.format()
    assert "MNT match" in _check(report, TED_DATA).detail
    assert "agree" in _check(report, TOTALS).detail


def test_the_export_invoice_carries_the_issues_example_total(issued_exports):
    root = xmlutil.parse(issued_exports["110_export_invoice_cif_usd"].xml)
    assert xmlutil.findtext(root[0], "TED/DD/MNT") == "4309.35"
    assert xmlutil.findtext(root[0], "Encabezado/Transporte/Aduana/TotClauVenta") == "4309.35"
    debit = xmlutil.parse(issued_exports["111_export_debit_note_usd"].xml)
    assert xmlutil.findtext(debit[0], "TED/DD/MNT") == "12.3456"


def test_the_simulator_accepts_the_exports(sii, signer, issued_exports):
    token = soap_token(sii.base_url, signer)
    issued = [issued_exports[name] for name in EXPORTS]
    track_id = upload_ok(sii.base_url, token, envelope_of(issued, signer))
    states, final = poll_est_up(sii.base_url, token, track_id)
    assert states[-1] == "EPR"
    groups = [element.text for element in final.find(f"{{{kit.SII_NS}}}RESP_BODY")]
    assert groups == ["110", "1", "1", "0", "0", "111", "1", "1", "0", "0", "112", "1", "1", "0", "0"]
    for item in issued:
        answer = est_dte(sii.base_url, token, item.document_type, item.folio, item.total,
                         issue_date=golden.ISSUE_DATE, receiver="55555555-5")
        assert hdr(answer, "ESTADO") == "DOK", etree.tostring(answer)


# --- what the SII requires: refusals naming the field ----------------------------------------------------


@pytest.mark.parametrize("field, tag", [
    ("sale_modality", "CodModVenta"),
    ("sale_clause", "CodClauVenta"),
    ("transport_way", "CodViaTransp"),
    ("destination_country", "CodPaisDestin"),
])
def test_an_export_of_goods_without_required_customs_data_is_refused(field, tag, cafs, signer):
    assert golden.refused_field(golden.export_invoice(**{field: None}), cafs, signer) == tag


def test_an_export_of_goods_without_packages_is_refused(cafs, signer):
    assert golden.refused_field(golden.export_invoice(packages=[]), cafs, signer) == "TotBultos"
    # TotBultos alone is enough; the kinds of packages are optional.
    golden.issue(golden.export_invoice(packages=[], total_packages=94), cafs, signer)


def test_the_receiver_country_comes_from_the_nationality_or_is_required(cafs, signer):
    document = golden.export_invoice(receiver_country=None)
    issued = golden.issue(document, cafs, signer)
    assert xmlutil.findtext(xmlutil.parse(issued.xml)[0], "Encabezado/Transporte/Aduana/CodPaisRecep") == "225"
    document.receiver.nationality = ""
    assert golden.refused_field(document, cafs, signer) == "CodPaisRecep"


def test_services_need_no_sale_clause_but_a_transport_way_except_hotels(cafs, signer):
    services = golden.export_invoice(sale_modality=None, sale_clause=None, destination_country=None, packages=[])
    services.service_indicator = 3
    golden.issue(services, cafs, signer)
    services.transport.customs.transport_way = None
    assert golden.refused_field(services, cafs, signer) == "CodViaTransp"
    services.service_indicator = 4  # hotel services
    golden.issue(services, cafs, signer)


def test_weights_need_their_unit(cafs, signer):
    assert golden.refused_field(golden.export_invoice(gross_weight_unit=None), cafs, signer) == "CodUnidPesoBruto"
    assert golden.refused_field(golden.export_invoice(net_weight_unit=None), cafs, signer) == "CodUnidPesoNeto"
    assert golden.refused_field(golden.export_invoice(tare_unit=None), cafs, signer) == "CodUnidMedTara"


@pytest.mark.parametrize("changes, tag", [
    ({"loading_port": 1}, "CodPtoEmbarque"),
    ({"unloading_port": 9999}, "CodPtoDesemb"),
    ({"sale_clause": 7}, "CodClauVenta"),
    ({"destination_country": 1}, "CodPaisDestin"),
    ({"transport_way": 3}, "CodViaTransp"),
    ({"gross_weight_unit": 21}, "CodUnidPesoBruto"),
    ({"carrier_rut": "96707720-9"}, "RUTCiaTransp"),
    ({"freight": Decimal(0)}, "MntFlete"),
    ({"total_packages": 95}, "TotBultos"),
    ({"packages": [dm.Package(type_code=22, quantity=1)] * 11}, "TipoBultos"),
    ({"packages": [dm.Package(type_code=999, quantity=1)]}, "CodTpoBultos"),
])
def test_codes_outside_the_aduana_tables_and_wrong_values_are_refused(changes, tag, cafs, signer):
    assert golden.refused_field(golden.export_invoice(**changes), cafs, signer, FieldValueError) == tag


def test_a_package_without_kind_or_count_is_refused(cafs, signer):
    refused = golden.export_invoice(packages=[dm.Package(quantity=3)])
    assert golden.refused_field(refused, cafs, signer) == "TipoBultos/CodTpoBultos"
    refused = golden.export_invoice(packages=[dm.Package(type_code=22)], total_packages=3)
    assert golden.refused_field(refused, cafs, signer) == "TipoBultos/CantBultos"


def test_an_export_in_dollars_without_its_exchange_rate_is_refused(cafs, signer):
    document = golden.export_invoice()
    document.exchange_rate = None
    assert golden.refused_field(document, cafs, signer) == "OtraMoneda/TpoCambio"
    # LibreDTE's hotel example predates the rule: as it is, it is refused the same way.
    example = dm.document_from_dict(load(INPUTS / "110" / "110_001_hotel.json"), folio=8)
    with pytest.raises(MissingFieldError) as raised:
        dte.build_dte(example)
    assert raised.value.params["field"] == "OtraMoneda/TpoCambio"


def test_the_other_currency_defaults_to_pesos(cafs, signer):
    document = golden.export_invoice()
    document.other_currency = ""
    root = xmlutil.parse(golden.issue(document, cafs, signer).xml)
    assert xmlutil.findtext(root[0], "Encabezado/OtraMoneda/TpoMoneda") == "PESO CL"
    assert xmlutil.findtext(root[0], "Encabezado/OtraMoneda/MntTotOtrMnda") == "4051866"


def test_currency_names_outside_the_schema_are_refused(cafs, signer):
    document = golden.export_invoice()
    document.currency = "USD"
    assert golden.refused_field(document, cafs, signer, FieldValueError) == "TpoMoneda"


def test_export_notes_must_refer_to_the_export_document_they_modify(cafs, signer):
    note = golden.export_credit_note()
    note.references = [dm.Reference("33", "7", golden.ISSUE_DATE, dm.CODREF_AMOUNTS, "Factura nacional")]
    assert golden.refused_field(note, cafs, signer) == "Referencia"
    note.references = [dm.Reference("110", "7", golden.ISSUE_DATE, None, "Sin código")]
    assert golden.refused_field(note, cafs, signer) == "Referencia/CodRef"
    debit = golden.export_debit_note()
    debit.references = [dm.Reference("813", "E12345"), dm.Reference("112", "4", golden.ISSUE_DATE, 1, "Anula")]
    golden.issue(debit, cafs, signer)


def test_a_wrong_export_payment_form_or_nationality_is_refused(cafs, signer):
    document = golden.export_invoice()
    document.export_payment_form = 3
    assert golden.refused_field(document, cafs, signer, FieldValueError) == "FmaPagExp"
    document = golden.export_invoice()
    document.receiver.nationality = "USA"
    assert golden.refused_field(document, cafs, signer, FieldValueError) == "Nacionalidad"
