"""neurona playground: the sessions (which train with neurona's own loop), the server's
guards (token, Host, Origin), and the page in headless Chromium (marked ``browser``)."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from neurona.errors import NeuronaError, OptionError
from neurona.face import experiment
from neurona.core.spec import TrainSpec
from neurona.face.playground_session import Session, clean
from neurona.files import model as model_file

from processes import stop  # noqa: E402

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
    assert [r["train"]["loss"] for r in session.runner.tests.rows] == list(post_run.history["loss"])
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

@contextmanager
def playground_process():
    """``neurona playground`` as a subprocess on a free port: ``(process, {url, port,
    token})``, stopped at the end if it still runs."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    process = subprocess.Popen(
        [sys.executable, "-m", "neurona.face.cli", "playground", "--no-browser", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        line = process.stdout.readline()
        found = re.search(r"(http://127\.0\.0\.1:(\d+)/\?token=(\S+))", line)
        assert found, line + process.stdout.read() if process.poll() is not None else line
        yield process, {"url": found[1], "port": int(found[2]), "token": found[3]}
    finally:
        stop(process)


@pytest.fixture(scope="module")
def server():
    """``neurona playground`` as a subprocess on a free port; its URL, host, port and token."""
    with playground_process() as (_, found):
        yield found


def _until_it_answers(port: int, seconds: float = 20.0) -> None:
    """Wait until the server answers HTTP (a 403: no token), its signal handlers in place."""
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
    """Ctrl-C (SIGINT) and SIGTERM stop it cleanly: a quiet exit, the port free."""
    with playground_process() as (process, found):
        _until_it_answers(found["port"])  # serving, as when a person presses Ctrl-C
        process.send_signal(sig)
        rest = process.communicate(timeout=20)[0]
    if sig == signal.SIGINT:  # Ctrl-C: the command's own exit status and one line
        assert process.returncode == 130 and rest == "neurona playground: interrupted\n", rest
    else:  # stopped, by uvicorn's handler or, before it is installed, by the signal itself
        assert process.returncode in (0, 143, -sig), (process.returncode, rest)
    assert "Traceback" not in rest, rest
    with pytest.raises(OSError):  # nothing listens there any more
        socket.create_connection(("127.0.0.1", found["port"]), timeout=2).close()


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
        page.select_option("#lang", "es")  # the same error, said in Spanish
        assert "learning_rate debe estar entre 1e-06 y 100" in page.text_content("#message")
        page.fill("input[name=learning_rate]", "0.05")
        page.click("#apply")
        page.wait_for_selector("#message:empty")
        page.click("#step")
        page.wait_for_selector("#step-now[data-value='1']")
        assert not errors
    finally:
        context.close()


# --- your own data, points by clicking, the run to take away -----------------------------

def _csv(rows=120, missing=False, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    lines = ["height,weight,colour,label"]
    for k in range(rows):
        label = k % 2
        lines.append(f"{rng.normal(label * 2):.4f},{rng.normal(-label):.4f},"
                     f"{'red' if rng.random() < 0.5 + 0.3 * label else 'blue'},"
                     f"{'pass' if label else 'fail'}")
    if missing:
        lines[3] = "1.5,,red,pass"
    return ("\n".join(lines) + "\n").encode()


def test_an_uploaded_csv_trains_on_every_feature_with_two_on_the_plane():
    from neurona.face.playground_upload import Upload

    upload = Upload("people.csv", _csv(missing=True))
    try:
        with pytest.raises(NeuronaError, match=r"people\.csv, line 4.*missing value") as info:
            Session({"dataset": "file", "target": "label"}, upload)
        assert str(upload.folder) not in str(info.value) and "\n" not in str(info.value)
        session = Session({"dataset": "file", "target": "label", "missing": "mean",
                           "plane_x": "weight", "plane_y": "colour=red"}, upload)
        start = session.start()
        assert start["feature_names"] == ["height", "weight", "colour=blue", "colour=red"]
        assert start["features"] == ["weight", "colour=red"] and start["plane"] == [1, 3]
        assert len(start["weights"]) == 4 and start["task"] == "classify"
        assert len(start["points"]["train"]["x"]) == 2 * start["n_train"]
        assert start["command"] == "neurona train --data people.csv --target label " \
                                   "--missing mean"
        json.dumps(clean(start), allow_nan=False)
    finally:
        upload.close()
    assert not upload.folder.exists()


@pytest.mark.parametrize("name, body, words", [
    ("notes.txt", b"a,b\n1,2\n", "reads .csv"),
    ("broken.parquet", b"not parquet at all", "not a readable Parquet file"),
    ("one.csv", b"a\n1\n2\n", "needs a target"),
])
def test_a_bad_upload_is_a_one_line_error_and_leaves_nothing(name, body, words, tmp_path,
                                                              monkeypatch):
    import tempfile

    from neurona.face.playground_upload import Upload, UploadError

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(UploadError, match=words) as info:
        Upload(name, body)
    assert "\n" not in str(info.value) and list(tmp_path.iterdir()) == []


def test_too_many_rows_are_refused(monkeypatch):
    from neurona.face import playground_upload

    monkeypatch.setattr(playground_upload, "MAX_ROWS", 50)
    with pytest.raises(playground_upload.TooLarge, match="120 rows.*at most 50"):
        playground_upload.Upload("big.csv", _csv())


def test_a_clicked_point_is_trained_on_from_the_same_start():
    session, plain = Session({"dataset": "moons"}), Session({"dataset": "moons"})
    start = session.start()
    session.advance(5)
    session.add_point(3.0, 3.0, 0)
    again = session.start()
    assert again["n_train"] == start["n_train"] + 1 and again["edited"]
    assert again["step"] == 0 and again["weights"] == start["initial"]["weights"]
    assert again["points"]["train"]["x"][-2:] == [3.0, 3.0]
    assert len(session.engine.y) == start["n_train"] + 1
    for s in (session, plain):
        s.advance(50)
    assert session.frame()["weights"] != plain.frame()["weights"]
    session.remove_point(2.9, 3.1)  # the nearest: the point just added
    session.advance(50)
    assert session.frame()["weights"] == plain.frame()["weights"]
    with pytest.raises(OptionError, match="class must be 0 or 1"):
        session.add_point(0, 0, 2)
    with pytest.raises(OptionError, match="built-in two-class"):
        Session({"dataset": "plane"}).add_point(0, 0, 1)


def test_the_loss_surface_is_the_objective_on_the_training_rows_with_the_path():
    from neurona.core.gradient import evaluate, penalty

    session = Session({"dataset": "moons", "scale": "standard", "l2": "0.1", "epochs": "20"})
    start = session.start()
    assert start["surface"]["paths"][0] == {"start": 0, "points": [start["weights"][:2]]}
    session.advance(7)
    frame = session.frame()
    surface, t = frame["surface"], session.trainer
    n, (a0, a1, b0, b1) = surface["n"], surface["bounds"]
    sent = surface["paths"][0]  # the points the page has not seen: one an update
    assert sent["start"] == 1 and len(sent["points"]) == 7
    path = session.runner.path.points
    assert path[0] == start["initial"]["weights"] and path[1:] == sent["points"]
    assert path[-1] == frame["weights"][:2]
    assert all(a0 <= p[0] <= a1 and b0 <= p[1] <= b1 for p in path)
    for r, c in ((0, 0), (n // 2, n // 3), (n - 1, n - 1)):
        w = t.params[:-1].copy()
        w[0] = a0 + (a1 - a0) * c / (n - 1)
        w[1] = b1 - (b1 - b0) * r / (n - 1)  # rows from the top
        expected = evaluate(session.X_fit, session.parts.y_train, w, t.params[-1],
                            t.activation, t.loss, t.reduction)["loss"] + penalty(w, 0, 0.1)
        assert surface["values"][r * n + c] == pytest.approx(expected, rel=1e-5)
    names = session.parts.feature_names
    assert surface["weights"] == [f"w[{names[0]}]", f"w[{names[1]}]"]


def test_while_playing_the_surface_is_sent_again_only_when_computed_again(monkeypatch):
    from neurona.face import playground_session

    session = Session({"epochs": "30"})
    assert "values" in session.frame(fresh=False)["surface"]  # the first is always sent
    session.advance(1)
    grown = session.frame(fresh=False)["surface"]  # the post's first step leaves the window
    assert "values" in grown
    session.advance(1)
    playing = session.frame(fresh=False)
    assert set(playing["surface"]) == {"n", "bounds", "weights", "paths"}  # all but values
    assert playing["surface"]["bounds"] == grown["bounds"]
    assert playing["surface"]["paths"][0]["start"] == 2  # one new point, sent once
    assert len(playing["surface"]["paths"][0]["points"]) == 1
    assert "values" in session.frame()["surface"]  # a step, a reset, a click: always fresh
    monkeypatch.setattr(playground_session, "SURFACE_SECONDS", 0.0)
    session.advance(1)
    assert "values" in session.frame(fresh=False)["surface"]  # due again
    monkeypatch.setattr(playground_session, "SURFACE_SECONDS", 1e9)
    while not session.done:
        session.advance(10)
    assert "values" in session.frame(fresh=False)["surface"]  # the last frame is exact


def test_the_surface_window_grows_to_hold_a_long_path():
    session = Session({"learning_rate": "0.5", "epochs": "60"})  # the post's blobs, a big step
    first = session.frame()["surface"]["bounds"]
    while not session.done:
        session.advance(10)
    surface = session.frame()["surface"]
    (a0, a1, b0, b1), path = surface["bounds"], session.runner.path.points
    assert all(a0 <= p[0] <= a1 and b0 <= p[1] <= b1 for p in path)
    assert a1 - a0 >= first[1] - first[0] and len(path) == 61


def test_a_clicked_point_shows_its_forward_pass_and_share_of_the_gradient():
    session = Session({"dataset": "moons", "scale": "standard"})
    session.advance(3)
    x, y = session.parts.X_train[5]
    session.inspect(float(x) + 1e-9, float(y))
    point = session.frame()["point"]
    assert point["index"] == 5 and point["raw"] == [float(x), float(y)]
    w, b = np.array(point["weights"]), point["bias"]
    assert point["z"] == pytest.approx(float(np.dot(point["x"], w) + b), abs=1e-12)
    assert point["a"] == pytest.approx(1 / (1 + np.exp(-point["z"])), abs=1e-12)
    assert point["dl_dz"] == pytest.approx(point["a"] - point["y"], abs=1e-12)  # the log loss
    assert point["gradient"] == pytest.approx([point["dl_dz"] * v for v in point["x"]]
                                              + [point["dl_dz"]])
    assert 0 < point["share"] < 1 and -1 <= point["alignment"] <= 1
    while not session.done:  # near the optimum the data gradient is tiny; shares stay bounded
        session.advance(50)
    assert 0 < session.frame()["point"]["share"] < 1
    session.inspect(None)
    assert session.frame()["point"] is None


def test_two_optimizers_race_from_the_same_start_on_the_same_rows():
    settings = {"dataset": "circles", "batch_size": "40", "epochs": "4", "learning_rate": "0.05"}
    session = Session(dict(settings, race="adam", race_learning_rate="0.02"))
    alone, adam = Session(settings), Session(dict(settings, optimizer="adam",
                                                  learning_rate="0.02"))
    start = session.start()
    assert start["race"]["weights"] == start["weights"] and start["race"]["step"] == 0
    assert "--optimizer adam" in start["race_command"]
    assert "--learning-rate 0.02" in start["race_command"]
    assert "--learning-rate 0.05" in start["command"] and "adam" not in start["command"]
    for s in (session, alone, adam):
        while not s.done:
            s.advance(13)
    frame = session.frame()
    assert frame["weights"] == alone.frame()["weights"]
    assert frame["race"]["weights"] == adam.frame()["weights"]
    assert frame["race"]["optimizer"] == "adam" and frame["race"]["status"] == "finished"
    assert len(frame["surface"]["paths"]) == 2
    assert len(frame["race"]["field"]) == len(frame["field"]["values"])


def test_lbfgs_races_with_the_full_batch_and_ends_when_it_converges():
    from neurona.core.spec import LBFGS_UNUSED

    session = Session({"dataset": "moons", "scale": "standard", "batch_size": "50",
                       "learning_rate": "0.05", "race": "lbfgs", "epochs": "40"})
    assert session.race_spec.batch_size is None and session.race_spec.optimizer == "lbfgs"
    assert all(getattr(session.race_spec, k) == getattr(TrainSpec(), k) for k in LBFGS_UNUSED)
    while not session.done:  # ends: the converged racer is done before its last epoch
        session.advance(10)
    race = session.frame()["race"]
    assert race["status"] == "converged" and race["epoch"] < 40
    alone = Session({"dataset": "moons", "scale": "standard", "optimizer": "lbfgs"})
    while not alone.done:
        alone.advance(7)
    assert alone.frame()["weights"] == race["weights"]


def test_the_optimizers_own_settings_reach_the_trainer_and_the_command():
    session = Session({"optimizer": "momentum", "momentum": "0.5", "schedule": "step",
                       "decay_rate": "0.5", "decay_steps": "10"})
    assert session.spec.momentum == 0.5 and session.spec.schedule == "step"
    command = session.start()["command"]
    assert "--momentum 0.5" in command and "--schedule step" in command
    assert "--decay-steps 10" in command
    with pytest.raises(OptionError, match="momentum"):
        Session({"optimizer": "momentum", "momentum": "1.5"})


def test_the_gaussians_are_a_regression_drawn_as_a_field():
    start = Session({"dataset": "gaussians"}).start()
    assert start["task"] == "regress" and start["settings"]["activation"] == "identity"
    assert len(start["field"]["values"]) == 60 * 60


def test_the_run_zip_is_neurona_trains_run_directory(tmp_path):
    import io
    import zipfile

    session = Session({"dataset": "xor", "epochs": "30", "scale": "standard"})
    while not session.done:
        session.advance(9)
    with zipfile.ZipFile(io.BytesIO(session.run_zip())) as archive:
        names = set(archive.namelist())
        assert {"run/model.json", "run/history.csv", "run/config.json",
                "run/report.html"} <= names
        archive.extractall(tmp_path)
    neuron = model_file.load(tmp_path / "run" / "model.json")
    X = session.parts.X_test
    assert np.array_equal(neuron.predict_proba(X), session.model().predict_proba(X))
    assert json.loads((tmp_path / "run" / "config.json").read_text())["status"] == "finished"
    last = (tmp_path / "run" / "history.csv").read_text().splitlines()[-1]
    assert last.startswith("29,")  # the 30th epoch, counted from 0


def test_the_shown_command_gives_the_pages_final_loss(tmp_path):
    session = Session({"dataset": "moons", "noise": "0.3", "optimizer": "adam",
                       "learning_rate": "0.05", "epochs": "40", "batch_size": "64"})
    while not session.done:
        session.advance(25)
    command = session.start()["command"]
    assert command.startswith("neurona train ")
    argv = command.split()[2:] + ["--out", str(tmp_path / "run"), "--no-plots", "--quiet"]
    env = dict(os.environ, PYTHONPATH=str(SRC))
    done = subprocess.run([sys.executable, "-m", "neurona.face.cli", "train", *argv],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    history = (tmp_path / "run" / "history.csv").read_text().splitlines()
    column = history[0].split(",").index("loss")
    assert float(history[-1].split(",")[column]) == session.frame()["train"]["loss"]
    code = session.python().replace('"runs/playground"', repr(str(tmp_path / "py")))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(env, MPLBACKEND="Agg"), timeout=180)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.split()[0]) == session.frame()["train"]["loss"]


def _post(server, path, body, **headers):
    conn = http.client.HTTPConnection("127.0.0.1", server["port"], timeout=30)
    headers.setdefault("Host", f"127.0.0.1:{server['port']}")
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    out = response.read()
    conn.close()
    return response.status, json.loads(out)


def test_an_upload_reaches_only_its_own_socket(server):
    from websockets.sync.client import connect

    base = f"ws://127.0.0.1:{server['port']}/ws?token={server['token']}"
    token = server["token"]
    with connect(base, open_timeout=10) as ws, connect(base, open_timeout=10) as other:
        ws.send(json.dumps({"cmd": "hello"}))
        tab = json.loads(ws.recv(10))["id"]
        status, answer = _post(server, f"/upload?token={token}&id={tab}&name=people.csv",
                               _csv())
        assert status == 200 and answer["upload"]["columns"][-1] == "label"
        status, answer = _post(server, f"/upload?token={token}&id={tab}&name=bad.csv",
                               b"a,b\n1,2\n3\n")
        assert status == 400 and "bad.csv" in answer["error"]
        status, answer = _post(server, f"/upload?token={token}&id={tab}&name=huge.csv",
                               b"x" * (20 * 2**20 + 1))
        assert status == 413 and "at most 20 MB" in answer["error"]
        assert _post(server, f"/upload?id={tab}&name=a.csv", _csv())[0] == 403  # no token
        assert _post(server, f"/upload?token={token}&id=guess&name=a.csv", _csv())[0] == 400
        ws.send(json.dumps({"cmd": "configure",
                            "settings": {"dataset": "file", "target": "label"}}))
        start = json.loads(ws.recv(30))
        assert start["type"] == "start" and start["upload"]["name"] == "people.csv"
        other.send(json.dumps({"cmd": "configure", "settings": {"dataset": "file"}}))
        assert "no file uploaded" in json.loads(other.recv(10))["message"]
        conn = http.client.HTTPConnection("127.0.0.1", server["port"], timeout=60)
        conn.request("GET", f"/run.zip?token={token}&id={tab}",
                     headers={"Host": f"127.0.0.1:{server['port']}"})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        assert response.status == 200 and body[:2] == b"PK"


@pytest.mark.browser
def test_a_good_and_a_bad_csv_uploaded_from_the_page(browser, server, tmp_path):
    context, page, errors = _open(browser, server)
    try:
        bad = tmp_path / "bad.csv"
        bad.write_bytes(_csv(missing=True))
        page.set_input_files("#upload", str(bad))
        page.wait_for_selector("#message:not(:empty)")
        page.wait_for_selector("#message:has-text('line 4')")
        assert "bad.csv" in page.text_content("#message")
        assert str(tmp_path) not in page.text_content("#message")
        page.select_option("select[name=missing]", "drop")
        page.wait_for_selector("#plane[data-points='83']")  # 119 rows kept, split per row
        assert page.input_value("select[name=target]") == "label"
        assert "--missing drop" in page.text_content("#command")
        good = tmp_path / "good.csv"
        good.write_bytes(_csv(seed=3))
        page.set_input_files("#upload", str(good))
        page.wait_for_selector("#command:has-text('good.csv')")
        page.select_option("select[name=plane_y]", "colour=red")
        page.wait_for_selector("#plane[data-features='height,colour=red']")
        page.click("#epoch")
        page.wait_for_selector("#step-now[data-value='1']")
        with page.expect_download() as info:
            page.click("#download-run")
        info.value.save_as(tmp_path / "run.zip")
        import zipfile

        with zipfile.ZipFile(tmp_path / "run.zip") as archive:
            assert "run/model.json" in archive.namelist()
        assert not errors
    finally:
        context.close()


@pytest.mark.browser
def test_clicking_the_plane_adds_a_point_and_shift_click_removes_it(browser, server):
    context, page, errors = _open(browser, server, "#dataset=moons")
    try:
        n = int(page.get_attribute("#plane", "data-points"))
        page.click("#step")
        page.wait_for_selector("#step-now[data-value='1']")
        page.check("input[name=click-mode][value='1']")
        page.click("#plane", position={"x": 40, "y": 40})
        page.wait_for_selector(f"#plane[data-points='{n + 1}']")
        assert page.get_attribute("#step-now", "data-value") == "0"  # from the same start
        page.click("#plane", position={"x": 40, "y": 40}, modifiers=["Shift"])
        page.wait_for_selector(f"#plane[data-points='{n}']")
        assert not errors
    finally:
        context.close()


# --- the page's texts, the race, the loss surface, a point step by step -------------------

def test_the_page_is_rendered_from_the_catalogue_in_each_language():
    import re

    from neurona.face.playground import page_html
    from neurona.show.i18n import CATALOGUE

    for lang in ("en", "es"):
        html = page_html(lang)
        assert f'<html lang="{lang}"' in html
        keys = set(re.findall(r'data-i18n(?:-label)?="([a-z_0-9]+)"', html))
        assert len(keys) > 60 and all(f"page.{k}" in CATALOGUE[lang] for k in keys)
        shown = html.split("</head>")[1]  # the page's text, not its embedded messages
        for key in ("play", "surface_title", "race_against", "point_title"):
            assert CATALOGUE[lang][f"page.{key}"] in shown
    body = {lang: page_html(lang).split("</head>")[1] for lang in ("en", "es")}  # no JSON
    assert "Reproducir" in body["es"] and "Reproducir" not in body["en"]
    strings = json.loads(re.search(r'<script type="application/json" id="strings">(.*?)</script>',
                                   page_html("en"), re.S).group(1))
    assert strings["es"]["play"] == "Reproducir" and strings["en"]["play"] == "Play"


@pytest.mark.browser
def test_two_optimizers_race_on_the_page_as_in_python(browser, server):
    settings = {"dataset": "moons", "epochs": "40"}
    context, page, errors = _open(browser, server, "#dataset=moons&epochs=40&race=adam"
                                                   "&race_learning_rate=0.05")
    try:
        assert page.is_visible("input[name=race_learning_rate]")
        page.fill("#speed", "5")
        page.dispatch_event("#speed", "input")
        page.click("#play")
        page.wait_for_selector("#status[data-value=finished]", timeout=60000)
        page.wait_for_selector("#race-table tbody tr[data-optimizer=adam]")
        adam = Session(dict(settings, optimizer="adam", learning_rate="0.05"))
        while not adam.done:
            adam.advance(50)
        shown = page.get_attribute("#race-table tr[data-optimizer=adam]", "data-loss")
        assert float(shown) == adam.frame()["train"]["loss"]
        assert "--optimizer adam" in page.text_content("#race-command")
        assert not errors
    finally:
        context.close()


@pytest.mark.browser
def test_a_clicked_point_is_followed_through_the_neuron_and_the_surface_drawn(browser, server):
    context, page, errors = _open(browser, server)
    try:
        page.click("#step")
        page.wait_for_selector("#step-now[data-value='1']")
        page.click("#plane", position={"x": 150, "y": 250})  # the default mode: inspect
        page.wait_for_selector("#point[data-index]:not([data-index=''])")
        index = int(page.get_attribute("#point", "data-index"))
        session = Session({})
        session.advance(1)
        session.inspected = index
        assert float(page.get_attribute("#point", "data-share")) == session.point()["share"]
        assert len(page.query_selector_all("#point ol.steps li")) == 9
        assert page.get_attribute("#plane", "data-points") == str(session.start()["n_train"])
        colours = page.evaluate("""() => {
            const c = document.getElementById('surface'), d = c.getContext('2d')
                .getImageData(0, 0, c.width, c.height).data, seen = new Set();
            for (let i = 0; i < d.length; i += 4 * 97) seen.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2]);
            return seen.size; }""")
        assert colours > 20  # a colour field, not a blank canvas
        page.select_option("select[name=optimizer]", "adam")
        assert page.is_visible("input[name=beta_1]") and not page.is_visible("input[name=momentum]")
        page.select_option("#lang", "es")
        assert page.text_content("#point ol.steps li b") == "el punto tal como lo ve la neurona: "
        assert not errors
    finally:
        context.close()
