"""What neurona's web servers (``neurona playground``, ``neurona serve``) check first.

Both run on the user's machine, so every request is looked at before any route:

- the Host header must name the server on localhost, 127.0.0.1 or [::1] (with its
  port) while it listens on a loopback address, so that a web page cannot reach it
  through a DNS name rebound to 127.0.0.1 (:class:`Site`);
- an Origin, when a browser sends one, must be the server's own, so that another
  site's page cannot drive it (:class:`Site`);
- a secret token, compared in constant time (:func:`token_matches`), from the
  playground's URL or cookie or from ``serve``'s ``Authorization: Bearer`` header
  (:func:`bearer_token`).

A refused request is answered with one line of JSON, ``{"error": "..."}``
(:func:`refuse`), never a page or a traceback. :func:`listen` binds the socket a
server is handed, so that the address it prints answers from then on.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import socket

from ..errors import OptionError

#: The names a loopback server answers to, besides the address it is bound to.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is reachable from this machine only."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def headers_of(scope) -> dict[str, str]:
    """An ASGI scope's headers as a dict of lower-case names (the last value of each)."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


class Site:
    """The Host and Origin a loopback server accepts: its own address and port.

    Parameters
    ----------
    host : str
        The address the server is bound to; it is accepted as a Host too.
    port : int
    what : str
        The server's name in refusals ("this playground").
    """

    def __init__(self, host: str, port: int, what: str = "this server"):
        bound = f"[{host}]" if ":" in host and not host.startswith("[") else host
        self.hosts = {f"{n}:{port}" for n in (*LOOPBACK_NAMES, bound.lower())}
        self.origins = {f"http://{h}" for h in self.hosts}
        self.what = what

    def host_problem(self, headers: dict) -> str | None:
        """Why the Host header is refused, or None."""
        if headers.get("host", "").lower() not in self.hosts:
            return f"{self.what} answers only to its own address on localhost"
        return None

    def origin_problem(self, headers: dict) -> str | None:
        """Why the Origin header is refused (another site's page), or None."""
        origin = headers.get("origin")
        if origin is not None and origin.lower() not in self.origins:
            return "requests from other sites are refused"
        return None

    def problem(self, headers: dict) -> str | None:
        return self.host_problem(headers) or self.origin_problem(headers)


def token_matches(given: str, token: str) -> bool:
    """Whether ``given`` is ``token``, compared in constant time (an empty one never is)."""
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def bearer_token(headers: dict) -> str:
    """The token of an ``Authorization: Bearer TOKEN`` header, or ``""``."""
    scheme, _, value = headers.get("authorization", "").strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def error_body(message: str) -> bytes:
    """``{"error": message}`` and a line break, as bytes."""
    return (json.dumps({"error": message}, allow_nan=False, separators=(",", ":"))
            + "\n").encode()


async def refuse(send, status: int, message: str, headers=()) -> None:
    """Answer an HTTP request with ``status`` and the one-line JSON error ``message``."""
    body = error_body(message)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


def listen(host: str = "127.0.0.1", port: int | None = None,
           preferred: int | None = None) -> socket.socket:
    """A socket bound to ``host``: on ``port`` (0: any free one), or when ``port`` is None
    on ``preferred`` if it is free, else on any free port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    candidates = (port,) if port is not None else ((preferred, 0) if preferred else (0,))
    for candidate in candidates:
        # IPPROTO_TCP named, not 0: asyncio turns Nagle's algorithm off only on sockets
        # that say they are TCP, and with it on, an answer written in two parts (headers,
        # then body) waits for the client's delayed acknowledgement, some 40 ms.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), candidate))
        except OSError as exc:
            sock.close()
            if port is not None:
                raise OptionError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
                                  f"pass another --port (0: any free one).") from None
            continue
        sock.listen(128)  # connections wait in the queue until the server takes them
        return sock
    raise OptionError(f"no free port on {host}.")
