"""``neurona export MODEL --format onnx``: the file it writes, where, and what it refuses."""

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import neurona
from neurona.face.cli import main

onnx = pytest.importorskip("onnx", reason="the onnx extra is part of the test extra")
ort = pytest.importorskip("onnxruntime", reason="the onnx extra is part of the test extra")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def post_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "run"
    assert main(["train", "--out", str(out), "--no-plots", "--quiet"]) == 0
    return out


@pytest.fixture()
def run_copy(post_run, tmp_path):
    """The post's model.json alone, in a folder of the test's own."""
    (tmp_path / "model.json").write_bytes((post_run / "model.json").read_bytes())
    return tmp_path / "model.json"


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("neurona export: error: ")
    return captured.err


def test_export_writes_the_model_beside_it_and_says_so(run_copy, capsys):
    assert main(["export", str(run_copy), "--format", "onnx"]) == 0
    path = run_copy.with_suffix(".onnx")
    assert capsys.readouterr().out == (f"{path} written (ONNX, opset 17): inputs X; outputs "
                                       f"probability, label\n")
    onnx.checker.check_model(str(path), full_check=True)
    neuron = neurona.load(run_copy)
    X = np.random.default_rng(0).normal(scale=5, size=(1000, 2)).astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    probability, label = session.run(None, {"X": X})
    np.testing.assert_allclose(probability, neuron.predict_proba(X.astype(np.float64)),
                               atol=1e-6)
    assert label.tolist() == neuron.predict(X.astype(np.float64)).tolist()


def test_a_run_directory_and_out(post_run, tmp_path, capsys):
    out = tmp_path / "post.onnx"
    assert main(["export", str(post_run), "-o", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    assert onnx.load(str(out)).producer_name == "neurona"
    assert not (post_run / "model.onnx").exists()


def test_an_existing_output_is_refused_unless_forced(run_copy, capsys):
    out = run_copy.with_suffix(".onnx")
    out.write_text("someone's file")
    assert main(["export", str(run_copy)]) == 2
    err = _one_error_line(capsys)
    assert f"{out} exists; pass --force to replace it" in err
    assert out.read_text() == "someone's file"
    assert main(["export", str(run_copy), "--force", "-q"]) == 0
    assert onnx.load(str(out)).graph.name == "neurona"
    assert sorted(p.name for p in run_copy.parent.iterdir()) == ["model.json", "model.onnx"]


@pytest.mark.parametrize("argv, expected", [
    (["export", "nowhere.json"], "nowhere.json: no such model file."),
    (["export", "MODEL", "--format", "tflite"], "invalid choice: 'tflite' (choose from onnx)"),
    (["export", "MODEL", "-o", "no/such/dir/m.onnx"], "the directory no/such/dir does not exist"),
    (["export", "BROKEN"], "BROKEN"),
])
def test_bad_input_is_one_line(argv, expected, run_copy, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.json").write_text('{"format": "neurona-model"')
    argv = [{"MODEL": str(run_copy), "BROKEN": "broken.json"}.get(a, a) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("neurona export: error: ")
    assert expected.replace("BROKEN", "broken.json") in err.replace("'onnx'", "onnx")
    assert not list(tmp_path.glob("*.onnx"))


def test_a_hashed_model_is_refused_and_nothing_is_written(tmp_path, capsys):
    out = tmp_path / "hashed"
    assert main(["train", "--data", str(EXAMPLES / "penguins.csv"), "--target", "sex",
                 "--missing", "mean", "--hash", "island=2", "--scale", "standard",
                 "--no-plots", "--quiet", "--out", str(out)]) == 0
    assert main(["export", str(out)]) == 2
    err = _one_error_line(capsys)
    assert f"{out / 'model.json'}: column 'island' is hashed into 2 features" in err
    assert "cannot be exported; train it without --hash island" in err
    assert not (out / "model.onnx").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_an_estimators_file(tmp_path, capsys):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 3))
    y = np.array(["a", "b", "c"])[np.argmax(X, axis=1)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = neurona.NeuronClassifier(epochs=50).fit(X, y)
    est.save(tmp_path / "est.json")
    assert main(["export", str(tmp_path / "est.json")]) == 0
    assert "outputs probabilities, label" in capsys.readouterr().out
    session = ort.InferenceSession(str(tmp_path / "est.onnx"),
                                   providers=["CPUExecutionProvider"])
    Xt = rng.normal(size=(500, 3)).astype(np.float32)
    probabilities, label = session.run(None, {"X": Xt})
    np.testing.assert_allclose(probabilities, est.predict_proba(Xt.astype(np.float64)),
                               atol=1e-6)
    assert label.tolist() == est.predict(Xt.astype(np.float64)).tolist()
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "est.onnx")).metadata_props}
    assert json.loads(meta["classes"]) == ["a", "b", "c"]


def test_without_onnx_installed(run_copy, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    assert main(["export", str(run_copy)]) == 2
    assert _one_error_line(capsys) == (
        "neurona export: error: writing an ONNX file needs the onnx package: "
        "pip install 'neurona[onnx]'.\n")
    assert not run_copy.with_suffix(".onnx").exists()
