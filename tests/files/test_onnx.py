"""ONNX export: ONNX Runtime answers what neurona answers, for every kind of model.

Each graph is run by ONNX Runtime on float32 inputs and compared with neurona's own
``predict_proba`` and ``predict`` on the same values (as float64): the probabilities to
1e-6, the labels exactly.
"""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

import neurona
from neurona import Neuron, NeuronClassifier, NeuronRegressor
from neurona.data.encoding import ColumnRules, fit_encoding
from neurona.data.scaling import Scaler
from neurona.errors import ExportError, OutputFileError
from neurona.face.cli import main
from neurona.files import onnx_export

onnx = pytest.importorskip("onnx", reason="the onnx extra is part of the test extra")
ort = pytest.importorskip("onnxruntime", reason="the onnx extra is part of the test extra")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ACTIVATIONS = ("sigmoid", "tanh", "identity", "step")


def run(model, X=None, **text) -> dict:
    """The graph's outputs by name, run by ONNX Runtime on ``X`` (float32) and text columns."""
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    feeds = {} if X is None else {"X": np.asarray(X, dtype=np.float32)}
    feeds.update({name: np.asarray(values, dtype=object) for name, values in text.items()})
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds)))


def random_rows(seed: int, n: int, d: int) -> np.ndarray:
    """Rows at several scales, float32 (so neurona sees the values ONNX Runtime sees)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.choice([0.01, 1.0, 10.0, 1000.0], size=(n, 1))
    X[:3] = [[0.0] * d, [1e4] * d, [-1e4] * d]
    return X.astype(np.float32)


def _plain_neuron(activation, classes, seed=0, threshold=None, scaler=True):
    rng = np.random.default_rng(seed)
    d = 3
    low, high = neurona.get_activation(activation).output_range
    t = threshold if threshold is not None else (0.3 if np.isfinite(low) else -0.2)
    if activation == "tanh":
        t = -0.4
    return Neuron(rng.normal(size=d), rng.normal(), activation, t, ["a", "b", "c"],
                  scaler=Scaler("standard", rng.normal(size=d), rng.uniform(0.5, 3, d))
                  if scaler else None, classes=classes)


# --- the post's model ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def post_run(tmp_path_factory):
    """``neurona train`` with no options (the post's experiment), without figures."""
    out = tmp_path_factory.mktemp("post") / "run"
    assert main(["train", "--out", str(out), "--no-plots", "--quiet"]) == 0
    return out


def test_the_posts_model(post_run, tmp_path):
    path = tmp_path / "post.onnx"
    model = neurona.export_onnx(post_run / "model.json", path)
    onnx.checker.check_model(str(path), full_check=True)
    neuron = neurona.load(post_run / "model.json")
    X = random_rows(1, 2000, 2)
    out = run(onnx.load(str(path)), X)
    assert set(out) == {"probability", "label"}
    assert out["probability"].dtype == np.float32 and out["probability"].shape == (2000,)
    np.testing.assert_allclose(out["probability"], neuron.predict_proba(X.astype(np.float64)),
                               rtol=0, atol=1e-6)
    np.testing.assert_array_equal(out["label"], neuron.predict(X.astype(np.float64)))
    assert out["label"].dtype == np.int64
    # the model's features, recorded
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["feature_names"]) == neuron.feature_names == ["x0", "x1"]
    assert "x0, x1" in model.graph.doc_string and "x0, x1" in model.graph.input[0].doc_string
    assert meta["task"] == "classify" and meta["activation"] == "sigmoid"
    assert float(meta["threshold"]) == neuron.threshold
    assert [(o.domain, o.version) for o in model.opset_import] == [("", onnx_export.OPSET)]
    assert model.producer_name == "neurona" and model.ir_version == onnx_export.IR_VERSION


# --- each activation, labels of every type ------------------------------------------------

@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("classes", [None, ["no", "yes"], [3, 7], [False, True], [0.5, 2.5]])
def test_each_activation_and_label_type(activation, classes, tmp_path):
    neuron = _plain_neuron(activation, classes, seed=len(activation))
    neurona.save(neuron, tmp_path / "model.json",
                 loss="log_loss" if activation == "sigmoid" else "squared_error")
    loaded = neurona.load(tmp_path / "model.json")
    model = neurona.export_onnx(tmp_path / "model.json")
    assert (tmp_path / "model.onnx").is_file()
    X = random_rows(2, 3000, 3)
    out = run(model, X)
    expected = loaded.predict_proba(X.astype(np.float64))
    np.testing.assert_allclose(out["probability"], expected, rtol=1e-6, atol=1e-6)
    labels = loaded.predict(X.astype(np.float64))
    assert out["label"].tolist() == labels.tolist()
    assert len(set(labels.tolist())) == 2  # both classes are predicted somewhere
    kinds = {None: np.int64, "no": object, 3: np.int64, False: np.bool_, 0.5: np.float64}
    assert out["label"].dtype == kinds[None if classes is None else classes[0]]


def test_a_neuron_without_a_scaler_and_no_rows():
    neuron = _plain_neuron("sigmoid", None, scaler=False)
    model = neurona.export_onnx(neuron)
    out = run(model, np.zeros((0, 3)))
    assert out["probability"].shape == (0,) and out["label"].shape == (0,)
    X = random_rows(3, 500, 3)
    np.testing.assert_allclose(run(model, X)["probability"],
                               neuron.predict_proba(X.astype(np.float64)), atol=1e-6)


# ONNX Runtime's graph optimizer drops an Add of a constant that is 0 in float32 (a bias
# below 1e-45 in size), so the numbers are drawn among those float32 can hold.
HELD = st.floats(-50, 50).filter(lambda v: v == 0 or abs(v) > 1e-37)


@settings(max_examples=60, deadline=None)
@given(weights=arrays(np.float64, 3, elements=HELD), bias=HELD,
       X=arrays(np.float32, (5, 3), elements=st.floats(-1e3, 1e3, width=32)),
       activation=st.sampled_from(ACTIVATIONS))
def test_any_weights_and_rows(weights, bias, X, activation):
    threshold = 0.0 if activation in ("tanh", "identity") else 0.5
    neuron = Neuron(weights, bias, activation, threshold)
    out = run(onnx_export.onnx_model(onnx_export.neuron_predictor(neuron)), X)
    a = neuron.predict_proba(X.astype(np.float64))
    np.testing.assert_allclose(out["probability"], a, rtol=1e-6, atol=1e-6)
    clear = np.abs(a - threshold) > 1e-9  # a rounding apart from the threshold may go either way
    np.testing.assert_array_equal(out["label"][clear],
                                  neuron.predict(X.astype(np.float64))[clear])


# --- regressions ------------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["identity", "tanh", "sigmoid"])
def test_a_regression_with_target_scaling(activation, tmp_path):
    rng = np.random.default_rng(4)
    neuron = Neuron(rng.normal(size=3), 0.2, activation, feature_names=["a", "b", "c"],
                    scaler=Scaler("minmax", rng.normal(size=3), rng.uniform(1, 5, 3)),
                    task="regress", target_scaler=Scaler("standard", [1234.5], [321.0]))
    neurona.save(neuron, tmp_path / "model.json", loss="squared_error")
    model = neurona.export_onnx(tmp_path / "model.json", tmp_path / "r.onnx")
    assert [o.name for o in model.graph.output] == ["prediction"]
    X = random_rows(5, 2000, 3)
    out = run(model, X)
    np.testing.assert_allclose(out["prediction"], neuron.predict(X.astype(np.float64)),
                               rtol=1e-6, atol=1e-6)
    assert json.loads({p.key: p.value for p in model.metadata_props}["outputs"]) == \
        ["prediction"]


def test_a_trained_regression_with_its_target_scaled(tmp_path):
    out = tmp_path / "houses"
    assert main(["train", "--data", str(EXAMPLES / "houses.csv"), "--target", "price",
                 "--task", "regress", "--scale", "standard", "--scale-target", "standard",
                 "--epochs", "50", "--no-plots", "--quiet", "--out", str(out)]) == 0
    neuron = neurona.load(out / "model.json")
    assert neuron.target_scaler is not None
    model = neurona.export_onnx(out)
    frame = pd.read_csv(EXAMPLES / "houses_new.csv")
    X = frame[neuron.feature_names].to_numpy(np.float32)
    got = run(model, X)["prediction"]
    np.testing.assert_allclose(got, neuron.predict(X.astype(np.float64)), rtol=1e-6)
    X = random_rows(6, 1000, X.shape[1]) + X.mean(axis=0)
    np.testing.assert_allclose(run(model, X)["prediction"], neuron.predict(X.astype(np.float64)),
                               rtol=1e-6, atol=1e-6)


# --- the estimators' files ----------------------------------------------------------------

def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short fit does not converge
        return estimator.fit(X, y)


@pytest.mark.parametrize("labels", [["cat", "dog"], [-1, 1]])
def test_an_estimators_binary_file(labels, tmp_path):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 4))
    y = np.array(labels)[(X @ [1.0, -2.0, 0.5, 0.0] > 0.3).astype(int)]
    est = _fit(NeuronClassifier(epochs=60), X, y)
    est.save(tmp_path / "est.json")
    model = neurona.export_onnx(tmp_path / "est.json", tmp_path / "est.onnx")
    onnx.checker.check_model(str(tmp_path / "est.onnx"), full_check=True)
    Xt = random_rows(8, 3000, 4)
    out = run(model, Xt)
    assert out["probabilities"].shape == (3000, 2)
    np.testing.assert_allclose(out["probabilities"], est.predict_proba(Xt.astype(np.float64)),
                               rtol=0, atol=1e-6)
    assert out["label"].tolist() == est.predict(Xt.astype(np.float64)).tolist()
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["classes"]) == labels and meta["source"] == "NeuronClassifier"


@pytest.mark.parametrize("labels", [["adelie", "chinstrap", "gentoo", "other"], [2, 5, 9]])
def test_a_multiclass_one_vs_rest_file(labels, tmp_path):
    rng = np.random.default_rng(9)
    k = len(labels)
    X = rng.normal(size=(400, 3))
    centres = rng.normal(scale=3, size=(k, 3))
    y = np.array(labels)[np.argmin(((X[:, None, :] - centres) ** 2).sum(-1), axis=1)]
    est = _fit(NeuronClassifier(epochs=80), X, y)
    assert est.coef_.shape == (k, 3)
    est.save(tmp_path / "ovr.json")
    model = neurona.export_onnx(tmp_path / "ovr.json")
    assert (tmp_path / "ovr.onnx").is_file()
    Xt = random_rows(10, 3000, 3)
    out = run(model, Xt)
    assert out["probabilities"].shape == (3000, k)
    np.testing.assert_allclose(out["probabilities"], est.predict_proba(Xt.astype(np.float64)),
                               rtol=0, atol=1e-6)
    np.testing.assert_allclose(out["probabilities"].sum(axis=1), 1.0, atol=1e-6)
    assert out["label"].tolist() == est.predict(Xt.astype(np.float64)).tolist()
    assert len(set(out["label"].tolist())) == k


@pytest.mark.parametrize("activation", ["tanh", "identity", "step"])
@pytest.mark.parametrize("k", [2, 3])
def test_an_estimator_without_a_sigmoid_gives_its_decision(activation, k):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(200, 3))
    y = np.argmax(X[:, :k], axis=1) if k > 2 else (X[:, 0] > 0).astype(int)
    est = _fit(NeuronClassifier(activation=activation, loss="squared_error", epochs=40), X, y)
    model = est.to_onnx()
    Xt = random_rows(12, 2000, 3)
    out = run(model, Xt)
    assert set(out) == {"decision", "label"}
    np.testing.assert_allclose(out["decision"], est.decision_function(Xt.astype(np.float64)),
                               rtol=1e-6, atol=1e-6)
    assert out["label"].tolist() == est.predict(Xt.astype(np.float64)).tolist()


def test_an_estimators_regressor_and_feature_names(tmp_path):
    rng = np.random.default_rng(13)
    frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=["size", "rooms", "age"])
    est = _fit(NeuronRegressor(epochs=100), frame, frame.to_numpy() @ [3.0, -1.0, 0.5] + 7)
    path = tmp_path / "reg.onnx"
    est.to_onnx(path)
    model = onnx.load(str(path))
    assert json.loads({p.key: p.value for p in model.metadata_props}["feature_names"]) == \
        ["size", "rooms", "age"]
    Xt = random_rows(14, 1000, 3)
    np.testing.assert_allclose(run(model, Xt)["prediction"],
                               est.predict(pd.DataFrame(Xt.astype(np.float64),
                                                        columns=frame.columns)),
                               rtol=1e-6, atol=1e-6)


# --- encodings: numeric imputation, text columns ------------------------------------------

PENGUIN_NUMBERS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


@pytest.mark.parametrize("missing", ["mean", "median"])
def test_numeric_imputation_is_exported(missing, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--data", str(EXAMPLES / "penguins.csv"), "--target", "sex",
                 "--features", ",".join(PENGUIN_NUMBERS), "--missing", missing,
                 "--scale", "standard", "--no-plots", "--quiet", "--out", str(out)]) == 0
    neuron = neurona.load(out / "model.json")
    fills = [c.fill for c in neuron.encoding.columns]
    assert all(f is not None for f in fills)
    model = neurona.export_onnx(out)
    assert [i.name for i in model.graph.input] == ["X"]
    frame = pd.read_csv(EXAMPLES / "penguins.csv")[PENGUIN_NUMBERS]
    rng = np.random.default_rng(15)
    holes = frame.to_numpy(np.float32)
    holes[rng.random(holes.shape) < 0.2] = np.nan  # a fifth of the cells missing
    got = run(model, holes)
    expected = pd.DataFrame(holes.astype(np.float64), columns=PENGUIN_NUMBERS)
    assert np.isnan(holes).any(axis=1).sum() > 50
    np.testing.assert_allclose(got["probability"], neuron.predict_proba(expected), atol=1e-6)
    assert got["label"].tolist() == neuron.predict(expected).tolist()
    assert got["label"].dtype == object and set(got["label"]) == {"female", "male"}


def test_a_missing_value_without_a_fill_gives_nan():
    neuron = Neuron([1.0, -1.0], 0.0)  # neurona itself refuses the row
    out = run(neurona.export_onnx(neuron), [[np.nan, 1.0], [1.0, 0.0]])
    assert np.isnan(out["probability"][0]) and out["label"].tolist() == [0, 1]


def _text_table():
    rng = np.random.default_rng(17)
    n = 300
    colour = rng.choice(["red", "green", "blue"], n).astype(object)
    colour[rng.random(n) < 0.1] = None
    return {"size": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
            "colour": list(colour), "ok": list(rng.random(n) < 0.5),
            "shape": list(rng.choice(["round", "square"], n))}


@pytest.mark.parametrize("unknown", ["ignore", "error"])
def test_text_columns_are_one_hot_with_their_missing_values_filled(unknown):
    table = _text_table()
    encoding = fit_encoding(table, ColumnRules(missing="most_frequent", unknown=unknown))
    assert [c.kind for c in encoding.columns] == ["number", "category", "boolean", "category"]
    rng = np.random.default_rng(18)
    neuron = Neuron(rng.normal(size=encoding.n_features), 0.1, classes=["n", "y"],
                    feature_names=encoding.feature_names, encoding=encoding,
                    scaler=Scaler("standard", rng.normal(size=encoding.n_features),
                                  rng.uniform(0.5, 2, encoding.n_features)))
    model = neurona.export_onnx(neuron)
    assert [i.name for i in model.graph.input] == ["X", "colour", "shape"]
    assert [(o.domain, o.version) for o in model.opset_import] == [
        ("", onnx_export.OPSET), ("ai.onnx.ml", onnx_export.ML_OPSET)]
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["X_columns"]) == ["size", "ok"]
    assert json.loads(meta["text_inputs"]) == ["colour", "shape"]
    X = np.column_stack([table["size"], np.array(table["ok"], dtype=float)])
    colour = ["" if c is None else c for c in table["colour"]]
    out = run(model, X, colour=colour, shape=table["shape"])
    np.testing.assert_allclose(out["probability"], neuron.predict_proba(table), atol=1e-6)
    assert out["label"].tolist() == neuron.predict(table).tolist()
    # a colour training never saw: all zeros (ignore), or ONNX Runtime refuses (error)
    unseen = dict(size=[0.5], colour=["purple"], ok=[True], shape=["round"])
    if unknown == "ignore":
        got = run(model, [[0.5, 1.0]], colour=["purple"], shape=["round"])
        np.testing.assert_allclose(got["probability"], neuron.predict_proba(unseen), atol=1e-6)
    else:
        with pytest.raises(Exception, match="Unknown Category"):
            run(model, [[0.5, 1.0]], colour=["purple"], shape=["round"])


def test_the_penguins_model_with_text_columns(tmp_path):
    out = tmp_path / "penguins"
    assert main(["train", "--data", str(EXAMPLES / "penguins.csv"), "--target", "sex",
                 "--scale", "standard", "--missing", "mean", "--no-plots", "--quiet",
                 "--out", str(out)]) == 0
    neuron = neurona.load(out / "model.json")
    model = neurona.export_onnx(out)
    columns = json.loads({p.key: p.value for p in model.metadata_props}["X_columns"])
    for name in ("penguins.csv", "penguins_new.csv"):
        frame = pd.read_csv(EXAMPLES / name)
        got = run(model, frame[columns].to_numpy(np.float32),
                  species=frame["species"].fillna("").tolist(),
                  island=frame["island"].fillna("").tolist())
        rows = frame.assign(**{c: frame[c].astype(np.float32).astype(np.float64)
                               for c in columns})
        np.testing.assert_allclose(got["probability"], neuron.predict_proba(rows), atol=1e-6)
        assert got["label"].tolist() == neuron.predict(rows).tolist()


# --- refused --------------------------------------------------------------------------------

def test_a_hashed_column_is_refused_in_one_line_before_anything_is_written(tmp_path):
    encoding = fit_encoding({"city": ["a", "b", "c"], "n": [1.0, 2.0, 3.0]},
                            ColumnRules(hashed={"city": 8}))
    neuron = Neuron(np.ones(encoding.n_features), encoding=encoding,
                    feature_names=encoding.feature_names)
    neurona.save(neuron, tmp_path / "model.json")
    with pytest.raises(ExportError) as err:
        neurona.export_onnx(tmp_path / "model.json")
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(tmp_path / "model.json"))
    assert "column 'city' is hashed into 8 features" in message and "--features" in message
    assert not (tmp_path / "model.onnx").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]


def test_a_text_column_named_like_an_output_is_refused():
    encoding = fit_encoding({"label": ["a", "b", "a"], "n": [1.0, 2.0, 3.0]})
    neuron = Neuron(np.ones(encoding.n_features), encoding=encoding,
                    feature_names=encoding.feature_names)
    with pytest.raises(ExportError, match="the text column 'label' would be a graph input"):
        neurona.export_onnx(neuron)


def test_anything_else_is_refused():
    with pytest.raises(neurona.NeuronaError, match="export_onnx takes a neurona.Neuron"):
        neurona.export_onnx(object(), "x.onnx")


# --- writing ---------------------------------------------------------------------------------

def test_an_existing_file_is_kept_unless_forced(tmp_path):
    neuron = _plain_neuron("sigmoid", None)
    path = tmp_path / "m.onnx"
    path.write_text("keep me")
    with pytest.raises(OutputFileError, match="exists; pass --force"):
        neurona.export_onnx(neuron, path)
    assert path.read_text() == "keep me"
    neurona.export_onnx(neuron, path, force=True)
    assert onnx.load(str(path)).producer_name == "neurona"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    neuron = _plain_neuron("sigmoid", None)
    path = tmp_path / "m.onnx"

    def fail(self, data):
        Path.write_text(self, "half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", fail)
    with pytest.raises(OSError):
        neurona.export_onnx(neuron, path)
    assert list(tmp_path.iterdir()) == []


def test_without_onnx_a_one_line_error_before_the_model_is_read(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ExportError) as err:
        neurona.export_onnx(tmp_path / "missing.json")  # not read: onnx is checked first
    assert str(err.value) == ("writing an ONNX file needs the onnx package: "
                              "pip install 'neurona[onnx]'.")


def test_neurona_imports_without_onnx():
    code = ("import sys; sys.modules['onnx'] = None; sys.modules['onnxruntime'] = None; "
            "import neurona, neurona.face.cli, neurona.files.onnx_export, neurona.face.export; "
            "print(neurona.export_onnx.__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "export_onnx"
