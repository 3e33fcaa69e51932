"""What a prediction costs per row: ONNX Runtime running the exported graph, or neurona.

    python benchmarks/onnx_latency.py [--repeats 2000] [--write]

Two models, each trained once: the post's experiment (``neurona train`` with no options: a
sigmoid neuron on two features) and the penguins walk-through (text columns one-hot
encoded, missing values filled in, standard scaling: the encoding is part of the work).
Each is exported with ``neurona export``; then, for batches of 1 and of 1,000 rows, one
call is timed ``--repeats`` times (a tenth of that, at least 100, for 1,000 rows) and the
median kept:

- **neurona**: ``Neuron.predict_proba`` (an array for the post's model; the raw rows, a
  pandas DataFrame, for the penguins');
- **ONNX Runtime**: ``InferenceSession.run`` on the float32 ``X`` (and the text columns'
  string arrays), one thread (``intra_op_num_threads=1``), as NumPy uses here.

The inputs are made before the clock starts. The table goes to stdout, the figures to
``docs/onnx_benchmark.json`` and, with ``--write``, under ``## ONNX export`` in
docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import neurona  # noqa: E402
from neurona.face.cli import main as neurona_main  # noqa: E402
from performance_doc import put_section  # noqa: E402 (benchmarks/)

DOC = ROOT / "docs" / "performance.md"
JSON_OUT = ROOT / "docs" / "onnx_benchmark.json"
HEADING = "## ONNX export"
EXAMPLES = ROOT / "examples"
BATCHES = (1, 1000)


def train(root: Path) -> dict:
    """The two runs, trained and exported; their model, ONNX file and inputs."""
    import pandas as pd

    post, penguins = root / "post", root / "penguins"
    quiet = ["--no-plots", "--quiet"]
    for argv in (["train", "--out", str(post), *quiet],
                 ["train", "--data", str(EXAMPLES / "penguins.csv"), "--target", "sex",
                  "--scale", "standard", "--missing", "mean", "--out", str(penguins), *quiet],
                 ["export", str(post), "-q"], ["export", str(penguins), "-q"]):
        if neurona_main(argv) != 0:
            raise SystemExit(f"neurona {' '.join(argv)} failed")
    rng = np.random.default_rng(0)
    frame = pd.read_csv(EXAMPLES / "penguins.csv").drop(columns=["sex"])
    numbers = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year"]

    def post_inputs(n):
        X = rng.normal(scale=5, size=(n, 2)).astype(np.float32)
        return X.astype(np.float64), {"X": X}

    def penguin_inputs(n):
        rows = frame.sample(n, replace=True, random_state=n).reset_index(drop=True)
        onnx_in = {"X": rows[numbers].to_numpy(np.float32),
                   "species": rows["species"].fillna("").to_numpy(object),
                   "island": rows["island"].fillna("").to_numpy(object)}
        return rows, onnx_in

    return {"post": (post, post_inputs), "penguins": (penguins, penguin_inputs)}


def median_seconds(call, repeats: int) -> float:
    for _ in range(min(20, repeats)):  # warm caches and lazy set-up
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        call()
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times) * 1e-9


def measure(repeats: int) -> list[dict]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (run, inputs) in train(Path(tmp)).items():
            neuron = neurona.load(run / "model.json")
            start = time.perf_counter()
            session = ort.InferenceSession(str(run / "model.onnx"), options,
                                           providers=["CPUExecutionProvider"])
            load_s = time.perf_counter() - start
            for n in BATCHES:
                raw, feeds = inputs(n)
                got = session.run(["probability"], feeds)[0]
                np.testing.assert_allclose(got, neuron.predict_proba(raw), atol=1e-6)
                times = repeats if n == 1 else max(100, repeats // 10)
                ours = median_seconds(lambda: neuron.predict_proba(raw), times)
                theirs = median_seconds(lambda: session.run(None, feeds), times)
                rows.append({"model": name, "rows": n, "repeats": times,
                             "neurona_us_per_row": ours / n * 1e6,
                             "onnxruntime_us_per_row": theirs / n * 1e6,
                             "speedup": ours / theirs, "session_load_ms": load_s * 1e3})
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| model | rows per call | neurona `predict_proba` (µs/row) | ONNX Runtime "
             "(µs/row) | neurona's time ÷ ONNX Runtime's |",
             "|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['rows']} | {r['neurona_us_per_row']:.3g} | "
                     f"{r['onnxruntime_us_per_row']:.3g} | {r['speedup']:.2g} |")
    return "\n".join(lines)


def environment() -> dict:
    def version(package):
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) \
        if Path("/proc/cpuinfo").exists() else platform.processor()
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            **{p: version(p) for p in ("numpy", "onnx", "onnxruntime", "pandas")}}


def write_section(result: dict) -> None:
    env = result["environment"]
    section = (
        f"{HEADING}\n\nMeasured by `python benchmarks/onnx_latency.py --write` on "
        f"{result['date']}: {env['cpus']} cores ({env['cpu']}), Python {env['python']}, "
        f"NumPy {env['numpy']}, ONNX Runtime {env['onnxruntime']} (one thread); one-minute "
        f"load average {result['load_before']:.1f} at the start. The median of many calls "
        f"of one batch, divided by its rows: neurona's `predict_proba` against ONNX Runtime "
        f"running the file `neurona export` wrote (the same probabilities, to 1e-6). "
        f"*post*: the post's model, an array of two features; *penguins*: the penguins "
        f"walk-through's model, raw rows in (two text columns one-hot encoded and missing "
        f"values filled in by both: neurona from a pandas DataFrame, the graph from `X` "
        f"and two string arrays). Loading the ONNX file into a session takes "
        f"{max(r['session_load_ms'] for r in result['rows']):.0f} ms at most. Figures in "
        f"`docs/onnx_benchmark.json`.\n\n{table(result['rows'])}\n\n"
        f"A ratio above 1: ONNX Runtime is the faster. On the post's model there is almost "
        f"nothing to compute, and NumPy's few calls cost less than a session's call; once "
        f"raw rows are encoded, neurona's path through pyarrow costs far more than the "
        f"graph's one-hot operators.\n")
    put_section(section, HEADING, DOC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2000,
                        help="calls timed for one row (1,000 rows: a tenth, at least 100)")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    parser.add_argument("--json", type=Path, default=JSON_OUT, help="where the figures go")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rows = measure(args.repeats)
    result = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "load_before": load_before, "load_after": os.getloadavg()[0],
              "environment": environment(), "rows": rows}
    print(table(rows))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
    if args.write:
        write_section(result)


if __name__ == "__main__":
    main()
