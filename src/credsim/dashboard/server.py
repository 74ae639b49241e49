"""`credsim dashboard`: a small Starlette app served by uvicorn on 127.0.0.1.

The page (static/: index.html, charts.js, dashboard.js, dashboard.css; no CDN, no framework) asks for a
scenario's controls, validates values as they change, starts runs and follows each run
through server-sent events: one event per batch of new rows, which the page appends to its
charts.  The API:

    GET  /                         the page
    POST /api/resolve              {scenario | upload, values} -> the controls and any problems
    POST /api/runs                 {scenario | upload, values} -> a new run (409 while one runs)
    GET  /api/runs                 the runs kept
    POST /api/runs/ID/stop         stop after the step in progress
    GET  /api/runs/ID/events       server-sent events: rows, state, end
    GET  /api/runs/ID/report       the run's report.html
    GET  /api/runs/ID/download     the run folder as a zip

Requests carry no paths and no code: a built-in name or an uploaded file's text, and control
values for the keys of `levers.LEVERS`.  Hosts other than the one served are refused (a
defence against DNS rebinding), and so are POSTs that are not JSON (a cross-site form cannot
send JSON without the browser asking first, and the server never says yes).
"""

from __future__ import annotations

import asyncio
import json
import socket
import tempfile
from importlib import resources
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..scenario import builtin_names, builtin_summary
from . import inputs, levers, view
from .runs import DONE, ENDED, Busy, Run, RunBook

LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_BODY = 256 * 1024
POLL_S = 0.05
STATIC = {"charts.js": "text/javascript", "dashboard.js": "text/javascript", "dashboard.css": "text/css"}
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self'; connect-src 'self'; frame-src 'self'; frame-ancestors 'self'; "
                               "form-action 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _static(name: str) -> str:
    return resources.files("credsim.dashboard").joinpath("static", name).read_text(encoding="utf-8")


def problems(issues: list[inputs.Issue], status: int = 400) -> JSONResponse:
    return JSONResponse({"problems": [i.as_dict() for i in issues]}, status_code=status)


async def read_json(request: Request):
    """The request's JSON body, or an error response (not JSON, too large, malformed)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return JSONResponse({"error": "send application/json"}, status_code=415)
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"error": f"request larger than {MAX_BODY:,} bytes"}, status_code=413)
    try:
        return json.loads(body)
    except ValueError:
        return JSONResponse({"error": "malformed JSON"}, status_code=400)


class Dashboard:
    """The routes, around one `RunBook`."""

    def __init__(self, root: Path):
        self.book = RunBook(root, view.COLUMNS)
        builtins = [{"name": name, "summary": builtin_summary(name)} for name in builtin_names()]
        config = json.dumps(view.config(builtins)).replace("</", "<\\/")
        self.page = _static("index.html").replace("__CONFIG__", config)
        self.files = {name: _static(name) for name in STATIC}

    async def index(self, request: Request) -> Response:
        return HTMLResponse(self.page)

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return Response("not found", status_code=404)
        return Response(self.files[name], media_type=STATIC[name])

    async def resolve(self, request: Request) -> Response:
        data = await read_json(request)
        if isinstance(data, Response):
            return data
        try:
            return JSONResponse(inputs.describe(inputs.resolve_request(data)))
        except inputs.BadRequest as exc:
            return problems(exc.issues)

    async def start(self, request: Request) -> Response:
        data = await read_json(request)
        if isinstance(data, Response):
            return data
        try:
            resolved = inputs.resolve_request(data)
        except inputs.BadRequest as exc:
            return problems(exc.issues)
        if resolved.scenario is None:
            return problems(resolved.issues)
        changes = levers.changes(resolved.base, resolved.scenario)
        label = " · ".join([resolved.base.name, *changes])
        try:
            run, dropped = self.book.start(resolved.scenario, label, changes)
        except Busy as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        return JSONResponse({"run": run.info(), "dropped": dropped}, status_code=201)

    async def list_runs(self, request: Request) -> Response:
        return JSONResponse({"runs": [r.info() for r in self.book.runs.values()]})

    def _run(self, request: Request) -> Run | None:
        return self.book.get(request.path_params["run_id"])

    async def stop(self, request: Request) -> Response:
        run = self._run(request)
        if run is None:
            return JSONResponse({"error": "no such run"}, status_code=404)
        self.book.stop(run.id)
        return JSONResponse({"run": run.info()})

    async def events(self, request: Request) -> Response:
        run = self._run(request)
        if run is None:
            return JSONResponse({"error": "no such run"}, status_code=404)

        async def stream():
            sent, shown = 0, None
            while True:
                state = run.state  # read before the rows: an ended run has all its rows
                rows = run.rows[sent:]
                if rows:
                    sent += len(rows)
                    yield f"event: rows\ndata: {json.dumps(rows)}\n\n"
                if state != shown:
                    shown = state
                    yield f"event: state\ndata: {json.dumps(run.info())}\n\n"
                if state in ENDED:
                    yield "event: end\ndata: {}\n\n"
                    return
                await asyncio.sleep(POLL_S)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})

    def _finished(self, request: Request) -> Run | Response:
        run = self._run(request)
        if run is None or run.state != DONE:
            return Response("no finished run of that id", status_code=404)
        return run

    async def report(self, request: Request) -> Response:
        run = self._finished(request)
        if isinstance(run, Response):
            return run
        page = run.run_dir / "report.html"
        if not page.is_file():
            return Response("this run has no report (output.report = false)", status_code=404)
        return FileResponse(page, media_type="text/html")

    async def download(self, request: Request) -> Response:
        run = self._finished(request)
        if isinstance(run, Response):
            return run
        path = await asyncio.to_thread(self.book.zip_path, run)
        return FileResponse(path, media_type="application/zip", filename=path.name)

    def routes(self) -> list[Route]:
        return [
            Route("/", self.index),
            Route("/static/{name}", self.static),
            Route("/api/resolve", self.resolve, methods=["POST"]),
            Route("/api/runs", self.start, methods=["POST"]),
            Route("/api/runs", self.list_runs),
            Route("/api/runs/{run_id}/stop", self.stop, methods=["POST"]),
            Route("/api/runs/{run_id}/events", self.events),
            Route("/api/runs/{run_id}/report", self.report),
            Route("/api/runs/{run_id}/download", self.download),
        ]


def host_name(value: str) -> str:
    """The host of a Host header, without the port ('[::1]:8765' -> '::1')."""
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class Guard:
    """Refuses requests for another host (DNS rebinding) and adds `HEADERS` to every response.

    Pure ASGI, so the event streams pass through untouched.
    """

    def __init__(self, app, hosts: tuple[str, ...] | None):
        self.app, self.hosts = app, hosts  # None: any host (--host other than loopback)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.hosts is not None:
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            if host_name(host).lower() not in self.hosts:
                return await Response("unknown host", status_code=400)(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
                message = dict(message, headers=[*message.get("headers", []), *extra])
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(root: Path, host: str = "127.0.0.1") -> tuple[Starlette, Dashboard]:
    dash = Dashboard(root)
    hosts = LOOPBACK if host in LOOPBACK else None
    app = Starlette(routes=dash.routes(), middleware=[Middleware(Guard, hosts=hosts)])
    return app, dash


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free port).  Raises OSError (in use, no such address)."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    return socket.create_server((host, port), family=family)


def url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def serve(sock: socket.socket, host: str) -> None:
    """Serve the dashboard on a bound socket until interrupted; runs live in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="credsim-dashboard-") as root:
        app, dash = create_app(Path(root), host)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        try:
            server.run(sockets=[sock])
        finally:
            dash.book.stop_all()
