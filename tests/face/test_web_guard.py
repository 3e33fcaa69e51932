"""The checks both local servers make (neurona.face.web_guard): Host, Origin, token, socket."""

import socket

import pytest

from neurona.errors import OptionError
from neurona.face import web_guard


def test_the_listening_socket_says_it_is_tcp_so_asyncio_turns_nagle_off():
    # asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP; with Nagle's
    # algorithm on, an answer written as headers then body waited ~40 ms per request.
    sock = web_guard.listen("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        client = socket.create_connection(sock.getsockname(), timeout=5)
        accepted, _ = sock.accept()
        assert accepted.proto == socket.IPPROTO_TCP
        accepted.close()
        client.close()
    finally:
        sock.close()


def test_a_taken_port_is_a_one_line_option_error():
    sock = web_guard.listen("127.0.0.1", 0)
    try:
        with pytest.raises(OptionError, match="pass another --port"):
            web_guard.listen("127.0.0.1", sock.getsockname()[1])
    finally:
        sock.close()


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True),
    ("127.0.0.2", True), ("0.0.0.0", False), ("192.168.1.5", False), ("example.com", False)])
def test_loopback_addresses(host, loopback):
    assert web_guard.is_loopback(host) is loopback


def test_the_site_accepts_its_own_host_and_origin_only():
    site = web_guard.Site("127.0.0.1", 8080, "this server")
    for host in ("127.0.0.1:8080", "localhost:8080", "[::1]:8080", "LOCALHOST:8080"):
        assert site.problem({"host": host}) is None
    assert "answers only" in site.host_problem({"host": "rebound.example:8080"})
    assert site.host_problem({"host": "127.0.0.1:8081"}) is not None
    assert site.host_problem({}) is not None
    assert site.origin_problem({"origin": "http://evil.example"}) is not None
    assert site.origin_problem({"origin": "http://localhost:8080"}) is None


def test_bearer_tokens_are_compared_whole():
    assert web_guard.bearer_token({"authorization": "Bearer abc"}) == "abc"
    assert web_guard.bearer_token({"authorization": "bearer  abc "}) == "abc"
    assert web_guard.bearer_token({"authorization": "Basic abc"}) == ""
    assert web_guard.token_matches("abc", "abc")
    assert not web_guard.token_matches("", "abc") and not web_guard.token_matches("ab", "abc")
