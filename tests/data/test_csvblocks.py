"""The CSV blocks parsed on every core are pyarrow's streaming reader's record batches."""

import gzip
import random

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from neurona.data import csvblocks, readers
from neurona.data.readers import DataFile
from neurona.errors import DataError, DataFileError


CELLS = ["x", "yy", '"q,z"', ""]


def _text(rng: random.Random) -> bytes:
    newline = rng.choice([b"\n", b"\n", b"\r\n", b"\r"])
    lines = [b"a,b,c"] + [
        f"{rng.random():.{rng.randint(1, 12)}f},{rng.randint(0, 10 ** rng.randint(1, 8))},"
        f"{rng.choice(CELLS)}".encode() for _ in range(rng.randint(1, 2500))]
    for _ in range(rng.choice([0, 0, 4])):  # blank lines, which pyarrow skips
        lines.insert(rng.randint(1, len(lines)), b"")
    if rng.random() < 0.2:
        lines.insert(0, b"")  # a blank line before the header
    data = newline.join(lines) + (newline if rng.random() < 0.8 else b"")
    return (b"\xef\xbb\xbf" + data) if rng.random() < 0.2 else data


def _streamed(path, block):
    types = {"a": pa.float64(), "b": pa.float64(), "c": pa.string()}
    reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=block),
                            parse_options=pacsv.ParseOptions(newlines_in_values=False),
                            convert_options=pacsv.ConvertOptions(
                                column_types=types, strings_can_be_null=True))
    return [b for b in (pa.Table.from_batches([batch]) for batch in reader) if b.num_rows]


@pytest.mark.parametrize("seed", range(60))
@pytest.mark.parametrize("headroom", [csvblocks.HEADROOM, 3])  # 3: most leftovers copied
def test_the_blocks_are_pyarrows_record_batches(tmp_path, monkeypatch, seed, headroom):
    monkeypatch.setattr(csvblocks, "HEADROOM", headroom)
    rng = random.Random(seed)
    data = _text(rng)
    block = rng.choice([256, 512, 1000, 4096])
    if seed % 7 == 0:  # a file of exactly some blocks: the last one is parsed whole
        data = data.rstrip(b"\r\n") + b"\n1,2,"
        data += b"z" * (-len(data) % block)
    gz = seed % 5 == 0
    path = tmp_path / ("d.csv.gz" if gz else "d.csv")
    path.write_bytes(gzip.compress(data) if gz else data)
    expected = _streamed(path, block)
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", block)
    got = [t for _, t in DataFile(path).batches(["a", "b", "c"], kinds={
        "a": "number", "b": "number", "c": "category"})]
    assert seed % 7 or len(data) % block == 0
    assert [t.num_rows for t in got] == [t.num_rows for t in expected]
    for mine, theirs in zip(got, expected):
        assert mine.equals(theirs.select(["a", "b", "c"]))


def test_a_row_longer_than_a_block_is_refused_as_pyarrow_refuses_it(tmp_path, monkeypatch):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n3," + "4" * 3000 + "\n5,6\n")
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 512)
    with pytest.raises(DataFileError, match="straddles two block boundaries"):
        list(DataFile(path).batches(["a", "b"]))


def test_blocks_are_parsed_by_several_threads_in_file_order(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a\n" + "".join(f"{i}\n" for i in range(20_000)))
    tables = list(csvblocks.parsed_blocks(
        path, gzipped=False, block_bytes=1024, column_names=["a"], read_options={},
        parse_options={}, convert_options=dict(column_types={"a": pa.int64()}), n_workers=4))
    assert len(tables) > 50
    assert pa.concat_tables(tables).column("a").to_pylist() == list(range(20_000))


def test_each_block_is_one_chunk_per_column(tmp_path, monkeypatch):
    path = tmp_path / "d.csv"  # blocks of 3 MiB: more than pyarrow.csv.read_csv's own
    path.write_text("a,b\n" + "".join(f"{i},{i % 7}\n" for i in range(1_000_000)))
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 3 << 20)
    tables = [t for _, t in DataFile(path).batches(["a", "b"], numeric=["a", "b"])]
    assert len(tables) > 2
    assert all(t.column(c).num_chunks == 1 for t in tables for c in ("a", "b"))


@pytest.mark.parametrize("bad", ["3\n", "3,x\n", "3,\"4\n", "\xff,3\n", "3,4,5\n"])
def test_a_bad_row_after_the_first_block_is_reported_as_pyarrows_reader_reports_it(
        tmp_path, monkeypatch, bad):
    path = tmp_path / "d.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 3000 + bad.encode("latin-1") + b"5,6\n" * 10)
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 1024)
    kinds = {"a": "number", "b": "number"}

    def message():
        with pytest.raises(DataError) as info:
            list(DataFile(path).batches(["a", "b"], kinds=kinds))
        return str(info.value)

    parallel = message()

    def streaming_only(*args, **kwargs):
        raise csvblocks.LongHeader()
        yield  # pragma: no cover

    monkeypatch.setattr(csvblocks, "parsed_blocks", streaming_only)
    assert parallel == message()
    assert str(path) in parallel and "\n" not in parallel
