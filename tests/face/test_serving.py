"""neurona serve: model files answered over HTTP, checked with real clients (tritonclient for
the Open Inference Protocol, httpx for MLflow's /invocations), requests generated from the
served OpenAPI document (schemathesis), a load test through a reload, and SIGTERM under load.

Every server runs as ``neurona serve`` in a subprocess on a free port, and is stopped at the
end of its test or module."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

import neurona
from neurona.face.cli import main

from processes import stop  # noqa: E402

SRC = Path(__file__).resolve().parents[2] / "src"
TOKEN = "a-token-long-enough-1234"


# --- the model files ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One file of each kind neurona writes: the post's run (blobs), the penguins with text
    columns and missing values (an encoding), a regression with a scaled target, and a
    three-class estimator (one neuron per class)."""
    import palmerpenguins
    from sklearn.datasets import load_iris

    folder = tmp_path_factory.mktemp("serving")
    assert main(["train", "--out", str(folder / "blobs"), "--quiet", "--no-plots"]) == 0
    penguins = palmerpenguins.load_penguins()
    penguins.to_csv(folder / "penguins.csv", index=False)
    assert main(["train", "--data", str(folder / "penguins.csv"), "--target", "sex",
                 "--missing", "mean", "--scale", "standard", "--epochs", "40", "--quiet",
                 "--no-plots", "--out", str(folder / "penguins")]) == 0
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2)) * [3, 50] + [10, 200]
    houses = pd.DataFrame({"rooms": X[:, 0], "area": X[:, 1],
                           "price": 3 * X[:, 0] - 0.2 * X[:, 1] + 1000 + rng.normal(size=300)})
    houses.to_csv(folder / "houses.csv", index=False)
    assert main(["train", "--data", str(folder / "houses.csv"), "--target", "price",
                 "--task", "regress", "--scale", "standard", "--scale-target", "standard",
                 "--learning-rate", "0.1", "--epochs", "60", "--quiet", "--no-plots",
                 "--out", str(folder / "houses")]) == 0
    iris = load_iris(as_frame=True)
    frame = iris.data.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    labels = iris.target.map(dict(enumerate(iris.target_names)))
    estimator = neurona.NeuronClassifier(random_state=0, epochs=100, tol=None).fit(frame, labels)
    estimator.save(folder / "iris.json")
    return {"folder": folder, "blobs": folder / "blobs" / "model.json",
            "penguins": folder / "penguins" / "model.json", "penguin_rows": penguins,
            "houses": folder / "houses" / "model.json", "house_rows": houses,
            "iris": folder / "iris.json", "iris_rows": frame, "iris_estimator": estimator}


# --- servers ---------------------------------------------------------------------------

@contextmanager
def serving(*argv):
    """``neurona serve ARGV --port 0`` as a subprocess: ``(process, port, log)``, where
    ``log()`` reads what it wrote to stderr so far; stopped at the end if it still runs."""
    log_file = open(_log_path(), "w+")
    process = subprocess.Popen([sys.executable, "-m", "neurona.face.cli", "serve", *map(str, argv),
                                "--port", "0"], stdout=subprocess.PIPE, stderr=log_file,
                               text=True, env=dict(os.environ, PYTHONPATH=str(SRC)))

    def log() -> str:
        log_file.flush()
        return Path(log_file.name).read_text()

    try:
        line = process.stdout.readline()
        found = re.search(r"at http://127\.0\.0\.1:(\d+) ", line)
        assert found, line + log()
        yield process, int(found[1]), log
    finally:
        stop(process, 15)
        log_file.close()
        os.unlink(log_file.name)


def _log_path() -> str:
    import tempfile

    handle, path = tempfile.mkstemp(prefix="neurona-serve-", suffix=".log")
    os.close(handle)
    return path


@pytest.fixture(scope="module")
def server(files):
    """One server of every model file; its base URL and port."""
    with serving("--model", f"blobs={files['blobs']}", "--model", f"penguins={files['penguins']}",
                 "--model", f"houses={files['houses']}", "--model", f"iris={files['iris']}",
                 "--reload-interval", "0") as (_, port, log):
        yield {"port": port, "url": f"http://127.0.0.1:{port}", "log": log}


def request(port, method, path, body=None, headers=None, timeout=10):
    """``(status, headers, body)`` of one request over a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _blobs_rows(n=5, seed=1):
    return np.random.default_rng(seed).normal(size=(n, 2)) * 4


# --- the document and the application -----------------------------------------------------

def test_the_openapi_document_lists_exactly_the_apps_routes(files, server):
    from neurona.face.serving import Registry, create_app

    app = create_app(Registry({"blobs": files["blobs"]}))
    served = {(route.path, method) for route in app.routes
              for method in route.methods - {"HEAD"}}
    status, _, body = request(server["port"], "GET", "/openapi.json")
    assert status == 200
    document = json.loads(body)
    documented = {(path, method.upper()) for path, operations in document["paths"].items()
                  for method in operations}
    assert served == documented
    assert document["paths"]["/v2/models/{name}/infer"]["post"]["parameters"][0]["schema"][
        "enum"] == ["blobs", "penguins", "houses", "iris"]


# --- real clients ---------------------------------------------------------------------

@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_tritonclient_gets_the_probabilities_of_neurona_load(files, server, binary):
    import tritonclient.http as triton

    client = triton.InferenceServerClient(f"127.0.0.1:{server['port']}")
    try:
        assert client.is_server_live() and client.is_server_ready()
        assert client.is_model_ready("blobs")
        meta = client.get_model_metadata("blobs")
        assert [i["name"] for i in meta["inputs"]] == ["x0", "x1"]
        X = _blobs_rows(7)
        # The columns in the other order, one as [n] and one as [n, 1]: matched by name.
        x1 = triton.InferInput("x1", [7], "FP64")
        x1.set_data_from_numpy(X[:, 1].copy(), binary_data=binary)
        x0 = triton.InferInput("x0", [7, 1], "FP64")
        x0.set_data_from_numpy(X[:, :1].copy(), binary_data=binary)
        outputs = [triton.InferRequestedOutput(n, binary_data=binary)
                   for n in ("probability", "label")]
        result = client.infer("blobs", [x1, x0], outputs=outputs, request_id="r-1")
    finally:
        client.close()
    neuron = neurona.load(files["blobs"])
    np.testing.assert_allclose(result.as_numpy("probability"), neuron.predict_proba(X),
                               rtol=0, atol=1e-12)
    assert result.as_numpy("label").tolist() == neuron.predict(X).tolist()
    assert result.get_response()["id"] == "r-1"


INVOCATION_FORMS = {
    "dataframe_split": lambda f: {"dataframe_split": {"columns": list(f.columns),
                                                      "data": f.values.tolist()}},
    "dataframe_records": lambda f: {"dataframe_records": f.to_dict(orient="records")},
    "instances records": lambda f: {"instances": f.to_dict(orient="records")},
    "instances columns": lambda f: {"instances": f.to_dict(orient="list")},
    "inputs columns": lambda f: {"inputs": f.to_dict(orient="list")},
    "inputs records": lambda f: {"inputs": f.to_dict(orient="records")},
}


@pytest.mark.parametrize("form", [*INVOCATION_FORMS, "csv"])
def test_httpx_gets_the_same_answer_from_every_invocations_form(files, server, form):
    X = _blobs_rows(6)
    frame = pd.DataFrame({"x1": X[:, 1], "x0": X[:, 0], "id": range(6)})  # any order, extras
    if form == "csv":
        response = httpx.post(f"{server['url']}/invocations?model=blobs",
                              content=frame.to_csv(index=False),
                              headers={"Content-Type": "text/csv"})
    else:
        response = httpx.post(f"{server['url']}/invocations?model=blobs",
                              json=INVOCATION_FORMS[form](frame))
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    neuron = neurona.load(files["blobs"])
    np.testing.assert_allclose([p["probability"] for p in predictions], neuron.predict_proba(X),
                               rtol=0, atol=1e-12)
    assert [p["label"] for p in predictions] == neuron.predict(X).tolist()


def test_a_regression_answers_numbers_in_its_targets_units(files, server):
    rows = files["house_rows"].iloc[:20]
    response = httpx.post(f"{server['url']}/invocations?model=houses",
                          json={"dataframe_records": rows.to_dict(orient="records")})
    assert response.status_code == 200, response.text
    predicted = np.array(response.json()["predictions"])
    neuron = neurona.load(files["houses"])
    assert neuron.target_scaler is not None  # trained on scaled targets, answers in units
    np.testing.assert_allclose(predicted, neuron.predict(rows[["rooms", "area"]].values),
                               rtol=0, atol=1e-9)
    assert abs(predicted - rows["price"].values).mean() < 5  # prices, not standard scores


def test_the_multiclass_estimator_file_answers_its_predict_proba(files, server):
    import tritonclient.http as triton

    rows, estimator = files["iris_rows"].iloc[::10], files["iris_estimator"]
    response = httpx.post(f"{server['url']}/invocations?model=iris",
                          json={"dataframe_split": {"columns": list(rows.columns),
                                                    "data": rows.values.tolist()}})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["classes"] == ["setosa", "versicolor", "virginica"]
    np.testing.assert_allclose([p["probabilities"] for p in answer["predictions"]],
                               estimator.predict_proba(rows), rtol=0, atol=1e-12)
    assert [p["label"] for p in answer["predictions"]] == estimator.predict(rows).tolist()
    client = triton.InferenceServerClient(f"127.0.0.1:{server['port']}")
    try:
        inputs = []
        for name in rows.columns:
            tensor = triton.InferInput(name, [len(rows)], "FP64")
            tensor.set_data_from_numpy(rows[name].to_numpy())
            inputs.append(tensor)
        result = client.infer("iris", inputs)
    finally:
        client.close()
    assert result.as_numpy("probabilities").shape == (len(rows), 3)
    np.testing.assert_allclose(result.as_numpy("probabilities"), estimator.predict_proba(rows),
                               rtol=0, atol=1e-12)
    assert [v.decode() for v in result.as_numpy("label")] == estimator.predict(rows).tolist()


def test_a_text_column_model_takes_raw_rows_in_json_and_csv_alike(files, server):
    rows = files["penguin_rows"].iloc[[0, 3, 50, 200, 300]].drop(columns="sex")
    assert rows.isna().any().any()  # row 3 has missing values, which the model fills in
    neuron = neurona.load(files["penguins"])
    assert neuron.encoding is not None
    expected = neuron.predict_proba(rows)
    records = [{k: (None if pd.isna(v) else v) for k, v in r.items()}
               for r in rows.to_dict(orient="records")]
    as_json = httpx.post(f"{server['url']}/invocations?model=penguins",
                         json={"dataframe_records": records})
    as_csv = httpx.post(f"{server['url']}/invocations?model=penguins",
                        content=rows.to_csv(index=False), headers={"Content-Type": "text/csv"})
    for response in (as_json, as_csv):
        assert response.status_code == 200, response.text
        predictions = response.json()["predictions"]
        np.testing.assert_allclose([p["probability"] for p in predictions], expected,
                                   rtol=0, atol=1e-12)
        assert [p["label"] for p in predictions] == neuron.predict(rows).tolist()
        assert {p["label"] for p in predictions} <= {"female", "male"}


# --- explanations -------------------------------------------------------------------------

def test_the_contributions_and_the_bias_add_up_to_the_logit(files, server):
    rows = files["penguin_rows"].iloc[:8].drop(columns="sex")
    records = [{k: (None if pd.isna(v) else v) for k, v in r.items()}
               for r in rows.to_dict(orient="records")]
    response = httpx.post(f"{server['url']}/v2/models/penguins/explain",
                          json={"dataframe_records": records})
    assert response.status_code == 200, response.text
    neuron = neurona.load(files["penguins"])
    explained = response.json()["explanations"]
    logits = neuron.net_input(rows)
    X = neuron.scaler.transform(neuron.encoding.features_of(rows))
    for i, row in enumerate(explained):
        assert list(row["contributions"]) == neuron.feature_names
        total = sum(row["contributions"].values()) + row["bias"]
        assert total == pytest.approx(row["logit"], abs=1e-12)
        assert row["logit"] == pytest.approx(logits[i], abs=1e-12)
        np.testing.assert_allclose(list(row["contributions"].values()),
                                   neuron.weights * X[i], rtol=0, atol=1e-12)
        assert row["probability"] == pytest.approx(neuron.predict_proba(rows)[i], abs=1e-12)
        assert row["label"] == neuron.predict(rows)[i]


def test_a_multiclass_explanation_gives_each_class_its_logit(files, server):
    rows, estimator = files["iris_rows"].iloc[:3], files["iris_estimator"]
    response = httpx.post(f"{server['url']}/v2/models/iris/explain",
                          content=rows.to_csv(index=False), headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    logits = rows.values @ estimator.coef_.T + estimator.intercept_
    for i, row in enumerate(response.json()["explanations"]):
        assert row["label"] == estimator.predict(rows)[i]
        assert [c["class"] for c in row["classes"]] == ["setosa", "versicolor", "virginica"]
        for k, part in enumerate(row["classes"]):
            assert sum(part["contributions"].values()) + part["bias"] == \
                pytest.approx(part["logit"], abs=1e-12)
            assert part["logit"] == pytest.approx(logits[i, k], abs=1e-12)
            assert part["probability"] == pytest.approx(estimator.predict_proba(rows)[i, k],
                                                        abs=1e-12)


# --- bad requests ---------------------------------------------------------------------

JSON = {"Content-Type": "application/json"}
BAD_REQUESTS = [
    ("missing column", "POST", "/invocations?model=blobs", JSON,
     {"dataframe_records": [{"x0": 1.0}]}, 400, "'x1'"),
    ("wrong type", "POST", "/invocations?model=blobs", JSON,
     {"dataframe_split": {"columns": ["x0", "x1"], "data": [[1.0, "2.5"]]}}, 400,
     "row 1, column 'x1': expected a number"),
    ("a boolean for a number", "POST", "/invocations?model=blobs", JSON,
     {"inputs": {"x0": [1.0], "x1": [True]}}, 400, "column 'x1'"),
    ("NaN in JSON", "POST", "/invocations?model=blobs", JSON,
     b'{"dataframe_records": [{"x0": NaN, "x1": 1}]}', 400, "NaN"),
    ("NaN in CSV", "POST", "/invocations?model=blobs", {"Content-Type": "text/csv"},
     b"x0,x1\n1,2\nNaN,3\n", 400, "row 2, column 'x0': missing value"),
    ("infinity in CSV", "POST", "/invocations?model=blobs", {"Content-Type": "text/csv"},
     b"x0,x1\ninf,3\n", 400, "column 'x0': infinite value"),
    ("text in CSV", "POST", "/invocations?model=blobs", {"Content-Type": "text/csv"},
     b"x0,x1\n1,2\n3,abc\n", 400, "row 2, column 'x1': expected a number"),
    ("wrong shape", "POST", "/v2/models/blobs/infer", JSON,
     {"inputs": [{"name": "x0", "datatype": "FP64", "shape": [2, 2], "data": [1, 2, 3, 4]},
                 {"name": "x1", "datatype": "FP64", "shape": [2], "data": [1, 2]}]},
     400, "input 'x0': shape must be [n] or [n, 1]"),
    ("data not the shape", "POST", "/v2/models/blobs/infer", JSON,
     {"inputs": [{"name": "x0", "datatype": "FP64", "shape": [3], "data": [1, 2]},
                 {"name": "x1", "datatype": "FP64", "shape": [3], "data": [1, 2, 3]}]},
     400, "input 'x0': shape [3] says 3 values"),
    ("rows of different lengths", "POST", "/v2/models/blobs/infer", JSON,
     {"inputs": [{"name": "x0", "datatype": "FP64", "shape": [1], "data": [1]},
                 {"name": "x1", "datatype": "FP64", "shape": [2], "data": [1, 2]}]},
     400, "'x1' holds 2 rows"),
    ("text for a number tensor", "POST", "/v2/models/blobs/infer", JSON,
     {"inputs": [{"name": "x0", "datatype": "BYTES", "shape": [1], "data": ["a"]},
                 {"name": "x1", "datatype": "FP64", "shape": [1], "data": [1]}]},
     400, "input 'x0' is BYTES"),
    ("a number for a text column", "POST", "/invocations?model=penguins", JSON,
     {"dataframe_records": [{"species": 3, "island": "Dream", "bill_length_mm": 40,
                             "bill_depth_mm": 18, "flipper_length_mm": 190,
                             "body_mass_g": 3500, "year": 2008}]}, 400,
     "row 1, column 'species': expected a string"),
    ("unknown model", "GET", "/v2/models/nope", {}, None, 404, "no model 'nope'"),
    ("several models, none named", "POST", "/invocations", JSON,
     {"inputs": {"x0": [1], "x1": [2]}}, 400, "?model=NAME"),
    ("another content type", "POST", "/invocations?model=blobs",
     {"Content-Type": "application/x-www-form-urlencoded"}, b"x0=1", 415, "application/json"),
    ("no form", "POST", "/invocations?model=blobs", JSON, {"rows": []}, 400,
     "dataframe_split"),
    ("not JSON", "POST", "/invocations?model=blobs", JSON, b"{x0: 1", 400, "not JSON"),
    ("no rows", "POST", "/invocations?model=blobs", JSON, {"dataframe_records": []}, 400,
     "no rows"),
    ("no route", "GET", "/predict", {}, None, 404, "no route"),
    ("wrong method", "GET", "/invocations", {}, None, 405, "GET is not a method"),
]


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_a_bad_request_is_a_one_line_json_error_that_names_the_problem(files, server, case):
    _, method, path, headers, body, status, words = case
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    got, response_headers, text = request(server["port"], method, path, body, headers)
    assert got == status, text
    assert response_headers["content-type"] == "application/json"
    assert text.count(b"\n") <= 1 and list(json.loads(text)) == ["error"]
    message = json.loads(text)["error"]
    assert words in message, message
    assert "Traceback" not in message and str(files["folder"]) not in message
    assert "/tmp" not in message and "site-packages" not in message


def test_every_4xx_is_json_and_no_request_is_a_server_error(server):
    """Requests generated from the served OpenAPI document: schema-valid ones and
    schema-breaking ones, a bounded number per route."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (content_type_conformance,
                                                   response_schema_conformance,
                                                   status_code_conformance)

    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    schema = schemathesis.openapi.from_dict(httpx.get(f"{server['url']}/openapi.json").json())
    refusals = []
    for found in schema.get_all_operations():
        operation = found.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=15, deadline=None, database=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case):
                response = case.call(base_url=server["url"], timeout=10)
                case.validate_response(response, checks=checks)
                if 400 <= response.status_code < 500:
                    kind = response.headers["content-type"]
                    assert (kind[0] if isinstance(kind, list) else kind) == "application/json"
                    assert list(response.json()) == ["error"], response.text
                    refusals.append(response.status_code)

            try:
                check()
            except Unsatisfiable:  # a route without parameters or body has no wrong request
                assert mode is GenerationMode.NEGATIVE
    assert refusals and "failed" not in server["log"]()


# --- limits and guards --------------------------------------------------------------------

@pytest.fixture(scope="module")
def guarded(files):
    """A server with a token, a 1 s timeout, at most 5 rows and 2,000 bytes a request."""
    with serving(files["blobs"], "--token", TOKEN, "--timeout", "1", "--max-rows", "5",
                 "--max-body", "2000") as (_, port, log):
        yield {"port": port, "log": log}


AUTH = {"Authorization": f"Bearer {TOKEN}", **JSON}


def test_every_route_but_liveness_needs_the_token(guarded):
    port = guarded["port"]
    for path in ("/v2/health/live", "/ping"):
        assert request(port, "GET", path)[0] == 200
    body = json.dumps({"inputs": {"x0": [1.0], "x1": [2.0]}}).encode()
    for method, path in (("GET", "/v2/health/ready"), ("GET", "/v2/models/blobs"),
                         ("POST", "/invocations"), ("GET", "/openapi.json"),
                         ("GET", "/health")):
        for headers in ({}, {"Authorization": "Bearer wrong-token-of-some-length"},
                        {"Authorization": f"Basic {TOKEN}"}):
            status, response_headers, text = request(port, method, path, body, headers)
            assert status == 401 and "token" in json.loads(text)["error"]
            assert response_headers["www-authenticate"].startswith("Bearer")
    assert request(port, "POST", "/invocations", body, AUTH)[0] == 200


def test_rows_and_bytes_over_the_limits_are_413(guarded):
    port = guarded["port"]
    six = json.dumps({"inputs": {"x0": [1.0] * 6, "x1": [2.0] * 6}}).encode()
    status, _, text = request(port, "POST", "/invocations", six, AUTH)
    assert status == 413 and "--max-rows" in json.loads(text)["error"]
    big = json.dumps({"inputs": {"x0": [1.0] * 3, "x1": [2.0] * 3, "pad": "x" * 2500}}).encode()
    status, _, text = request(port, "POST", "/invocations", big, AUTH)
    assert status == 413 and "--max-body" in json.loads(text)["error"]
    # Sent in chunks, with no length announced: counted as it arrives.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/invocations", body=iter([big[:1000], big[1000:]]), headers=AUTH,
                 encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 413 and "--max-body" in json.loads(response.read())["error"]
    conn.close()


def test_a_request_sent_too_slowly_is_cut_at_the_timeout(guarded):
    with socket.create_connection(("127.0.0.1", guarded["port"]), timeout=10) as sock:
        sock.sendall(f"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1:{guarded['port']}\r\n"
                     f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: 100\r\n\r\n{{\"inputs\"".encode())
        started = time.monotonic()
        answer = _read_response(sock)
    assert 0.9 < time.monotonic() - started < 5
    assert answer.startswith(b"HTTP/1.1 408") and b"--timeout" in answer


def _read_response(sock) -> bytes:
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        data = b"".join(chunks)
        head, sep, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"content-length: (\d+)", head, re.I)
        if sep and length and len(body) >= int(length[1]):
            return data


def test_on_loopback_another_host_or_origin_is_refused(server):
    port = server["port"]
    body = json.dumps({"inputs": {"x0": [1.0], "x1": [2.0]}}).encode()
    for headers in ({"Host": f"rebound.example:{port}"}, {"Host": "127.0.0.1:1"},
                    {"Origin": "http://evil.example"}):
        status, _, text = request(port, "POST", "/invocations?model=blobs", body,
                                  {**JSON, **headers})
        assert status == 403 and json.loads(text)["error"]
    status, _, _ = request(port, "POST", "/invocations?model=blobs", body,
                           {**JSON, "Host": f"localhost:{port}",
                            "Origin": f"http://localhost:{port}"})
    assert status == 200


def test_another_address_needs_a_token_or_insecure(files, capsys):
    assert main(["serve", str(files["blobs"]), "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--token" in err and "--insecure" in err


def test_a_bad_model_file_is_refused_before_serving(tmp_path, capsys):
    bad = tmp_path / "model.json"
    bad.write_text('{"format": "neurona-model", "format_version": 3}')
    assert main(["serve", str(bad), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model.json" in err and "Traceback" not in err


# --- load, reload, SIGTERM ------------------------------------------------------------------

def _client(port, body: bytes, n: int, results: list, stop_after=None):
    """Send ``body`` ``n`` times over one keep-alive connection; append ``(status, answer,
    time)`` per request, or ``("not taken", error, time)`` when the server closed the
    connection before answering (as it does with idle ones once it stops)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Host": f"127.0.0.1:{port}"}
    for _ in range(n):
        try:
            conn.request("POST", "/invocations", body, headers)
            response = conn.getresponse()
            status, text = response.status, response.read()
        except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError,
                http.client.RemoteDisconnected) as exc:
            results.append(("not taken", type(exc).__name__, time.monotonic()))
            conn.close()
            if stop_after is not None and stop_after.is_set():
                return
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        except Exception as exc:  # noqa: BLE001 - an answer cut short: the test fails on it
            results.append(("error", repr(exc), time.monotonic()))
            break
        results.append((status, text, time.monotonic()))
    conn.close()


def test_ten_thousand_requests_through_a_reload_and_a_refused_replacement(files, tmp_path):
    path = tmp_path / "model.json"
    shutil.copy(files["blobs"], path)
    old = neurona.load(path)
    new = old.copy()
    new.weights = -old.weights
    x = [[1.5, -2.0]]
    body = json.dumps({"dataframe_split": {"columns": ["x0", "x1"], "data": x}}).encode()
    p_old, p_new = (float(n.predict_proba(np.array(x))[0]) for n in (old, new))
    assert p_old != p_new
    with serving(path, "--name", "m", "--reload-interval", "0.05") as (process, port, log):
        results = []
        clients = [threading.Thread(target=_client, args=(port, body, 1250, results))
                   for _ in range(8)]
        for c in clients:
            c.start()
        while len(results) < 2000:
            time.sleep(0.01)
        neurona.save(new, path)  # written beside it, then renamed over it: atomic
        while len(results) < 6000:
            time.sleep(0.01)
        bad = tmp_path / "bad.json"  # a replacement that fails the model file's checks
        bad.write_text('{"format": "neurona-model", "format_version": 3, "weights": []}')
        os.replace(bad, path)
        for c in clients:
            c.join(120)
        status, _, text = request(port, "POST", "/invocations", body, JSON)
        assert status == 200 and json.loads(text)["predictions"][0]["probability"] == p_new
        lines = log().splitlines()
    assert len([line for line in lines if "reloaded" in line]) == 1
    refused = [line for line in lines if "refused" in line]
    assert len(refused) == 1 and "model read before still serves" in refused[0], refused
    assert "activation" in refused[0]  # the first field the checks find missing
    assert len(results) == 10_000
    assert {r[0] for r in results} == {200}
    answers = [json.loads(r[1])["predictions"][0]["probability"] for r in results]
    assert set(answers) == {p_old, p_new}
    assert answers[:1000].count(p_old) == 1000 and answers[-1000:].count(p_new) == 1000


def test_sigterm_under_load_answers_every_request_it_took(files):
    x = [[0.5, 0.25]]
    body = json.dumps({"dataframe_split": {"columns": ["x0", "x1"], "data": x}}).encode()
    with serving(files["blobs"]) as (process, port, log):
        # Three requests in flight: their headers and half their body sent before SIGTERM.
        slow = []
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", port), timeout=20)
            sock.sendall(f"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                         f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                         f"\r\n".encode() + body[:10])
            slow.append(sock)
        results, stopping = [], threading.Event()
        clients = [threading.Thread(target=_client, args=(port, body, 100_000, results,
                                                          stopping)) for _ in range(4)]
        for c in clients:
            c.start()
        while len(results) < 500:
            time.sleep(0.01)
        signalled = time.monotonic()
        stopping.set()
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        answers = []
        for sock in slow:  # the rest of their bodies, after the signal
            sock.sendall(body[10:])
            answers.append(_read_response(sock))
            sock.close()
        for c in clients:
            c.join(30)
        assert process.wait(20) == 0
        assert "stopped (SIGTERM)" in log()
    for answer in answers:
        head, _, text = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), answer
        assert json.loads(text)["predictions"][0]["label"] in (0, 1)
    answered = [r for r in results if r[0] != "not taken"]
    assert {r[0] for r in answered} == {200}  # no error, and no answer cut short
    assert all(json.loads(r[1])["predictions"] for r in answered)
    assert all(r[2] > signalled for r in results if r[0] == "not taken")
    assert len(answered) >= 500
