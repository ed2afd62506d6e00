"""How the simulated SII behaves; every knob has the SII's default."""

from dataclasses import dataclass, field

from .. import rut as rut_module
from ..xmlutil import MAX_INPUT_BYTES


@dataclass
class SimulatorConfig:
    trusted_keys: dict  # IDK -> RSA public key that signs CAFs ("the SII's key")
    processing_polls: int = 2  # status queries that still see the envelope in process
    strict_upload: bool = False  # refuse schema (7) and envelope-signature (8) errors at upload
    seed_ttl: float = 120.0  # the SII: a seed lives 2 minutes
    token_ttl: float = 3600.0  # idle time after which a token is inactive
    max_upload_bytes: int = MAX_INPUT_BYTES
    unauthorized_companies: frozenset = frozenset()  # upload STATUS 6, getEstDte EMP
    resolutions: dict = field(default_factory=dict)  # company RUT -> (FchResol "YYYY-MM-DD", NroResol)
    blocked: bool = False  # upload STATUS 9
    # company RUT -> RUTs of the persons who may act for it in the RCV (besides the company's own
    # RUT and whoever uploaded envelopes for it)
    company_users: dict = field(default_factory=dict)

    def __post_init__(self):
        self.unauthorized_companies = frozenset(rut_module.normalize(rut) for rut in self.unauthorized_companies)
        self.resolutions = {rut_module.normalize(rut): value for rut, value in self.resolutions.items()}
        self.company_users = {
            rut_module.normalize(company): frozenset(rut_module.normalize(person) for person in persons)
            for company, persons in self.company_users.items()
        }
