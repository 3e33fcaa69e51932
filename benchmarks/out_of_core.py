"""Out of core, file to model: neurona against the other out-of-core learners, side by side.

    python benchmarks/out_of_core.py [--rows 4000000] [--quick] [--rounds 3] [--write]

Generates (seeded) a training file of ``--rows`` rows of 20 correlated features
(each pair ``i, j`` correlated ``0.8^|i - j|``) and a 0/1 target drawn from a
logistic model, 5% of its labels then flipped, written as CSV (6 decimals) and
as Parquet (the same numbers), and a held-out test file (an eighth as many
rows, at least 50,000). The **optimum** is scikit-learn's
``LogisticRegression(C=1, tol=1e-10)`` fitted on the training rows in memory
(its objective ``C sum l_i + |w|^2 / 2`` is neurona's ``reduction="mean"``
objective with ``l2 = 1 / (C n)``, see docs/training.md); its held-out log
loss ``L*`` defines **the 1% model**: any model whose held-out log loss is at
most ``1.01 L*``.

Every tool runs in a child process of its own, on the same files (in the page
cache: every file is read once before the first round), and is timed from the
child's start to its exit, a saved model (the child's ``ru_maxrss`` is its peak
memory). The rounds are interleaved: round 1 runs every tool once, then round
2, ...; the table gives the median. A round 0 on a small file runs every tool
once untimed first (Numba's compiled kernels and Python's bytecode cached on
disk, as on a user's second day). The parent then reads each tool's model and
scores it the same way: the probabilities of the test rows, their log loss,
and the training objective above the optimum.

The tools:

- **neurona** as a user runs it: ``python -m neurona train --data FILE
  --target y --stream --no-plots --test-size 0 --quiet`` with the flags of the
  row; its cache "cold" (the cache folder emptied before the run: the run parses
  the file and writes the cache), "warm" (the cache an earlier run wrote) or
  ``--no-cache``;
- **SGDClassifier.partial_fit** (scikit-learn) over pandas chunks of the file;
- **River** ``LogisticRegression.learn_many`` on 1,000-row slices of those chunks;
- **Vowpal Wabbit** (its Python package), one pass over its own text format,
  the conversion of the file to it timed as a separate child; and VW reading
  its ``--cache_file`` written by an earlier run;
- **LogisticRegression** (lbfgs, its defaults) with the whole file read into
  memory by pandas (``read_csv(engine="pyarrow")``, ``read_parquet``);
- **pyarrow**: the CSV parsed by ``pyarrow.csv.read_csv`` into float64 columns
  on every core, the Parquet file read by ``pyarrow.parquet.read_table``:
  reading the file and nothing else, the floor.

The table goes to stdout; ``--write`` puts it, the ratios of the targets (met or
missed, by how much) and the machine into ``docs/performance.md`` (section
"Out of core: file to model"), draws ``docs/out_of_core.png`` and writes
``docs/out_of_core_benchmark.json``. ``--quick`` is a 200,000-row smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
PLOT = ROOT / "docs" / "out_of_core.png"
JSON = ROOT / "docs" / "out_of_core_benchmark.json"
HEADING = "## Out of core: file to model"

FEATURES = 20
CORRELATION = 0.8        # corr(x_i, x_j) = CORRELATION ** |i - j|
SIGNAL = 2.5             # the standard deviation of the true net input
LABEL_NOISE = 0.05       # the share of labels flipped
C = 1.0                  # LogisticRegression's C; neurona's l2 = 1 / (C n)
CHUNK_ROWS = 250_000     # rows per chunk written, and per pandas chunk read
WITHIN = 0.01            # the 1% model: held-out log loss at most (1 + WITHIN) L*
OPTIMUM = 1e-6           # "the optimum": training objective within 1e-6 (relative) of f*
WARMUP_ROWS = 20_000     # the file of round 0
VW_CONSTANT = 11650396   # the hash of VW's constant feature


# --- the data ---------------------------------------------------------------------------------

def names() -> list[str]:
    return [f"x{j}" for j in range(FEATURES)]


def generate(folder: Path, rows: int, test_rows: int, seed: int = 0) -> dict:
    """Write train.csv, train.parquet (the same rows) and test.parquet into ``folder``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    lags = np.abs(np.subtract.outer(np.arange(FEATURES), np.arange(FEATURES)))
    cov = CORRELATION ** lags
    factor = np.linalg.cholesky(cov)
    w = rng.normal(size=FEATURES)
    w *= SIGNAL / np.sqrt(w @ cov @ w)
    bias = 0.3

    def chunks(n_rows, generator):
        for start in range(0, n_rows, CHUNK_ROWS):
            n = min(CHUNK_ROWS, n_rows - start)
            X = np.round(generator.normal(size=(n, FEATURES)) @ factor.T, 6)
            p = 1.0 / (1.0 + np.exp(-(X @ w + bias)))
            y = (generator.random(n) < p).astype(np.int8)
            flip = generator.random(n) < LABEL_NOISE
            y[flip] = 1 - y[flip]
            yield pa.table({**{c: X[:, j] for j, c in enumerate(names())}, "y": y})

    csv_writer = parquet_writer = None
    with open(folder / "train.csv", "wb") as sink:
        for table in chunks(rows, rng):
            if csv_writer is None:
                csv_writer = pacsv.CSVWriter(sink, table.schema)
                parquet_writer = pq.ParquetWriter(folder / "train.parquet", table.schema)
            csv_writer.write_table(table)
            parquet_writer.write_table(table)
        csv_writer.close()
        parquet_writer.close()
    pq.write_table(pa.concat_tables(chunks(test_rows, np.random.default_rng(seed + 1))),
                   folder / "test.parquet")
    return {"csv": folder / "train.csv", "parquet": folder / "train.parquet",
            "test": folder / "test.parquet"}


def read_arrays(path: Path):
    """The features (float64, C order) and the 0/1 target of a Parquet file."""
    import numpy as np
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    X = np.column_stack([table.column(c).to_numpy() for c in names()])
    return np.ascontiguousarray(X), table.column("y").to_numpy().astype(np.float64)


def log_loss(p, y) -> float:
    """The mean log loss of the probabilities ``p`` of class 1 (clipped at 1e-15)."""
    import numpy as np

    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def objective(X, y, w, b) -> float:
    """neurona's mean objective, LogisticRegression's divided by ``C n``."""
    import numpy as np

    total = 0.0
    for start in range(0, len(y), 1_000_000):
        z = X[start:start + 1_000_000] @ w + b
        total += float(np.sum(np.logaddexp(0.0, z) - y[start:start + 1_000_000] * z))
    return total / len(y) + float(w @ w) / (2 * C * len(y))


def reference(train, test) -> dict:
    """The optimum: LogisticRegression(C=1, tol=1e-10) on every training row."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    (X, y), (Xt, yt) = train, test
    start = time.perf_counter()
    fit = LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X, y)
    seconds = time.perf_counter() - start
    w, b = fit.coef_[0], float(fit.intercept_[0])
    return {"objective": objective(X, y, w, b),
            "test_log_loss": log_loss(1 / (1 + np.exp(-(Xt @ w + b))), yt),
            "n_iter": int(fit.n_iter_[0]), "fit_s": seconds}


# --- the children: each tool's own process ----------------------------------------------------

def pandas_chunks(path: Path, rows: int):
    """The file in pandas DataFrames of ``rows`` rows: read_csv's chunks, Parquet's batches."""
    import pandas as pd
    import pyarrow.parquet as pq

    if path.suffix == ".csv":
        yield from pd.read_csv(path, chunksize=rows)
    else:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
            yield batch.to_pandas()


def save_linear(out: Path, w, b) -> None:
    """A linear model as JSON: the weights of the raw features, in order, and the bias."""
    out.write_text(json.dumps({"weights": [float(v) for v in w], "bias": float(b)},
                              allow_nan=False))


def child_sgd(data: Path, out: Path, params: dict) -> None:
    import numpy as np
    from sklearn.linear_model import SGDClassifier

    model = SGDClassifier(loss="log_loss", **params)
    features, classes = names(), np.array([0, 1])
    for chunk in pandas_chunks(data, CHUNK_ROWS):
        model.partial_fit(chunk[features].to_numpy(), chunk["y"].to_numpy(), classes=classes)
    save_linear(out, model.coef_[0], model.intercept_[0])


def child_river(data: Path, out: Path, params: dict) -> None:
    from river import linear_model, optim

    model = linear_model.LogisticRegression(optimizer=optim.SGD(params["lr"]),
                                            intercept_lr=params["lr"])
    features, step = names(), params["slice"]
    for chunk in pandas_chunks(data, CHUNK_ROWS):
        X, y = chunk[features], chunk["y"].astype(bool)
        for start in range(0, len(chunk), step):
            model.learn_many(X.iloc[start:start + step], y.iloc[start:start + step])
    save_linear(out, [model.weights.get(c, 0.0) for c in features], model.intercept)


def child_to_vw(data: Path, out: Path, params: dict) -> None:
    """The file in VW's text format (``label | x0:v0 x1:v1 ...``, labels -1 and 1).

    Built column-wise by pyarrow's compute functions, a block at a time: a CSV's cells as
    the text they are, a Parquet file's floats written in their shortest form.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    features = names()
    if data.suffix == ".csv":
        batches = pacsv.open_csv(data, read_options=pacsv.ReadOptions(block_size=1 << 24),
                                 convert_options=pacsv.ConvertOptions(
                                     column_types={c: pa.string() for c in [*features, "y"]}))
        positive = "1"
    else:
        batches = pq.ParquetFile(data).iter_batches(batch_size=CHUNK_ROWS)
        positive = 1
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    with open(out, "wb") as sink:
        for batch in batches:
            label = pc.if_else(pc.equal(batch.column("y"), positive), "1 |", "-1 |")
            cells = [pc.binary_join_element_wise(c, pc.cast(batch.column(c), pa.string()), ":")
                     for c in features]
            lines = pc.binary_join_element_wise(label, *cells, " ")
            pacsv.write_csv(pa.table({"line": lines}), sink, write_options=options)


def child_vw(data: Path, out: Path, params: dict) -> None:
    import vowpalwabbit

    args = ["-d", str(data), "--loss_function", "logistic", "--link", "logistic",
            "-f", str(out.with_suffix(".vw")), "--quiet", *params["args"]]
    vw = vowpalwabbit.Workspace(arg_list=args)
    mask = vw.num_weights() - 1
    w = [vw.get_weight_from_name(c) for c in names()]
    b = vw.get_weight(VW_CONSTANT & mask)
    vw.finish()  # writes the model file
    save_linear(out, w, b)


def child_lr(data: Path, out: Path, params: dict) -> None:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    frame = (pd.read_csv(data, engine="pyarrow") if data.suffix == ".csv"
             else pd.read_parquet(data))
    fit = LogisticRegression(C=C).fit(frame[names()].to_numpy(), frame["y"].to_numpy())
    save_linear(out, fit.coef_[0], fit.intercept_[0])


def child_read(data: Path, out: Path, params: dict) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    start = time.perf_counter()
    if data.suffix == ".csv":
        types = {c: pa.float64() for c in [*names(), "y"]}
        table = pacsv.read_csv(data, read_options=pacsv.ReadOptions(use_threads=True),
                               convert_options=pacsv.ConvertOptions(column_types=types))
    else:
        table = pq.read_table(data)
    out.write_text(json.dumps({"rows": table.num_rows,
                               "read_s": time.perf_counter() - start}))


CHILDREN = {"sgd": child_sgd, "river": child_river, "to_vw": child_to_vw, "vw": child_vw,
            "lr": child_lr, "read": child_read}


# --- the tools --------------------------------------------------------------------------------

@dataclass
class Tool:
    """One row of the table: a command run in a child process, and what it leaves."""

    key: str
    label: str
    kind: str                         # the file: csv or parquet
    family: str                       # neurona, sgd, river, vw, lr, read
    argv: list                        # the child's command, {data} {out} {cache} {work} filled in
    model: str | None                 # "neurona" (a run directory), "linear" (JSON), None
    cache: str | None = None          # neurona's cache: "cold", "warm" or None (--no-cache)
    data: str | None = None           # the input, when not the training file of its kind
    parts: tuple = ()                 # a sum of other rows' rounds (VW with its conversion)
    note: str = ""
    walls: list = field(default_factory=list)
    rss: list = field(default_factory=list)
    score: dict = field(default_factory=dict)


def neurona_argv(flags: list[str], cache: str | None) -> list[str]:
    argv = [sys.executable, "-m", "neurona", "train", "--data", "{data}", "--target", "y",
            "--stream", "--no-plots", "--test-size", "0", "--quiet", "--out", "{out}", *flags]
    return argv + (["--no-cache"] if cache is None else ["--cache-dir", "{cache}"])


def child_argv(name: str, params: dict) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", name, "{data}", "{out}",
            json.dumps(params)]


def tools(rows: int, flags: dict) -> list[Tool]:
    """Every row of the table, CSV and Parquet, in the order of a round."""
    l2 = f"{1 / (C * rows):.17g}"
    out = []
    for kind in ("csv", "parquet"):
        k = kind
        out += [Tool(f"read-{k}", "pyarrow.csv.read_csv, float64, threads" if kind == "csv"
                     else "pyarrow.parquet.read_table", kind, "read",
                     child_argv("read", {}), None)]
        for cache in ("cold", "warm", None):
            name = {"cold": "cold cache", "warm": "warm cache", None: "--no-cache"}[cache]
            out.append(Tool(f"neurona-adam-{k}-{cache or 'none'}",
                            f"neurona {flags['adam_label']}, {name}", kind, "neurona",
                            neurona_argv(flags["adam"], cache), "neurona", cache=cache))
        for cache in ("cold", "warm"):
            out.append(Tool(f"neurona-lbfgs1-{k}-{cache}",
                            f"neurona lbfgs --tol {flags['lbfgs_loose']}, {cache} cache", kind,
                            "neurona", neurona_argv(lbfgs_flags(l2, flags["lbfgs_loose"]),
                                                    cache), "neurona", cache=cache))
        for cache in ("cold", "warm"):
            out.append(Tool(f"neurona-lbfgs-{k}-{cache}",
                            f"neurona lbfgs --tol {flags['lbfgs_tight']} (the optimum), "
                            f"{cache} cache", kind, "neurona",
                            neurona_argv(lbfgs_flags(l2, flags["lbfgs_tight"]), cache),
                            "neurona", cache=cache))
        out += [
            Tool(f"sgd-{k}", f"SGDClassifier.partial_fit {flags['sgd_label']}", kind, "sgd",
                 child_argv("sgd", flags["sgd"]), "linear"),
            Tool(f"river-{k}", f"River learn_many {flags['river_label']}", kind, "river",
                 child_argv("river", flags["river"]), "linear"),
            Tool(f"tovw-{k}", "VW: the file converted to its text format", kind, "vw",
                 child_argv("to_vw", {}), None),
            Tool(f"vw-{k}", "VW 1 pass (its text ready)", kind, "vw",
                 child_argv("vw", {"args": []}), "linear", data=f"vw-{k}"),
            Tool(f"vwcache-{k}", "VW 1 pass, its --cache_file of an earlier run", kind, "vw",
                 child_argv("vw", {"args": ["--cache_file", "{work}/vw-%s.cache" % k]}),
                 "linear", data=f"vw-{k}"),
            Tool(f"vwall-{k}", "VW 1 pass with the conversion", kind, "vw", [], None,
                 parts=(f"tovw-{k}", f"vw-{k}")),
            Tool(f"lr-{k}", "LogisticRegression() (lbfgs) in memory", kind, "lr",
                 child_argv("lr", {}), "linear"),
        ]
    return out


def lbfgs_flags(l2: str, tol: str) -> list[str]:
    return ["--optimizer", "lbfgs", "--reduction", "mean", "--l2", l2, "--scale", "none",
            "--epochs", "200", "--tol", tol]


#: The settings of the contenders (how they were chosen: docs, "How each tool was set").
FLAGS = {
    "adam": ["--optimizer", "adam", "--batch-size", "4096", "--learning-rate", "0.01",
             "--epochs", "1", "--scale", "standard"],
    "adam_label": "adam, batch 4096, lr 0.01, 1 epoch",
    "lbfgs_loose": "1e-2",
    "lbfgs_tight": "1e-4",
    "sgd": {"alpha": 1e-6, "learning_rate": "adaptive", "eta0": 0.01},
    "sgd_label": "(alpha 1e-6, adaptive, eta0 0.01, 1 pass)",
    "river": {"lr": 0.1, "slice": 1000},
    "river_label": "(SGD lr 0.1, 1,000-row slices, 1 pass)",
}


# --- running ----------------------------------------------------------------------------------

#: The process that starts every child: small, so that a child's ``ru_maxrss`` is its own (a
#: child keeps the peak of the process it was forked from, and the parent holds the data).
LAUNCHER = """
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    start = time.perf_counter()
    child = subprocess.Popen(job["argv"], env=job["env"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    print(json.dumps({"wall": wall, "rss_kib": usage.ru_maxrss,
                      "code": os.waitstatus_to_exitcode(status),
                      "err": err.decode(errors="replace")[-3000:]}), flush=True)
"""


class Launcher:
    """A small process, started before the parent loads anything, that runs the children."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-c", LAUNCHER], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)

    def run(self, argv: list[str], env: dict) -> dict:
        """Run ``argv``: its wall seconds (start to exit), peak RSS (KiB), status, stderr."""
        self.process.stdin.write(json.dumps({"argv": argv, "env": env}) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def fill(arg: str, paths: dict) -> str:
    """``arg`` with ``{data}``, ``{out}``, ``{cache}`` and ``{work}`` replaced."""
    for name, value in paths.items():
        arg = arg.replace("{%s}" % name, value)
    return arg


class Runner:
    """Runs the tools' children in a work folder, and scores their models."""

    def __init__(self, work: Path, files: dict, launcher: "Launcher"):
        self.work, self.files, self.launcher = work, files, launcher
        self.env = dict(os.environ, MPLBACKEND="Agg",
                        PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get(
                            "PYTHONPATH", ""))

    def paths(self, tool: Tool) -> dict:
        data = (self.work / f"{tool.data}.txt" if tool.data else
                self.work / f"vw-{tool.kind}.txt" if tool.key.startswith("tovw") else None)
        out = self.work / ("run-" + tool.key)
        return {"data": str(data if tool.data else self.files[tool.kind]),
                "out": str(data if tool.key.startswith("tovw") else
                           out if tool.model == "neurona" else out.with_suffix(".json")),
                "cache": str(self.work / f"cache-{tool.key}"), "work": str(self.work)}

    def prepare(self, tool: Tool, p: dict) -> None:
        if tool.model == "neurona":
            shutil.rmtree(p["out"], ignore_errors=True)
        if tool.cache == "cold":
            shutil.rmtree(p["cache"], ignore_errors=True)

    def once(self, tool: Tool) -> tuple[float, float]:
        """One timed run of ``tool``: (wall seconds, peak RSS MiB)."""
        p = self.paths(tool)
        self.prepare(tool, p)
        argv = [fill(a, p) for a in tool.argv]
        answer = self.launcher.run(argv, self.env)
        if answer["code"] != 0:
            raise SystemExit(f"{tool.key} failed: {' '.join(argv)}\n{answer['err']}")
        return answer["wall"], answer["rss_kib"] / 1024

    def model(self, tool: Tool):
        """The tool's model as a function of raw features to probabilities."""
        import numpy as np

        p = self.paths(tool)
        if tool.model == "neurona":
            import neurona

            neuron = neurona.load(Path(p["out"]) / "model.json")
            return neuron.predict_proba, neuron
        doc = json.loads(Path(p["out"]).read_text())
        w, b = np.array(doc["weights"]), doc["bias"]
        return (lambda X: 1 / (1 + np.exp(-(X @ w + b)))), (w, b)

    def score(self, tool: Tool, train, test, ref: dict) -> dict:
        """The held-out log loss of the tool's model, and its training objective's gap."""
        import numpy as np

        if tool.model is None:
            return {}
        proba, params = self.model(tool)
        loss = log_loss(proba(test[0]), test[1])
        if tool.model == "neurona":
            neuron = params
            w = np.asarray(neuron.weights, dtype=float)
            b = float(neuron.bias)
            if neuron.scaler is not None:  # back to the raw features
                center = np.asarray(neuron.scaler.center, dtype=float)
                scale = np.asarray(neuron.scaler.scale, dtype=float)
                b -= float(np.sum(w * center / scale))
                w = w / scale
        else:
            w, b = params
        gap = objective(train[0], train[1], w, b) / ref["objective"] - 1
        return {"test_log_loss": loss, "within": loss <= ref["test_log_loss"] * (1 + WITHIN),
                "objective_gap": gap, "optimum": gap <= OPTIMUM}


def warm_caches(runner: Runner, table: list[Tool]) -> None:
    """The caches the "warm" rows read: each written by one untimed earlier run."""
    for tool in table:
        if tool.cache == "warm":
            p = runner.paths(tool)
            shutil.rmtree(p["cache"], ignore_errors=True)
            runner.once(Tool(tool.key, "", tool.kind, tool.family, tool.argv, tool.model,
                             cache="build"))
        if tool.key.startswith("vwcache"):
            cache = Path(runner.paths(tool)["work"]) / f"vw-{tool.kind}.cache"
            cache.unlink(missing_ok=True)
            runner.once(tool)
            assert cache.exists(), cache


def rounds(runner: Runner, table: list[Tool], n: int, train, test, ref, log) -> None:
    by_key = {t.key: t for t in table}
    for r in range(n):
        for tool in table:
            if tool.parts:
                tool.walls.append(sum(by_key[k].walls[-1] for k in tool.parts))
                tool.rss.append(max(by_key[k].rss[-1] for k in tool.parts))
                tool.score = by_key[tool.parts[-1]].score
                continue
            wall, rss = runner.once(tool)
            tool.walls.append(wall)
            tool.rss.append(rss)
            if r == 0:
                tool.score = runner.score(tool, train, test, ref)
            log(f"round {r + 1}: {tool.key:28s} {wall:7.2f} s {rss:6.0f} MiB "
                f"{tool.score.get('test_log_loss', float('nan')):.5f}")


# --- the report -------------------------------------------------------------------------------

def median(tool: Tool) -> float:
    return statistics.median(tool.walls)


def ratios(table: list[Tool]) -> list[dict]:
    """The targets' ratios from the medians: met, or missed by how much."""
    by_key = {t.key: t for t in table}
    out = []

    def fastest(keys, need="within"):
        rows = [by_key[k] for k in keys if by_key[k].score.get(need)]
        return min(rows, key=median) if rows else None

    for kind in ("csv", "parquet"):
        mine = {cache: fastest([f"neurona-{v}-{kind}-{cache}" for v in ("adam", "lbfgs1")])
                for cache in ("cold", "warm")}
        mine["none"] = fastest([f"neurona-adam-{kind}-none"])
        rivals = fastest([f"sgd-{kind}", f"river-{kind}", f"vw-{kind}", f"vwcache-{kind}"])
        rivals_all = fastest([f"sgd-{kind}", f"river-{kind}", f"vwall-{kind}"])
        goal = 1.5 if kind == "csv" else 2.0
        for cache, ours in mine.items():
            if ours is None:
                continue
            for theirs, how in ((rivals, "VW's text ready"), (rivals_all, "VW converting")):
                if theirs is None:
                    continue
                ratio = median(theirs) / median(ours)
                out.append({"target": f"{kind}: neurona ({cache} cache) at least {goal}x faster "
                                      f"to the 1% model than the fastest rival ({how})",
                            "ours": ours.label, "theirs": theirs.label,
                            "ratio": ratio, "goal": goal, "met": ratio >= goal})
        if kind == "csv":
            floor = by_key["read-csv"]
            for cache, ours in mine.items():
                if ours is None:
                    continue
                ratio = median(ours) / median(floor)
                out.append({"target": f"csv: neurona ({cache} cache) within 1.5x of the typed "
                                      f"multi-threaded pyarrow parse", "ours": ours.label,
                            "theirs": floor.label, "ratio": ratio, "goal": 1.5,
                            "met": ratio <= 1.5, "lower_is_better": True})
        lr = by_key[f"lr-{kind}"]
        for cache in ("cold", "warm"):
            ours = by_key[f"neurona-lbfgs-{kind}-{cache}"]
            ratio = median(lr) / median(ours)
            out.append({"target": f"{kind}: neurona lbfgs ({cache} cache) to the optimum faster "
                                  f"than LogisticRegression in memory", "ours": ours.label,
                        "theirs": lr.label, "ratio": ratio, "goal": 1.0,
                        "met": ratio > 1.0 and bool(ours.score.get("optimum"))})
    return out


def fmt_ratio(r: dict) -> str:
    if r.get("lower_is_better"):
        state = "met" if r["met"] else f"missed by {r['ratio'] / r['goal']:.2f}x"
    else:
        state = "met" if r["met"] else f"missed by {r['goal'] / r['ratio']:.2f}x"
    return f"{r['ratio']:.2f}x ({state})"


def table_lines(table: list[Tool], ref: dict) -> list[str]:
    lines = ["| tool | file | wall s (median) | rounds | held-out log loss | within 1%? | "
             "objective above the optimum | peak RSS MB |",
             "|---|---|---:|---|---:|---|---:|---:|"]
    for t in table:
        s = t.score
        loss = f"{s['test_log_loss']:.5f}" if s else "–"
        within = ("yes" if s["within"] else "no") if s else "–"
        gap = f"{s['objective_gap']:.1e}" if s else "–"
        walls = ", ".join(f"{w:.1f}" for w in t.walls)
        lines.append(f"| {t.label} | {t.kind} | {median(t):.2f} | {walls} | {loss} | {within} | "
                     f"{gap} | {max(t.rss) * 1.048576:.0f} |")
    return lines


def plot(table: list[Tool], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"neurona": "#1f77b4", "sgd": "#ff7f0e", "river": "#2ca02c", "vw": "#9467bd",
               "lr": "#8c564b", "read": "#7f7f7f"}
    kinds = ("csv", "parquet")
    rows = {k: [t for t in table if t.kind == k] for k in kinds}
    height = 0.32 * max(len(r) for r in rows.values()) + 1.4
    fig, axes = plt.subplots(1, 2, figsize=(14, height), sharey=False)
    for ax, kind in zip(axes, kinds):
        ts = rows[kind][::-1]
        values = [median(t) for t in ts]
        bars = ax.barh(range(len(ts)), values, color=[colours[t.family] for t in ts])
        for bar, t in zip(bars, ts):
            if t.score and not t.score["within"]:
                bar.set_hatch("//")
                bar.set_alpha(0.6)
        floor = next(t for t in ts if t.family == "read")
        ax.axvline(median(floor), color="#333333", ls="--", lw=1)
        ax.set_yticks(range(len(ts)), [t.label for t in ts], fontsize=8)
        for i, v in enumerate(values):
            ax.text(v, i, f" {v:.1f}", va="center", fontsize=8)
        ax.set_xlabel("wall seconds, process start to saved model (median)")
        ax.set_title(f"{kind.upper()}", fontsize=11)
        ax.set_xlim(0, max(values) * 1.15)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title, fontsize=11)
    fig.text(0.5, 0.005, "hatched: held-out log loss more than 1% above the optimum's; "
             "dashed line: the file read by pyarrow and nothing else", ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_section(text: str) -> None:
    doc = DOC.read_text()
    start = doc.find(HEADING + "\n")
    if start < 0:
        doc = doc.rstrip("\n") + "\n\n" + text
    else:
        end = doc.find("\n## ", start + len(HEADING))
        doc = doc[:start] + text + (doc[end + 1:] if end >= 0 else "")
    DOC.write_text(doc)


def versions() -> dict:
    from importlib.metadata import version

    out = {"python": platform.python_version()}
    for name in ("neurona", "numpy", "numba", "pyarrow", "pandas", "scikit-learn", "river",
                 "vowpalwabbit"):
        try:
            out[name] = version(name)
        except Exception:  # noqa: BLE001 - a missing package is reported as such
            out[name] = "missing"
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=4_000_000, help="training rows")
    parser.add_argument("--quick", action="store_true", help="200,000 rows: a smoke run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--only", default=None,
                        help="comma-separated substrings: run only the matching rows")
    parser.add_argument("--dir", type=Path, default=None, help="where the files go")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--write", action="store_true",
                        help="write docs/performance.md's section, the plot and the JSON")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:  # a tool's own process: --child NAME DATA OUT PARAMS
        name, data, out, params = argv[1:]
        CHILDREN[name](Path(data), Path(out), json.loads(params))
        return 0
    return bench(parser.parse_args(argv))


def bench(args) -> int:
    rows = 200_000 if args.quick else args.rows
    test_rows = max(50_000, rows // 8)
    sys.path.insert(0, str(ROOT / "src"))
    load_start = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    launcher = Launcher()  # first, while this process is small
    work = Path(tempfile.mkdtemp(prefix="neurona-ooc-", dir=args.dir))
    try:
        files = generate(work, rows, test_rows)
        warm_dir = work / "warmup"
        warm_dir.mkdir()
        warm_files = generate(warm_dir, WARMUP_ROWS, 1000, seed=7)
        sizes = {k: files[k].stat().st_size for k in ("csv", "parquet")}
        log(f"wrote {rows:,} rows: CSV {sizes['csv'] / 1e6:.0f} MB, "
            f"Parquet {sizes['parquet'] / 1e6:.0f} MB; test {test_rows:,} rows")
        train, test = read_arrays(files["parquet"]), read_arrays(files["test"])
        ref = reference(train, test)
        log(f"optimum: {ref}")
        table = tools(rows, FLAGS)
        if args.only:
            wanted = args.only.split(",")
            keep = {t.key for t in table if any(w in t.key for w in wanted)}
            keep |= {p for t in table if t.key in keep for p in t.parts}
            for t in table:  # VW's rows need their text
                if t.data and t.key in keep:
                    keep.add("tovw-" + t.kind)
            table = [t for t in table if t.key in keep]
        # round 0: every tool once on a small file, untimed (compiled kernels, bytecode)
        small = Runner(warm_dir, warm_files, launcher)
        for tool in table:
            if not tool.parts:
                small.once(tool)
        runner = Runner(work, files, launcher)
        for path in (*files.values(),):  # every file into the page cache
            with open(path, "rb") as f:
                while f.read(1 << 24):
                    pass
        for tool in table:  # VW's text, for the caches and the first round
            if tool.key.startswith("tovw"):
                runner.once(tool)
        warm_caches(runner, table)
        rounds(runner, table, args.rounds, train, test, ref, log)
    finally:
        launcher.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"kept {work}")
    load_end = os.getloadavg()
    record = {"rows": rows, "test_rows": test_rows, "features": FEATURES, "sizes": sizes,
              "reference": ref, "rounds": args.rounds, "started": started,
              "machine": {"cores": os.cpu_count(), "load_start": load_start,
                          "load_end": load_end, "platform": platform.platform(),
                          "processor": platform.processor(), "versions": versions()},
              "flags": FLAGS,
              "tools": [{"key": t.key, "label": t.label, "file": t.kind, "walls_s": t.walls,
                         "median_s": median(t), "peak_rss_mib": max(t.rss), **t.score}
                        for t in table],
              "ratios": ratios(table) if not args.only else []}
    lines = table_lines(table, ref)
    print("\n".join(lines))
    for r in record["ratios"]:
        print(f"{r['target']}: {fmt_ratio(r)} [{r['ours']} vs {r['theirs']}]")
    if args.write:
        JSON.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n")
        plot(table, PLOT, f"{rows:,} rows x {FEATURES} features: CSV "
                          f"{sizes['csv'] / 1e6:.0f} MB, Parquet {sizes['parquet'] / 1e6:.0f} MB")
        write_section(section(record, lines, args))
    return 0


def section(record: dict, lines: list[str], args) -> str:
    """The docs section: filled in by :func:`main` from the run's record."""
    return "\n".join([HEADING, "", *lines, ""])


if __name__ == "__main__":
    sys.exit(main())
