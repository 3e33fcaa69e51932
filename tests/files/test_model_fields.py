"""The model file's optional fields: the label mapping, the scaler, the target."""

import json

import numpy as np
import pytest

import neurona
from neurona import ModelFileError, Neuron
from neurona.data import scaling
from neurona.errors import NeuronaError
from neurona.files.model import model_document


@pytest.fixture
def scaled():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=[100.0, -5.0], scale=[20.0, 0.5], size=(60, 2))
    s = scaling.fit("standard", X)
    n = Neuron([0.8, -1.2], 0.1, feature_names=["a", "b"], scaler=s, classes=["no", "yes"])
    return n, X


def test_scaler_is_applied_before_the_weights(scaled):
    n, X = scaled
    plain = Neuron(n.weights, n.bias)
    np.testing.assert_array_equal(n.predict_proba(X), plain.predict_proba(n.scaler.transform(X)))


def test_predict_returns_the_original_labels(scaled):
    n, X = scaled
    index = Neuron(n.weights, n.bias, scaler=n.scaler).predict(X)
    np.testing.assert_array_equal(n.predict(X), np.array(["no", "yes"])[index])


def test_round_trip_keeps_scaler_classes_and_target(tmp_path, scaled):
    n, X = scaled
    neurona.save(n, tmp_path / "m.json", target="bought")
    back = neurona.load(tmp_path / "m.json")
    np.testing.assert_array_equal(back.predict_proba(X), n.predict_proba(X))
    np.testing.assert_array_equal(back.predict(X), n.predict(X))
    assert back.classes == ["no", "yes"] and back.scaler.kind == "standard"
    assert back.metadata["target"] == "bought"
    copy = back.copy()
    assert copy.scaler is back.scaler and copy.classes == back.classes


def test_a_neuron_without_them_is_saved_as_before(tmp_path):
    doc = model_document(Neuron([1.0, 2.0], 0.5), loss="log_loss")
    assert not {"classes", "scaler", "target"} & set(doc)
    assert list(doc)[-1] == "training"


@pytest.mark.parametrize("classes", [[0, 1], [False, True], [-1, 1], ["b", 2.5]])
def test_classes_of_any_json_type_round_trip(tmp_path, classes):
    neurona.save(Neuron([1.0], classes=classes), tmp_path / "m.json")
    back = neurona.load(tmp_path / "m.json")
    assert back.classes == classes
    assert [type(c) for c in back.classes] == [type(c) for c in classes]


@pytest.mark.parametrize("changes,match", [
    (dict(classes=["a"]), "classes must be a list of two labels"),
    (dict(classes=["a", None]), "classes must be a list of two labels"),
    (dict(classes=[[1], 2]), "classes must be a list of two labels"),
    (dict(classes=["a", "a"]), "classes has the same label twice"),
    (dict(scaler={"kind": "standard", "center": [0.0], "scale": [1.0]}),
     "scaler center must be a list of 2"),
    (dict(scaler={"kind": "minmax", "center": [0.0, 1.0], "scale": [1.0, -2.0]}),
     "scale values must be positive"),
    (dict(target=3), "target must be a string"),
])
def test_invalid_optional_fields_are_refused(tmp_path, changes, match):
    doc = model_document(Neuron([1.5, -2.0], 0.25), loss="log_loss")
    doc.update(changes)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match=match) as info:
        neurona.load(path)
    assert str(path) in str(info.value)


def test_neuron_refuses_a_mismatched_scaler_or_bad_classes(scaled):
    n, _ = scaled
    with pytest.raises(NeuronaError, match="The scaler has 2 features, but the neuron has 3"):
        Neuron([1.0, 2.0, 3.0], scaler=n.scaler)
    with pytest.raises(NeuronaError, match="classes must be two distinct labels"):
        Neuron([1.0], classes=["x", "x"])


def test_a_trained_model_file_loads_as_a_classifier_with_its_labels(tmp_path):
    from neurona import NeuronClassifier

    n = Neuron([2.0, -1.0], 0.5, classes=["ham", "spam"])
    neurona.save(n, tmp_path / "m.json")
    clf = NeuronClassifier.load(tmp_path / "m.json")
    X = np.array([[1.0, 0.0], [-1.0, 2.0]])
    assert list(clf.classes_) == ["ham", "spam"]
    np.testing.assert_array_equal(clf.predict(X), n.predict(X))


def test_a_scaled_model_file_is_not_a_classifier(tmp_path, scaled):
    from neurona import NeuronClassifier

    n, _ = scaled
    neurona.save(n, tmp_path / "m.json")
    with pytest.raises(ModelFileError, match="scales its features \\(standard\\)"):
        NeuronClassifier.load(tmp_path / "m.json")
