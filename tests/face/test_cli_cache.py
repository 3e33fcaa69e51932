"""neurona train, report and cache with a streamed file's cache: the text parsed once, the
same run with or without the cache, a damaged cache rebuilt with a note, list and clean."""

import json
import os

import numpy as np
import pytest

from neurona.data import csvblocks, readers
from neurona.face.cli import main


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 3))
    y = (X @ [1.0, -0.5, 0.25] + 0.3 * rng.normal(size=3000) > 0)
    path = tmp_path / "d.csv"
    path.write_text("a,b,c,y\n" + "".join(
        f"{a!r},{b!r},{c!r},{'yes' if t else 'no'}\n" for (a, b, c), t in zip(X.tolist(), y)))
    return path


@pytest.fixture
def passes(monkeypatch):
    """Counts the passes over a CSV file's text: ``full`` reached the end of the file,
    ``blocks`` are all the blocks parsed."""
    count = {"full": 0, "blocks": 0}
    parse = csvblocks.parsed_blocks

    def counted(*args, **kwargs):
        for table in parse(*args, **kwargs):
            count["blocks"] += 1
            yield table
        count["full"] += 1

    monkeypatch.setattr(csvblocks, "parsed_blocks", counted)
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 16 << 10)  # the file is several blocks
    return count


def _train(data, out, *extra):
    return main(["train", "--data", str(data), "--target", "y", "--stream", "--epochs", "4",
                 "--batch-size", "32", "--optimizer", "adam", "--learning-rate", "0.05",
                 "--scale", "standard", "--out", str(out), "--no-animation", "--quiet",
                 *extra])


def _run_files(out):
    return {name: (out / name).read_text() for name in
            ("model.json", "history.csv", "report.txt", "weights.csv")}


def test_a_streamed_run_parses_its_text_once(tmp_path, data, passes, cache_dir):
    """Four epochs, a test split, the figures and the report: one pass over the text; a
    report drawn again, and a second run, read the cache only. (Each run reads the first
    block once more, to choose its task from the target's first rows.)"""
    n_blocks = len(list(readers.DataFile(data).batches(["y"])))
    passes.update(full=0, blocks=0)
    assert n_blocks > 5
    assert _train(data, tmp_path / "a") == 0
    assert (tmp_path / "a" / "report.html").is_file()  # the figures were drawn
    assert passes == {"full": 1, "blocks": n_blocks + 1}
    assert main(["report", str(tmp_path / "a"), "--no-animation", "--quiet"]) == 0
    assert passes == {"full": 1, "blocks": n_blocks + 1}
    assert _train(data, tmp_path / "b") == 0
    assert passes == {"full": 1, "blocks": n_blocks + 2}
    assert len(list(cache_dir.glob("*.ncache"))) == 1
    # Without the cache every pass reads the text: the scan, the epochs, the test rows.
    assert _train(data, tmp_path / "c", "--no-cache") == 0
    assert passes["full"] == 1 + 1 + 4 + 1


def test_the_cache_changes_no_number_of_a_run(tmp_path, data, capsys):
    assert _train(data, tmp_path / "written") == 0
    assert _train(data, tmp_path / "read") == 0
    assert _train(data, tmp_path / "text", "--no-cache") == 0
    assert _run_files(tmp_path / "written") == _run_files(tmp_path / "read") == \
        _run_files(tmp_path / "text")
    assert capsys.readouterr().err == ""


def test_no_cache_writes_none(tmp_path, data, cache_dir):
    assert _train(data, tmp_path / "r", "--no-cache") == 0
    assert list(cache_dir.iterdir()) == []
    assert main(["report", str(tmp_path / "r"), "--no-animation", "--quiet",
                 "--no-cache"]) == 0
    assert list(cache_dir.iterdir()) == []


def test_cache_dir_chooses_the_folder(tmp_path, data, cache_dir):
    folder = tmp_path / "mine"
    assert _train(data, tmp_path / "r", "--cache-dir", str(folder)) == 0
    assert len(list(folder.glob("*.ncache"))) == 1 and list(cache_dir.iterdir()) == []


def test_a_damaged_cache_is_rebuilt_with_a_one_line_note(tmp_path, data, capsys, cache_dir):
    assert _train(data, tmp_path / "a") == 0
    (cached,) = cache_dir.glob("*.ncache")
    cached.write_bytes(cached.read_bytes()[:-100])  # cut short
    assert main(["train", "--data", str(data), "--target", "y", "--stream", "--epochs", "4",
                 "--batch-size", "32", "--optimizer", "adam", "--learning-rate", "0.05",
                 "--scale", "standard", "--out", str(tmp_path / "b"), "--no-animation",
                 "--no-plots"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "damaged" in err and "rebuilt" in err
    assert str(cached) in err
    assert _run_files(tmp_path / "a") == _run_files(tmp_path / "b")
    assert _train(data, tmp_path / "c") == 0  # the rebuilt cache is read: no note
    assert capsys.readouterr().err == ""


def test_a_resumed_run_may_choose_its_cache(tmp_path, data, cache_dir):
    assert _train(data, tmp_path / "a", "--checkpoint-every", "1") == 0
    assert main(["train", "--resume", str(tmp_path / "a"), "--epochs", "6", "--out",
                 str(tmp_path / "b"), "--no-plots", "--quiet", "--no-cache"]) == 0
    assert main(["train", "--resume", str(tmp_path / "a"), "--epochs", "6", "--out",
                 str(tmp_path / "c"), "--no-plots", "--quiet"]) == 0
    assert (tmp_path / "b" / "model.json").read_text() == \
        (tmp_path / "c" / "model.json").read_text()


def test_the_cache_command_lists_and_cleans(tmp_path, data, capsys, cache_dir):
    assert main(["cache", "list"]) == 0
    assert "no cache in" in capsys.readouterr().out
    assert _train(data, tmp_path / "a") == 0
    other = tmp_path / "e.csv"
    other.write_text(data.read_text())
    assert _train(other, tmp_path / "b") == 0
    os.utime(other, ns=(0, 10**9))  # changed since: its cache is stale
    capsys.readouterr()
    assert main(["cache", "list"]) == 0
    out = capsys.readouterr().out
    assert f"{cache_dir}: 2 file(s)" in out
    assert "current" in out and f"rows of {data}" in out
    assert "stale" in out and f"rows of {other}" in out
    assert main(["cache", "clean", "--stale"]) == 0
    assert "removed 1 file(s)" in capsys.readouterr().out
    assert len(list(cache_dir.glob("*.ncache"))) == 1
    assert main(["cache", "clean", "--cache-dir", str(cache_dir)]) == 0
    assert "removed 1 file(s)" in capsys.readouterr().out
    assert list(cache_dir.iterdir()) == []


def test_the_cache_records_what_the_run_read(tmp_path, data, cache_dir):
    from neurona.data.cache import CachedRows

    assert _train(data, tmp_path / "a", "--dtype", "float32") == 0
    (cached,) = cache_dir.glob("*.ncache")
    header = CachedRows(cached).header
    assert header["dtype"] == "float32" and header["options"]["target"] == "y"
    assert header["source"]["path"] == str(data.resolve())
    assert header["meta"]["n_read"] == 3000
    assert json.loads((tmp_path / "a" / "config.json").read_text())["dtype"] == "float32"
