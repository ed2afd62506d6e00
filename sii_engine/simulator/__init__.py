"""A local SII: the SII's SOAP services, DTE upload and boleta REST API with
their real wire formats and checks, for tests and the demo (see PROTOCOL.md)."""

from .app import SiiSimulator
from .faults import Fault
from .server import RunningSimulator, start_simulator

__all__ = ["Fault", "RunningSimulator", "SiiSimulator", "start_simulator"]
