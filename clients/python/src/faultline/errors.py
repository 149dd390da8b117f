"""Errors of the control API, typed by what went wrong."""

from __future__ import annotations

from typing import Any, Dict, List, Optional


class FaultlineError(Exception):
    """The daemon refused a request, or could not be reached.

    ``status`` is the HTTP status (None when there was no answer), ``code`` the daemon's error
    code (``invalid_fault``, ``fault_exists``, ``not_found``, …; ``unreachable`` when there was no
    answer), ``message`` its message, ``path`` the JSON path of the offending value inside the
    request body (``delay``, ``match.method``, ``groups[1][0]``) or None, and ``errors`` every
    problem found, as ``{"path", "message"}`` dicts (422 answers list them all).
    """

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        code: Optional[str] = None,
        path: Optional[str] = None,
        errors: Optional[List[Dict[str, Any]]] = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.path = path
        self.errors = list(errors or [])
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"{self.status} {self.code}" if self.status is not None else str(self.code)
        where = f" (at {self.path})" if self.path else ""
        return f"{head}: {self.message}{where}"


class UnreachableError(FaultlineError):
    """No answer: no socket, connection refused or reset, a timeout, or not the control API."""


class InvalidError(FaultlineError):
    """422: the body is JSON but not a valid fault, route, config or schedule."""


class NotFoundError(FaultlineError):
    """404: no such route, fault or endpoint."""


class ConflictError(FaultlineError):
    """409: the id or name is taken, a route is in use, the schedule is in another state, …"""


class RequestError(FaultlineError):
    """400: malformed request, JSON or query."""


class AuthError(FaultlineError):
    """401 or 403: missing or wrong token, or a Unix-socket peer whose uid is not allowed."""


_BY_STATUS = {400: RequestError, 401: AuthError, 403: AuthError, 404: NotFoundError, 409: ConflictError, 422: InvalidError}


def error_for(status: int, code: Optional[str], message: str, path: Optional[str], errors) -> FaultlineError:
    cls = _BY_STATUS.get(status, FaultlineError)
    return cls(message, status=status, code=code, path=path, errors=errors)
