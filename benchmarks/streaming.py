"""Streamed training on files larger than memory: rows per second and peak memory.

Generates a CSV and a Parquet file of ``--size-gb`` gigabytes each (and a
quarter-size pair, to show that memory does not grow with the file), trains
``neurona train --stream`` on each in a child process, and reports the rows
read per second and the child's peak resident set size (``ru_maxrss`` from
``os.wait4``). The quarter-size CSV is also trained in memory, for contrast.
The table goes to stdout and under ``## Streaming`` in ``docs/performance.md``.

    python benchmarks/streaming.py                 # 3 GB files
    python benchmarks/streaming.py --size-gb 2 --epochs 2

The files are written to a temporary folder (``--dir``) and deleted at the
end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from performance_doc import put_section  # noqa: E402 (benchmarks/)

ROOT = Path(__file__).resolve().parents[1]
CHUNK_ROWS = 500_000
GIB = 1 << 30


def _chunk(rng: np.random.Generator, n_features: int, w: np.ndarray) -> pa.Table:
    X = rng.normal(size=(CHUNK_ROWS, n_features)) * np.arange(1, n_features + 1)
    y = (X @ w + rng.normal(size=CHUNK_ROWS) > 0).astype(np.int8)
    columns = {f"f{j}": np.round(X[:, j], 6) for j in range(n_features)}
    return pa.table({**columns, "y": y})


def generate(path: Path, size_bytes: int, n_features: int, seed: int = 0) -> int:
    """Write a file of about ``size_bytes`` (CSV or Parquet by suffix); return its rows."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=n_features) / np.arange(1, n_features + 1)
    rows = 0
    with open(path, "wb") as sink:
        table = _chunk(rng, n_features, w)
        writer = (pacsv.CSVWriter(sink, table.schema) if path.suffix == ".csv"
                  else pq.ParquetWriter(sink, table.schema))
        with writer:
            while True:
                writer.write_table(table)
                rows += table.num_rows
                sink.flush()
                if sink.tell() >= size_bytes:
                    break
                table = _chunk(rng, n_features, w)
    return rows


def train(path: Path, work: Path, epochs: int, stream: bool) -> tuple[float, float]:
    """Train in a child process; return (wall seconds, peak RSS in MiB)."""
    out = work / f"run-{path.name}-{'stream' if stream else 'memory'}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "neurona", "train", "--data", str(path), "--target", "y",
           "--stream" if stream else "--no-stream", "--epochs", str(epochs),
           "--scale", "standard", "--reduction", "mean", "--learning-rate", "0.5",
           "--out", str(out), "--no-plots", "--quiet"]
    start = time.perf_counter()
    child = subprocess.Popen(cmd, env=dict(os.environ, MPLBACKEND="Agg"))
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"training failed on {path}: {' '.join(cmd)}")
    shutil.rmtree(out, ignore_errors=True)
    return wall, usage.ru_maxrss / 1024  # Linux reports kilobytes


def baseline_rss() -> float:
    """Peak RSS (MiB) of a child that only imports what ``neurona train`` loads."""
    code = ("import neurona.face.cli, neurona.face.experiment, neurona.engines.stream, sklearn.preprocessing, "
            "pyarrow.csv, pyarrow.parquet")
    child = subprocess.Popen([sys.executable, "-c", code])
    _, _, usage = os.wait4(child.pid, 0)
    return usage.ru_maxrss / 1024


def write_section(doc: Path, section: str) -> None:
    """Put ``section`` under its ``## Streaming`` heading, keeping the other sections."""
    put_section(section, "## Streaming", doc)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-gb", type=float, default=3.0, help="size of the large files")
    parser.add_argument("--features", type=int, default=8, help="feature columns")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of each training")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the files")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "performance.md",
                        help="the Markdown file that receives the table")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="neurona-stream-", dir=args.dir))
    load_before = os.getloadavg()[0]
    imports = baseline_rss()
    rows_out = []
    try:
        for size in (args.size_gb / 4, args.size_gb):
            for suffix in (".csv", ".parquet"):
                path = work / f"data-{size:g}gb{suffix}"
                t0 = time.perf_counter()
                n = generate(path, int(size * GIB), args.features)
                print(f"wrote {path.name}: {n:,} rows, {path.stat().st_size / GIB:.2f} GiB "
                      f"in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
                modes = [True] + ([False] if size < args.size_gb and suffix == ".csv" else [])
                for stream in modes:
                    wall, rss = train(path, work, args.epochs, stream)
                    passes = args.epochs + 2  # the scan, the epochs, the test pass
                    rows_out.append((suffix[1:], path.stat().st_size / GIB, n,
                                     "streamed" if stream else "in memory", wall,
                                     n * passes / wall, rss))
                    print(f"  {rows_out[-1][3]}: {wall:.1f} s, {rss:.0f} MiB peak",
                          file=sys.stderr, flush=True)
                if not args.keep:
                    path.unlink()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    import pyarrow

    streamed = [r for r in rows_out if r[3] == "streamed"]
    in_memory = [r for r in rows_out if r[3] == "in memory"]
    lines = [
        "## Streaming",
        "",
        f"`python benchmarks/streaming.py --size-gb {args.size_gb:g} --epochs {args.epochs}`: "
        f"`neurona train --stream` (full-batch gradient descent, {args.features} features, "
        f"standard scaling, 30% test split) in a child process per row. Rows/s is rows x "
        f"{args.epochs + 2} / wall time: a streamed run reads the file {args.epochs + 2} "
        f"times (the scan, {args.epochs} epochs, the test pass); the in-memory run reads it "
        f"once and makes its passes over arrays. Peak RSS is the child's `ru_maxrss`.",
        "",
        "| format | file (GiB) | rows | mode | wall (s) | rows/s | peak RSS (MiB) |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for fmt, gib, n, mode, wall, rate, rss in rows_out:
        lines.append(f"| {fmt} | {gib:.2f} | {n:,} | {mode} | {wall:.1f} | {rate:,.0f} | "
                     f"{rss:.0f} |")
    lines += [
        "",
        f"Streamed, the peak memory stays between {min(r[6] for r in streamed):.0f} and "
        f"{max(r[6] for r in streamed):.0f} MiB from {min(r[1] for r in streamed):.2f} to "
        f"{max(r[1] for r in streamed):.2f} GiB files (the interpreter with NumPy, "
        f"scikit-learn and pyarrow loaded takes {imports:.0f} MiB of it): it depends on the "
        f"record batch, not on the file."
        + (f" Loaded in memory, the {in_memory[0][1]:.2f} GiB CSV took "
           f"{in_memory[0][6]:.0f} MiB." if in_memory else ""),
        "",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, pyarrow "
        f"{pyarrow.__version__}, {platform.platform()}; {time.strftime('%Y-%m-%d')}; load "
        f"average {load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end "
        f"(other jobs share the CPUs, so rows/s is an order of magnitude, not a ranking).",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    write_section(args.doc, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
