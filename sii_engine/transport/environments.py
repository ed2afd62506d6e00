"""Where the SII services live, per environment.

=============  =======================  ====================  ==========================  ==================
environment    SOAP + DTEUpload         boleta REST API       boleta envelope upload      RCV (claims)
=============  =======================  ====================  ==========================  ==================
certification  https://maullin.sii.cl   https://apicert.sii.cl https://pangal.sii.cl      https://ws2.sii.cl
production     https://palena.sii.cl    https://api.sii.cl     https://rahue.sii.cl       https://ws1.sii.cl
=============  =======================  ====================  ==========================  ==================

A simulator (or any stand-in) is one base URL serving every path below; the
WSDLs are still the ones shipped with the addon, only their endpoint changes.
"""

import os
from dataclasses import dataclass

CERTIFICATION = "certification"
PRODUCTION = "production"

WSDL_ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "wsdl")

# Paths, the same on every host.
SOAP_PATHS = {
    "CrSeed": "/DTEWS/CrSeed.jws",
    "GetTokenFromSeed": "/DTEWS/GetTokenFromSeed.jws",
    "QueryEstUp": "/DTEWS/QueryEstUp.jws",
    "QueryEstDte": "/DTEWS/QueryEstDte.jws",
}
UPLOAD_PATH = "/cgi_dte/UPL/DTEUpload"
# The RCV's "registro de aceptación/reclamo" service: its path differs between the environments.
RCV_SERVICE = "RegistroReclamoDte"  # the WSDL's file name under data/wsdl/<environment>/
RCV_PATHS = {
    CERTIFICATION: "/WSREGISTRORECLAMODTECERT/registroreclamodteservice",
    PRODUCTION: "/WSREGISTRORECLAMODTE/registroreclamodteservice",
}
BOLETA_SEED_PATH = "/recursos/v1/boleta.electronica.semilla"
BOLETA_TOKEN_PATH = "/recursos/v1/boleta.electronica.token"
BOLETA_UPLOAD_PATH = "/recursos/v1/boleta.electronica.envio"
BOLETA_ENVELOPE_STATUS_PATH = "/recursos/v1/boleta.electronica.envio/{rut}-{dv}-{track_id}"
BOLETA_DOCUMENT_STATUS_PATH = "/recursos/v1/boleta.electronica/{rut}-{dv}-{document_type}-{folio}/estado"


@dataclass(frozen=True)
class Environment:
    """The hosts of one SII environment (or of a simulator)."""

    name: str
    soap_base: str
    boleta_api_base: str
    boleta_upload_base: str
    wsdl_set: str  # folder under data/wsdl
    rcv_base: str = None  # the RCV's host (default: soap_base)

    @property
    def upload_base(self):
        return self.soap_base

    def soap_url(self, service):
        return self.soap_base + SOAP_PATHS[service]

    def wsdl_path(self, service):
        return os.path.join(WSDL_ROOT, self.wsdl_set, f"{service}.wsdl")

    @property
    def rcv_url(self):
        """Where ``registroreclamodteservice`` answers (its path follows the environment's WSDLs)."""
        return (self.rcv_base or self.soap_base) + RCV_PATHS[self.wsdl_set]

    @property
    def upload_url(self):
        return self.upload_base + UPLOAD_PATH

    @property
    def cache_name(self):
        """What token cache keys call this environment: tokens never cross hosts."""
        if self.name in (CERTIFICATION, PRODUCTION):
            return self.name
        return f"{self.name}@{self.soap_base}"


ENVIRONMENTS = {
    CERTIFICATION: Environment(
        name=CERTIFICATION,
        soap_base="https://maullin.sii.cl",
        boleta_api_base="https://apicert.sii.cl",
        boleta_upload_base="https://pangal.sii.cl",
        wsdl_set="certification",
        rcv_base="https://ws2.sii.cl",
    ),
    PRODUCTION: Environment(
        name=PRODUCTION,
        soap_base="https://palena.sii.cl",
        boleta_api_base="https://api.sii.cl",
        boleta_upload_base="https://rahue.sii.cl",
        wsdl_set="production",
        rcv_base="https://ws1.sii.cl",
    ),
}

_ALIASES = {"cert": CERTIFICATION, "maullin": CERTIFICATION, "test": CERTIFICATION,
            "prod": PRODUCTION, "palena": PRODUCTION}


def resolve(environment=CERTIFICATION, base_url=None):
    """The :class:`Environment` for a name, optionally moved to ``base_url``.

    With ``base_url`` every service is served from that one URL (a local SII
    simulator); the WSDLs stay those of the named environment.
    """
    if isinstance(environment, Environment):
        base = environment
    else:
        key = _ALIASES.get(str(environment).lower(), str(environment).lower())
        if key not in ENVIRONMENTS:
            raise ValueError(f"unknown SII environment {environment!r}: use {CERTIFICATION!r} or {PRODUCTION!r}")
        base = ENVIRONMENTS[key]
    if not base_url:
        return base
    root = base_url.rstrip("/")
    return Environment(
        name=f"{base.name}-simulated",
        soap_base=root,
        boleta_api_base=root,
        boleta_upload_base=root,
        wsdl_set=base.wsdl_set,
        rcv_base=root,
    )
