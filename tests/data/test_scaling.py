"""Scalers: their maths, zero variance, streaming fits and their model-file form."""

import numpy as np
import pytest

from neurona.data import scaling
from neurona.errors import ModelFileError, OptionError


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=[5.0, -3.0, 100.0], scale=[2.0, 0.1, 30.0], size=(400, 3))
    X[:, 1] = 7.0  # a constant feature
    return X


def test_standard_scaling_centres_and_scales(X):
    s = scaling.fit("standard", X)
    Z = s.transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:, [0, 2]].std(axis=0), 1, rtol=1e-12)
    assert s.scale[1] == 1.0 and np.all(Z[:, 1] == 0)  # zero variance: shifted, not divided


def test_minmax_scaling_maps_to_0_1(X):
    s = scaling.fit("minmax", X)
    Z = s.transform(X)
    np.testing.assert_allclose(Z[:, [0, 2]].min(axis=0), 0, atol=1e-15)
    np.testing.assert_allclose(Z[:, [0, 2]].max(axis=0), 1, rtol=1e-15)
    assert s.scale[1] == 1.0 and np.all(Z[:, 1] == 0)


def test_none_is_no_scaler(X):
    assert scaling.fit("none", X) is None
    with pytest.raises(OptionError, match="Unknown scaling 'log'"):
        scaling.fit("log", X)


@pytest.mark.parametrize("kind", ["standard", "minmax"])
def test_streaming_fit_equals_the_in_memory_fit(X, kind):
    whole = scaling.fit(kind, X)
    stream = scaling.StreamingFit(kind)
    for start in range(0, len(X), 37):
        stream.update(X[start:start + 37])
    parts = stream.result()
    np.testing.assert_allclose(parts.center, whole.center, rtol=1e-13)
    np.testing.assert_allclose(parts.scale, whole.scale, rtol=1e-12)


def test_round_trip_through_a_dict(X):
    s = scaling.fit("standard", X)
    back = scaling.Scaler.from_dict(s.to_dict(), 3)
    np.testing.assert_array_equal(back.transform(X), s.transform(X))


@pytest.mark.parametrize("doc,match", [
    ([1, 2], "scaler must be a JSON object"),
    ({"kind": "robust", "center": [0.0], "scale": [1.0]}, "scaler kind 'robust' is unknown"),
    ({"kind": "standard", "center": [0.0], "scale": [1.0, 2.0]}, "scale must be a list of 1"),
    ({"kind": "standard", "center": ["a"], "scale": [1.0]}, "center must be a list of 1"),
    ({"kind": "minmax", "center": [0.0], "scale": [0.0]}, "scale values must be positive"),
])
def test_bad_scaler_documents_are_refused(doc, match):
    with pytest.raises(ModelFileError, match=match):
        scaling.Scaler.from_dict(doc, 1, "m.json")
