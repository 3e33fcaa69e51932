"""Built-in datasets, the split, and reading every file format to the same arrays."""

import gzip

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.datasets import make_circles, make_moons

from neurona import data
from neurona.errors import OptionError
from neurona.data.readers import Labels, label_value, sort_labels


# --- built-in datasets ------------------------------------------------------------------

@pytest.mark.parametrize("name", list(data.DATASETS))
def test_every_dataset_is_seeded_binary_and_sized(name):
    spec = data.dataset_spec(name, n_samples=120)
    X, y = data.make_dataset(spec)
    X2, y2 = data.make_dataset(spec)
    assert X.shape == (120, 2) and y.shape == (120,)
    if name in data.REGRESSION_DATASETS:  # numbers: many distinct values
        assert y.dtype == np.float64 and len(np.unique(y)) == 120
    else:
        assert set(np.unique(y)) == {0, 1}
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = data.make_dataset(dict(spec, random_state=spec["random_state"] + 1))
    assert not np.array_equal(X, X3)


def test_plane_is_its_documented_linear_function_plus_noise():
    X, y = data.plane(n_samples=4000, n_features=3, noise=0.0, random_state=3)
    w, b = data.datasets.plane_coefficients(3)
    np.testing.assert_array_equal(w, [1.0, -2.0, 3.0])
    np.testing.assert_allclose(y, X @ w + b)
    assert X.min() >= -3 and X.max() <= 3
    X, y = data.plane(n_samples=4000, noise=0.5, random_state=3)
    residual = y - (X @ w[:2] + b)
    assert abs(residual.std() - 0.5) < 0.03 and abs(residual.mean()) < 0.03


def test_gaussians_is_its_documented_sum_of_bumps_that_no_plane_fits():
    from sklearn.linear_model import LinearRegression

    X, y = data.gaussians(n_samples=3000, noise=0.0, random_state=2)
    assert X.shape == (3000, 2) and X.min() >= -3 and X.max() <= 3
    bump = lambda c0, c1: np.exp(-((X[:, 0] - c0) ** 2 + (X[:, 1] - c1) ** 2) / 2)  # noqa: E731
    np.testing.assert_allclose(y, bump(-1.5, -1.5) + bump(1.5, 1.5) - bump(-1.5, 1.5)
                               - bump(1.5, -1.5))
    assert LinearRegression().fit(X, y).score(X, y) < 0.05  # a linear unit explains ~nothing
    _, noisy = data.gaussians(n_samples=3000, noise=0.2, random_state=2)
    assert abs((noisy - y).std() - 0.2) < 0.02


def test_blobs_default_is_the_posts_dataset():
    assert data.dataset_spec("blobs") == {"name": "blobs", "n_samples": 500, "n_features": 2,
                                          "centers": 2, "cluster_std": 2.5, "random_state": 1}


def test_moons_and_circles_are_scikit_learns():
    X, y = data.make_dataset(data.dataset_spec("moons", noise=0.3, random_state=4))
    Xs, ys = make_moons(n_samples=500, noise=0.3, random_state=4)
    np.testing.assert_array_equal(X, Xs)
    np.testing.assert_array_equal(y, ys)
    X, y = data.make_dataset(data.dataset_spec("circles"))
    Xs, ys = make_circles(n_samples=500, noise=0.1, factor=0.5, random_state=1)
    np.testing.assert_array_equal(X, Xs)


def test_xor_labels_follow_the_quadrants_without_noise():
    X, y = data.xor(n_samples=400, noise=0.0, random_state=0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(int))
    assert 0.35 < y.mean() < 0.65


def test_linear_without_noise_is_separable_by_a_hyperplane():
    from sklearn.svm import LinearSVC

    X, y = data.linear(n_samples=300, n_features=3, noise=0.0, random_state=2)
    assert X.shape == (300, 3)
    assert LinearSVC(C=1e4, max_iter=100_000).fit(X, y).score(X, y) == 1.0


@pytest.mark.parametrize("name,params,match", [
    ("moons", dict(cluster_std=1.0), "dataset 'moons' has no parameter 'cluster_std'"),
    ("spiral", {}, "Unknown dataset 'spiral'"),
    ("xor", dict(n_samples=1), "n_samples must be an integer of at least 2"),
    ("linear", dict(noise=-0.5), "noise must be a non-negative number"),
    ("blobs", dict(cluster_std=0), "cluster_std must be a positive number"),
])
def test_bad_dataset_parameters(name, params, match):
    with pytest.raises(OptionError, match=match):
        data.dataset_spec(name, **params)


# --- split ----------------------------------------------------------------------------

def test_split_zero_keeps_every_row_for_training():
    X, y = data.blobs(n_samples=50)
    parts = data.split(X, y, test_size=0)
    np.testing.assert_array_equal(parts.X_train, X)
    assert parts.X_test.shape == (0, 2) and parts.y_test.shape == (0,)


def test_stratified_split_keeps_the_class_proportions():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = np.r_[np.zeros(180, int), np.ones(20, int)]
    parts = data.split(X, y, test_size=0.25, random_state=3, stratify=True)
    assert parts.y_test.sum() == 5 and parts.y_train.sum() == 15


@pytest.mark.parametrize("test_size", [1.0, -0.1, 2, True])
def test_split_refuses_fractions_outside_0_1(test_size):
    with pytest.raises(OptionError, match=r"test_size must be a fraction in \[0, 1\)"):
        data.split(np.zeros((4, 1)), np.array([0, 1, 0, 1]), test_size=test_size)


# --- files ------------------------------------------------------------------------------

X_REF = np.array([[1.5, -2.0], [0.25, 3.0], [4.0, 1e-3], [-7.0, 2.5], [0.0, 1.0]])
LABELS = ["no", "yes", "yes", "no", "yes"]


def _csv_text(delimiter=","):
    lines = [delimiter.join(["a", "b", "label"])]
    lines += [delimiter.join([repr(float(r[0])), repr(float(r[1])), lab])
              for r, lab in zip(X_REF, LABELS)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def files(tmp_path):
    paths = {}
    paths["csv"] = tmp_path / "d.csv"
    paths["csv"].write_text(_csv_text())
    paths["gz"] = tmp_path / "d.csv.gz"
    paths["gz"].write_bytes(gzip.compress(_csv_text().encode()))
    paths["tsv"] = tmp_path / "tabs.csv"
    paths["tsv"].write_text(_csv_text("\t"))
    paths["parquet"] = tmp_path / "d.parquet"
    pq.write_table(pa.table({"a": X_REF[:, 0], "label": LABELS, "b": X_REF[:, 1]}),
                   paths["parquet"])
    structured = np.zeros(5, dtype=[("a", "f8"), ("b", "f8"), ("label", "U3")])
    structured["a"], structured["b"], structured["label"] = X_REF[:, 0], X_REF[:, 1], LABELS
    paths["npy"] = tmp_path / "d.npy"
    np.save(paths["npy"], structured)
    paths["npz"] = tmp_path / "d.npz"
    np.savez(paths["npz"], a=X_REF[:, 0], b=X_REF[:, 1], label=np.array(LABELS))
    return paths


@pytest.mark.parametrize("kind", ["csv", "gz", "tsv", "parquet", "npy", "npz"])
def test_every_format_reads_to_the_same_data(files, kind):
    ds = data.read_data(files[kind], "label", delimiter="\t" if kind == "tsv" else None)
    np.testing.assert_array_equal(ds.X, X_REF)
    assert ds.feature_names == ["a", "b"]
    assert ds.classes == ["no", "yes"]
    np.testing.assert_array_equal(ds.y, [0, 1, 1, 0, 1])
    np.testing.assert_array_equal(ds.labels, LABELS)
    assert ds.X.dtype == np.float64


def test_features_are_taken_by_name_in_the_given_order(files):
    ds = data.read_data(files["parquet"], "label", ["b", "a"])
    np.testing.assert_array_equal(ds.X, X_REF[:, ::-1])
    assert ds.feature_names == ["b", "a"]


IDS = [30, 10, 50, 20, 40]  # row labels that make no RangeIndex


def _pandas_parquet(tmp_path, index):
    """X_REF and LABELS written by pandas, with the frame's index stored as a column."""
    import pandas as pd

    frame = pd.DataFrame({"a": X_REF[:, 0], "b": X_REF[:, 1], "label": LABELS})
    if index == "unnamed":  # e.g. a filtered frame
        frame = frame.set_axis(pd.Index(IDS))
    elif index == "named":
        frame = frame.assign(id=IDS).set_index("id")
    else:  # two levels, one named
        frame = frame.set_axis(pd.MultiIndex.from_arrays([IDS, IDS[::-1]], names=["id", None]))
    path = tmp_path / "pandas.parquet"
    frame.to_parquet(path)
    return path


@pytest.mark.parametrize("index,columns,named", [
    ("unnamed", ["a", "b", "label"], []),
    ("named", ["a", "b", "label", "id"], ["id"]),
    ("two levels", ["a", "b", "label", "id"], ["id"]),
])
def test_a_stored_pandas_index_is_no_default_feature(tmp_path, index, columns, named):
    from neurona.data.readers import DataFile

    path = _pandas_parquet(tmp_path, index)
    assert any(n.startswith("__index_level_") for n in pq.read_schema(path).names) == (
        index != "named")
    datafile = DataFile(path)
    assert datafile.columns == columns and datafile.index_columns == named
    ds = data.read_data(path, "label")
    assert ds.feature_names == ["a", "b"]
    np.testing.assert_array_equal(ds.X, X_REF)
    np.testing.assert_array_equal(ds.y, [0, 1, 1, 0, 1])


def test_a_named_pandas_index_is_read_by_name(tmp_path):
    from neurona.errors import ColumnError

    ds = data.read_data(_pandas_parquet(tmp_path, "named"), "label", ["id", "a"])
    assert ds.feature_names == ["id", "a"]
    np.testing.assert_array_equal(ds.X, np.c_[IDS, X_REF[:, 0]])
    with pytest.raises(ColumnError, match="no feature column '__index_level_0__'"):
        data.read_data(_pandas_parquet(tmp_path, "unnamed"), "label", ["__index_level_0__"])


def test_only_a_stored_index_besides_the_target_is_no_feature(tmp_path):
    import pandas as pd

    from neurona.errors import DataFileError

    path = tmp_path / "i.parquet"
    pd.DataFrame({"label": LABELS}, index=pd.Index(IDS, name="id")).to_parquet(path)
    with pytest.raises(DataFileError, match=r"no feature columns besides the target "
                                            r"'label' \(the stored index 'id' is a feature "
                                            r"only when named in --features\)"):
        data.read_data(path, "label")
    assert data.read_data(path, "label", ["id"]).feature_names == ["id"]


def test_plain_npy_columns_are_named_x0_x1(tmp_path):
    path = tmp_path / "m.npy"
    np.save(path, np.c_[X_REF, [0, 1, 1, 0, 1]])
    ds = data.read_data(path, "x2")
    assert ds.feature_names == ["x0", "x1"] and ds.classes == [0, 1]
    np.testing.assert_array_equal(ds.X, X_REF)


def test_npz_with_a_2d_array_and_a_target(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, X=X_REF, y=np.array([True, False, False, True, False]))
    ds = data.read_data(path, "y")
    assert ds.feature_names == ["x0", "x1"] and ds.classes == [False, True]
    np.testing.assert_array_equal(ds.y, [1, 0, 0, 1, 0])


@pytest.mark.parametrize("column,classes,codes", [
    (["0", "1", "1", "0"], [0, 1], [0, 1, 1, 0]),
    (["true", "false", "True", "FALSE"], [False, True], [1, 0, 1, 0]),
    (["-1", "1", "1", "-1"], [-1, 1], [0, 1, 1, 0]),
    (["1.0", "0.0", "0", "1"], [0, 1], [1, 0, 0, 1]),
    (["spam", "ham", "spam", "ham"], ["ham", "spam"], [1, 0, 1, 0]),
    ([" b", "a ", "b", "a"], ["a", "b"], [1, 0, 1, 0]),
    (["2.5", "0.5", "2.5", "0.5"], [0.5, 2.5], [1, 0, 1, 0]),
])
def test_target_labels_and_their_codes(tmp_path, column, classes, codes):
    path = tmp_path / "t.csv"
    path.write_text("x,t\n" + "".join(f"{i},{c}\n" for i, c in enumerate(column)))
    ds = data.read_data(path, "t")
    assert ds.classes == classes
    assert [type(c) for c in ds.classes] == [type(c) for c in classes]
    np.testing.assert_array_equal(ds.y, codes)


def test_typed_parquet_targets_match_the_csv_labels(tmp_path):
    for values, classes in (([0, 1, 1], [0, 1]), ([0.0, 1.0, 1.0], [0, 1]),
                            ([True, False, True], [False, True])):
        path = tmp_path / "t.parquet"
        pq.write_table(pa.table({"x": [1.0, 2.0, 3.0], "t": values}), path)
        assert data.read_data(path, "t").classes == classes


def test_label_value_and_order():
    assert label_value("  7 ") == 7 and label_value(np.int64(3)) == 3
    assert label_value(2.0) == 2 and isinstance(label_value(2.0), int)
    assert label_value(np.True_) is True and label_value("x y") == "x y"
    with pytest.raises(ValueError):
        label_value(float("nan"))
    assert sort_labels(["b", 2, "a", -1]) == [-1, 2, "a", "b"]


def test_constant_feature_can_be_allowed(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("a,b,y\n1,5,0\n2,5,1\n")
    ds = data.read_data(path, "y", allow_constant=True)
    np.testing.assert_array_equal(ds.X[:, 1], [5, 5])


def test_many_batches_give_the_same_data(tmp_path, monkeypatch):
    from neurona.data import readers

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 3))
    y = (X.sum(axis=1) > 0).astype(int)
    path = tmp_path / "m.csv"
    path.write_text("a,b,c,y\n" + "".join(f"{float(r[0])!r},{float(r[1])!r},{float(r[2])!r},{t}\n"
                                          for r, t in zip(X, y)))
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 4096)
    datafile = readers.DataFile(path)
    assert len(list(datafile.batches(["a", "y"], numeric=["a"]))) > 10
    ds = data.read_data(path, "y")
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.y, y)


def test_labels_with_known_classes_refuse_others(tmp_path):
    from neurona.data.readers import DataFile

    path = tmp_path / "t.csv"
    path.write_text("x,t\n1,a\n2,b\n")
    f = DataFile(path)
    labels = Labels(f, "t", ["a", "c"])
    _, table = next(f.batches(["t"]))
    with pytest.raises(ValueError, match=r"line 3, column 't': label 'b' is not one of"):
        labels.encode(table, 0)
