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


@pytest.mark.parametrize("rows,cols", [(1, 3), (63, 3), (64, 3), (65, 2), (1000, 20),
                                       (4099, 7)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_column_range_is_each_columns_min_and_max(rows, cols, dtype):
    rng = np.random.default_rng(rows * cols)
    X = (rng.normal(size=(rows, cols)) * 10.0 ** rng.integers(-3, 4, size=(rows, cols)))
    X = X.astype(dtype)
    for view in (X, np.asfortranarray(X), X[::2], X[:, ::-1]):
        low, high = scaling.column_range(view)
        assert low.dtype == high.dtype == dtype
        np.testing.assert_array_equal(low, view.min(axis=0))
        np.testing.assert_array_equal(high, view.max(axis=0))


@pytest.mark.parametrize("largest", [None, "given"])
def test_a_column_too_large_to_scale_is_refused_with_or_without_its_range(largest):
    from neurona.errors import DataValueError

    X = np.tile(np.linspace(-1.0, 1.0, 200)[:, None], (1, 3))
    X[150, 2] = -1e200
    bound = np.abs(X).max(axis=0) if largest else None
    fit = scaling.StreamingFit("standard", ["a", "b", "c"], "f.csv")
    with pytest.raises(DataValueError, match=r"f\.csv, column 'c': values as large as 1e\+200"):
        fit.update(X, bound)
    fit.update(X[:, :2].copy(order="C")[:, [0, 1, 1]], None)  # within bounds: fitted
    assert fit.result() is not None


@pytest.mark.parametrize("test_size", [0.0, 0.3])
def test_a_streamed_scan_refuses_a_column_too_large_to_scale(tmp_path, test_size):
    # every row trains (the batch's own range is the check) or some are held out
    from neurona.data.filestream import FileStream
    from neurona.errors import DataValueError

    a = np.linspace(-1, 1, 300)
    a[280:] = 3e250  # some of these rows train whatever the split
    rows = "\n".join(f"{float(v)!r},{i % 7},{i % 2}" for i, v in enumerate(a))
    path = tmp_path / "big.csv"
    path.write_text("a,b,y\n" + rows + "\n")
    with pytest.raises(DataValueError, match="column 'a': values as large as 3e\\+250"):
        FileStream(path, "y", test_size=test_size, cache=False).scan("standard")
    stream = FileStream(path, "y", test_size=test_size, cache=False).scan("none")
    assert stream.n_rows == 300
