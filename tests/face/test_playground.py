"""neurona playground: the sessions (which train with neurona's own loop), the server's
guards (token, Host, Origin), and the page in headless Chromium (marked ``browser``)."""

import http.client
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurona.errors import OptionError
from neurona.face import experiment
from neurona.face.playground_session import Session, clean
from neurona.files import model as model_file

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def post_run():
    return experiment.run(experiment.make_config())


# --- the session -------------------------------------------------------------------------

def test_playing_to_the_end_gives_neurona_trains_loss_and_weights(post_run):
    session = Session({})
    while not session.done:
        session.advance(7)
    frame = session.frame()
    assert frame["weights"] == [float(w) for w in post_run.neuron.weights]
    assert frame["bias"] == post_run.neuron.bias
    assert frame["train"]["loss"] == post_run.history.rows[-1]["loss"]
    assert [r["train"]["loss"] for r in session.tests.rows] == list(post_run.history["loss"])
    assert frame["status"] == "finished"


def test_one_update_then_reset_gives_back_the_initial_weights():
    session = Session({"dataset": "moons", "batch_size": "32", "optimizer": "adam"})
    start = session.start()
    session.advance(1)
    moved = session.frame()
    assert moved["step"] == 1 and moved["batch"] == 1
    assert moved["weights"] != start["weights"]
    session.reset()
    back = session.frame()
    assert back["weights"] == start["initial"]["weights"] == start["weights"]
    assert back["bias"] == start["initial"]["bias"] and back["step"] == 0


def test_stepping_in_mini_batches_continues_the_same_run():
    a, b = (Session({"dataset": "circles", "batch_size": "50", "epochs": "3"}) for _ in "ab")
    while not a.done:
        a.advance(1)
    b.advance(b.updates_left_in_epoch())
    assert b.frame()["epoch"] == 1 and b.frame()["batch"] == 0
    while not b.done:
        b.advance(100)
    assert a.frame()["weights"] == b.frame()["weights"]


def test_divergence_keeps_the_last_finite_weights_and_says_so():
    session = Session({"learning_rate": "100", "loss": "squared_error",
                       "activation": "identity", "epochs": "500"})
    while not session.done:
        session.advance(50)
    frame = session.frame()
    assert frame["status"] == "diverged" and "NaN or infinite" in frame["error"]
    assert all(np.isfinite(frame["weights"])) and np.isfinite(frame["bias"])
    json.dumps(clean(frame), allow_nan=False)


def test_the_plane_is_a_regression_with_the_identity_unit():
    start = Session({"dataset": "plane"}).start()
    assert start["task"] == "regress" and start["settings"]["activation"] == "identity"
    assert "r2" in start["test"]
    json.dumps(clean(start), allow_nan=False)


@pytest.mark.parametrize("settings, words", [
    ({"colour": "red"}, "unknown setting"),
    ({"learning_rate": "fast"}, "learning_rate must be a number"),
    ({"epochs": "0"}, "epochs must be between"),
    ({"epochs": "2.5"}, "whole number"),
    ({"activation": "relu"}, "activation must be one of"),
    ({"dataset": "plane", "activation": "sigmoid"}, "targets are numbers"),
])
def test_a_bad_setting_is_a_one_line_error(settings, words):
    with pytest.raises(OptionError, match=words) as info:
        Session(settings)
    assert "\n" not in str(info.value)


def test_the_model_document_is_model_json_and_predicts_as_the_neuron(tmp_path):
    session = Session({"scale": "standard"})
    session.advance(20)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(session.model_document(), allow_nan=False))
    loaded = model_file.load(path)
    X = session.parts.X_test
    assert np.array_equal(loaded.predict_proba(X), session.model().predict_proba(X))


# --- the server --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server():
    """``neurona playground`` as a subprocess on a free port; its URL, host, port and token."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    process = subprocess.Popen(
        [sys.executable, "-m", "neurona.face.cli", "playground", "--no-browser", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        line = process.stdout.readline()
        found = re.search(r"(http://127\.0\.0\.1:(\d+)/\?token=(\S+))", line)
        assert found, line + process.stdout.read() if process.poll() is not None else line
        yield {"url": found[1], "port": int(found[2]), "token": found[3]}
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def _get(server, path, **headers):
    conn = http.client.HTTPConnection("127.0.0.1", server["port"], timeout=10)
    headers.setdefault("Host", f"127.0.0.1:{server['port']}")
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


def test_the_page_needs_the_token(server):
    status, body = _get(server, "/")
    assert status == 403 and b"token" in body and body.count(b"\n") == 1
    assert json.loads(body)["error"]
    assert _get(server, "/app.js?token=wrong")[0] == 403
    status, body = _get(server, f"/?token={server['token']}")
    assert status == 200 and b"neurona" in body


def test_a_wrong_host_or_origin_is_refused(server):
    ok = f"/?token={server['token']}"
    assert _get(server, ok, Host=f"evil.example:{server['port']}")[0] == 403
    assert _get(server, ok, Host="127.0.0.1:1")[0] == 403
    assert _get(server, ok, Origin="http://evil.example")[0] == 403
    assert _get(server, ok, Origin=f"http://localhost:{server['port']}")[0] == 200


def test_the_socket_needs_the_token_and_its_own_origin(server):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    base = f"ws://127.0.0.1:{server['port']}/ws"
    for url, origin in ((base, None), (f"{base}?token={server['token']}", "http://evil.example")):
        with pytest.raises(InvalidStatus) as info:
            connect(url, origin=origin, open_timeout=10).close()
        assert info.value.response.status_code == 403
    with connect(f"{base}?token={server['token']}",
                 origin=f"http://127.0.0.1:{server['port']}", open_timeout=10) as ws:
        ws.send("not json")
        assert json.loads(ws.recv(10))["type"] == "error"
        ws.send(json.dumps({"cmd": "configure", "settings": {"epochs": "-3"}}))
        assert "epochs" in json.loads(ws.recv(10))["message"]
        ws.send(json.dumps({"cmd": "configure", "settings": {}}))  # it still serves
        assert json.loads(ws.recv(10))["type"] == "start"


# --- the page in Chromium ----------------------------------------------------------------

CHROMIUM = os.environ.get("NEURONA_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run tools/ensure-chromium (make test does) or "
                    f"set NEURONA_CHROMIUM to a Chromium binary.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM,
                                          args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            yield chromium
        finally:
            chromium.close()


def _open(browser, server, hash_=""):
    context = browser.new_context(viewport={"width": 1320, "height": 880}, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server["url"] + hash_)
    page.wait_for_selector("#formula:not(:empty)")
    return context, page, errors


def _shown(page):
    return (json.loads(page.get_attribute("#weights", "data-values")),
            json.loads(page.get_attribute("#weights", "data-bias")),
            page.get_attribute("#loss", "data-value"))


@pytest.mark.browser
def test_play_to_the_end_shows_neurona_trains_loss_and_weights(browser, server, post_run,
                                                               tmp_path):
    context, page, errors = _open(browser, server)
    try:
        page.fill("#speed", "5")
        page.dispatch_event("#speed", "input")
        page.click("#play")
        page.wait_for_selector("#status[data-value=finished]", timeout=60000)
        weights, bias, loss = _shown(page)
        assert weights == [float(w) for w in post_run.neuron.weights]
        assert bias == post_run.neuron.bias
        assert float(loss) == post_run.history.rows[-1]["loss"]
        assert f"{post_run.history.rows[-1]['loss']:.6g}" in page.text_content("#loss")
        with page.expect_download() as info:
            page.click("#download")
        path = tmp_path / "model.json"
        info.value.save_as(path)
        neuron = model_file.load(path)
        X = post_run.parts.X_test
        assert np.array_equal(neuron.predict(X), post_run.neuron.predict(X))
        assert np.array_equal(neuron.weights, weights) and neuron.bias == bias
        assert not errors
    finally:
        context.close()


@pytest.mark.browser
def test_one_update_and_reset_and_the_link_keeps_the_settings(browser, server):
    context, page, errors = _open(browser, server, "#dataset=moons&batch_size=25")
    try:
        assert page.input_value("select[name=dataset]") == "moons"
        start = _shown(page)
        page.click("#step")
        page.wait_for_selector("#step-now[data-value='1']")
        assert _shown(page)[0] != start[0]
        page.keyboard.press("r")  # the reset key
        page.wait_for_selector("#step-now[data-value='0']")
        assert _shown(page)[:2] == start[:2]
        page.select_option("#lang", "es")
        assert page.text_content("#step") == "Una actualización"
        assert "lang=es" in page.url
        assert not errors
    finally:
        context.close()


@pytest.mark.browser
def test_two_tabs_train_independently(browser, server):
    (ca, a, _), (cb, b, _) = _open(browser, server, "#dataset=xor"), _open(browser, server)
    try:
        before = _shown(b)
        a.click("#epoch")
        a.wait_for_selector("#step-now[data-value='1']")
        a.click("#epoch")
        a.wait_for_selector("#step-now[data-value='2']")
        assert b.get_attribute("#step-now", "data-value") == "0"
        assert _shown(b) == before and _shown(a)[0] != before[0]
        assert b.input_value("select[name=dataset]") == "blobs"
    finally:
        ca.close()
        cb.close()


@pytest.mark.browser
def test_a_bad_setting_is_shown_and_the_page_keeps_working(browser, server):
    context, page, errors = _open(browser, server)
    try:
        page.fill("input[name=learning_rate]", "1000")
        page.click("#apply")
        page.wait_for_selector("#message:not(:empty)")
        assert "learning_rate" in page.text_content("#message")
        page.fill("input[name=learning_rate]", "0.05")
        page.click("#apply")
        page.wait_for_selector("#message:empty")
        page.click("#step")
        page.wait_for_selector("#step-now[data-value='1']")
        assert not errors
    finally:
        context.close()
