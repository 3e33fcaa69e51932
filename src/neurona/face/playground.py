"""``neurona playground``: a local web page that trains one neuron while you watch.

The page (``playground_static/``: HTML, CSS and plain JavaScript, no build step,
nothing fetched from the network) draws; Python trains, with the same loop and
engine as ``neurona train`` (:mod:`neurona.face.playground_session`). They talk
over one WebSocket per browser tab, and each socket holds its own
:class:`~neurona.face.playground_session.Session`, so two tabs never share data.

It is a server on the user's machine, so it is guarded:

- it binds 127.0.0.1 unless told otherwise;
- every request needs the random token printed in the URL (``?token=...``, then a
  same-site cookie for the page's own files and its socket), else 403;
- the Host header must name this server on localhost or 127.0.0.1 (no DNS
  rebinding), and an Origin, when sent, the same (no other site drives it);
- only GET, but for ``POST /upload`` (the page's data file: at most
  :data:`~neurona.face.playground_upload.MAX_BYTES` bytes and
  :data:`~neurona.face.playground_upload.MAX_ROWS` rows); a socket message is
  at most :data:`MAX_MESSAGE` bytes;
- a bad setting, message or file is answered with an error message the page
  shows, and the server keeps running.

An upload and the run's zip (``GET /run.zip``) name their socket by the random
id the socket was given (``{"cmd": "hello"}``): a file goes to that tab's
session only, kept in a temporary folder of its own that goes when the tab does.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from importlib import resources
from urllib.parse import parse_qs

from ..errors import NeuronaError, OptionError
from . import web_guard
from .playground_session import Session, clean
from .playground_upload import MAX_BYTES, TooLarge, Upload, too_large

#: The most bytes one WebSocket message from the page may hold.
MAX_MESSAGE = 16 * 1024
#: The port tried first when none is given.
DEFAULT_PORT = 8765
#: The page's files, served by name (nothing else is).
STATIC = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
          "style.css": "text/css; charset=utf-8"}
#: Play speeds: (updates per frame, seconds between frames); the last is as fast as it goes.
SPEEDS = ((1, 0.5), (1, 0.2), (1, 0.06), (2, 0.02), (10, 0.0))


def listen(host: str = "127.0.0.1", port: int | None = None):
    """A socket bound to ``host``: on ``port``, or (None) on 8765 when free, else any free port."""
    return web_guard.listen(host, port, preferred=DEFAULT_PORT)


def said(message: str) -> dict:
    """An error for the page: ``{"error": English, "messages": {lang: the same in lang}}``
    (the page shows the one of its language; see :meth:`neurona.show.i18n.Messages.error`)."""
    from ..show.i18n import LANGS, messages

    return {"error": message, "messages": {lang: messages(lang).error(message)
                                           for lang in LANGS}}


def dumps(obj) -> str:
    return json.dumps(clean(obj), allow_nan=False, separators=(",", ":"))


def _static(name: str) -> bytes:
    return resources.files("neurona.face").joinpath("playground_static", name).read_bytes()


def _applies(factories: dict, skip: int = 1) -> dict[str, list[str]]:
    """For each parameter of the ``factories`` (past the first ``skip``), the names that take it."""
    import inspect

    out: dict[str, list[str]] = {}
    for name, factory in factories.items():
        for parameter in list(inspect.signature(factory).parameters)[skip:]:
            out.setdefault(parameter, []).append(name)
    return out


def page_html(lang: str = "en") -> str:
    """The playground's page in ``lang``, from its template (``index.html.j2``, autoescaped).

    Its texts are the ``page.*`` messages of :mod:`neurona.show.i18n` (gettext
    catalogues); every language's are embedded too, so the page switches in place.
    """
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from .. import data
    from ..core.activations import ACTIVATIONS
    from ..core.losses import LOSSES
    from ..core.optimizers import OPTIMIZERS, SCHEDULES
    from ..data.encoding import MISSING
    from ..show.i18n import CATALOGUE, LANGS, check_lang
    from .playground_session import OPTIMIZER_KEYS, SETTINGS

    check_lang(lang)
    strings = {code: {key[5:]: text for key, text in CATALOGUE[code].items()
                      if key.startswith("page.")} for code in LANGS}
    env = Environment(loader=PackageLoader("neurona.face", "playground_static"),
                      autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
    optimizer_settings = [k for k in OPTIMIZER_KEYS if k in _applies(OPTIMIZERS)]
    return env.get_template("index.html.j2").render(
        lang=lang, t=strings[lang].__getitem__, strings=strings,
        languages=[(code, strings[code]["lang_name"]) for code in LANGS],
        classifiers=[n for n in data.DATASETS if n not in data.REGRESSION_DATASETS],
        regressions=list(data.REGRESSION_DATASETS), missing=list(MISSING),
        activations=list(ACTIVATIONS), losses=list(LOSSES),
        scales=list(SETTINGS["scale"][1]), optimizers=list(SETTINGS["optimizer"][1]),
        schedules=list(SCHEDULES), optimizer_settings=optimizer_settings,
        applies={"optimizer": _applies(OPTIMIZERS), "schedule": _applies(SCHEDULES)})


class Guard:
    """ASGI middleware: the token, the Host and the Origin of every request and socket.

    Parameters
    ----------
    app : ASGI application
    token : str
    port : int
    host : str
        The address the server is bound to; it is accepted as a Host too.
    """

    def __init__(self, app, token: str, port: int, host: str = "127.0.0.1"):
        self.app, self.token, self.port = app, token, port
        self.site = web_guard.Site(host, port, "this playground")
        self.cookie = f"neurona-playground-{port}"

    def problem(self, scope) -> str | None:
        """Why this request is refused, or None."""
        headers = web_guard.headers_of(scope)
        why = self.site.problem(headers)
        if why is not None:
            return why
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = (query.get("token") or [""])[0] or self._cookie(headers.get("cookie", ""))
        if not web_guard.token_matches(given, self.token):
            return "the token is missing or wrong: open the URL that neurona playground printed"
        return None

    def _cookie(self, header: str) -> str:
        for part in header.split(";"):
            name, _, value = part.strip().partition("=")
            if name == self.cookie:
                return value
        return ""

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        why = self.problem(scope)
        if why is None and scope["type"] == "http" and scope["method"] not in ("GET", "HEAD") \
                and not (scope["method"] == "POST" and scope["path"] == "/upload"):
            return await web_guard.refuse(send, 405, "only GET is served (and POST /upload)")
        if why is None:
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await web_guard.refuse(send, 403, why)


class Connection:
    """One browser tab: its session, and the play loop that advances it."""

    def __init__(self, ws, lang: str = "en"):
        self.ws, self.lang = ws, lang
        self.id = secrets.token_urlsafe(18)
        self.session: Session | None = None
        self.upload: Upload | None = None
        self.playing = False
        self.speed = 3
        self.player: asyncio.Task | None = None
        self.lock = asyncio.Lock()

    async def send(self, message: dict) -> None:
        await self.ws.send_text(dumps(message))

    async def error(self, message: str) -> None:
        found = said(message)
        await self.send({"type": "error", "message": message, "messages": found["messages"]})

    async def advance(self, updates: int, playing: bool = False) -> None:
        async with self.lock:
            session = self.session
            if session is None:
                return
            await asyncio.to_thread(session.advance, updates)
            frame = await asyncio.to_thread(session.frame, not playing)
            if session is self.session:
                await self.send(frame)

    async def play(self) -> None:
        try:
            while self.playing and self.session is not None and not self.session.done:
                updates, pause = SPEEDS[self.speed - 1]
                await self.advance(updates, playing=True)
                await asyncio.sleep(pause)
        finally:
            self.playing = False
            if self.session is not None:  # paused: the surface exact for where it stopped
                async with self.lock:
                    await self.send(await asyncio.to_thread(self.session.frame))
            await self.send({"type": "stopped"})

    async def stop_playing(self) -> None:
        self.playing = False
        if self.player is not None:
            await self.player
            self.player = None

    async def handle(self, message: dict) -> None:
        command = message.get("cmd")
        if command == "configure":
            await self.stop_playing()
            async with self.lock:
                self.session = None
                self.session = await asyncio.to_thread(Session, message.get("settings") or {},
                                                       self.upload)
                await self.send(await asyncio.to_thread(self.session.start))
            return
        if command == "hello":
            await self.send({"type": "hello", "id": self.id})
            return
        if command == "speed":
            speed = message.get("value")
            if not isinstance(speed, int) or isinstance(speed, bool) or \
                    not 1 <= speed <= len(SPEEDS):
                raise OptionError(f"speed must be a whole number from 1 to {len(SPEEDS)}.")
            self.speed = speed
            return
        if self.session is None:
            raise OptionError("no data yet: choose the settings first.")
        if command == "play":
            if not self.playing:
                self.playing = True
                self.player = asyncio.create_task(self.play())
        elif command == "pause":
            await self.stop_playing()
        elif command == "step":
            await self.stop_playing()
            await self.advance(1)
        elif command == "epoch":
            await self.stop_playing()
            await self.advance(self.session.updates_left_in_epoch())
        elif command == "reset":
            await self.stop_playing()
            async with self.lock:
                await asyncio.to_thread(self.session.reset)
                await self.send(await asyncio.to_thread(self.session.frame))
        elif command in ("point", "remove"):
            await self.stop_playing()
            async with self.lock:
                x, y = message.get("x"), message.get("y")
                if command == "point":
                    await asyncio.to_thread(self.session.add_point, x, y, message.get("label"))
                else:
                    await asyncio.to_thread(self.session.remove_point, x, y)
                await self.send(await asyncio.to_thread(self.session.start))
        elif command == "inspect":
            async with self.lock:
                x, y = message.get("x"), message.get("y")
                await asyncio.to_thread(self.session.inspect, x, y)
                await self.send(await asyncio.to_thread(self.session.frame))
        elif command == "model":
            document = await asyncio.to_thread(self.session.model_document)
            await self.send({"type": "model", "document": document})
        else:
            raise OptionError(f"unknown command {str(command)[:30]!r}.")

    def take_upload(self, upload: Upload) -> None:
        """The tab's file from now on (the one before it removed)."""
        old, self.upload = self.upload, upload
        if old is not None:
            old.close()

    async def serve(self, connections: dict | None = None) -> None:
        from starlette.websockets import WebSocketDisconnect

        if connections is not None:
            connections[self.id] = self
        await self.ws.accept()
        try:
            while True:
                text = await self.ws.receive_text()
                try:
                    if len(text) > MAX_MESSAGE:
                        raise OptionError(f"a message is at most {MAX_MESSAGE} bytes.")
                    try:
                        message = json.loads(text)
                    except ValueError:
                        raise OptionError("a message must be JSON.") from None
                    if not isinstance(message, dict):
                        raise OptionError("a message must be a JSON object.")
                    await self.handle(message)
                except NeuronaError as exc:
                    await self.error(str(exc))
        except WebSocketDisconnect:
            pass
        finally:
            self.playing = False
            if self.player is not None:
                self.player.cancel()
            if connections is not None:
                connections.pop(self.id, None)
            if self.upload is not None:
                self.upload.close()


def create_app(token: str, port: int, host: str = "127.0.0.1", lang: str = "en"):
    """The playground's ASGI application, guarded by :class:`Guard`."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route, WebSocketRoute

    cookie = f"neurona-playground-{port}"

    async def page(request):
        name = request.path_params.get("name", "index.html")
        if name not in STATIC:
            return Response(dumps({"error": f"no file {name[:40]!r}"}), status_code=404,
                            media_type="application/json")
        body = page_html(lang).encode() if name == "index.html" else _static(name)
        response = Response(body, media_type=STATIC[name],
                            headers={"cache-control": "no-store",
                                     "x-content-type-options": "nosniff",
                                     "content-security-policy":
                                         "default-src 'self'; connect-src 'self' ws: ; "
                                         "img-src 'self' blob: data:; frame-ancestors 'none'"})
        if "token" in request.query_params:
            response.set_cookie(cookie, token, httponly=True, samesite="strict")
        return response

    connections: dict[str, Connection] = {}

    def connection(request) -> Connection:
        found = connections.get(request.query_params.get("id", ""))
        if found is None:
            raise OptionError("no such page: reload the playground's page.")
        return found

    def failed(exc: NeuronaError, status: int = 400) -> Response:
        return Response(dumps(said(str(exc))) + "\n", status_code=status,
                        media_type="application/json")

    async def upload(request):
        try:
            owner = connection(request)
            size = request.headers.get("content-length", "")
            if size.isdigit() and int(size) > MAX_BYTES:
                raise too_large(int(size))
            chunks, total = [], 0
            async for chunk in request.stream():
                total += len(chunk)
                if total > MAX_BYTES:
                    raise too_large(total)
                chunks.append(chunk)
            found = await asyncio.to_thread(Upload, request.query_params.get("name", ""),
                                            b"".join(chunks))
        except NeuronaError as exc:
            return failed(exc, 413 if isinstance(exc, TooLarge) else 400)
        owner.take_upload(found)
        return Response(dumps({"upload": found.describe()}), media_type="application/json")

    async def run_zip(request):
        try:
            owner = connection(request)
            if owner.session is None:
                raise OptionError("no data yet: choose the settings first.")
            async with owner.lock:
                shown = request.query_params.get("lang")
                body = await asyncio.to_thread(owner.session.run_zip,
                                               shown if shown in ("en", "es") else owner.lang)
        except NeuronaError as exc:
            return failed(exc)
        return Response(body, media_type="application/zip",
                        headers={"content-disposition": 'attachment; filename="run.zip"',
                                 "cache-control": "no-store"})

    async def ws(websocket):
        await Connection(websocket, lang).serve(connections)

    routes = [Route("/upload", upload, methods=["POST"]), Route("/run.zip", run_zip),
              Route("/", page), Route("/{name}", page), WebSocketRoute("/ws", ws)]
    return Guard(Starlette(routes=routes), token, port, host)


def serve(host: str = "127.0.0.1", port: int | None = None, lang: str = "en",
          open_browser: bool = True, token: str | None = None, announce=print) -> None:
    """Run the playground until Ctrl-C; ``announce`` is given the URL to open."""
    try:
        import uvicorn
    except ImportError:
        raise NeuronaError("the playground needs its extra: pip install 'neurona[playground]'.") \
            from None
    token = token or secrets.token_urlsafe(24)
    sock = listen(host, port)
    port = sock.getsockname()[1]
    shown = "127.0.0.1" if host in ("127.0.0.1", "0.0.0.0") else host
    url = f"http://{shown}:{port}/?token={token}"
    app = create_app(token, port, host, lang)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                            ws_max_size=MAX_MESSAGE, limit_concurrency=64,
                            h11_max_incomplete_event_size=16 * 1024, lifespan="off")
    server = uvicorn.Server(config)
    announce(url)  # the socket is bound already: the URL answers from now on
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
