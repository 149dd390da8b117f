"""A small synchronous client of faultlined's control API (docs/CONTROL-API.md).

Every call returns when the daemon has put the change in force on every worker, so the next byte
on a connection, open or new, already sees the fault: no sleeps needed.
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import json
import os
import socket as _socket
import urllib.parse
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

from .errors import FaultlineError, UnreachableError, error_for

DEFAULT_SOCKET = "/run/faultline/control.sock"


class Events(list):
    """A list of JSON-lines records (journal events or request-log entries) with the daemon's
    ``last`` seq given out (pass it as ``since`` to get only what comes after) and, for the
    journal, ``oldest`` retained seq."""

    last: Optional[int] = None
    oldest: Optional[int] = None


def duration(value: Any) -> Any:
    """A ``datetime.timedelta`` as a duration string (``"250ms"``); anything else unchanged."""
    if not isinstance(value, datetime.timedelta):
        return value
    micros = value // datetime.timedelta(microseconds=1)
    if micros < 0:
        raise ValueError(f"a duration cannot be negative: {value!r}")
    if micros % 1_000_000 == 0:
        return f"{micros // 1_000_000}s"
    if micros % 1_000 == 0:
        return f"{micros // 1_000}ms"
    return f"{micros}us"


def _fault_body(fault: Optional[Mapping[str, Any]], fields: Mapping[str, Any]) -> Dict[str, Any]:
    """A fault object from a dict and/or keyword fields. Keywords win; a trailing underscore is
    dropped (``for_=`` for ``"for"``); None values are left out; timedeltas become durations."""
    if fault is not None and not isinstance(fault, Mapping):
        raise TypeError(f"a fault is a dict of the config's fault keys, got {type(fault).__name__}")
    body: Dict[str, Any] = dict(fault or {})
    for key, value in fields.items():
        body[key[:-1] if key.endswith("_") else key] = value
    return {key: duration(value) for key, value in body.items() if value is not None}


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = path

    def connect(self) -> None:
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class Client:
    """Talks to one faultlined.

    ``Client(socket="/run/faultline/control.sock")`` or ``Client(url="http://127.0.0.1:8474",
    token=...)`` (or ``token_file=``). With neither, ``$FAULTLINE_SOCKET``, else
    ``$FAULTLINE_URL`` (with ``$FAULTLINE_TOKEN`` or ``$FAULTLINE_TOKEN_FILE``), else
    /run/faultline/control.sock, as faultctl does.
    """

    def __init__(
        self,
        socket: Optional[str] = None,
        url: Optional[str] = None,
        token: Optional[str] = None,
        token_file: Optional[str] = None,
        timeout: float = 10.0,
    ) -> None:
        if socket and url:
            raise ValueError("give socket or url, not both")
        if not socket and not url:
            socket = os.environ.get("FAULTLINE_SOCKET") or None
            url = None if socket else (os.environ.get("FAULTLINE_URL") or None)
            if url and not token and not token_file:
                token = os.environ.get("FAULTLINE_TOKEN") or None
                token_file = os.environ.get("FAULTLINE_TOKEN_FILE") or None
            if not socket and not url:
                socket = DEFAULT_SOCKET
        if token_file:
            with open(token_file, encoding="utf-8") as f:
                token = f.read().strip()
        self.socket = socket
        self.url = url
        self.timeout = timeout
        self._token = token
        if url:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme != "http" or not parts.hostname:
                raise ValueError(f"url must be http://HOST:PORT, got {url!r}")
            self._host = parts.hostname
            self._port = parts.port or 80

    def __repr__(self) -> str:
        where = f"socket={self.socket!r}" if self.socket else f"url={self.url!r}"
        return f"faultline.Client({where})"

    # -- transport ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: Optional[Mapping[str, Any]] = None,
    ) -> Tuple[int, Dict[str, str], bytes]:
        """One call: ``(status, headers, body)`` for a 2xx answer; raises a ``FaultlineError``
        for any other (typed by status: ``InvalidError`` for 422, …) and ``UnreachableError``
        when there is no answer."""
        target = path
        if query:
            pairs = {k: v for k, v in query.items() if v is not None}
            if pairs:
                target += "?" + urllib.parse.urlencode(pairs)
        headers = {"Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        if self.socket:
            connection: http.client.HTTPConnection = _UnixConnection(self.socket, self.timeout)
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        try:
            connection.request(method, target, body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
            status = response.status
            answer_headers = {k.lower(): v for k, v in response.getheaders()}
        except (OSError, http.client.HTTPException) as error:
            where = self.socket or self.url
            raise UnreachableError(f"cannot reach faultlined at {where}: {error}", code="unreachable") from error
        finally:
            connection.close()
        if 200 <= status < 300:
            return status, answer_headers, data
        raise self._error(status, data)

    @staticmethod
    def _error(status: int, data: bytes) -> FaultlineError:
        try:
            document = json.loads(data)
            error = document["error"]
            return error_for(status, error.get("code"), error.get("message", ""), error.get("path"), document.get("errors"))
        except (ValueError, KeyError, TypeError, AttributeError):
            text = data.decode("utf-8", "replace").strip()
            if status in (404, 405) and not text:
                text = "not the control API"
            return error_for(status, None, text or f"HTTP {status}", None, None)

    def _json(self, method: str, path: str, body: Any = None, query: Optional[Mapping[str, Any]] = None) -> Any:
        _, _, data = self.request(method, path, body, query)
        if not data:
            return None
        try:
            return json.loads(data)
        except ValueError as error:
            raise UnreachableError(f"the answer to {method} {path} is not JSON: {data[:200]!r}", code="unreachable") from error

    def _lines(self, path: str, query: Mapping[str, Any]) -> Events:
        _, headers, data = self.request("GET", path, query=query)
        events = Events(json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip())
        for attribute, header in (("last", "-last"), ("oldest", "-oldest")):
            for name, value in headers.items():
                if name.startswith("x-faultline-") and name.endswith(header) and value.isdigit():
                    setattr(events, attribute, int(value))
        return events

    # -- status and routes -------------------------------------------------------------------

    def status(self) -> Dict[str, Any]:
        """``GET /v1/status``: version, uptime, seed, routes, faults, schedule."""
        return self._json("GET", "/v1/status")

    def routes(self) -> List[Dict[str, Any]]:
        """``GET /v1/routes``: each route with ``bound`` (the address listened on)."""
        return self._json("GET", "/v1/routes")["routes"]

    def route(self, name: str) -> Dict[str, Any]:
        """``GET /v1/routes/{name}``."""
        return self._json("GET", f"/v1/routes/{urllib.parse.quote(name, safe='')}")

    # -- faults ------------------------------------------------------------------------------

    def faults(self) -> List[Dict[str, Any]]:
        """``GET /v1/faults``: the active faults, in apply order."""
        return self._json("GET", "/v1/faults")["faults"]

    def apply(self, fault: Optional[Mapping[str, Any]] = None, /, **fields: Any) -> Dict[str, Any]:
        """``POST /v1/faults``: applies one fault, given as the config writes it (a dict) and/or as
        keywords: ``apply(type="latency", route="db", delay="100ms")``,
        ``apply({"type": "abort", "route": "pay", "status": 503}, mark=True)``. Returns the fault
        as stored (every default written out, a generated id when none was given)."""
        return self._json("POST", "/v1/faults", _fault_body(fault, fields))

    def apply_all(self, faults: Iterable[Mapping[str, Any]]) -> List[Dict[str, Any]]:
        """``POST /v1/faults`` with an array: every fault or none (one change; an error names the
        element, e.g. ``[1].delay``). Returns the faults as stored, in order."""
        return self._json("POST", "/v1/faults", [_fault_body(fault, {}) for fault in faults])["faults"]

    def clear(self, id: Optional[str] = None) -> List[str]:
        """Clears the fault ``id`` (``DELETE /v1/faults/{id}``), or every fault, partitions and
        the config file's included, when ``id`` is None. Returns the ids cleared."""
        if id is not None:
            self.request("DELETE", f"/v1/faults/{urllib.parse.quote(id, safe='')}")
            return [id]
        return self._json("DELETE", "/v1/faults")["cleared"]

    @contextlib.contextmanager
    def fault(self, fault: Optional[Mapping[str, Any]] = None, /, **fields: Any) -> Iterator[Dict[str, Any]]:
        """Applies a fault for the ``with`` block and clears it on the way out, also when the
        block raises (a fault already gone is fine)::

            with client.fault(type="latency", route="db", delay="200ms") as lag:
                ...
        """
        stored = self.apply(fault, **fields)
        try:
            yield stored
        finally:
            try:
                self.clear(stored["id"])
            except FaultlineError as error:
                if error.status != 404:
                    raise

    # -- partitions --------------------------------------------------------------------------

    def partition(
        self,
        groups: Optional[Sequence[Sequence[str]]] = None,
        *,
        kind: Optional[str] = None,
        node: Optional[str] = None,
        mode: Optional[str] = None,
        one_way: Optional[bool] = None,
        id: Optional[str] = None,
        **fields: Any,
    ) -> Dict[str, Any]:
        """``POST /v1/partitions``: ``partition([["n1"], ["n2", "n3"]])``, or a rule:
        ``partition(kind="isolate", node="n1")`` (also random_halves, bridge, ring,
        random_node). ``mode`` is blackhole (default) or reset; ``one_way`` drops only what
        leaves ``groups[0]``. Returns the partition as stored, with ``resolved`` groups."""
        body = _fault_body(
            None,
            dict(id=id, groups=[list(g) for g in groups] if groups is not None else None, kind=kind, node=node,
                 mode=mode, one_way=one_way, **fields),
        )
        return self._json("POST", "/v1/partitions", body)

    def heal(self, id: Optional[str] = None) -> List[str]:
        """Heals the partition ``id``, or every partition when None (other faults stay).
        Returns the ids healed."""
        if id is not None:
            return self.clear(id)
        return self._json("DELETE", "/v1/partitions")["healed"]

    # -- what happened -----------------------------------------------------------------------

    def journal(self, since: int = 0, event: Optional[str] = None) -> Events:
        """``GET /v1/journal?since=SEQ``: the events after ``since`` (only those named ``event``
        when given). ``.last`` is the last seq given out: keep it as the next ``since``."""
        events = self._lines("/v1/journal", {"since": since})
        if event is None:
            return events
        chosen = Events(e for e in events if e.get("event") == event)
        chosen.last, chosen.oldest = events.last, events.oldest
        return chosen

    def requests(self, route: str, since: int = 0) -> Events:
        """``GET /v1/requests``: the route's request log after ``since`` (``.last`` as above)."""
        return self._lines("/v1/requests", {"route": route, "since": since})

    def report(self, route: str, since: Optional[int] = None, group_by: Optional[str] = None) -> Dict[str, Any]:
        """``GET /v1/report``: the client-behaviour report of the route's log after ``since``
        (retries, backoff, jitter, herd, breaker; docs/REPORT.md). ``group_by``: auto,
        header:NAME, method+path or source."""
        return self._json("GET", "/v1/report", query={"route": route, "since": since, "group_by": group_by})

    def metrics(self) -> str:
        """``GET /metrics``: the Prometheus text."""
        return self.request("GET", "/metrics")[2].decode("utf-8")

    def reload(self) -> Dict[str, Any]:
        """``POST /v1/reload``: re-reads the config file."""
        return self._json("POST", "/v1/reload")
