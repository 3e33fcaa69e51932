"""Parse once: a streamed run's passes over its text, its wall time and its mini-batch steps.

Generates a CSV file of ``--rows`` rows and ``--features`` features and measures:

1. **The parse**: pyarrow's streaming reader (``open_csv``, typed, 4 MiB blocks, one
   block after the other: how neurona parsed before), neurona's reader (the same
   blocks parsed by a pool of threads, :mod:`neurona.data.csvblocks`), and
   ``pyarrow.csv.read_csv`` (typed, multi-threaded, the whole file in memory) for
   reference; and a pass over the cache of the parsed rows.
2. **A streamed run** (``neurona train --stream``, mini-batches, a 30% test split,
   ``--no-plots``), each in a child process: with ``--no-cache`` (the text parsed in
   every pass, as before the cache), with the cache written by the run (cold), and
   with the cache of an earlier run (warm). The passes over the text are counted,
   and the child's peak memory measured (``ru_maxrss``).
3. **A streamed mini-batch step** (batch 32, Adam): the time per step of an epoch
   read from the cache, its runs compiled (Numba) or NumPy steps, against the
   in-memory compiled epoch on the same rows (the arithmetic alone); and the
   shuffle buffer alone, before (its plain scheme: concatenations and gathers of
   the whole buffer) and now.

The table goes to stdout, under ``## Parse once`` in ``docs/performance.md``, and to
``docs/stream_cache_benchmark.json``.

    python benchmarks/stream_cache.py                     # 300,000 rows, 20 features
    python benchmarks/stream_cache.py --rows 4000000      # 4M x 20, about 760 MB
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHUNK_ROWS = 200_000

#: The child that trains: counts the passes over the text, prints them and the wall time.
CHILD = """
import json, sys, time
from neurona.data import csvblocks
from neurona.face.cli import main
from performance_doc import put_section  # noqa: E402 (benchmarks/)
passes = {"full": 0}
parse = csvblocks.parsed_blocks
def counted(*args, **kwargs):
    yield from parse(*args, **kwargs)
    passes["full"] += 1
csvblocks.parsed_blocks = counted
start = time.perf_counter()
status = main(sys.argv[1:])
print(json.dumps({"status": status, "wall": time.perf_counter() - start, **passes}))
"""


def generate(path: Path, rows: int, features: int, seed: int = 0) -> None:
    """A CSV of ``rows`` rows: ``features`` numbers with 6 decimals and a 0/1 target."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    w = rng.normal(size=features)
    writer = None
    with open(path, "wb") as sink:
        for start in range(0, rows, CHUNK_ROWS):
            n = min(CHUNK_ROWS, rows - start)
            X = rng.normal(size=(n, features))
            y = (X @ w + rng.normal(size=n) > 0).astype(np.int8)
            table = pa.table({**{f"f{j}": np.round(X[:, j], 6) for j in range(features)},
                              "y": y})
            if writer is None:
                writer = pacsv.CSVWriter(sink, table.schema)
            writer.write_table(table)
        writer.close()


def best(f, repeat: int) -> float:
    """The best wall time of ``repeat`` calls of ``f`` (the others waited on other jobs)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def parse_times(path: Path, features: int, repeat: int, cache_dir: Path) -> dict:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from neurona.data import readers
    from neurona.data.filestream import FileStream

    names = [f"f{j}" for j in range(features)] + ["y"]
    types = {n: pa.float64() for n in names}

    def streaming_reader():
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(
            block_size=readers.CSV_BLOCK_BYTES), parse_options=pacsv.ParseOptions(
            newlines_in_values=False), convert_options=pacsv.ConvertOptions(
            include_columns=names, column_types=types, strings_can_be_null=True))
        for _ in reader:
            pass

    def neurona_reader():
        for _ in readers.DataFile(path).batches(names, numeric=names):
            pass

    def read_csv():
        pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))

    fs = FileStream(path, "y", cache=cache_dir).scan()  # the cache of the parsed rows

    def cache_pass():
        for _ in fs.part("all", scaled=False).with_rows():
            pass

    import pyarrow.parquet as pq

    from neurona.data.table import TableReading

    parquet = path.with_suffix(".parquet")
    pq.write_table(read_csv_table(path, types), parquet)
    data = readers.DataFile(parquet)
    tables = list(data.batches(names))
    reading = TableReading(data, "y", names[:-1])

    def parquet_read():
        for _ in data.batches(names):
            pass

    def parquet_features():
        for row0, table in tables:
            reading.encode(table, row0)

    return {"streaming reader (before)": best(streaming_reader, repeat),
            "neurona's reader (now)": best(neurona_reader, repeat),
            "pyarrow.csv.read_csv (whole file)": best(read_csv, repeat),
            "a pass over the cache": best(cache_pass, repeat),
            "Parquet, its record batches read": best(parquet_read, repeat),
            "Parquet, those batches made features (copy, checks)": best(parquet_features,
                                                                       repeat)}


def read_csv_table(path: Path, types: dict):
    import pyarrow.csv as pacsv

    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))


def run(path: Path, work: Path, epochs: int, batch: int, extra: list[str],
        cache_dir: Path) -> dict:
    """``neurona train --stream`` in a child process: wall time, text passes, peak RSS."""
    out = work / "run"
    shutil.rmtree(out, ignore_errors=True)
    argv = ["train", "--data", str(path), "--target", "y", "--stream", "--epochs", str(epochs),
            "--batch-size", str(batch), "--optimizer", "adam", "--learning-rate", "0.01",
            "--scale", "standard", "--test-size", "0.3", "--out", str(out), "--no-plots",
            "--quiet", "--task", "classify", *extra]
    env = dict(os.environ, MPLBACKEND="Agg", NEURONA_CACHE_DIR=str(cache_dir),
               PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    child = subprocess.Popen([sys.executable, "-c", CHILD, *argv], env=env,
                             stdout=subprocess.PIPE, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"training failed: {' '.join(argv)}")
    result = json.loads(output.strip().splitlines()[-1])
    shutil.rmtree(out, ignore_errors=True)
    return {"wall_s": result["wall"], "text_passes": result["full"],
            "peak_rss_mib": usage.ru_maxrss / 1024}


def plain_shuffle_buffer(batches, batch_size, buffer_rows, rng):
    """The shuffle buffer as it was written before: the buffer concatenated with each batch,
    the rows that stay gathered into a new buffer, the rows that leave concatenated."""
    pool, out, pending = None, [], 0

    def drain(final):
        nonlocal out, pending
        parts = [np.concatenate(col) for col in zip(*out)]
        n = len(parts[0])
        stop = n if final else n - n % batch_size
        for i in range(0, stop, batch_size):
            yield tuple(p[i:i + batch_size] for p in parts)
        out, pending = [[p[stop:] for p in parts]], n - stop

    for batch in batches:
        pool = list(batch) if pool is None else [np.concatenate([a, b])
                                                 for a, b in zip(pool, batch)]
        n = len(pool[0])
        if n <= buffer_rows:
            continue
        perm = rng.permutation(n)
        out.append([p[perm[:n - buffer_rows]] for p in pool])
        pending += n - buffer_rows
        pool = [p[perm[n - buffer_rows:]] for p in pool]
        if pending >= batch_size:
            yield from drain(False)
    if pool is not None and len(pool[0]):
        perm = rng.permutation(len(pool[0]))
        out.append([p[perm] for p in pool])
        pending += len(perm)
    if pending:
        yield from drain(True)


def step_times(path: Path, batch: int, repeat: int, cache_dir: Path) -> dict:
    """Microseconds per mini-batch step of one epoch (the best of ``repeat``)."""
    import neurona
    from neurona.data.filestream import FileStream
    from neurona.engines import kernels, stream
    from neurona.engines.memory import MemoryEngine
    from neurona.engines.stream import StreamEngine

    fs = FileStream(path, "y", cache=cache_dir).scan("standard")
    source = fs.part("train")
    X = np.concatenate([x for x, _ in source])
    y = np.concatenate([t for _, t in source])
    steps = -(-len(y) // batch)
    out = {"steps per epoch": steps}
    settings = dict(epochs=1, batch_size=batch, optimizer="adam", learning_rate=0.01,
                    random_state=1)

    def epoch(engine):
        return lambda: neurona.train(neurona.Neuron.random(X.shape[1], 0), engine, **settings)

    epoch(StreamEngine(source))()  # compiles the kernels once (cached on disk after)
    kernel = "numba" if kernels.numba_available() else "numpy"
    out["streamed, runs compiled (now)"] = best(
        epoch(StreamEngine(source, kernel=kernel)), repeat) / steps * 1e6
    if kernel == "numba":  # the time outside the compiled steps, in one and the same epoch
        from neurona.engines import _fused

        inside, compiled = [0.0], _fused.minibatch_epoch

        def timed(*args):
            start = time.perf_counter()
            try:
                return compiled(*args)
            finally:
                inside[0] += time.perf_counter() - start

        _fused.minibatch_epoch = timed
        try:
            overheads = []
            for _ in range(repeat):
                inside[0] = 0.0
                start = time.perf_counter()
                epoch(StreamEngine(source, kernel=kernel))()
                overheads.append(time.perf_counter() - start - inside[0])
        finally:
            _fused.minibatch_epoch = compiled
        out["streamed, outside the compiled steps (the overhead)"] = \
            min(overheads) / steps * 1e6
    out["streamed, NumPy steps"] = best(
        epoch(StreamEngine(source, kernel="numpy")), repeat) / steps * 1e6
    memory = MemoryEngine(X, y, kernel=kernel)
    out["in memory, compiled epoch (the arithmetic)"] = best(epoch(memory), repeat) / steps * 1e6
    batches = [(x, t) for x, t in source]

    def shuffle(function, **kw):
        return lambda: sum(1 for _ in function(batches, batch, stream.SHUFFLE_BUFFER,
                                               np.random.default_rng(1), **kw))

    out["shuffle buffer alone, before"] = best(shuffle(plain_shuffle_buffer), repeat) / steps * 1e6
    out["shuffle buffer alone, now"] = best(
        shuffle(stream.shuffled_chunks, compiled=kernels.numba_available()), repeat) / steps * 1e6
    return out


def write_section(doc: Path, section: str, heading: str = "## Parse once") -> None:
    """Put ``section`` under its heading in ``doc``, keeping the other sections."""
    put_section(section, heading, doc)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000, help="rows of the file")
    parser.add_argument("--features", type=int, default=20, help="feature columns")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of each run")
    parser.add_argument("--batch-size", type=int, default=32, help="rows per mini-batch")
    parser.add_argument("--repeat", type=int, default=3, help="timings kept: the best of")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the file")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--json", type=Path, default=ROOT / "docs" /
                        "stream_cache_benchmark.json")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))

    import pyarrow

    from neurona.data import csvblocks

    work = Path(tempfile.mkdtemp(prefix="neurona-cache-bench-", dir=args.dir))
    load_before = os.getloadavg()[0]
    try:
        path = work / "data.csv"
        generate(path, args.rows, args.features)
        size = path.stat().st_size
        print(f"wrote {path.name}: {args.rows:,} rows, {size / 1e6:.0f} MB", file=sys.stderr)
        parse = parse_times(path, args.features, args.repeat, work / "parse-cache")
        print(f"parse: {parse}", file=sys.stderr)
        runs = {}
        cache = work / "cache"
        for name, extra in (("--no-cache (text every pass)", ["--no-cache"]),
                            ("cache written by the run", []),
                            ("cache of an earlier run", [])):
            runs[name] = run(path, work, args.epochs, args.batch_size, extra, cache)
            print(f"{name}: {runs[name]}", file=sys.stderr)
        steps = step_times(path, args.batch_size, args.repeat, work / "step-cache")
        print(f"steps: {steps}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    machine = (f"{os.cpu_count()} CPUs ({csvblocks.workers()} parsing threads), Python "
               f"{platform.python_version()}, pyarrow {pyarrow.__version__}, "
               f"{platform.platform()}; {time.strftime('%Y-%m-%d')}; load average "
               f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    record = {"rows": args.rows, "features": args.features, "file_bytes": size,
              "epochs": args.epochs, "batch_size": args.batch_size, "parse_s": parse,
              "runs": runs, "step_us": steps, "machine": machine}
    args.json.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n")

    mb = size / 1e6
    lines = [
        "## Parse once",
        "",
        f"`python benchmarks/stream_cache.py --rows {args.rows}` (a CSV of {args.rows:,} rows "
        f"x {args.features} features, {mb:.0f} MB; `--rows 4000000` makes a 4M x 20 file of "
        f"about 760 MB). "
        f"A streamed run parses its text once: the scan checks it, learns the labels, the "
        f"split and the scaling, and caches the parsed rows "
        f"([data.md](data.md#the-cache-of-a-streamed-file)); the epochs, the test rows' "
        f"report and `neurona report` read the cache. Times are the best of "
        f"{args.repeat}; the numbers are also in "
        f"[stream_cache_benchmark.json](stream_cache_benchmark.json).",
        "",
        "**The parse** (every feature and the target as float64; the same rows as a "
        "Parquet file, and the features made from its batches, for comparison):",
        "",
        "| reader | seconds | MB/s |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {t:.3f} | {mb / t:,.0f} |" for name, t in parse.items()]
    lines += [
        "",
        "neurona's reader parses the streaming reader's blocks, each by a reader of its own, "
        "one block per parsing thread: a core costs it what it costs the streaming reader, "
        "and it gains as many cores as it finds free (as `read_csv` does); where other jobs "
        "keep the cores busy (the load average below) it cannot gain them.",
    ]
    lines += [
        "",
        f"**A streamed run** (`neurona train --stream --epochs {args.epochs} --batch-size "
        f"{args.batch_size} --optimizer adam --scale standard --test-size 0.3 --no-plots`, "
        f"a child process each; the passes over the text counted in the child):",
        "",
        "| run | passes over the text | wall (s) | peak RSS (MiB) |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {name} | {r['text_passes']} | {r['wall_s']:.1f} | {r['peak_rss_mib']:.0f} |"
              for name, r in runs.items()]
    lines += [
        "",
        f"**A mini-batch step** (batch {args.batch_size}, Adam, {steps['steps per epoch']:,} "
        f"steps an epoch, the rows read from the cache; microseconds per step):",
        "",
        "| epoch | us per step |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {t:.2f} |" for name, t in steps.items() if name != "steps per epoch"]
    lines += [
        "",
        "The overhead is the streamed epoch's time outside its compiled loops, per step: the "
        "shuffle buffer (each record batch's permutation, each row moved in and out once), "
        "the cache's reads, the split's filter and the scaling, spread over the steps. The "
        "in-memory epoch reads its rows in a random order, the streamed runs in the order "
        "they leave the buffer.",
        "",
        "The `## Streaming` table above was measured before the cache: a streamed run then "
        "parsed its text once per epoch and twice more (the scan and the test pass).",
        "",
        f"Machine: {machine}. Other jobs share the CPUs: the numbers are an order of "
        f"magnitude, not a ranking.",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    write_section(args.doc, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
