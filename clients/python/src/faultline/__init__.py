"""Drive a Faultline chaos proxy (faultlined) from Python tests.

    import faultline

    client = faultline.Client(socket="/run/faultline/control.sock")
    with client.fault(type="latency", route="db", delay="200ms", direction="downstream"):
        run_the_code_under_test()

With pytest, the ``faultline`` fixture (this package's pytest plugin) gives a Client and clears
every fault after each test.
"""

from .client import DEFAULT_SOCKET, Client, Events, duration
from .errors import (
    AuthError,
    ConflictError,
    FaultlineError,
    InvalidError,
    NotFoundError,
    RequestError,
    UnreachableError,
)

__version__ = "0.1.0"

__all__ = [
    "Client",
    "Events",
    "duration",
    "DEFAULT_SOCKET",
    "FaultlineError",
    "UnreachableError",
    "InvalidError",
    "NotFoundError",
    "ConflictError",
    "RequestError",
    "AuthError",
]
