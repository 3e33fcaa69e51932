"""A streamed file's parsed rows, cached: the same numbers as the text, reused only while
the file is unchanged, a damaged cache rebuilt, none without a cache."""

import errno
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import neurona
from neurona.data import cache, readers
from neurona.data.encoding import ColumnRules
from neurona.data.filestream import FileStream
from neurona.engines import stream
from neurona.engines.stream import StreamEngine


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 8192)
    monkeypatch.setattr(readers, "BATCH_ROWS", 211)


def _rows(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc=[1.0, -2.0, 50.0], scale=[1.0, 3.0, 10.0], size=(n, 3))
    y = ((X - X.mean(axis=0)) @ [1.0, -0.5, 0.05] + rng.normal(size=n) > 0).astype(int)
    return X, y


def _write(path, X, y, colour=False):
    names = ["f0", "f1", "f2"]
    if path.suffix == ".parquet":
        columns = {n: X[:, j] for j, n in enumerate(names)}
        if colour:
            columns["c"] = np.array(["red", "green", "blue"])[np.arange(len(y)) % 3]
        pq.write_table(pa.table({**columns, "y": np.where(y == 1, "yes", "no")}), path,
                       row_group_size=300)
        return path
    head = ",".join(names + (["c"] if colour else []) + ["y"])
    lines = []
    for k, (row, t) in enumerate(zip(X, y)):
        cells = [repr(float(v)) for v in row]
        if colour:  # a text column, with a missing cell now and then
            cells.append("" if k % 13 == 0 else ["red", "green", "blue"][k % 3])
        lines.append(",".join(cells + ["yes" if t else "no"]))
    path.write_text(head + "\n" + "\n".join(lines) + "\n")
    return path


SETTINGS = dict(epochs=4, batch_size=64, optimizer="adam", learning_rate=0.05,
                reduction="mean", random_state=3, validation_fraction=0.2)


def _stream(path, folder, dtype="float64", **kw):
    return FileStream(path, "y", test_size=0.3, dtype=dtype, cache=folder, **kw).scan(
        "standard")


def _trained(fs, **settings):
    neuron = neurona.Neuron.random(len(fs.feature_names), 1)
    trainer = neurona.Trainer(neuron, StreamEngine(fs.part("train"), shuffle_buffer=300),
                              **{**SETTINGS, "dtype": fs.dtype.name, **settings})
    trainer.run()
    neuron.scaler = fs.scaler
    confusion, sample = stream.test_pass(neuron, fs)
    return trainer.params, trainer.history.rows, confusion, sample


def _same(a, b):
    params_a, rows_a, confusion_a, sample_a = a
    params_b, rows_b, confusion_b, sample_b = b
    np.testing.assert_array_equal(params_a, params_b)
    assert rows_a == rows_b
    np.testing.assert_array_equal(confusion_a, confusion_b)
    for u, v in zip(sample_a, sample_b):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("colour", [False, True])
def test_cached_passes_train_the_weights_of_the_text_bit_for_bit(tmp_path, small_batches,
                                                                 suffix, dtype, colour):
    path = _write(tmp_path / f"d{suffix}", *_rows(), colour=colour)
    rules = ColumnRules(missing="most_frequent") if colour else None
    folder = tmp_path / "cache"
    written = _stream(path, folder, dtype, rules=rules)
    read = _stream(path, folder, dtype, rules=rules)
    text = _stream(path, False, dtype, rules=rules)
    assert (written.cache_state, read.cache_state, text.cache_state) == (
        "written", "read", "off")
    assert written.cache_file == read.cache_file and written.cache_file.parent == folder
    assert read.feature_names == text.feature_names
    assert (read.n_train, read.n_test, read.classes) == (text.n_train, text.n_test,
                                                         text.classes)
    np.testing.assert_array_equal(read.scaler.scale, text.scaler.scale)
    assert next(iter(read.part("train")))[0].dtype == dtype
    for settings in ({}, dict(batch_size=None, optimizer="gd", learning_rate=0.5)):
        reference = _trained(text, **settings)
        _same(_trained(written, **settings), reference)
        _same(_trained(read, **settings), reference)
    assert not written.notes and not read.notes


def test_a_regression_and_rows_left_out_are_cached_alike(tmp_path, small_batches):
    X, _ = _rows()
    text = "a,b,t\n" + "".join(
        f"{'' if k % 17 == 0 else repr(float(a))},{float(b)!r},{float(a * 2 - b + c)!r}\n"
        for k, (a, b, c) in enumerate(X))
    path = tmp_path / "r.csv"
    path.write_text(text)
    kw = dict(task="regress", rules=ColumnRules(missing="drop"), test_size=0.2)
    streams = [FileStream(path, "t", cache=folder, **kw).scan("standard",
                                                              scale_target="standard")
               for folder in (tmp_path / "c", tmp_path / "c", False)]
    assert [s.cache_state for s in streams] == ["written", "read", "off"]
    for s in streams:
        np.testing.assert_array_equal(s.dropped, streams[2].dropped)
        assert s.n_read == 2000 and len(s.dropped) == len(range(0, 2000, 17))
        assert s.target_scaler.center[0] == streams[2].target_scaler.center[0]
    passes = [[(X.copy(), y.copy(), r.copy()) for X, y, r in s.part("train").with_rows()]
              for s in streams]
    for mine in passes[:2]:
        for (Xa, ya, ra), (Xb, yb, rb) in zip(mine, passes[2]):
            np.testing.assert_array_equal(Xa, Xb)
            np.testing.assert_array_equal(ya, yb)
            np.testing.assert_array_equal(ra, rb)


def test_a_model_reads_the_cache_of_its_training_run(tmp_path):
    """A report's stream knows the classes and the encoding: the training run's cache fits."""
    path = _write(tmp_path / "d.csv", *_rows(), colour=True)
    folder = tmp_path / "cache"
    trained = _stream(path, folder, rules=ColumnRules(missing="most_frequent"))
    again = FileStream(path, "y", test_size=0.3, cache=folder, classes=trained.classes,
                       rules=ColumnRules(missing="most_frequent"),
                       column_encoding=trained.encoding).scan()
    assert again.cache_state == "read"
    labels = [y for _, y in again.part("all")]
    assert sorted(set(np.concatenate(labels))) == [0.0, 1.0]
    np.testing.assert_array_equal(np.concatenate(labels), np.concatenate(
        [y for _, y in _stream(path, False, rules=ColumnRules(missing="most_frequent")).part(
            "all")]))
    # Another split learns another encoding: the cache does not fit, and is rebuilt.
    other = FileStream(path, "y", test_size=0.5, cache=folder,
                       rules=ColumnRules(missing="most_frequent")).scan()
    assert other.cache_state == "written"


@pytest.mark.parametrize("change", ["content", "size", "mtime"])
def test_a_changed_file_is_never_read_from_its_old_cache(tmp_path, change):
    X, y = _rows(600)
    path = _write(tmp_path / "d.csv", X, y)
    folder = tmp_path / "cache"
    before = _stream(path, folder)
    st = path.stat()
    if change == "content":  # a digit changed: the same size, the modification time put back
        text = path.read_bytes()
        j = text.index(b",", text.index(b"\n")) - 1  # the last digit of the first cell
        path.write_bytes(text[:j] + (b"1" if text[j:j + 1] != b"1" else b"2") + text[j + 1:])
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    elif change == "size":
        _write(path, X[:500], y[:500])
    else:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    after = _stream(path, folder)
    assert after.cache_state == "written" and after.cache_file == before.cache_file
    fresh = _stream(path, False)
    assert (after.n_train, after.n_test) == (fresh.n_train, fresh.n_test)
    for (Xa, ya), (Xb, yb) in zip(after.part("all"), fresh.part("all")):
        np.testing.assert_array_equal(Xa, Xb)
        np.testing.assert_array_equal(ya, yb)
    assert _stream(path, folder).cache_state == "read"  # the new cache is the file's


def _damage(path, how):
    data = bytearray(path.read_bytes())
    if how == "truncated":
        data = data[:len(data) // 2]
    elif how == "a block changed":
        data[cache.ALIGN + 8] ^= 0x40
    elif how == "the header changed":
        data[-60] ^= 0x01
    elif how == "not a cache":
        data = bytearray(b"hello, world\n" * 10)
    elif how == "empty":
        data = bytearray()
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "a block changed", "the header changed",
                                 "not a cache", "empty"])
def test_a_damaged_cache_is_found_and_rebuilt_with_a_note(tmp_path, how):
    path = _write(tmp_path / "d.csv", *_rows(800))
    folder = tmp_path / "cache"
    first = _stream(path, folder)
    reference = _trained(first)
    _damage(first.cache_file, how)
    again = _stream(path, folder)
    assert again.cache_state == "written"
    assert len(again.notes) == 1 and "damaged" in again.notes[0]
    assert str(first.cache_file) in again.notes[0] and "\n" not in again.notes[0]
    _same(_trained(again), reference)
    assert _stream(path, folder).cache_state == "read"  # rebuilt whole


def test_no_cache_writes_nothing(tmp_path, cache_dir):
    path = _write(tmp_path / "d.csv", *_rows(300))
    fs = FileStream(path, "y", cache=False).scan()
    assert fs.cache_state == "off" and fs.cache_file is None
    assert list(cache_dir.iterdir()) == []
    assert FileStream(path, "y").scan().cache_file.parent == cache_dir  # the default folder


def test_an_unwritable_cache_folder_is_a_note_and_the_text_is_read(tmp_path):
    path = _write(tmp_path / "d.csv", *_rows(300))
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    fs = FileStream(path, "y", cache=blocker / "cache").scan()
    assert fs.cache_state == "unwritten" and fs.cache_file is None
    assert len(fs.notes) == 1 and "cannot write the cache" in fs.notes[0]
    assert sum(len(y) for _, y in fs.part("train")) == 300


def test_a_cache_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    """A scan stopped on the way (a bad row, Ctrl-C) leaves no cache and no temporary file."""
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n" + "1,2,0\n" * 2000 + "1,x,1\n")
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 4096)
    with pytest.raises(neurona.NeuronaError, match="'x' is not a number, but the column"):
        FileStream(path, "y", cache=tmp_path / "cache").scan()
    assert list((tmp_path / "cache").iterdir()) == []


@pytest.mark.parametrize("system", ["reserves", "cannot reserve", "has no fallocate"])
def test_a_cache_reserved_ahead_keeps_only_its_rows(tmp_path, small_batches, monkeypatch,
                                                   system):
    """Room is reserved a few KiB at a time (here) ahead of the writes, and what was not
    used is cut off at the end: the file is its bytes and no more, and reads back the same,
    whether or not the file system can reserve."""
    path = _write(tmp_path / "d.csv", *_rows(900))
    reference = _trained(_stream(path, False))
    monkeypatch.setattr(cache, "RESERVE", 4096)
    calls = []

    def fallocate(fd, offset, size):
        calls.append((offset, size))
        if system == "cannot reserve":
            raise OSError(errno.EOPNOTSUPP, "Operation not supported")
        return real(fd, offset, size)

    real = os.posix_fallocate
    if system == "has no fallocate":
        monkeypatch.delattr(os, "posix_fallocate")
    else:
        monkeypatch.setattr(os, "posix_fallocate", fallocate)
    fs = _stream(path, tmp_path / "cache")
    assert fs.cache_state == "written" and fs.notes == []
    data = fs.cache_file.read_bytes()
    assert data.endswith(cache.END) and data.startswith(cache.MAGIC)
    header = int.from_bytes(data[-len(cache.END) - 8:-len(cache.END)], "little")
    blocks = json.loads(data[-cache._TAIL - header:-cache._TAIL])["blocks"]
    assert blocks[-1][0] < len(data) - cache._TAIL - header  # the header follows the rows
    if system == "reserves":
        assert len(calls) > 2 and calls[0][0] == 0
        assert all(b[0] == a[0] + a[1] for a, b in zip(calls, calls[1:]))  # end to end
    elif system == "cannot reserve":
        assert len(calls) == 1  # tried once, then written as it comes
    _same(_trained(_stream(path, tmp_path / "cache")), reference)


def test_a_disk_too_full_to_reserve_is_a_note(tmp_path, monkeypatch):
    path = _write(tmp_path / "d.csv", *_rows(300))

    def full(fd, offset, size):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full, raising=False)
    fs = _stream(path, tmp_path / "cache")
    assert fs.cache_state == "unwritten" and "No space left on device" in fs.notes[0]
    assert list((tmp_path / "cache").iterdir()) == []


def test_the_folder_lists_its_caches_and_cleans_them(tmp_path):
    folder = tmp_path / "cache"
    kept, changed, gone = (_write(tmp_path / f"{n}.csv", *_rows(200)) for n in "abc")
    for p in (kept, changed, gone):
        _stream(p, folder)
    os.utime(changed, ns=(0, 10**9))
    gone.unlink()
    dead = cache.temp_path(folder / "x.ncache").name.split(".")
    dead[-3] = str(2**22 + 12345)  # a process id that no process has
    (folder / ".".join(dead)).write_bytes(b"partial")
    (folder / "broken.ncache").write_bytes(b"broken")
    named = {os.path.basename(e.source): e.state for e in cache.entries(folder) if e.source}
    assert named == {"a.csv": "current", "b.csv": "stale", "c.csv": "orphaned"}
    assert sorted(e.state for e in cache.entries(folder)) == [
        "current", "damaged", "orphaned", "stale", "unfinished"]
    removed = cache.clean(folder, stale_only=True)
    assert sorted(e.state for e in removed) == ["damaged", "orphaned", "stale", "unfinished"]
    assert [e.state for e in cache.entries(folder)] == ["current"]
    assert [e.state for e in cache.clean(folder)] == ["current"]
    assert list(folder.iterdir()) == []


def test_a_stream_read_from_its_cache_reads_only_the_files_header(tmp_path, monkeypatch):
    """The columns' kinds come from the cache's encoding: the text's first block is not
    parsed for them again."""
    path = _write(tmp_path / "d.csv", *_rows(500), colour=True)
    rules = ColumnRules(missing="most_frequent")
    _stream(path, tmp_path / "cache", rules=rules)
    calls = []
    real = readers.DataFile.column_kinds
    monkeypatch.setattr(readers.DataFile, "column_kinds",
                        lambda self, columns: calls.append(columns) or real(self, columns))
    again = _stream(path, tmp_path / "cache", rules=rules)
    assert again.cache_state == "read" and calls == []
    assert _stream(path, False, rules=rules).feature_names == again.feature_names
    assert calls  # without the cache the kinds are read


@pytest.mark.parametrize("where", ["cache", "writing thread", "spill"])
def test_a_full_disk_is_a_note_and_the_run_reads_the_text(tmp_path, small_batches,
                                                          monkeypatch, where):
    from neurona.data import filestream

    path = _write(tmp_path / "d.csv", *_rows(900), colour=True)
    rules = ColumnRules(missing="most_frequent")
    reference = _trained(_stream(path, False, rules=rules))

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if where == "cache":
        monkeypatch.setattr(cache.CacheWriter, "add", full)
    elif where == "writing thread":  # the disk fills up under the third block's write
        put, calls = cache._put, []

        def put_until_full(*args):
            calls.append(1)
            return full() if len(calls) > 3 else put(*args)

        monkeypatch.setattr(cache, "_put", put_until_full)
    else:
        monkeypatch.setattr(filestream._Spill, "keeping", lambda self, tables: full())
    fs = _stream(path, tmp_path / "cache", rules=rules)
    assert fs.cache_state == "unwritten" and fs.cache_file is None
    assert len(fs.notes) == 1 and "No space left on device" in fs.notes[0]
    assert list((tmp_path / "cache").iterdir()) == []
    _same(_trained(fs), reference)
