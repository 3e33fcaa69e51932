"""pyarrow columns read into NumPy from their buffers (``encoding.as_numpy``, ``numbers``,
the labels' codes): the values ``Array.to_numpy`` gives, for any slice, nulls and types,
and a streamed run that never loads pandas (which ``to_numpy`` imports: 0.2 s a run)."""

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurona.data.encoding import arrow_mask, as_numpy, nulls, numbers, one_array, valid_cells
from neurona.data.readers import _one_where

cells = st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
                 max_size=70)


def _sliced(values, arrow_type, start, length):
    array = pa.array(values, type=arrow_type)
    start = min(start, len(array))
    return array.slice(start, length)


@settings(max_examples=200, deadline=None)
@given(cells, st.integers(0, 20), st.integers(0, 70))
def test_float_cells_read_from_the_buffers_equal_to_numpy(values, start, length):
    col = _sliced(values, pa.float64(), start, length)
    expected = col.to_numpy(zero_copy_only=False)
    got = as_numpy(col, np.float64, missing=np.nan)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)  # NaN where expected is NaN
    np.testing.assert_array_equal(valid_cells(col), ~np.asarray(col.is_null()))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-100, 100)), max_size=50),
       st.integers(0, 9), st.integers(0, 50),
       st.sampled_from([pa.int8(), pa.int64(), pa.uint16(), pa.float32(), pa.float16(),
                        pa.bool_()]))
def test_numbers_of_any_numeric_type_equal_to_numpy(values, start, length, arrow_type):
    if arrow_type == pa.bool_():
        values = [None if v is None else v > 0 for v in values]
    elif arrow_type == pa.uint16():
        values = [None if v is None else abs(v) for v in values]
    elif arrow_type == pa.float16():
        values = [None if v is None else np.float16(v) for v in values]
    col = _sliced(values, arrow_type, start, length)
    expected = np.array([np.nan if v is None else float(v) for v in col.to_pylist()])
    np.testing.assert_array_equal(numbers(col), expected)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.booleans(), max_size=40), st.integers(0, 9))
def test_a_mask_filters_as_pyarrow_own_does(keep, start):
    table = pa.table({"v": pa.array(range(len(keep) + start)).slice(start)})
    got = table.filter(arrow_mask(np.array(keep, dtype=bool)))
    assert got.equals(table.filter(pa.array(keep, type=pa.bool_())))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=2)), max_size=40), st.integers(0, 9),
       st.booleans())
def test_nulls_of_a_text_column(values, start, chunked):
    col = pa.array(values, type=pa.string()).slice(start)
    if chunked and len(col) > 1:
        col = pa.chunked_array([col.slice(0, 1), col.slice(1)])
    np.testing.assert_array_equal(nulls(col), np.asarray(pc.is_null(col).to_pylist(),
                                                         dtype=bool))


def test_a_column_of_nulls_only_and_an_empty_one():
    np.testing.assert_array_equal(numbers(pa.array([None, None, None])), [np.nan] * 3)
    np.testing.assert_array_equal(numbers(pa.array([None, None], type=pa.float64())),
                                  [np.nan] * 2)
    assert numbers(pa.array([], type=pa.float64())).shape == (0,)


def test_a_column_without_nulls_is_its_buffer_uncopied():
    col = pa.array(np.arange(10.0)).slice(3, 5)
    got = as_numpy(col, np.float64)
    np.testing.assert_array_equal(got, [3, 4, 5, 6, 7])
    assert not got.flags.writeable  # a view of the column's memory, as to_numpy gives
    address = col.buffers()[1].address + col.offset * 8
    assert got.__array_interface__["data"][0] == address


def test_a_chunked_column_of_one_chunk_is_that_chunk():
    chunk = pa.array([1.0, 2.0])
    alone = one_array(pa.chunked_array([chunk]))
    assert alone.buffers()[1].address == chunk.buffers()[1].address  # not copied
    joined = one_array(pa.chunked_array([chunk, pa.array([3.0])]))
    assert joined.to_pylist() == [1.0, 2.0, 3.0]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["yes", "no", "maybe"]), max_size=60),
       st.lists(st.sampled_from(["yes", "no", "maybe"]), max_size=2, unique=True),
       st.integers(0, 5), st.booleans())
def test_label_codes_equal_is_in(labels, chosen, start, chunked):
    col = pa.array(labels, type=pa.string()).slice(start)
    if chunked and len(col) > 2:
        col = pa.chunked_array([col.slice(0, 2), col.slice(2)])
    expected = one_array(pc.is_in(col, value_set=pa.array(chosen, type=pa.string())))
    got = _one_where(col, chosen)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, np.asarray(expected.to_pylist(), dtype=np.float64))


@pytest.mark.parametrize("labels", [[0, 1, 1, 0], [True, False, True, True], [2.5, -1.0, 2.5]])
def test_label_codes_of_numbers_and_booleans(labels):
    col = pa.array(labels)
    np.testing.assert_array_equal(_one_where(col, [labels[0]]),
                                  [1.0 if v == labels[0] else 0.0 for v in labels])


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_streamed_run_never_loads_pandas_or_scipy(tmp_path, kind, cache_dir):
    """Without a scaler or a test report (which load scikit-learn), a streamed run of
    numeric columns reads, codes and trains without pandas and SciPy: their imports
    would cost every run a fifth of a second or more."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 3))
    table = pa.table({"a": X[:, 0], "b": X[:, 1], "c": pa.array(
        np.where(X[:, 2] > 1.5, None, X[:, 2])), "y": np.where(X[:, 0] > 0, "up", "down")})
    path = tmp_path / f"d.{kind}"
    if kind == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    for run in ("cold", "warm"):  # the cache written, then read
        out = tmp_path / run
        argv = ["train", "--data", str(path), "--target", "y", "--stream", "--scale", "none",
                "--test-size", "0", "--missing", "mean", "--epochs", "2", "--batch-size",
                "64", "--optimizer", "adam", "--kernel", "numpy", "--out", str(out),
                "--no-plots", "--quiet"]
        code = ("import sys; from neurona.face.cli import main; "
                f"code = main({argv!r}); "
                "print(code, 'pandas' in sys.modules, 'scipy' in sys.modules)")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.stdout.split() == ["0", "False", "False"], done.stderr
        assert json.loads((out / "config.json").read_text())["dataset"]["features"] == [
            "a", "b", "c"]
