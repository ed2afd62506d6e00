"""The Aduana's code tables shipped in data/aduana and their loader."""

import csv

import pytest
from lxml import etree

from sii_engine import aduana, schema

XS = "{http://www.w3.org/2001/XMLSchema}"


@pytest.mark.parametrize("table", aduana.TABLES)
def test_every_table_has_unique_whole_codes_and_a_gloss(table):
    with (aduana.DATA_DIR / f"{table}.csv").open(encoding="utf-8", newline="") as stream:
        raw = list(csv.DictReader(stream))
    assert raw, table
    numbers = [row["code"] for row in raw]
    assert all(code.isdigit() for code in numbers), table
    assert len(set(numbers)) == len(numbers), f"{table} repeats a code"
    assert all(row["name"].strip() for row in raw), table
    assert len(aduana.codes(table)) == len(raw)


def test_the_codes_fit_the_schema_digits():
    # CodModVenta, CodClauVenta, CodViaTransp and the units: 2 digits; ports 4; packages and countries 3.
    digits = {aduana.SALE_MODALITIES: 2, aduana.SALE_CLAUSES: 2, aduana.TRANSPORT_WAYS: 2, aduana.UNITS: 2,
              aduana.PORTS: 4, aduana.PACKAGE_TYPES: 3, aduana.COUNTRIES: 3, aduana.EXPORT_PAYMENT_FORMS: 2}
    for table, width in digits.items():
        assert all(0 < code < 10**width for code in aduana.codes(table)), table


def test_well_known_codes():
    assert aduana.codes(aduana.SALE_CLAUSES)[5] == "FOB"
    assert aduana.codes(aduana.PORTS)[906] == "SAN ANTONIO"
    assert aduana.codes(aduana.COUNTRIES)[225] == "U.S.A."
    assert aduana.codes(aduana.TRANSPORT_WAYS)[4] == "Aéreo"
    assert aduana.codes(aduana.UNITS)[6] == "KN"
    assert aduana.codes(aduana.PACKAGE_TYPES)[73] == "CONT20"
    assert aduana.is_code("CodPtoEmbarque", "906") and not aduana.is_code("CodPtoEmbarque", 1)
    assert not aduana.is_code("CodPaisDestin", "USA")


def test_incoterms_map_to_sale_clauses():
    # Every Incoterms 2020 rule Odoo 18 ships (account.incoterms) has its clause.
    odoo_incoterms = ("EXW", "FCA", "FAS", "FOB", "CFR", "CIF", "CPT", "CIP", "DPU", "DAP", "DDP")
    clauses = {incoterm: aduana.sale_clause(incoterm) for incoterm in odoo_incoterms}
    assert None not in clauses.values()
    assert len(set(clauses.values())) == len(odoo_incoterms)
    assert (clauses["FOB"], clauses["CIF"], clauses["EXW"], clauses["fca".upper()]) == (5, 1, 3, 10)
    assert aduana.sale_clause(" cfr ") == 2 and aduana.sale_clause("XYZ") is None


def test_countries_and_currencies_by_iso_code():
    assert (aduana.country("US"), aduana.country("cl"), aduana.country("DE")) == (225, 997, 563)
    assert aduana.country("XX") is None
    assert (aduana.currency("USD"), aduana.currency("eur"), aduana.currency("CLP")) == ("DOLAR USA", "EURO", "PESO CL")
    assert aduana.currency("XTS") is None


def test_currency_names_are_the_schemas():
    types = etree.parse(str(schema.XSD_DIR / "SiiTypes_v10.xsd"))
    names = types.xpath("//xs:simpleType[@name='TipMonType']//xs:enumeration/@value",
                        namespaces={"xs": XS.strip("{}")})
    assert aduana.currency_names() == frozenset(names)
