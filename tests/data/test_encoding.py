"""Text columns and missing values: the encoding equals scikit-learn's, is learned on the
training rows only, and gives the same features in memory and streamed."""

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from palmerpenguins import load_penguins
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import neurona
from neurona.data import encoding as encoding_module
from neurona.data import read_data, split_rows
from neurona.data.encoding import (ColumnRules, Encoding, RowPlace, fit_encoding, hash_index,
                                   kind_of)
from neurona.data.filestream import FileStream
from neurona.errors import ColumnError, DataValueError, ModelFileError, NeuronaError

CATEGORIES = ["species", "island"]
NUMBERS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year"]


@pytest.fixture(scope="module")
def penguins():
    """The Palmer penguins table as its package ships it: 344 rows, text and missing values."""
    frame = load_penguins()
    assert frame.shape == (344, 8) and frame.isna().sum().sum() == 19
    return frame


@pytest.fixture(scope="module")
def files(penguins, tmp_path_factory):
    folder = tmp_path_factory.mktemp("penguins")
    penguins.to_csv(folder / "penguins.csv", index=False)
    penguins.to_parquet(folder / "penguins.parquet")
    return folder


def _sklearn(strategy: str):
    """The scikit-learn pipeline neurona's encoding reproduces: numbers imputed with
    ``strategy``, text imputed with its most frequent value, then one-hot encoded."""
    text = make_pipeline(SimpleImputer(strategy="most_frequent"),
                         OneHotEncoder(handle_unknown="ignore", sparse_output=False))
    return ColumnTransformer([("num", SimpleImputer(strategy=strategy), NUMBERS),
                              ("cat", text, CATEGORIES)])


def _in_sklearns_order(encoding, X):
    """neurona's features as the ColumnTransformer orders them: numbers, then categories."""
    order = [encoding.feature_names.index(n) for n in NUMBERS]
    order += [i for i, n in enumerate(encoding.feature_names) if "=" in n and
              n.split("=")[0] == "species"]
    order += [i for i, n in enumerate(encoding.feature_names) if "=" in n and
              n.split("=")[0] == "island"]
    return X[:, order]


@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent"])
@pytest.mark.parametrize("stripe", [4096, 7])  # rows written at a time: all, or a few
def test_the_encoding_equals_a_column_transformers(penguins, strategy, stripe, monkeypatch):
    monkeypatch.setattr(encoding_module, "STRIPE_ROWS", stripe)
    features = penguins.drop(columns=["sex"])
    train, test = features.iloc[::2], features.iloc[1::2].copy()
    test.iloc[0, test.columns.get_loc("island")] = "Atlantis"  # never seen in training
    encoding = fit_encoding(train, ColumnRules(missing=strategy))
    reference = _sklearn(strategy).fit(train)
    for rows in (train, test):
        ours = _in_sklearns_order(encoding, encoding.features_of(rows))
        np.testing.assert_allclose(ours, reference.transform(rows), rtol=1e-12, atol=1e-12)
    names = [n.split("__")[1] for n in reference.get_feature_names_out()]
    assert [n.replace("=", "_") for n in encoding.feature_names if "=" in n] == names[5:]
    assert not encoding.features_of(test.iloc[:1])[0, 3:6].any()  # Atlantis: all zeros


def test_drop_leaves_out_the_rows_with_a_missing_value_and_counts_them(files, penguins):
    ds = read_data(files / "penguins.csv", "sex", rules=ColumnRules(missing="drop"))
    kept = penguins.dropna()
    assert ds.n_dropped == 344 - 333 == len(penguins) - len(kept)
    np.testing.assert_array_equal(ds.rows, kept.index.to_numpy())
    reference = ColumnTransformer([("num", "passthrough", NUMBERS),
                                   ("cat", OneHotEncoder(sparse_output=False), CATEGORIES)])
    np.testing.assert_allclose(_in_sklearns_order(ds.encoding, ds.X),
                               reference.fit_transform(kept), rtol=1e-12)


def test_imputation_never_fills_the_target_and_learns_from_training_rows_only(files, penguins):
    ds = read_data(files / "penguins.csv", "sex", rules=ColumnRules(missing="mean"),
                   test_size=0.3, random_state=1)
    assert ds.n_dropped == 11 and len(ds.y) == 333  # the 11 rows without a sex
    parts = split_rows(ds.X, ds.y, 0.3, 1, rows=ds.rows)
    train = penguins.iloc[parts.rows_train]
    fill = ds.encoding.columns[ds.encoding.names.index("bill_length_mm")].fill
    assert fill == pytest.approx(train["bill_length_mm"].mean(), rel=1e-12)
    assert fill != pytest.approx(penguins["bill_length_mm"].mean(), rel=1e-9)


def test_a_category_seen_only_in_test_rows_is_unknown(tmp_path):
    rows = [f"{i},{'red' if i % 2 else 'blue'},{i % 2}" for i in range(60)]
    path = tmp_path / "c.csv"
    path.write_text("a,colour,y\n" + "\n".join(rows) + "\n")
    ds = read_data(path, "y", test_size=0.3, random_state=2)
    test_rows = set(split_rows(ds.X, ds.y, 0.3, 2, rows=ds.rows).rows_train) ^ set(range(60))
    k = sorted(test_rows)[0]
    rows[k] = f"{k},green,{k % 2}"
    path.write_text("a,colour,y\n" + "\n".join(rows) + "\n")
    ds = read_data(path, "y", test_size=0.3, random_state=2)
    assert ds.feature_names == ["a", "colour=blue", "colour=red"]  # no colour=green
    np.testing.assert_array_equal(ds.X[list(ds.rows).index(k), 1:], [0.0, 0.0])
    with pytest.raises(DataValueError, match=r"line \d+, column 'colour': 'green' is not one "
                                             r"of the categories training saw"):
        read_data(path, "y", test_size=0.3, random_state=2,
                  rules=ColumnRules(unknown="error"))


@pytest.mark.parametrize("rules", [ColumnRules(missing="mean"), ColumnRules(missing="drop"),
                                   ColumnRules(missing="median"),
                                   ColumnRules(missing="most_frequent")],
                         ids=["mean", "drop", "median", "most_frequent"])
@pytest.mark.parametrize("name", ["penguins.csv", "penguins.parquet"])
def test_memory_and_stream_encode_alike(files, rules, name):
    ds = read_data(files / name, "sex", rules=rules, test_size=0.3, random_state=1)
    parts = split_rows(ds.X, ds.y, 0.3, 1, rows=ds.rows)
    fs = FileStream(files / name, "sex", test_size=0.3, random_state=1, rules=rules).scan()
    assert fs.encoding.to_dict() == ds.encoding.to_dict()
    X = np.concatenate([X for X, _ in fs.part("train")])
    np.testing.assert_array_equal(X, parts.X_train)
    assert (fs.n_train, fs.n_test, fs.n_read - fs.n_rows) == \
        (len(parts.y_train), len(parts.y_test), ds.n_dropped)
    assert sum(len(r) for r in fs.part("train").positions()) == fs.n_train


def test_csv_and_parquet_give_the_same_encoding(files):
    rules = ColumnRules(missing="most_frequent")
    a = read_data(files / "penguins.csv", "sex", rules=rules)
    b = read_data(files / "penguins.parquet", "sex", rules=rules)
    assert a.encoding.to_dict() == b.encoding.to_dict()
    np.testing.assert_array_equal(a.X, b.X)


def test_five_fold_accuracy_matches_a_logistic_regression_pipeline(penguins):
    """``sex`` from every other column, rows with a missing value dropped: the neuron (mean
    log loss, 400 epochs of plain gradient descent at 0.5 on standardised features) scores
    within 0.01 of scikit-learn's LogisticRegression in the same pipeline."""
    data = penguins.dropna().reset_index(drop=True)
    X_raw, y = data.drop(columns=["sex"]), (data["sex"] == "male").to_numpy(float)
    ours, theirs = [], []
    for train, test in KFold(5, shuffle=True, random_state=0).split(data):
        encoding = fit_encoding(X_raw.iloc[train], ColumnRules(missing="drop"))
        scaler = StandardScaler().fit(encoding.features_of(X_raw.iloc[train]))
        Xt = scaler.transform(encoding.features_of(X_raw.iloc[train]))
        neuron = neurona.Neuron(np.zeros(Xt.shape[1]))
        neurona.train(neuron, Xt, y[train], reduction="mean", learning_rate=0.5, epochs=400)
        pred = neuron.predict(scaler.transform(encoding.features_of(X_raw.iloc[test])))
        ours.append(np.mean(pred == y[test]))
        pipe = make_pipeline(ColumnTransformer([
            ("num", StandardScaler(), NUMBERS),
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORIES)]), LogisticRegression())
        theirs.append(pipe.fit(X_raw.iloc[train], y[train]).score(X_raw.iloc[test], y[test]))
    assert abs(np.mean(ours) - np.mean(theirs)) <= 0.01, (ours, theirs)
    assert np.mean(ours) > 0.85


def test_booleans_are_zero_and_one_and_hashing_is_fixed(tmp_path):
    table = pa.table({"ok": [True, False, None, True], "name": ["ann", "bob", "cy", "ann"]})
    encoding = fit_encoding(table, ColumnRules(missing="most_frequent", hashed={"name": 4}))
    X = encoding.features_of(table)
    np.testing.assert_array_equal(X[:, 0], [1.0, 0.0, 1.0, 1.0])  # None -> the mode, True
    assert encoding.feature_names == ["ok", "name#0", "name#1", "name#2", "name#3"]
    buckets = hash_index(["ann", "bob", "cy", "ann"], 4)
    np.testing.assert_array_equal(X[:, 1:].argmax(axis=1), buckets)
    assert X[:, 1:].sum(axis=1).tolist() == [1.0] * 4
    # BLAKE2b of the UTF-8 text: the same buckets in any process, on any machine.
    import hashlib

    digest = hashlib.blake2b(b"ann", digest_size=8).digest()
    assert buckets[0] == int.from_bytes(digest, "little") % 4


def test_too_many_categories_and_dates_are_refused_with_the_way_out(tmp_path):
    table = pa.table({"id": [f"user{i}" for i in range(80)], "a": np.arange(80.0)})
    with pytest.raises(ColumnError, match=r"column 'id': more than 50 distinct values .* "
                                          r"--hash id=64, or raise --max-categories"):
        fit_encoding(table)
    assert fit_encoding(table, ColumnRules(max_categories=100)).n_features == 81
    assert fit_encoding(table, ColumnRules(hashed={"id": 16})).n_features == 17
    dates = pa.table({"when": pa.array(pd.date_range("2024-01-01", periods=3))})
    assert kind_of(dates.schema.field("when").type) == "datetime"
    with pytest.raises(ColumnError, match="a date or time; neurona does not encode dates"):
        fit_encoding(dates)


def test_a_missing_value_at_prediction_follows_the_models_rule():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, np.nan], "b": ["x", "y", None, "x"]})
    filled = fit_encoding(frame, ColumnRules(missing="mean"))
    np.testing.assert_allclose(filled.features_of({"a": [None], "b": [None]}),
                               [[2.0, 1.0, 0.0]])  # the mean of a, the mode of b
    dropped = fit_encoding(frame, ColumnRules(missing="drop"))
    with pytest.raises(DataValueError, match=r"row 1, column 'a': missing value, and the "
                                             r"model \(trained with --missing drop\)"):
        dropped.features_of({"a": [None], "b": ["x"]})
    strict = fit_encoding(frame.dropna())
    with pytest.raises(DataValueError, match=r"row 2, column 'a': missing value .*the model, "
                                             r"trained with --missing error"):
        strict.features_of([{"a": 1.0, "b": "x"}, {"a": None, "b": "x"}])


def test_the_encoding_round_trips_and_a_bad_one_is_refused(tmp_path):
    encoding = fit_encoding(pd.DataFrame({"a": [1.0, np.nan, 3.0], "c": ["u", "v", "u"]}),
                            ColumnRules(missing="median", unknown="error"))
    back = Encoding.from_dict(json.loads(json.dumps(encoding.to_dict())))
    assert back.to_dict() == encoding.to_dict() and back.feature_names == ["a", "c=u", "c=v"]
    for change, match in [(lambda d: d["columns"][1].update(categories=["u", "u"]), "distinct"),
                          (lambda d: d["columns"][0].update(fill="two"), "fill of the wrong"),
                          (lambda d: d.update(missing="guess"), "missing must be one of"),
                          (lambda d: d["columns"][0].update(kind="date"), "must have a name "
                                                                          "and a kind")]:
        doc = encoding.to_dict()
        change(doc)
        with pytest.raises(ModelFileError, match=match):
            Encoding.from_dict(doc, "m.json")


def test_a_neuron_with_an_encoding_predicts_raw_rows(tmp_path):
    frame = pd.DataFrame({"size": [1.0, 2.0, 8.0, 9.0], "colour": ["red", "red", "blue", None]})
    encoding = fit_encoding(frame, ColumnRules(missing="most_frequent"))
    neuron = neurona.Neuron([1.0, 0.5, -0.5], -5.0, feature_names=encoding.feature_names,
                            encoding=encoding)
    X = encoding.features_of(frame)
    np.testing.assert_array_equal(neuron.predict_proba(frame), neuron.predict_proba(X))
    neurona.save(neuron, tmp_path / "m.json")
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["format_version"] == 3 and doc["encoding"]["columns"][1]["categories"] == \
        ["blue", "red"]
    back = neurona.load(tmp_path / "m.json")
    records = frame.to_dict("records")
    np.testing.assert_array_equal(back.predict_proba(records), neuron.predict_proba(X))
    with pytest.raises(NeuronaError, match="the data have no column 'colour'"):
        back.predict(pd.DataFrame({"size": [1.0]}))
    bad = dict(doc, feature_names=["size", "red", "blue"])
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(ModelFileError, match="the encoding's features are not feature_names"):
        neurona.load(tmp_path / "bad.json")


def test_row_place_names_rows_from_one():
    assert RowPlace().where(0, "a") == "the data, row 1, column 'a'"
