"""Shared fixtures of the engine's tests: stand-in identities, CAFs and documents.

Everything here is generated for the test session: the "SII" that signs the
CAFs is a :class:`~sii_engine.identities.TestAuthority` (its own RSA key, CAF
keys RSA-512 with e=3 as the SII issues them) and the signing certificate is
self-signed with the RUT in the SubjectAltName. No real private key is used.
The expensive objects are session-scoped.
"""

import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest

from sii_engine import caf as caf_module
from sii_engine import certificate as certificate_module
from sii_engine import document as document_module
from sii_engine import identities
from sii_engine.tests import golden_documents, libredte_inputs

FIXTURES = Path(__file__).parent / "fixtures"
LIBREDTE_INPUTS = FIXTURES / "libredte_inputs"

ISSUER_RUT = "76192083-9"
ISSUER_NAME = "Comercial Ñandú SpA"
HOLDER_RUT = "11111111-1"
HOLDER_NAME = "Firmante de Prueba"
PASSWORD = "clave-de-prueba"
ISSUE_DATE = datetime.date(2024, 5, 15)

ALL_TYPES = (33, 34, 39, 41, 46, 52, 56, 61, 110, 111, 112)

# What each note modifies (TpoDocRef).
_NOTE_TARGET = {56: "61", 61: "33", 111: "112", 112: "110"}


ADDON_ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(session, config, items):
    """Never import the addon's ``__init__.py`` files: the root one imports Odoo.

    The repository root is the Odoo addon, so pytest sees it and ``sii_engine``
    as packages, and ``Package.setup`` imports each ``__init__.py`` (the root's
    first) looking for ``setup_module``. The engine's tests run without Odoo,
    and no ``__init__.py`` of the addon or the engine holds test setup.
    """
    for item in items:
        for node in item.listchain():
            if isinstance(node, pytest.Package) and (node.path == ADDON_ROOT or ADDON_ROOT in node.path.parents):
                node.setup = _no_package_setup


def _no_package_setup():
    return None


@pytest.fixture(scope="session")
def fixtures_dir():
    return FIXTURES


@pytest.fixture(scope="session")
def authority():
    """The stand-in SII that issues the session's CAFs (IDK 9999)."""
    return identities.TestAuthority()


@pytest.fixture(scope="session")
def holder():
    """Who the session certificate names, and the issuer of the session's documents."""
    return {
        "rut": HOLDER_RUT,
        "name": HOLDER_NAME,
        "password": PASSWORD,
        "issuer_rut": ISSUER_RUT,
        "issuer_name": ISSUER_NAME,
        "issue_date": ISSUE_DATE,
    }


@pytest.fixture(scope="session")
def certificate():
    """A loaded signing certificate whose holder is ``HOLDER_RUT``."""
    data = identities.make_pkcs12(HOLDER_RUT, HOLDER_NAME, PASSWORD)
    return certificate_module.load_pkcs12(data, PASSWORD)


@pytest.fixture(scope="session")
def caf_factory(authority):
    """``caf_factory(doc_type, first=1, last=1000, rut=ISSUER_RUT, ...)`` → a loaded, verified Caf.

    CAFs are cached per arguments: the same call returns the same CAF.
    """
    cache = {}

    def make(doc_type, first=1, last=1000, rut=ISSUER_RUT, company_name=ISSUER_NAME, authorized_on=None):
        key = (int(doc_type), first, last, rut, company_name, authorized_on)
        if key not in cache:
            raw = authority.issue_caf(rut, company_name, doc_type, first, last, authorized_on=authorized_on)
            cache[key] = caf_module.load_caf(raw, authority.trusted_keys())
        return cache[key]

    return make


def default_lines(doc_type):
    if doc_type in document_module.EXPORT_TYPES:
        return [
            document_module.Line("Vino tinto reserva caja 12", Decimal(10), Decimal("45.50"), unit="CJ"),
            document_module.Line("Flete internacional", Decimal(1), Decimal("120.25")),
        ]
    if doc_type in document_module.BOLETA_TYPES:
        return [
            document_module.Line("Pan amasado kg", Decimal("1.5"), Decimal(2390)),
            document_module.Line("Bebida 1,5 L", Decimal(2), Decimal(1790)),
        ]
    return [
        document_module.Line("Tornillo hexagonal 3/8", Decimal(120), Decimal(85), unit="UN"),
        document_module.Line("Servicio de instalación", Decimal(1), Decimal(45000), description="Mano de obra"),
    ]


@pytest.fixture(scope="session")
def document_factory():
    """``document_factory(doc_type, folio=1, **fields)`` → a complete Document of that type.

    Any :class:`~sii_engine.document.Document` field can be overridden.
    """

    def make(doc_type, folio=1, **fields):
        doc_type = int(doc_type)
        issuer = document_module.Issuer(
            rut=ISSUER_RUT,
            name=ISSUER_NAME,
            activity="Venta al por menor de artículos de ferretería",
            economic_activities=(475201,),
            address="Av. Providencia 1234, of. 56",
            commune="Providencia",
            city="Santiago",
        )
        if doc_type in document_module.BOLETA_TYPES:
            receiver = document_module.Receiver(rut="66666666-6")
        elif doc_type in document_module.EXPORT_TYPES:
            receiver = document_module.Receiver(
                rut="55555555-5",
                name="Pacific Importers Ltd.",
                activity="Importador",
                address="1 Harbour Road, Hong Kong",
                nationality="225",
            )
        else:
            receiver = document_module.Receiver(
                rut="77777777-7",
                name="Cliente Ejemplo Limitada",
                activity="Comercio al por mayor",
                address="Calle Falsa 123",
                commune="Santiago",
                city="Santiago",
            )
        references = []
        if doc_type in _NOTE_TARGET:
            references = [
                document_module.Reference(
                    document_type=_NOTE_TARGET[doc_type],
                    folio="10",
                    date=ISSUE_DATE - datetime.timedelta(days=3),
                    code=document_module.CODREF_ANNUL,
                    reason="Anula documento de referencia",
                )
            ]
        values = {
            "document_type": doc_type,
            "folio": folio,
            "issue_date": ISSUE_DATE,
            "issuer": issuer,
            "receiver": receiver,
            "lines": default_lines(doc_type),
            "references": references,
        }
        if doc_type in document_module.EXPORT_TYPES:
            values.update(currency="DOLAR USA", other_currency="PESO CL", exchange_rate=Decimal("940.25"))
            values["service_indicator"] = None
        if doc_type == document_module.FACTURA_EXPORTACION:
            values["transport"] = document_module.Transport(customs=golden_documents.export_customs())
        if doc_type == document_module.GUIA_DESPACHO:
            values["transfer_indicator"] = 1
        values.update(fields)
        return document_module.Document(**values)

    return make


def libredte_fixture_paths():
    return sorted(LIBREDTE_INPUTS.glob("*/*.json"))


def load_libredte(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def libredte_documents():
    """``{stem: Document}`` of every LibreDTE JSON input, each with its own folio."""
    return {
        path.stem: libredte_inputs.document(path, folio=index, issue_date=ISSUE_DATE)
        for index, path in enumerate(libredte_fixture_paths(), 1)
    }


@pytest.fixture(scope="session")
def issued_libredte(libredte_documents, caf_factory, certificate):
    """``{stem: (Document, IssuedDte)}``: every LibreDTE input issued once per session."""
    from sii_engine import dte

    timestamp = datetime.datetime(2024, 5, 15, 10, 30, 0)
    result = {}
    for stem, document in libredte_documents.items():
        caf = caf_factory(document.document_type, rut=document.issuer.rut)
        result[stem] = (document, dte.issue(document, caf, certificate, timestamp=timestamp))
    return result


@pytest.fixture(scope="session")
def issued_by_type(document_factory, caf_factory, certificate):
    """``{doc_type: (Document, IssuedDte)}``: one document of every type, built from dataclasses."""
    from sii_engine import dte

    timestamp = datetime.datetime(2024, 5, 15, 11, 0, 0)
    result = {}
    for folio, doc_type in enumerate(ALL_TYPES, 100):
        document = document_factory(doc_type, folio=folio)
        result[doc_type] = (document, dte.issue(document, caf_factory(doc_type), certificate, timestamp=timestamp))
    return result
