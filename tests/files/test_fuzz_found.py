"""The inputs the fuzzer found (``tools/fuzz.py``), each kept as a case.

Each one made a reader raise something other than a one-line ``NeuronaError``
(a KeyError, TypeError, ValueError, OverflowError, a pyarrow or tokenizer
error, a traceback on stderr), named no file, or was accepted although no
neurona could have written it. Each is now refused at the boundary, in the
reader, with one line that names the file, or read correctly.
"""

import gzip
import io
import json
import shutil
import zipfile

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import fuzzing
import neurona
from neurona import NeuronClassifier
from neurona.core.trajectory import WeightTrajectory
from neurona.data import read_data
from neurona.errors import NeuronaError
from neurona.face import experiment, inference
from neurona.files.jsonfile import read_json


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return fuzzing.make_seeds(tmp_path_factory.mktemp("found"))


def _refused(call, path, match, error=NeuronaError):
    """``call()`` raises ``error`` matching ``match``, in one line naming ``path``."""
    with pytest.raises(error, match=match) as info:
        call()
    message = str(info.value)
    assert "\n" not in message and str(path) in message, message
    return message


def _write(path, content):
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _changed(path, dest, change):
    """The JSON file ``path`` with ``change(doc)`` applied, written to ``dest``."""
    doc = json.loads(path.read_text())
    change(doc)
    return _write(dest, json.dumps(doc))


# --- the JSON reader ------------------------------------------------------------------

@pytest.mark.parametrize("text,match", [
    # was ValueError: Exceeds the limit (4300 digits) for integer string conversion
    ('{"a": ' + "1" * 5000 + "}", "an integer of 5000 digits"),
    # was read as inf, which no neurona writes
    ("[1e999]", "the number 1e999 is beyond the range of a float"),
    # was read as a str that cannot be printed or written
    ('["\\ud800"]', "a string holds '\\\\ud800', which is no character"),
])
def test_json_that_no_neurona_writes(tmp_path, text, match):
    path = _write(tmp_path / "f.json", text)
    _refused(lambda: read_json(path, what="model file"), path, match)


# --- model and estimator files -----------------------------------------------------------

@pytest.mark.parametrize("field,value", [("activation", ["", 3, ""]), ("loss", {"": ""}),
                                         ("loss", [])])
def test_model_names_of_another_type(seeds, tmp_path, field, value):
    """Was TypeError: unhashable type (looked up in the table of names)."""
    path = _changed(seeds.runs["blobs"] / "model.json", tmp_path / "model.json",
                    lambda d: d.update({field: value}))
    _refused(lambda: neurona.load(path), path, f"{field} must be a name")
    _refused(lambda: NeuronClassifier.load(path), path, f"{field} must be a name")


def test_model_scaler_with_a_large_integer(seeds, tmp_path):
    """Was TypeError from np.isfinite on an int beyond 64 bits; it is a finite number."""
    def change(doc):
        doc["scaler"]["center"][0] = 10**20

    path = _changed(seeds.runs["file"] / "model.json", tmp_path / "model.json", change)
    assert neurona.load(path).scaler.center[0] == 1e20


# --- checkpoints, and resuming from them -------------------------------------------------

def _resume(seeds, path, name="minibatch"):
    settings = seeds.checkpoints[name][1]
    return neurona.train(neurona.Neuron([0.1, -0.2], 0.0), seeds.X, seeds.y, epochs=5,
                         resume=path, **settings)


@pytest.mark.parametrize("change,match", [
    # was TypeError: 'str' object is not a mapping (setting the generator's state)
    (lambda d: d.update(rng_initial="x"), "rng_initial must be a JSON object naming"),
    # was OverflowError: Python integer -1 out of bounds for uint64
    (lambda d: d["rng"]["state"].update(state=-1), "rng is not a state of NumPy's PCG64"),
    # was KeyError: 'state'
    (lambda d: d["rng"].pop("state"), "rng is not a state of NumPy's PCG64"),
    # was ValueError: state must be for a PCG64 RNG
    (lambda d: d["rng"].update(bit_generator="MT19937"), "rng is not a state of NumPy's MT19937"),
    (lambda d: d["rng"].update(bit_generator="__class__"), "unknown bit generator"),
    # were TypeError / ValueError from int()
    (lambda d: d.update(epoch={}), "epoch must be a non-negative integer"),
    (lambda d: d.update(batch=""), "batch must be a non-negative integer"),
    (lambda d: d.update(step=[3]), "step must be a non-negative integer"),
    (lambda d: d.update(step=-1), "step must be a non-negative integer"),
    # was TypeError: float() argument must be ... not 'dict'
    (lambda d: d["optimizer_state"][0].update(mu=[3, {"": 1}, 2]), "optimizer_state 'mu' must be"),
    # was ValueError: could not convert string to float
    (lambda d: d["optimizer_state"][0].update(mu=[""]), "optimizer_state 'mu' must be"),
    # was ValueError: dictionary update sequence element #0 has length 1
    (lambda d: d.update(history=["x"]), "history row 0 must be an object of finite numbers"),
    (lambda d: d.update(partial="x"), "partial must be null or an object"),
    # was TypeError: can only concatenate list (not "float") to list
    (lambda d: d["partial"].update(loss=[1.0]), "partial loss must be a finite number"),
    (lambda d: d["history"][0].update(epoch=5), "history row 0 has epoch 5"),
    (lambda d: d["history"].pop(), "1 history rows for 1 epochs done|0 history rows for 1"),
    (lambda d: d.update(partial=None), "batch is 2 but there are no partial sums"),
    (lambda d: d["partial"].update(batches=1), "partial holds 1 batches but batch is 2"),
    (lambda d: d.update(params=[]), "params must be a non-empty list of finite numbers"),
    (lambda d: d.update(callbacks=[]), "callbacks must be an object of JSON objects"),
    (lambda d: d["settings"].pop("resolved"), "settings resolved must be an object"),
])
def test_checkpoint_fields_of_the_wrong_type(seeds, tmp_path, change, match):
    path = _changed(seeds.checkpoints["minibatch"][0], tmp_path / "checkpoint.json", change)
    _refused(lambda: neurona.load_checkpoint(path), path, match)
    _refused(lambda: _resume(seeds, path), path, match)


@pytest.mark.parametrize("change,match", [
    # were shape errors deep in the optimizer or the epoch's sums
    (lambda d: d["optimizer_state"][0].update(mu=[3, 1, 3, 7]),
     "optimizer_state 'mu' must be a number or a list of 3 finite numbers"),
    (lambda d: d["partial"].update(grad=[1.0, 2.0]), "partial grad must be a list of 3"),
    # was KeyError: 'mu'
    (lambda d: d["optimizer_state"][0].pop("mu"), "optimizer_state does not fit the adam"),
    (lambda d: d["optimizer_state"].pop(), "optimizer_state does not fit the adam"),
    (lambda d: d["optimizer_state"][1].update(count=99), "must be the update count \\(6\\)"),
    # a message that named no file
    (lambda d: d["settings"].update(optimizer="gd"), "written with other settings"),
    # counts that do not follow from each other
    (lambda d: d.update(step=99), "step 99 does not follow from epoch 1 and batch 2"),
    (lambda d: d.update(batch=40) or d["partial"].update(batches=40),
     "batch 40 is past the last of the epoch's 4 batches"),
    (lambda d: d["settings"]["resolved"].update(decay_steps=1), "settings resolved"),
    # was ValueError: setting an array element with a sequence (inhomogeneous shape)
    (lambda d: d["callbacks"]["EarlyStopping"].update(best_weights=[[1], 2, 3]),
     "callbacks EarlyStopping: best_weights must be a list of finite numbers or null \\(of 3\\)"),
    (lambda d: d["callbacks"]["EarlyStopping"].update(wait="x"),
     "callbacks EarlyStopping: wait must be a non-negative integer"),
    (lambda d: d["callbacks"]["EarlyStopping"].pop("best"),
     "callbacks EarlyStopping: the state must be an object of best"),
])
def test_checkpoint_that_does_not_fit_the_run(seeds, tmp_path, change, match):
    path = _changed(seeds.checkpoints["minibatch"][0], tmp_path / "checkpoint.json", change)
    _refused(lambda: _resume(seeds, path), path, match)


def test_checkpoint_of_another_size(seeds, tmp_path):
    """The message named no file."""
    path = _changed(seeds.checkpoints["fullbatch"][0], tmp_path / "checkpoint.json",
                    lambda d: d.update(params=[1.0, 2.0]))
    _refused(lambda: _resume(seeds, path, "fullbatch"), path,
             "the checkpoint has 2 parameters, expected 3")


def test_the_valid_checkpoints_still_resume(seeds):
    for name in seeds.checkpoints:
        history = _resume(seeds, seeds.checkpoints[name][0], name)
        assert [row["epoch"] for row in history.rows][:2] == [0, 1]


def test_a_resumed_run_names_the_checkpoint_it_refuses(seeds, tmp_path):
    """`neurona train --resume RUN`: the message named no file."""
    run = tmp_path / "run"
    shutil.copytree(seeds.runs["file"], run)
    _changed(run / "checkpoint.json", run / "checkpoint.json",
             lambda d: d["settings"].update(optimizer="gd"))
    rc, _, err = fuzzing.run_command(["train", "--resume", str(run), "--epochs", "5", "--out",
                                      str(tmp_path / "more"), "--no-plots", "--quiet"])
    assert rc == 2 and err.count("\n") == 1
    assert f"{run / 'checkpoint.json'}: this checkpoint was written with other settings" in err


# --- history and weights files -----------------------------------------------------------

@pytest.mark.parametrize("text,match", [
    # was TypeError: float() argument must be ... not 'list' (a row longer than the header)
    ("epoch,loss\n0,1.5,7\n", "line 2: 3 values, expected 2"),
    # was ValueError: could not convert string to float: ''
    ("epoch,loss\n0,\n", "line 2: not a number in column 'loss'"),
    (",\n,\n", "line 1: column 1 has a blank name"),
    # was csv.Error: new-line character seen in unquoted field
    ("epoch,loss\n0,1\r6\n", "line 3: 1 values, expected 2"),
    ('epoch,loss\n0,"1"x\n', "not a CSV history file"),
    # were accepted: NaN, Python's own number syntax, epochs out of order
    ("epoch,loss\n0,nan\n", "line 2: history values must be finite"),
    ("epoch,loss\n0,1_0\n", "line 2: not a number in column 'loss': '1_0'"),
    ("epoch,loss\n0, 1\n", "line 2: not a number in column 'loss'"),
    ("epoch,loss\n1,0.5\n", "line 2: epoch 1 where epoch 0 was expected"),
    ("epoch,loss\n0,0.5\n0,0.4\n", "line 3: epoch 0 where epoch 1 was expected"),
    ("epoch,loss\n-1,0.5\n", "line 2: not an epoch number"),
    ("loss,epoch\n0.5,0\n", "does not start with epoch"),
    ("epoch,loss,loss\n0,1,2\n", "the column 'loss' appears twice"),
])
def test_bad_history_files(text, match):
    _refused(lambda: neurona.History.from_csv(text, "run/history.csv"), "run/history.csv",
             match)


def test_history_of_a_run_stopped_before_its_first_epoch():
    assert len(neurona.History.from_csv("\n", "h.csv")) == 0
    assert len(neurona.History.from_csv("epoch,loss\n", "h.csv")) == 0


@pytest.mark.parametrize("text,match", [
    # were read as 10.0, 1 and (with the epoch) out of order
    ("epoch,w[a],b\n0,1_0,2\n", "line 2: not a number in column 'w\\[a\\]'"),
    ("epoch,w[a],b\n\u0661,1,2\n", "line 2: not an epoch number"),
    ("epoch,w[a],b\n0,1,2\n2,1,2\n", "line 3: epoch 2 where epoch 1 was expected"),
    ("epoch,w[a],w[a],b\n0,1,2,3\n", "the column 'w\\[a\\]' appears twice"),
    ("epoch,w[],b\n0,1,2\n", "is not epoch,w\\[name\\],...,b"),
    # was csv.Error
    ("epoch,w[a],b\n0,1\r2,3\n", "line 2: 2 values, expected 3"),
    ('epoch,w[a],b\n0,"1"x,2\n', "not a CSV weights file"),
])
def test_bad_weights_files(text, match):
    _refused(lambda: WeightTrajectory.from_csv(text, "run/weights.csv"), "run/weights.csv",
             match)


def test_a_resumed_runs_weights_start_at_its_first_epoch():
    path = WeightTrajectory.from_csv("epoch,w[a],b\n3,1,2\n4,1,2\n", "w.csv")
    assert path.epoch.tolist() == [3, 4]


# --- a run directory read back -----------------------------------------------------------

def _run(seeds, tmp_path, name="blobs"):
    run = tmp_path / "run"
    shutil.copytree(seeds.runs[name], run)
    return run


def _config(run, change):
    _changed(run / "config.json", run / "config.json", change)


@pytest.mark.parametrize("name,change,match", [
    # was KeyError: 'dataset' (the default dataset then read, with other sizes)
    ("file", lambda d: d.pop("dataset"), "do not match the run"),
    # was ValueError: dictionary update sequence element #0 has length 1
    ("file", lambda d: d.update(dataset="n"), "dataset must be a JSON object"),
    # was TypeError: lookup() argument must be str, not list
    ("file", lambda d: d["dataset"].update(encoding=[""]), "dataset encoding must be a codec"),
    ("file", lambda d: d["dataset"].update(features=[[""]]), "dataset features must be"),
    # was ValueError: invalid literal for int() with base 10: ''
    ("file", lambda d: d["split"].update(random_state=""), "split random_state must be"),
    ("blobs", lambda d: d["split"].update(extra=1), "split has unknown setting"),
    # was AttributeError: 'str' object has no attribute 'items' (load_run)
    ("blobs", lambda d: d.update(split=""), "split must be a JSON object"),
    # was TypeError: unhashable type (a name looked up in its table)
    ("blobs", lambda d: d.update(schedule=[]), "config.json: Unknown schedule \\[\\]"),
    ("file", lambda d: d.update(loss={}), "config.json: Unknown loss \\{\\}"),
    # was KeyError: 'test_size'
    ("file", lambda d: d.update(split={}), "split must record test_size and random_state"),
    # messages that named no file
    ("blobs", lambda d: d.update(learning_rate="x"), "config.json: learning_rate must be"),
    ("blobs", lambda d: d["dataset"].update(cluster_std="x"), "cluster_std must be a positive"),
    ("blobs", lambda d: d["dataset"].update(random_state=-1), "random_state must be an integer"),
    ("blobs", lambda d: d.update(threshold="0.5"), "threshold must be a finite number"),
    ("blobs", lambda d: d.update(versions=[]), "versions must be an object"),
    ("blobs", lambda d: d.update(init_weights=[1.0, 2.0]), "records 2 initial weights"),
    # files that tell another story than config.json
    ("blobs", lambda d: d.update(epochs=4), "history.csv holds 3 epochs but config.json "
                                            "records a finished run of 4"),
    ("blobs", lambda d: d["dataset"].update(n_features=3), "config.json names 3 features"),
    ("file", lambda d: d.update(classes=["no", "maybe"]), "records the classes"),
    ("blobs", lambda d: d.update(stream=True), "a run on a built-in dataset was neither"),
])
def test_run_directory_config_refusals(seeds, tmp_path, name, change, match):
    run = _run(seeds, tmp_path, name)
    _config(run, change)
    _refused(lambda: experiment.load_result(run), run, match)
    rc, _, err = fuzzing.run_command(["report", str(run), "--no-animation", "--quiet"])
    assert rc == 2 and err.count("\n") == 1 and str(run) in err and "Traceback" not in err


def test_resuming_a_run_whose_config_and_checkpoint_disagree(seeds, tmp_path):
    """The message (from the starting weights' check) named no file."""
    run = _run(seeds, tmp_path)
    _config(run, lambda d: d.update(init_weights=[6, 4]))
    _refused(lambda: experiment.load_run(run), run, "records 2 initial weights .* but "
                                                   "checkpoint.json holds 3 parameters")


@pytest.mark.parametrize("change,match", [
    (lambda d: d["dataset"].update(path="gone.csv"), "gone.csv: no such file"),
    (lambda d: d["dataset"].update(target="yy"), "no target column 'yy'"),
    (lambda d: d["dataset"].update(features=["a", "c"]), "no feature column 'c'"),
])
def test_resuming_a_run_whose_data_is_gone(seeds, tmp_path, change, match):
    """The message named the data file only, not the run that names it."""
    run = _run(seeds, tmp_path, "file")
    _config(run, change)
    message = _refused(lambda: experiment.load_run(run), run, match)
    assert "the data config.json names cannot be read again" in message


def test_settings_of_another_type_are_refused_by_name():
    """Was TypeError: unhashable type, from the spec itself (the library's train too)."""
    for field, value in [("loss", {}), ("reduction", []), ("schedule", []), ("kernel", {}),
                         ("dtype", {"": ""}), ("dtype", [])]:
        with pytest.raises(NeuronaError, match=f"Unknown {field}"):
            neurona.TrainSpec(**{field: value})


def test_run_directory_config_with_a_huge_integer(seeds, tmp_path):
    run = _run(seeds, tmp_path)
    text = (run / "config.json").read_text().replace('"seed": 1', '"seed": ' + "1" * 5000)
    (run / "config.json").write_text(text)
    _refused(lambda: experiment.load_run(run), run / "config.json",
             "an integer of 5000 digits")


def test_run_directory_history_and_weights_that_disagree(seeds, tmp_path):
    run = _run(seeds, tmp_path)
    lines = (run / "weights.csv").read_text().splitlines(keepends=True)
    (run / "weights.csv").write_text("".join(lines[:-1]))
    _refused(lambda: experiment.load_result(run), run,
             "weights.csv ends at epoch 2 but history.csv holds 3 epochs")
    run = _run(seeds, tmp_path / "again")
    lines = (run / "history.csv").read_text().splitlines(keepends=True)
    (run / "history.csv").write_text("".join(lines[:-1]))
    _refused(lambda: experiment.load_result(run), run,
             "history.csv holds 2 epochs but config.json records a finished run of 3")


def test_run_directory_history_that_is_not_utf8(seeds, tmp_path):
    """Was a UnicodeDecodeError whose message named no file."""
    run = _run(seeds, tmp_path)
    (run / "history.csv").write_bytes(b"epoch,loss\n0,\x8a\n")
    _refused(lambda: experiment.load_result(run), run / "history.csv",
             r"not a text \(UTF-8\) file")


# --- data files --------------------------------------------------------------------------

def _npz(path, members: dict) -> object:
    with zipfile.ZipFile(path, "w") as z:
        for name, content in members.items():
            z.writestr(name, content)
    return path


def _npy_bytes(a) -> bytes:
    out = io.BytesIO()
    np.save(out, a)
    return out.getvalue()


@pytest.mark.parametrize("name,content,match", [
    # was zlib.error: Error -3 while decompressing data: invalid block type
    ("data.csv.gz", b"\x1f\x8b\x08\x00\x02\x03E\x95\x9fZ\x87", "not a valid gzip file"),
    # was tokenize.TokenError: EOF in multi-line statement (the header's dict cut short)
    ("data.npy", b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fo" + b"\x00" * 50 + b" " * 47 + b"\n",
     r"not a \.npy file neurona can read"),
])
def test_corrupt_data_files(tmp_path, name, content, match):
    path = _write(tmp_path / name, content)
    _refused(lambda: read_data(path, "y"), path, match)


def test_npz_members_that_are_not_arrays(tmp_path):
    # was AttributeError: 'bytes' object has no attribute 'ndim'
    path = _npz(tmp_path / "a.npz", {"a.npy": _npy_bytes(np.zeros(3)), "y": b"123"})
    _refused(lambda: read_data(path, "y"), path, "array 'y' of this .npz file")
    # was tokenize.TokenError
    broken = _npy_bytes(np.zeros(3))[:20] + b"\x00" * 100
    path = _npz(tmp_path / "b.npz", {"a.npy": broken})
    _refused(lambda: read_data(path, "y"), path, "array 'a' of this .npz file")


def test_npz_member_whose_header_claims_more_than_it_holds(tmp_path):
    """Reading it would first allocate what the header claims (here 8 TB)."""
    header = _npy_bytes(np.zeros(3)).replace(b"(3,)", b"(1000000000000,)")
    path = _npz(tmp_path / "big.npz", {"a.npy": header, "y.npy": _npy_bytes(np.zeros(3))})
    _refused(lambda: read_data(path, "y"), path, "its header claims 8000000000000 bytes")


def test_numpy_array_of_a_billion_columns(tmp_path):
    path = _write(tmp_path / "wide.npy", _npy_bytes(np.zeros((0, 3))).replace(
        b"(0, 3)", b"(0, 1000000000)"))
    _refused(lambda: read_data(path, "x0"), path, "an array of 1000000000 columns")


@pytest.mark.parametrize("metadata", [b"[]", b'{"columns": [{"field_name": {}}], '
                                             b'"index_columns": ["zz"]}',
                                      b'{"index_columns": 5}', b"[" * 100_000])
def test_parquet_pandas_metadata_of_another_shape(tmp_path, metadata):
    """Was AttributeError, TypeError or RecursionError; the metadata only names an index."""
    table = pa.table({"a": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    path = tmp_path / "d.parquet"
    pq.write_table(table.replace_schema_metadata({b"pandas": metadata}), path)
    assert read_data(path, "y").X[:, 0].tolist() == [1.0, 2.0, 3.0]


def test_numpy_columns_in_another_byte_order_or_half_floats(tmp_path):
    """Was pyarrow's ArrowNotImplementedError (byte-swapped arrays, no half-float kernel)."""
    a = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    for dtype in (">f8", "<f2"):
        path = tmp_path / f"d{dtype[1:]}.npy"
        np.save(path, a.astype(dtype))
        ds = read_data(path, "x1")
        assert ds.X[:, 0].tolist() == [1.0, 2.0, 3.0] and ds.y.tolist() == [0, 1, 0]


def test_evaluating_a_file_with_no_batches(seeds, tmp_path):
    """Was ValueError: need at least one array to concatenate."""
    path = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"a": pa.array([], pa.float64()), "b": pa.array([], pa.float64()),
                             "y": pa.array([], pa.string())}), path)
    model = neurona.load(seeds.runs["file"] / "model.json")
    _refused(lambda: inference.evaluate_file(model, path, "y"), path, "no data rows")


def test_a_bad_csv_row_that_is_not_utf8_is_one_line(seeds, tmp_path):
    """pyarrow printed a UnicodeDecodeError traceback to stderr before the error line."""
    path = _write(tmp_path / "d.csv", b"a,b,y\n1,2,no\n1,2,3,\xff\n")
    rc, out, err = fuzzing.run_command(["predict", "--model", str(seeds.runs["file"]),
                                        "--data", str(path), "--out",
                                        str(tmp_path / "p.csv")])
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert f"{path}, line 3: 4 field(s) where the header has 3" in err


def test_gzip_csv_whose_text_is_broken(tmp_path):
    path = _write(tmp_path / "d.csv.gz", gzip.compress(b"a,b,y\n1,2\n"))
    _refused(lambda: read_data(path, "y"), path, "2 field\\(s\\) where the header has 3")


@pytest.mark.parametrize("how", [[], ["--stream"]])
def test_a_column_too_large_to_scale_is_one_line(tmp_path, capsys, how):
    # was RuntimeWarning: overflow encountered in square, in the streamed scaler's
    # partial_fit (a mutated .npz whose feature held values near 1e308)
    from neurona.face.cli import main

    path = tmp_path / "big.npz"
    a = np.linspace(-1, 1, 40)
    a[7] = 1e300
    np.savez(path, a=a, b=np.linspace(0, 1, 40), y=np.arange(40) % 2)
    out = tmp_path / "r"
    assert main(["train", "--data", str(path), "--target", "y", "--scale", "standard",
                 "--out", str(out), "--no-plots", *how]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err, err
    assert "column 'a': values as large as 1e+300 cannot be scaled" in err
    assert not out.exists()
    # Unscaled, the same column is read (what training makes of it is the optimizer's).
    from neurona.data.filestream import FileStream

    assert FileStream(path, "y").scan().n_rows == 40


def test_a_historys_count_of_passes_is_read_back_as_a_whole_number():
    from neurona.core.callbacks import History

    history = History.from_csv("epoch,loss,passes\n0,0.5,1\n1,0.25,3\n")
    assert [r["passes"] for r in history.rows] == [1, 3]
    assert all(type(r["passes"]) is int for r in history.rows)
    with pytest.raises(NeuronaError, match=r"line 2: not a count .* column 'passes': '1.5'"):
        History.from_csv("epoch,loss,passes\n0,0.5,1.5\n")
