"""pytest plugin (entry point ``pytest11``): the ``faultline`` fixture.

Where the daemon is: ``--faultline-socket PATH`` or ``--faultline-url URL`` (with
``--faultline-token-file``), else ``$FAULTLINE_SOCKET`` / ``$FAULTLINE_URL`` (+
``$FAULTLINE_TOKEN`` / ``$FAULTLINE_TOKEN_FILE``), else /run/faultline/control.sock. When nothing
is configured and that socket does not exist, tests using the fixture are skipped with a message.

After each test the fixture clears every fault (``DELETE /v1/faults``: partitions and the config
file's faults too, until the next reload), whether the test passed or failed, so no fault leaks
into the next test.
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from .client import DEFAULT_SOCKET, Client


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("faultline", "Faultline chaos proxy")
    group.addoption("--faultline-socket", default=None, help="control socket of the faultlined the `faultline` fixture drives")
    group.addoption("--faultline-url", default=None, help="control API URL (http://HOST:PORT) instead of a socket")
    group.addoption("--faultline-token-file", default=None, help="bearer token file for --faultline-url")


def make_client(config: pytest.Config) -> Client:
    """The Client the options and environment name; skips the test when they name nothing and
    the default socket is absent."""
    socket = config.getoption("--faultline-socket")
    url = config.getoption("--faultline-url")
    token_file = config.getoption("--faultline-token-file")
    if socket or url:
        return Client(socket=socket, url=url, token_file=token_file)
    if not (os.environ.get("FAULTLINE_SOCKET") or os.environ.get("FAULTLINE_URL")) and not os.path.exists(DEFAULT_SOCKET):
        pytest.skip(
            "no faultlined to talk to: give --faultline-socket or --faultline-url, or set FAULTLINE_SOCKET or FAULTLINE_URL"
        )
    return Client()


@pytest.fixture
def faultline(request: pytest.FixtureRequest) -> Iterator[Client]:
    """A ``faultline.Client``; every fault is cleared after the test."""
    client = make_client(request.config)
    yield client
    client.clear()
