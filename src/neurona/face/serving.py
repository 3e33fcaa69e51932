"""``neurona serve``: model files as a prediction service over HTTP (Starlette, uvicorn).

The routes (``docs/serving.md`` has each one's request and answer):

- the Open Inference Protocol (KServe V2): ``GET /v2/health/live``,
  ``GET /v2/health/ready``, ``GET /v2``, ``GET /v2/models/{name}``,
  ``GET /v2/models/{name}/ready``, ``POST /v2/models/{name}/infer``;
- MLflow's scoring routes: ``POST /invocations``, ``GET /ping``, ``GET /health``,
  ``GET /version``;
- ``POST /v2/models/{name}/explain``: per row the logit, the output, the label and
  each feature's contribution;
- ``GET /openapi.json``: the OpenAPI document of all of them
  (:mod:`neurona.face.serving_openapi`).

Its limits (:class:`Limits`): a body of at most ``max_body`` bytes and ``max_rows``
rows, ``timeout`` seconds per request, in-flight requests finished on SIGTERM. Each
model file is watched (:class:`Registry`): a file replaced on disk (another inode,
change time or size) is read and checked in a thread, then takes over; requests
already running finish with the model they started with, and a replacement that
fails its checks leaves the old model serving, with a one-line reason in the log.

Its guards (:class:`Gate`): bound to 127.0.0.1 unless told otherwise; another
address needs a token (``Authorization: Bearer``, asked of every route but the
liveness ones) or an explicit ``insecure``; on a loopback address the Host header
must name it (no DNS rebinding) and an Origin must be its own. Every refusal and
every bad request is answered with one line of JSON, ``{"error": "..."}``.
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..errors import NeuronaError, OptionError
from . import serving_codec as codec
from . import web_guard
from .served_model import ServedModel, file_signature

#: The routes a token does not guard: "is the process up" tells nothing about the models.
LIVENESS = ("/v2/health/live", "/ping")
#: A model's name: what a URL path segment holds without escaping.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
DEFAULT_PORT = 8080


@dataclass(frozen=True)
class Limits:
    """What one request may take.

    Parameters
    ----------
    max_body : int
        The most bytes a request body may hold (``--max-body``).
    max_rows : int
        The most rows one request may hold (``--max-rows``).
    timeout : float
        Seconds a request may take, from its first byte to its answer
        (``--timeout``); also how long in-flight requests are given on SIGTERM.
    reload_interval : float
        Seconds between two looks at the model files (0: never reload).
    """

    max_body: int = 16 * 2**20
    max_rows: int = 100_000
    timeout: float = 30.0
    reload_interval: float = 1.0

    def __post_init__(self):
        for name, low in (("max_body", 1), ("max_rows", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise OptionError(f"--{name.replace('_', '-')} must be a positive whole "
                                  f"number, got {value!r}.")
        if not 0 < self.timeout <= 3600:
            raise OptionError(f"--timeout must be a number of seconds in (0, 3600], got "
                              f"{self.timeout!r}.")
        if not 0 <= self.reload_interval <= 3600:
            raise OptionError(f"--reload-interval must be a number of seconds in [0, 3600], "
                              f"got {self.reload_interval!r}.")


class NoSuchModel(codec.RequestError):
    status = 404


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise OptionError(f"a model's name is letters, digits, '_', '.' and '-' (it is part "
                          f"of URLs), got {str(name)[:40]!r}; pass --name or --model NAME=PATH.")
    return name


def default_name(path) -> str:
    """A model file's name when none is given: its run directory's for a ``model.json``,
    else the file's own without ``.json``."""
    path = Path(path)
    if path.is_dir():
        return path.resolve().name
    if path.name == "model.json" and path.resolve().parent.name:
        return path.resolve().parent.name
    return path.name.removesuffix(".json")


class Registry:
    """The served models by name, each replaced whole when its file is.

    Parameters
    ----------
    files : dict
        Name to path; each file is read and checked here (a bad one raises).
    log : callable
        Given one line per reload or refused replacement.
    """

    def __init__(self, files: dict, log=print):
        self.models = {check_name(name): ServedModel(name, path) for name, path in files.items()}
        self.paths = {name: model.path for name, model in self.models.items()}
        self.log = log
        self._refused: dict[str, object] = {}  # the signature of a replacement refused

    def get(self, name: str) -> ServedModel:
        model = self.models.get(name)
        if model is None:
            raise NoSuchModel(f"no model {str(name)[:60]!r} here; the models are "
                              f"{', '.join(map(repr, self.models))}.")
        return model

    async def poll(self) -> None:
        """Look at every file once; load and check in a thread those replaced."""
        for name, path in self.paths.items():
            try:
                now = file_signature(path)
            except OSError as exc:
                now = ("missing", exc.strerror)
            current = self.models[name]
            if now == current.signature or now == self._refused.get(name):
                continue
            if now[0] == "missing":
                self._refused[name] = now
                self.log(f"neurona serve: {name}: {path} is gone ({now[1]}); still serving "
                         f"the model read before.")
                continue
            try:
                fresh = await asyncio.to_thread(ServedModel, name, path)
            except NeuronaError as exc:
                self._refused[name] = now
                self.log(f"neurona serve: {name}: the replaced file is refused, the model "
                         f"read before still serves: {_one_line(exc)}")
                continue
            self.models[name] = fresh  # requests already running keep the one they hold
            self._refused.pop(name, None)
            self.log(f"neurona serve: {name}: reloaded {path}.")

    async def watch(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.poll()
            except Exception as exc:  # noqa: BLE001 - the watcher must outlive one bad look
                self.log(f"neurona serve: looking at the model files failed: {_one_line(exc)}")


def _one_line(exc: BaseException) -> str:
    return re.sub(r"\s*\n\s*", " ", str(exc)).strip()


class Gate:
    """ASGI middleware: Host and Origin (on loopback), the token, and the time limit.

    Parameters
    ----------
    app : ASGI application
    site : neurona.face.web_guard.Site or None
        The Host and Origin accepted; None when bound to another address.
    token : str or None
        Asked of every route but :data:`LIVENESS`, as ``Authorization: Bearer TOKEN``.
    timeout : float
        Seconds a request may take.
    log : callable
    """

    def __init__(self, app, site, token, timeout: float, log=print):
        self.app, self.site, self.token, self.timeout, self.log = app, site, token, timeout, log

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self.app(scope, receive, send)
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = web_guard.headers_of(scope)
        why = self.site.problem(headers) if self.site is not None else None
        if why is not None:
            return await web_guard.refuse(send, 403, why)
        if self.token is not None and scope["path"] not in LIVENESS and \
                not web_guard.token_matches(web_guard.bearer_token(headers), self.token):
            return await web_guard.refuse(
                send, 401, "the token is missing or wrong: send the header "
                           "'Authorization: Bearer TOKEN' with the server's --token",
                headers=[(b"www-authenticate", b'Bearer realm="neurona"')])
        state = {"started": False, "body": False}

        async def tracked_send(message):
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        async def tracked_receive():
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                state["body"] = True
            return message

        try:
            async with asyncio.timeout(self.timeout):
                await self.app(scope, tracked_receive, tracked_send)
        except TimeoutError:
            if not state["started"]:
                status, what = (503, "answering it") if state["body"] else (408, "sending it")
                await web_guard.refuse(send, status, f"the request took longer than "
                                                     f"{self.timeout:g} s ({what}); the limit "
                                                     f"is the server's --timeout",
                                       headers=[(b"connection", b"close")])


def _json(body: bytes, status: int = 200, headers=None):
    from starlette.responses import Response

    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _error(message: str, status: int):
    return _json(web_guard.error_body(message), status)


async def read_body(request, max_body: int) -> bytes:
    """The request's body, refused past ``max_body`` bytes before it is all read."""
    size = request.headers.get("content-length", "")
    if size.isdigit() and int(size) > max_body:
        raise codec.BodyTooLarge(_too_large(int(size), max_body))
    if request.headers.get("content-encoding", "identity").lower() != "identity":
        raise codec.UnsupportedMedia("send the body uncompressed (no Content-Encoding).")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > max_body:
            raise codec.BodyTooLarge(_too_large(total, max_body))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> str:
    return (f"the body holds {size} bytes or more and a request may hold at most {limit} "
            f"(--max-body); send the rows in smaller requests.")


def _media(request) -> str:
    """The request's media type: ``json`` or ``csv``, else an ``UnsupportedMedia``."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("application/json", ""):
        return "json"
    if kind in ("text/csv", "application/csv"):
        return "csv"
    raise codec.UnsupportedMedia(f"the body's Content-Type is {kind[:40]!r}; send "
                                 f"application/json or text/csv (curl: -H 'Content-Type: "
                                 f"application/json').")


def create_app(registry: Registry, *, limits: Limits = Limits(), host: str = "127.0.0.1",
               port: int = DEFAULT_PORT, token: str | None = None, log=print):
    """The service's ASGI application, behind its :class:`Gate`."""
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.routing import Route

    from .serving_openapi import openapi_document

    def guarded(handler):
        async def route(request):
            try:
                return await handler(request)
            except NeuronaError as exc:
                return _error(_one_line(exc), getattr(exc, "status", 400))
            except Exception as exc:  # noqa: BLE001 - a bug: logged, never shown
                log(f"neurona serve: {request.method} {request.url.path} failed: "
                    f"{type(exc).__name__}: {_one_line(exc)[:300]}")
                return _error("the server failed to answer this request; its log says why",
                              500)
        route.__name__ = handler.__name__
        route.__doc__ = handler.__doc__
        return route

    def model_of(request) -> ServedModel:
        return registry.get(request.path_params["name"])

    async def rows_of(request, model):
        body = await read_body(request, limits.max_body)
        if _media(request) == "csv":
            return codec.csv_rows(body, model.columns)
        return codec.json_rows(codec.loads(body))

    def features(rows, model):
        return model.features(codec.typed_columns(rows, model.encoding, limits.max_rows))

    # -- the Open Inference Protocol (KServe V2) --

    async def live(request):
        return _json(b'{"live":true}')

    async def ready(request):
        return _json(b'{"ready":true}')

    async def server_metadata(request):
        return _json(codec.dumps({"name": "neurona", "version": __version__,
                                  "extensions": ["binary_tensor_data"]}))

    async def model_metadata(request):
        model = model_of(request)
        types = codec.output_datatypes(model)
        inputs = [{"name": c.name, "datatype": codec.KIND_DATATYPES[c.kind][0],
                   "shape": [-1]} for c in model.encoding.columns]
        outputs = [{"name": n, "datatype": types[n],
                    "shape": [-1, len(model.classes)] if n == "probabilities" else [-1]}
                   for n in model.outputs]
        return _json(codec.dumps({"name": model.name, "versions": ["1"],
                                  "platform": "neurona", "inputs": inputs, "outputs": outputs,
                                  "parameters": model.describe()}))

    async def model_ready(request):
        model = model_of(request)
        return _json(codec.dumps({"name": model.name, "ready": True}))

    async def infer(request):
        model = model_of(request)
        body = await read_body(request, limits.max_body)
        head = request.headers.get("inference-header-content-length")
        binary = b""
        if head is not None:
            if not head.isdigit() or int(head) > len(body):
                raise codec.RequestError("Inference-Header-Content-Length must be the length "
                                         "of the JSON at the body's start.")
            body, binary = body[:int(head)], body[int(head):]
        elif _media(request) != "json":
            raise codec.UnsupportedMedia("an inference request is JSON (application/json).")
        tensors = codec.tensor_rows(codec.loads(body), binary)
        answer = model.answer(features(tensors.rows, model))
        content, headers = codec.tensor_body(model, answer, tensors)
        if headers:
            from starlette.responses import Response

            return Response(content, media_type="application/octet-stream", headers=headers)
        return _json(content)

    async def explain(request):
        model = model_of(request)
        body = await read_body(request, limits.max_body)
        if _media(request) == "csv":
            rows = codec.csv_rows(body, model.columns)
        else:
            doc = codec.loads(body)
            tensors = isinstance(doc, dict) and isinstance(doc.get("inputs"), list) and all(
                isinstance(t, dict) and "datatype" in t for t in doc["inputs"])
            rows = codec.tensor_rows(doc).rows if tensors else codec.json_rows(doc)
        return _json(codec.explain_body(model, model.explain(features(rows, model))))

    # -- MLflow's scoring routes --

    async def invocations(request):
        names = list(registry.models)
        name = request.query_params.get("model")
        if name is None and len(names) > 1:
            raise codec.RequestError(f"this server serves several models: name one with "
                                     f"?model=NAME ({', '.join(map(repr, names))}).")
        model = registry.get(names[0] if name is None else name)
        rows = await rows_of(request, model)
        return _json(codec.invocations_body(model, model.answer(features(rows, model))))

    async def ping(request):
        return _json(b'{"status":"ok"}')

    async def version(request):
        return _json(codec.dumps({"version": __version__}))

    document = None

    async def openapi(request):
        return _json(document)

    routes = [  # the prediction routes first: a request is matched against them in order
        Route("/invocations", guarded(invocations), methods=["POST"]),
        Route("/v2/models/{name}/infer", guarded(infer), methods=["POST"]),
        Route("/v2/models/{name}/explain", guarded(explain), methods=["POST"]),
        Route("/v2/health/live", guarded(live), methods=["GET"]),
        Route("/v2/health/ready", guarded(ready), methods=["GET"]),
        Route("/v2", guarded(server_metadata), methods=["GET"]),
        Route("/v2/models/{name}", guarded(model_metadata), methods=["GET"]),
        Route("/v2/models/{name}/ready", guarded(model_ready), methods=["GET"]),
        Route("/ping", guarded(ping), methods=["GET"]),
        Route("/health", guarded(ping), methods=["GET"]),
        Route("/version", guarded(version), methods=["GET"]),
        Route("/openapi.json", guarded(openapi), methods=["GET"]),
    ]
    document = codec.dumps(openapi_document(registry, limits=limits, token=token is not None))

    async def http_error(request, exc: HTTPException):
        if exc.status_code == 404:
            message = f"no route {request.url.path[:80]!r}; GET /openapi.json lists them"
        elif exc.status_code == 405:
            message = f"{request.method} is not a method of {request.url.path[:80]}"
        else:
            message = str(exc.detail)
        return _error(message, exc.status_code)

    @asynccontextmanager
    async def lifespan(app):
        watcher = None
        if limits.reload_interval > 0:
            watcher = asyncio.create_task(registry.watch(limits.reload_interval))
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()

    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error},
                    lifespan=lifespan)
    site = web_guard.Site(host, port, "this server") if web_guard.is_loopback(host) else None
    gate = Gate(app, site, token, limits.timeout, log)
    gate.routes = routes  # what the OpenAPI document is checked against
    return gate


def check_exposure(host: str, token: str | None, insecure: bool) -> None:
    """Refuse to listen beyond this machine without a token or an explicit ``insecure``."""
    if not web_guard.is_loopback(host) and token is None and not insecure:
        raise OptionError(f"--host {host} can be reached from other machines: pass --token "
                          f"TOKEN (clients then send 'Authorization: Bearer TOKEN') or, to "
                          f"serve anyone who can reach it, --insecure.")
    if token is not None and (len(token) < 16 or not token.isprintable() or " " in token):
        raise OptionError("--token must be at least 16 characters, printable, without spaces "
                          "(e.g. python -c 'import secrets; print(secrets.token_urlsafe())').")


class _Stopped(Exception):
    """SIGTERM, once the requests in flight are answered."""


def serve(files: dict, *, host: str = "127.0.0.1", port: int | None = DEFAULT_PORT,
          token: str | None = None, insecure: bool = False, limits: Limits = Limits(),
          announce=print, log=None) -> None:
    """Serve the model files (name to path) until Ctrl-C or SIGTERM.

    Every file is read and checked first (a bad one raises, nothing is served); the
    socket is then bound and ``announce`` given one line naming the address.
    SIGTERM finishes the requests in flight (for up to ``limits.timeout`` seconds)
    and returns.
    """
    try:
        import uvicorn
    except ImportError:
        raise NeuronaError("neurona serve needs its extra: pip install 'neurona[serve]'.") \
            from None
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    check_exposure(host, token, insecure)
    registry = Registry(files, log)
    sock = web_guard.listen(host, port)
    port = sock.getsockname()[1]
    app = create_app(registry, limits=limits, host=host, port=port, token=token, log=log)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False,
                            timeout_graceful_shutdown=max(1, round(limits.timeout)),
                            h11_max_incomplete_event_size=64 * 1024, server_header=False,
                            backlog=2048)
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host
    announce(f"neurona serve: {', '.join(registry.models)} at http://{shown}:{port} "
             f"(Ctrl-C stops it)")

    def stopped(signum, frame):
        raise _Stopped

    previous = signal.signal(signal.SIGTERM, stopped)
    try:
        server.run(sockets=[sock])
    except _Stopped:
        log("neurona serve: stopped (SIGTERM) once the requests in flight were answered.")
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()
