"""The ASGI app of ``gittrack ui`` (Starlette): the JSON API under ``/api/`` and the static
page that uses it. Read-only over ``gittrack.ui.data.Reader``; docs/ui.md documents the API.

Security (docs/ui.md): served on loopback by default, where only requests naming a loopback
host are answered (a web page on another site cannot reach it by DNS rebinding); on any other
address every request must carry the token (``?token=`` once, then a cookie, or an
``Authorization: Bearer`` header). No CORS headers: another origin's page cannot read the
answers. Every answer carries a Content-Security-Policy that lets the page load and call
nothing but this server.
"""

from __future__ import annotations

import hmac
import math
import os
import secrets
import sys
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gittrack.errors import (
    AmbiguousNameError,
    BlobNotFoundError,
    CryptoError,
    GittrackError,
    NotFoundError,
    StorageError,
    UsageError,
)
from gittrack.ui.data import (
    CONSOLE_TAIL,
    DEFAULT_POINTS,
    HISTOGRAM_STEPS,
    LINEAGE_DEPTH,
    LINEAGE_NODES,
    Reader,
)

STATIC = Path(__file__).parent / "static"
TOKEN_COOKIE = "gittrack_ui_token"
"""The token cookie's name, then ``_<port>``: browsers send a host's cookies to all its ports,
so two servers on one host (each with its own token) would overwrite each other's."""
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
MESSAGE_LIMIT = 500
"""An error answer's message is cut to this many characters."""

CSP = ("default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def create_app(repo: str | os.PathLike[str] = ".", *, token: str | None = None,
               allowed_hosts: tuple[str, ...] | None = LOOPBACK_HOSTS) -> Starlette:
    """The app over the repository at ``repo``. ``token``: required of every request (serve
    beyond loopback only with one). ``allowed_hosts``: the ``Host`` names answered (``None``:
    any, for a server reached by another name, which then needs a token)."""
    reader = Reader(os.fspath(repo))

    def runs(request: Request) -> Response:
        return _json(reader.runs())

    def run(request: Request) -> Response:
        return _json(reader.run(request.path_params["run"]))

    def history(request: Request) -> Response:
        query = request.query_params
        # keys=a,b or keys=a&keys=b; key= (repeatable) for a key that holds a comma
        keys = [k for value in query.getlist("keys") for k in value.split(",") if k]
        keys += query.getlist("key")
        start, end = _float(query.get("start"), "start"), _float(query.get("end"), "end")
        if start is not None and end is not None and start > end:
            raise UsageError(f"start ({start:g}) must not be greater than end ({end:g})")
        return _json(reader.history(
            request.path_params["run"], keys,
            points=_int(query.get("points"), "points", DEFAULT_POINTS),
            x=query.get("x") or "_step", start=start, end=end,
            stream=query.get("stream") or "default"))

    def console(request: Request) -> Response:
        tail = _int(request.query_params.get("tail"), "tail", CONSOLE_TAIL, minimum=0)
        return _json(reader.console(request.path_params["run"], tail))

    def code(request: Request) -> Response:
        return _json(reader.code(request.path_params["run"]))

    def artifacts(request: Request) -> Response:
        return _json(reader.artifacts())

    def artifact(request: Request) -> Response:
        return _json(reader.artifact(request.path_params["name"]))

    def artifact_version(request: Request) -> Response:
        params = request.path_params
        return _json(reader.artifact_version(f"{params['name']}:{params['version']}"))

    def lineage(request: Request) -> Response:
        query, params = request.query_params, request.path_params
        return _json(reader.lineage(f"{params['name']}:{params['version']}",
                                    _int(query.get("depth"), "depth", LINEAGE_DEPTH, minimum=0),
                                    _int(query.get("nodes"), "nodes", LINEAGE_NODES,
                                         minimum=1)))

    def run_lineage(request: Request) -> Response:
        query = request.query_params
        return _json(reader.run_lineage(request.path_params["run"],
                                        _int(query.get("depth"), "depth", LINEAGE_DEPTH, minimum=0),
                                        _int(query.get("nodes"), "nodes", LINEAGE_NODES,
                                             minimum=1)))

    def histograms(request: Request) -> Response:
        steps = _int(request.query_params.get("steps"), "steps", HISTOGRAM_STEPS, minimum=1)
        return _json(reader.histograms(request.path_params["run"], steps))

    def panels(request: Request) -> Response:
        query = request.query_params
        step = query.get("step")
        return _json(reader.panels(request.path_params["run"], query.get("key") or None,
                                   None if step in (None, "")
                                   else _int(step, "step", 0, minimum=0)))

    def media(request: Request) -> Response:
        return _json(reader.media(request.path_params["run"]))

    def media_file(request: Request) -> Response:
        path = request.query_params.get("path")
        if not path:
            raise UsageError("media/file needs ?path= (a path of /api/runs/{run}/media)")
        data, kind = reader.media_file(request.path_params["run"], path)
        # never run as a page of this origin, whatever the bytes hold: no script, no request
        # out; logged HTML shows in the page's sandboxed frame (its own styles and images)
        return Response(data, media_type=kind, headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                       "img-src data:; sandbox; frame-ancestors 'self'",
            "X-Frame-Options": "SAMEORIGIN",
            "Cache-Control": "private, max-age=3600"})

    def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def api_missing(request: Request) -> Response:
        return _refused(404, f"no such API endpoint: {_cut(request.url.path)}", "NotFoundError")

    middleware = [Middleware(_Guard, token=token, hosts=allowed_hosts)]
    routes = [
        Route("/", page),
        Route("/api/runs", runs),
        Route("/api/runs/{run:path}/history", history),
        Route("/api/runs/{run:path}/console", console),
        Route("/api/runs/{run:path}/code", code),
        Route("/api/runs/{run:path}/histograms", histograms),
        Route("/api/runs/{run:path}/panels", panels),
        Route("/api/runs/{run:path}/media/file", media_file),
        Route("/api/runs/{run:path}/media", media),
        Route("/api/runs/{run:path}/lineage", run_lineage),
        Route("/api/runs/{run:path}", run),
        Route("/api/artifacts", artifacts),
        Route("/api/artifacts/{name}", artifact),
        Route("/api/artifacts/{name}/{version}", artifact_version),
        Route("/api/artifacts/{name}/{version}/lineage", lineage),
        Route("/api/{rest:path}", api_missing),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, middleware=middleware,
                     exception_handlers={GittrackError: _error, HTTPException: _http_error,
                                         Exception: _crash})


class _Guard(BaseHTTPMiddleware):
    """The ``Host`` check, the refusal of requests another site's page makes, the token (when
    one is set) and the security headers of every answer, refusals and errors included."""

    def __init__(self, app: Any, token: str | None, hosts: tuple[str, ...] | None) -> None:
        super().__init__(app)
        self.token = token
        self.hosts = None if hosts is None else {h.strip("[]").lower() for h in hosts}

    async def dispatch(self, request: Request,
                       call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        refusal = self._refusal(request)
        if refusal is not None:
            response: Response = _refused(*refusal)
            _secure(response)
            return response
        try:
            response = await call_next(request)
        except Exception as exc:  # a bug: the answer still carries the headers
            response = await _crash(request, exc)
        if self.token is not None and request.query_params.get("token") is not None:
            response.set_cookie(token_cookie(request), self.token, httponly=True,
                                samesite="strict")
        _secure(response)
        if request.url.path.startswith("/api/") and "cache-control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response

    def _refusal(self, request: Request) -> tuple[int, str, str] | None:
        """``(status, reason, type)`` when the request is not answered."""
        if self.hosts is not None and host_name(request.headers.get("host", "")) not in self.hosts:
            # DNS rebinding: a page of evil.example whose name now points at 127.0.0.1
            return 400, "this server answers only requests naming a loopback host", "HostRefused"
        # a page of another site (or another port of this machine) making the browser ask:
        # <img>, <script>, a form; only a link to the page itself is followed
        site = request.headers.get("sec-fetch-site", "")
        if site in ("cross-site", "same-site") and not (
                request.headers.get("sec-fetch-mode") == "navigate" and request.url.path == "/"):
            return 403, "requests from another site's page are refused", "CrossSiteRefused"
        if self.token is not None:
            given = _given_token(request)
            if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
                return 401, ("a token is required: open the URL `gittrack ui` printed "
                             "(…/?token=…)"), "TokenRequired"
        return None


def host_name(header: str) -> str:
    """The name of a ``Host`` header, without its port or an IPv6 address's brackets."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else ""
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _given_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.query_params.get("token") or request.cookies.get(token_cookie(request))


def token_cookie(request: Request) -> str:
    """The name of the token cookie for the port the browser asked (the ``Host`` header's, as
    the browser sees the server, behind a proxy too)."""
    port = request.url.port or (443 if request.url.scheme in ("https", "wss") else 80)
    return f"{TOKEN_COOKIE}_{port}"


def _secure(response: Response) -> None:
    """The security headers; a stricter policy an endpoint set (media files) is kept."""
    for name, value in SECURITY_HEADERS.items():
        if name not in response.headers:
            response.headers[name] = value


def _status(exc: Exception) -> int:
    """The HTTP status of a gittrack error: 400 for a bad request (an id prefix of several
    runs too), 404 for something not here (a blob a clone lacks too), 403 for a key error,
    503 for the project's store out of reach, 500 otherwise."""
    if isinstance(exc, (UsageError, AmbiguousNameError)):
        return 400
    if isinstance(exc, (NotFoundError, BlobNotFoundError)):
        return 404
    if isinstance(exc, CryptoError):
        return 403
    return 503 if isinstance(exc, StorageError) else 500


async def _error(request: Request, exc: Exception) -> Response:
    return _refused(_status(exc), str(exc), type(exc).__name__)


HTTP_TYPES = {404: "NotFoundError", 405: "MethodNotAllowed"}


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (a wrong method, a static file not here) in the shape of
    every error answer, with their headers (``Allow``)."""
    assert isinstance(exc, HTTPException)
    response = _refused(exc.status_code, str(exc.detail),
                        HTTP_TYPES.get(exc.status_code, "HTTPError"))
    response.headers.update(exc.headers or {})
    return response


def _refused(status: int, message: str, kind: str) -> Response:
    """An error answer: ``{"error": message, "type": kind}``."""
    return JSONResponse({"error": _cut(message), "type": kind}, status_code=status)


async def _crash(request: Request, exc: Exception) -> Response:
    """Anything else is a bug in gittrack: a generic JSON answer naming an error id, and the
    traceback under that id on the server's stderr. The answer carries no exception text (it
    may hold a path, a value of a private run or a stored byte); the log line names the path
    without its query (which may hold the token)."""
    error_id = secrets.token_hex(6)
    print(f"gittrack ui: internal error {error_id} answering {request.method} "
          f"{request.url.path}:", file=sys.stderr)
    traceback.print_exception(exc, file=sys.stderr)
    sys.stderr.flush()
    return JSONResponse({"error": f"internal error (id {error_id}): the server's log has the "
                                  "details", "type": "InternalError", "id": error_id},
                        status_code=500)


def _cut(message: str) -> str:
    """An error message of a sane length: a request's value is named, not echoed whole."""
    return message if len(message) <= MESSAGE_LIMIT else message[:MESSAGE_LIMIT - 1] + "…"


def _json(value: Any) -> Response:
    return JSONResponse(value)


def _int(value: str | None, name: str, default: int, *, minimum: int | None = None) -> int:
    """The whole number of query parameter ``name`` (``default`` when left out);
    ``UsageError`` naming the parameter for anything else or a number below ``minimum``."""
    if value is None or value == "":
        return default
    try:
        if not value.isascii():  # int() takes other scripts' digits ("１"): not a query's
            raise ValueError(value)
        number = int(value)
    except ValueError:
        raise UsageError(f"{name} must be a whole number, got {_cut(value)!r}") from None
    if minimum is not None and number < minimum:
        raise UsageError(f"{name} must be at least {minimum}, got {number}")
    return number


def _float(value: str | None, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise UsageError(f"{name} must be a number, got {_cut(value)!r}") from None
    if not math.isfinite(number):  # JSON has no infinity: leave the bound out instead
        raise UsageError(f"{name} must be a finite number (or left out), got {_cut(value)!r}")
    return number


__all__ = ["CSP", "STATIC", "create_app"]
