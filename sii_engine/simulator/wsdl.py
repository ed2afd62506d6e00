"""The SII's certification WSDLs, served with their address pointing at the simulator.

(The RCV's registroreclamodteservice WSDL is the addon's own, see data/wsdl/production/README.md.)
"""

import re
from functools import cache
from pathlib import Path

from . import rcv

WSDL_DIR = Path(__file__).resolve().parent.parent / "data" / "wsdl" / "certification"

# path of the service -> WSDL file and the namespace its answers use
SERVICES = {
    "/DTEWS/CrSeed.jws": ("CrSeed.wsdl", "https://maullin.sii.cl/DTEWS/CrSeed.jws"),
    "/DTEWS/GetTokenFromSeed.jws": ("GetTokenFromSeed.wsdl", "https://maullin.sii.cl/DTEWS/GetTokenFromSeed.jws"),
    "/DTEWS/QueryEstUp.jws": ("QueryEstUp.wsdl", "https://maullin.sii.cl/DTEWS/QueryEstUp.jws"),
    "/DTEWS/QueryEstDte.jws": ("QueryEstDte.wsdl", "https://maullin.sii.cl/DTEWS/QueryEstDte.jws"),
    "/DTEWS/QueryEstDteAv.jws": ("QueryEstDteAv.wsdl", "https://maullin.sii.cl/DTEWS/QueryEstDteAv.jws"),
    "/DTEWS/services/wsDTECorreo": ("wsDTECorreo.wsdl", "https://maullin.sii.cl/DTEWS/services/wsDTECorreo"),
    **dict.fromkeys(sorted(rcv.PATHS), ("RegistroReclamoDte.wsdl", rcv.NAMESPACE)),
}

_ADDRESS = re.compile(r'(<(?:wsdlsoap|soap):address\s+location=")[^"]*(")')


def is_wsdl_request(request):
    return request.method == "GET" and request.path in SERVICES and request.raw_query.lower() == "wsdl"


def namespace(path):
    return SERVICES[path][1]


@cache
def _template(filename):
    return (WSDL_DIR / filename).read_text(encoding="utf-8")


def render(path, base_url):
    """The WSDL of the service at ``path`` with ``soap:address`` = ``base_url`` + ``path``."""
    filename = SERVICES[path][0]
    location = base_url.rstrip("/") + path
    return _ADDRESS.sub(lambda match: match.group(1) + location + match.group(2), _template(filename))
