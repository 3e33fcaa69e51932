"""Ctrl-C (SIGINT) and SIGTERM stop `neurona playground` cleanly: a quiet exit, the port free."""

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="the playground extra is part of the test extra")

SRC = Path(__file__).resolve().parents[2] / "src"


def _until_it_answers(port: int, seconds: float = 20.0) -> None:
    """Wait until the server answers HTTP (a 403: no token), its signal handlers in place."""
    import http.client
    import time

    deadline = time.monotonic() + seconds
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/", headers={"Host": f"127.0.0.1:{port}"})
            status = conn.getresponse().status
            conn.close()
            assert status == 403
            time.sleep(0.2)  # the first request is answered as the loop settles
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_server_and_frees_its_port(sig):
    env = dict(os.environ, PYTHONPATH=str(SRC))
    process = subprocess.Popen(
        [sys.executable, "-m", "neurona.face.cli", "playground", "--no-browser", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        line = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=\S+", line)
        assert found, line
        port = int(found[1])
        _until_it_answers(port)  # serving, as when a person presses Ctrl-C
        process.send_signal(sig)
        rest = process.communicate(timeout=20)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if sig == signal.SIGINT:  # Ctrl-C: the command's own exit status and one line
        assert process.returncode == 130 and rest == "neurona playground: interrupted\n", rest
    else:  # stopped, by uvicorn's handler or, before it is installed, by the signal itself
        assert process.returncode in (0, 143, -sig), (process.returncode, rest)
    assert "Traceback" not in rest, rest
    with pytest.raises(OSError):  # nothing listens there any more
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
