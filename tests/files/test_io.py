import json
import os

import numpy as np
import pytest

import neurona
from neurona import ModelFileError, Neuron
from neurona.files.rundir import atomic_write_text, staged_directory
from neurona.files.model import model_document
from neurona.errors import RunDirectoryError


def _saved(tmp_path, **changes):
    doc = model_document(Neuron([1.5, -2.0], 0.25), loss="log_loss")
    doc.update(changes)
    for key in [k for k, v in changes.items() if v is _DROP]:
        del doc[key]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(doc))
    return path


_DROP = object()


def test_round_trip_predicts_the_same(tmp_path):
    rng = np.random.default_rng(0)
    n = Neuron(rng.normal(size=3), 0.7, "sigmoid", 0.4, ["a", "b", "c"])
    neurona.save(n, tmp_path / "m.json")
    back = neurona.load(tmp_path / "m.json")
    X = rng.normal(size=(50, 3))
    np.testing.assert_array_equal(back.predict_proba(X), n.predict_proba(X))
    np.testing.assert_array_equal(back.predict(X), n.predict(X))
    assert back.feature_names == ["a", "b", "c"]
    assert back.threshold == 0.4
    assert back.metadata["format"] == "neurona-model"


def test_model_file_is_plain_json_without_pickle(tmp_path):
    neurona.save(Neuron([1.0]), tmp_path / "m.json")
    raw = (tmp_path / "m.json").read_bytes()
    assert raw.startswith(b"{") and b"\x80" not in raw
    doc = json.loads(raw)
    assert doc["format_version"] == 3 and doc["neurona_version"] == neurona.__version__
    assert doc["task"] == "classify"


def test_a_regression_round_trips_with_its_target_scaler(tmp_path):
    from neurona.data.scaling import Scaler

    n = Neuron([2.0, -1.0], 0.5, "identity", feature_names=["a", "b"], task="regress",
               target_scaler=Scaler("standard", [100.0], [20.0]))
    neurona.save(n, tmp_path / "m.json", loss="squared_error")
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["task"] == "regress" and "classes" not in doc
    assert doc["target_scaler"] == {"kind": "standard", "center": [100.0], "scale": [20.0]}
    back = neurona.load(tmp_path / "m.json")
    X = np.array([[1.0, 1.0], [0.0, 2.0]])
    # (2 - 1 + 0.5) * 20 + 100 and (0 - 2 + 0.5) * 20 + 100: in the target's units.
    np.testing.assert_allclose(back.predict(X), [130.0, 70.0])
    assert back.task == "regress"
    with pytest.raises(neurona.NeuronaError, match="predict_proba is a classifier's"):
        back.predict_proba(X)


@pytest.mark.parametrize("activation,loss,task", [("sigmoid", "log_loss", "classify"),
                                                  ("identity", "squared_error", "regress"),
                                                  ("sigmoid", "squared_error", "classify")])
def test_a_version_1_file_still_loads_with_the_task_its_settings_imply(tmp_path, activation,
                                                                        loss, task):
    doc = model_document(Neuron([1.5, -2.0], 0.25, activation), loss=loss)
    del doc["task"]
    doc["format_version"] = 1
    (tmp_path / "old.json").write_text(json.dumps(doc))
    back = neurona.load(tmp_path / "old.json")
    assert back.task == task
    X = np.array([[1.0, 0.0]])
    expected = X @ [1.5, -2.0] + 0.25 if task == "regress" else [1]
    np.testing.assert_allclose(back.predict(X), expected)


@pytest.mark.parametrize("changes,match", [
    (dict(format="something-else"), "not a neurona model file"),
    (dict(format_version=4), "format version 4 is not supported"),
    (dict(task=_DROP), "task is missing"),
    (dict(task="cluster"), "task must be 'classify' or 'regress', got 'cluster'"),
    (dict(task="regress", classes=["a", "b"]), "a regression has no classes"),
    (dict(target_scaler={"kind": "standard", "center": [0.0], "scale": [1.0]}),
     "target_scaler maps a regression's output"),
    (dict(task="regress", activation="identity", loss="squared_error",
          target_scaler={"kind": "standard", "center": [0.0], "scale": [0.0]}),
     "target_scaler: scaler scale values must be positive"),
    (dict(format_version="1"), "format_version must be an integer"),
    (dict(bias=_DROP), "missing field.*bias"),
    (dict(weights=[]), "weights must be a non-empty list"),
    (dict(weights=[1.0, "x"]), r"weights\[1\] is 'x'"),
    (dict(weights=[1.0, True]), r"weights\[1\] is True"),
    (dict(weights=[1.0, 2.0, 3.0]), "2 feature_names but 3 weights"),
    (dict(feature_names=["a", "a"]), "feature_names has duplicates"),
    (dict(activation="relu"), "unknown activation 'relu'"),
    (dict(activation="tanh"), "log_loss.*sigmoid"),
    (dict(loss="hinge"), "unknown loss 'hinge'"),
    (dict(threshold=None), "threshold is None"),
])
def test_invalid_model_files_are_refused_clearly(tmp_path, changes, match):
    path = _saved(tmp_path, **changes)
    with pytest.raises(ModelFileError, match=match) as info:
        neurona.load(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("text,match", [
    ('{"a": 1', "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"format": "neurona-model", "format": "neurona-model"}', "duplicate key 'format'"),
    ('{"bias": NaN}', "NaN is not a valid JSON number"),
    ('{"bias": Infinity}', "Infinity is not a valid JSON number"),
])
def test_malformed_json_is_refused(tmp_path, text, match):
    path = tmp_path / "model.json"
    path.write_text(text)
    with pytest.raises(ModelFileError, match=match):
        neurona.load(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        neurona.load(tmp_path / "nope.json")
    with pytest.raises(ModelFileError, match="is a directory"):
        neurona.load(tmp_path)


def test_saving_non_finite_weights_is_refused(tmp_path):
    n = Neuron([1.0])
    n.weights[0] = np.nan
    with pytest.raises(ModelFileError, match="finite"):
        neurona.save(n, tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")


    with pytest.raises(TypeError):
        atomic_write_text(path, 123)  # not text: the write fails half-way
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_staged_directory_appears_whole_or_not_at_all(tmp_path):
    final = tmp_path / "run"
    with pytest.raises(RuntimeError):
        with staged_directory(final) as tmp:
            (tmp / "a.txt").write_text("x")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    with staged_directory(final) as tmp:
        (tmp / "a.txt").write_text("x")
        assert not final.exists()
    assert (final / "a.txt").read_text() == "x"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_staged_directory_never_overwrites(tmp_path):
    final = tmp_path / "run"
    final.mkdir()
    (final / "keep.txt").write_text("mine")
    with pytest.raises(RunDirectoryError, match="never overwrites"):
        with staged_directory(final):
            pass
    assert (final / "keep.txt").read_text() == "mine"
    empty = tmp_path / "empty"
    empty.mkdir()
    with staged_directory(empty) as tmp:
        (tmp / "x").write_text("1")
    assert os.listdir(empty) == ["x"]


def test_written_files_and_run_directories_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "f.txt", "x")
        with staged_directory(tmp_path / "run") as tmp:
            (tmp / "a").write_text("1")
    finally:
        os.umask(old)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "run").stat().st_mode & 0o777 == 0o755
