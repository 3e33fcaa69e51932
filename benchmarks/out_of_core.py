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
from performance_doc import put_section  # noqa: E402 (benchmarks/)

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
    cpu: list = field(default_factory=list)
    small: list = field(default_factory=list)     # wall seconds on round 0's small file
    score: dict = field(default_factory=dict)


def neurona_argv(flags: list[str], cache: str | None, stream: bool = True) -> list[str]:
    argv = [sys.executable, "-m", "neurona", "train", "--data", "{data}", "--target", "y",
            "--stream" if stream else "--no-stream", "--no-plots", "--test-size", "0",
            "--quiet", "--out", "{out}", *flags]
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
                            neurona_argv([*flags["adam"], "--scale", "none"], cache),
                            "neurona", cache=cache))
        for cache in ("cold", "warm"):
            out.append(Tool(f"neurona-adamnp-{k}-{cache}",
                            f"neurona {flags['adam_label']}, --kernel numpy, {cache} cache",
                            kind, "neurona",
                            neurona_argv([*flags["adam"], "--scale", "none", "--kernel",
                                          "numpy"], cache), "neurona", cache=cache))
        out.append(Tool(f"neurona-adammem-{k}", f"neurona {flags['adam_label']}, in memory "
                        f"(--no-stream)", kind, "neurona",
                        neurona_argv([*flags["adam"], "--scale", "none"], None, stream=False),
                        "neurona"))
        out.append(Tool(f"neurona-adamstd-{k}-cold",
                        f"neurona {flags['adam_label']}, --scale standard, cold cache", kind,
                        "neurona", neurona_argv([*flags["adam"], "--scale", "standard"], "cold"),
                        "neurona", cache="cold"))
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
                 child_argv("sgd", {key: (1 / (C * rows) if v == "{l2}" else v)
                                    for key, v in flags["sgd"].items()}), "linear"),
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


#: The settings of the contenders (how they were chosen: the docs section's "How each tool
#: was set"); ``{l2}`` is ``1 / (C n)``.
FLAGS = {
    "adam": ["--optimizer", "adam", "--batch-size", "4096", "--learning-rate", "0.01",
             "--epochs", "1"],
    "adam_label": "adam, batch 4096, lr 0.01, 1 epoch",
    "lbfgs_loose": "1e-2",
    "lbfgs_tight": "1e-4",
    "sgd": {"alpha": "{l2}", "learning_rate": "constant", "eta0": 0.001, "average": True,
            "random_state": 0},
    "sgd_label": "(alpha 1/n, constant eta0 0.001, averaged, 1 pass)",
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
                      "cpu": usage.ru_utime + usage.ru_stime,
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
        # As on a user's machine, the warm-up round leaves every module's bytecode on
        # disk (a shell that sets PYTHONDONTWRITEBYTECODE would have each run compile
        # neurona's own modules anew: 0.1 s a run here).
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)

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

    def once(self, tool: Tool, prefix: list[str] = ()) -> tuple[float, float, float]:
        """One timed run of ``tool`` (behind ``prefix``, a profiler's command): its wall
        seconds, peak RSS (MiB) and CPU seconds (user and system, every thread)."""
        p = self.paths(tool)
        self.prepare(tool, p)
        argv = [*prefix, *(fill(a, p) for a in tool.argv)]
        answer = self.launcher.run(argv, self.env)
        if answer["code"] != 0:
            raise SystemExit(f"{tool.key} failed: {' '.join(argv)}\n{answer['err']}")
        return answer["wall"], answer["rss_kib"] / 1024, answer["cpu"]

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
        return {"test_log_loss": loss, "within": bool(loss <= ref["test_log_loss"] * (1 + WITHIN)),
                "objective_gap": float(gap), "optimum": bool(gap <= OPTIMUM)}


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
                tool.cpu.append(sum(by_key[k].cpu[-1] for k in tool.parts))
                tool.rss.append(max(by_key[k].rss[-1] for k in tool.parts))
                tool.score = by_key[tool.parts[-1]].score
                continue
            wall, rss, cpu = runner.once(tool)
            tool.walls.append(wall)
            tool.rss.append(rss)
            tool.cpu.append(cpu)
            if r == 0:
                tool.score = runner.score(tool, train, test, ref)
            log(f"round {r + 1}: {tool.key:28s} {wall:7.2f} s {rss:6.0f} MiB "
                f"{tool.score.get('test_log_loss', float('nan')):.5f}")


# --- where neurona's time goes ----------------------------------------------------------------

RANGES = "scan: column ranges and the scaler's fit"

#: The phases of a streamed run, each a test on a sampled stack (its frames joined by ";"),
#: the first that holds naming the sample's phase.
PHASES = [
    ("imports", ("_find_and_load",)),
    ("compiled kernels loaded (Numba's cache)", ("numba/core/dispatcher", "numba/core/caching")),
    ("epoch: compiled steps", ("run_epoch", "compiled_epoch")),
    ("epoch: compiled steps", ("run_epoch", "_fused")),
    ("epoch: shuffle buffer", ("run_epoch", "_Pool")),
    ("epoch: shuffle buffer", ("run_epoch", "shuffled_runs")),
    ("epoch: the cache read", ("run_epoch", "cache.py")),
    ("epoch: other", ("run_epoch",)),
    ("lbfgs: passes over the cache", ("forward_backward", "cache.py")),
    ("lbfgs: passes (arithmetic)", ("forward_backward",)),
    ("lbfgs: other", ("lbfgs",)),
    ("scan: the cache written", ("scan", "CacheWriter")),
    ("scan: the cache read and checked", ("scan", "cache.py")),
    ("scan: waiting for the parse", ("scan", "csvblocks")),
    ("scan: Parquet batches read", ("scan", "readers.py", "batches")),
    ("scan: labels coded", ("scan", "Labels")),
    ("scan: features from the parsed columns", ("scan", "TableReading.encode")),
    (RANGES, ("scan", "scaling.py")),
    ("scan: other", ("scan",)),
    ("the run directory written", ("write_run",)),
    ("scan: the columns' kinds (the text's first block parsed)", ("column_kinds",)),
    ("after training: the rows sampled for the report", ("test_pass",)),
]


def phase_of(stack: str) -> str:
    for name, needles in PHASES:
        if all(n in stack for n in needles):
            return name
    if ";" not in stack:  # no Python frame: the interpreter starting or exiting
        return "the interpreter's start and exit"
    return "other (settings, the model)"


def read_profile(path: Path, rate: int) -> dict:
    """py-spy's raw samples (``--threads``): seconds of the main thread per phase, and of
    the other threads (the parse's pool, the cache's writer) in all. The main thread is the one whose id is
    the smallest (the process's own)."""
    samples = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        thread = stack.split(";", 1)[0]          # "thread (TID)" or "thread (TID): NAME"
        tid = int(thread.split("(", 1)[1].split(")", 1)[0], 0)
        samples.append((tid, stack, int(count) / rate))
    main_tid = min(tid for tid, _, _ in samples)
    main, others = {}, 0.0
    for tid, stack, seconds in samples:
        if tid == main_tid:
            phase = phase_of(stack)
            main[phase] = main.get(phase, 0.0) + seconds
        else:
            others += seconds
    return {"main": dict(sorted(main.items(), key=lambda kv: -kv[1])),
            "main_total": sum(main.values()), "other_threads": others}


PROFILED = ("neurona-adam-csv-cold", "neurona-adam-csv-warm", "neurona-adamstd-csv-cold",
            "neurona-adam-parquet-cold", "neurona-lbfgs-csv-warm")
PROFILE_RATE = 100


def profiles(runner: Runner, table: list[Tool], log) -> dict:
    """The rows of :data:`PROFILED` once more each, under py-spy (if it is installed)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        log("py-spy is not installed: no profiles")
        return {}
    out = {}
    for tool in table:
        if tool.key not in PROFILED:
            continue
        raw = runner.work / f"profile-{tool.key}.txt"
        prefix = [spy, "record", "-r", str(PROFILE_RATE), "--threads", "--format", "raw",
                  "-o", str(raw), "--"]
        wall = runner.once(tool, prefix)[0]
        out[tool.key] = {"label": tool.label, "file": tool.kind, "wall_s": wall,
                         **read_profile(raw, PROFILE_RATE)}
        log(f"profile {tool.key}: {wall:.2f} s, {out[tool.key]['main']}")
    return out


# --- the report -------------------------------------------------------------------------------
#
# Everything below reads the run's record (the JSON), so that --render draws the docs again
# from a record without running anything.

def record_of(table: list[Tool]) -> list[dict]:
    return [{"key": t.key, "label": t.label, "file": t.kind, "family": t.family,
             "cache": t.cache, "walls_s": t.walls, "median_s": statistics.median(t.walls),
             "cpu_s": t.cpu, "median_cpu_s": statistics.median(t.cpu),
             "small_s": t.small, "median_small_s": statistics.median(t.small) if t.small else None,
             "peak_rss_mib": max(t.rss), **t.score} for t in table]


NAMES = {"csv": "CSV", "parquet": "Parquet"}
#: How many times faster than the fastest rival neurona is to be, by file.
GOALS = {"csv": 1.5, "parquet": 2.0}


def fastest(by_key: dict, keys: list[str], need: str = "within") -> dict | None:
    """The row of least median wall time among ``keys`` that has ``need`` (by default:
    reached the 1% model), or None."""
    found = [by_key[k] for k in keys if k in by_key and by_key[k].get(need)]
    return min(found, key=lambda r: r["median_s"]) if found else None


def ratios(rows: list[dict]) -> list[dict]:
    """The targets' ratios from the medians: met, or missed by how much."""
    by_key = {r["key"]: r for r in rows}
    out = []

    def add(target, ours, theirs, ratio, goal, lower=False):
        met = ratio <= goal if lower else ratio >= goal
        out.append({"target": target, "ours": ours["label"], "theirs": theirs["label"],
                    "ours_s": ours["median_s"], "theirs_s": theirs["median_s"],
                    "ratio": ratio, "goal": goal, "met": met, "lower_is_better": lower,
                    "by": (ratio / goal if lower else goal / ratio) if not met else None})

    for kind in ("csv", "parquet"):
        goal = GOALS[kind]
        # A cold run against the rivals' first runs (VW from its text, its conversion
        # counted or not); a warm run against their second runs (VW from its own cache).
        rivals = {"cold": [(fastest(by_key, [f"sgd-{kind}", f"river-{kind}", f"vw-{kind}"]),
                            "VW from its text, the conversion not counted"),
                           (fastest(by_key, [f"sgd-{kind}", f"river-{kind}", f"vwall-{kind}"]),
                            "VW's conversion counted")],
                  "warm": [(fastest(by_key, [f"sgd-{kind}", f"river-{kind}",
                                             f"vwcache-{kind}"]),
                            "VW from its cache file")]}
        for cache in ("cold", "warm"):
            ours = fastest(by_key, [f"neurona-{v}-{kind}-{cache}"
                            for v in ("adam", "adamnp", "adamstd", "lbfgs1", "lbfgs")])
            if ours is None:
                continue
            for theirs, how in rivals[cache]:
                if theirs is not None:
                    add(f"{NAMES[kind]}, {cache} cache: {goal}x faster to the 1% model than "
                        f"the fastest of SGDClassifier, River and VW ({how})", ours, theirs,
                        theirs["median_s"] / ours["median_s"], goal)
            if kind == "csv":
                floor = by_key["read-csv"]
                add(f"CSV, {cache} cache: within 1.5x of the typed multi-threaded pyarrow "
                    f"parse", ours, floor, ours["median_s"] / floor["median_s"], 1.5, lower=True)
        lr = by_key[f"lr-{kind}"]
        for cache in ("cold", "warm"):
            ours = by_key[f"neurona-lbfgs-{kind}-{cache}"]
            add(f"{NAMES[kind]}, {cache} cache: lbfgs to the optimum faster than "
                f"LogisticRegression on the file in memory", ours, lr,
                lr["median_s"] / ours["median_s"], 1.0)
            if not ours.get("optimum"):  # stopped short of it: no ratio counts
                out[-1].update(met=False, by=None)
    return out


def state(r: dict) -> str:
    if r["met"]:
        return "met"
    return f"missed by {r['by']:.2f}x" if r["by"] else "missed: the optimum was not reached"


def table_lines(rows: list[dict]) -> list[str]:
    lines = ["| tool | file | wall s (median) | rounds (s) | CPU s | the same on "
             f"{WARMUP_ROWS:,} rows (s) | held-out log loss | within 1%? | objective above the "
             "optimum | peak RSS (MiB) |",
             "|---|---|---:|---|---:|---:|---:|---|---:|---:|"]
    for r in rows:
        scored = "test_log_loss" in r
        loss = f"{r['test_log_loss']:.5f}" if scored else "–"
        within = ("yes" if r["within"] else "**no**") if scored else "–"
        gap = f"{r['objective_gap']:.1e}" if scored else "–"
        walls = ", ".join(f"{w:.1f}" for w in r["walls_s"])
        small = r.get("median_small_s")
        lines.append(f"| {r['label']} | {r['file']} | {r['median_s']:.2f} | {walls} | "
                     f"{r['median_cpu_s']:.1f} | {'–' if small is None else f'{small:.2f}'} | "
                     f"{loss} | {within} | {gap} | {r['peak_rss_mib']:.0f} |")
    return lines


COLOURS = {"neurona": "#1f77b4", "sgd": "#ff7f0e", "river": "#2ca02c", "vw": "#9467bd",
           "lr": "#8c564b", "read": "#7f7f7f"}


def plot(record: dict, path: Path) -> None:
    """Bars of each row's median wall seconds, CSV and Parquet side by side (the rows of
    both files come in the same order, so the left panel's labels name both)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    kinds = ("csv", "parquet")
    rows = {k: [r for r in record["tools"] if r["file"] == k][::-1] for k in kinds}
    n = len(rows["csv"])
    fig, axes = plt.subplots(1, 2, figsize=(14, 0.36 * n + 2.2), sharey=True,
                             gridspec_kw={"wspace": 0.06})
    for ax, kind in zip(axes, kinds):
        rs = rows[kind]
        values = [r["median_s"] for r in rs]
        bars = ax.barh(range(len(rs)), values, color=[COLOURS[r["family"]] for r in rs])
        for bar, r in zip(bars, rs):
            if "within" in r and not r["within"]:
                bar.set_hatch("//")
                bar.set_alpha(0.6)
        floor = next(r for r in rs if r["family"] == "read")
        ax.axvline(floor["median_s"], color="#333333", ls="--", lw=1)
        for i, v in enumerate(values):
            ax.text(v, i, f" {v:.1f}", va="center", fontsize=8)
        ax.set_xlabel("wall seconds, start to saved model (median)", fontsize=9)
        size = record["sizes"][kind] / 1e6
        ax.set_title(f"{NAMES[kind]} ({size:.0f} MB)", fontsize=11)
        ax.set_xlim(0, max(values) * 1.15)
        ax.grid(axis="x", alpha=0.3)
    labels = ["pyarrow: the file read, nothing else" if r["family"] == "read" else r["label"]
              for r in rows["csv"]]
    axes[0].set_yticks(range(n), labels, fontsize=8)
    names = {"neurona": "neurona", "sgd": "SGDClassifier", "river": "River",
             "vw": "Vowpal Wabbit", "lr": "LogisticRegression", "read": "pyarrow read"}
    fig.legend(handles=[Patch(color=c, label=names[f]) for f, c in COLOURS.items()],
               loc="lower center", ncol=6, fontsize=8, frameon=False,
               bbox_to_anchor=(0.6, 0.035))
    fig.suptitle(f"From a file of {record['rows']:,} rows x {record['features']} features to "
                 f"a saved model, {record['machine']['cores']} cores", fontsize=11)
    fig.text(0.6, 0.008, "hatched: held-out log loss more than 1% above the optimum's; "
             "dashed line: the file read by pyarrow and nothing else", ha="center", fontsize=8)
    fig.subplots_adjust(left=0.33, right=0.98, top=0.92, bottom=0.07 + 1.0 / (0.36 * n + 2.2))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_section(text: str) -> None:
    """Put ``text`` under its heading in docs/performance.md, keeping the other sections."""
    put_section(text, HEADING, DOC)


def versions() -> dict:
    from importlib.metadata import version

    out = {"python": platform.python_version()}
    for name in ("neurona", "numpy", "numba", "pyarrow", "pandas", "scikit-learn", "river",
                 "vowpalwabbit", "py-spy"):
        try:
            out[name] = version(name)
        except Exception:  # noqa: BLE001 - a missing package is reported as such
            out[name] = "missing"
    return out


def report(record: dict, write: bool) -> None:
    lines = table_lines(record["tools"])
    print("\n".join(lines))
    for r in record["ratios"]:
        print(f"{r['target']}: {r['ratio']:.2f}x, {state(r)} [{r['ours']}: "
              f"{r['ours_s']:.2f} s; {r['theirs']}: {r['theirs_s']:.2f} s]")
    if write:
        JSON.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n")
        plot(record, PLOT)
        write_section(section(record, lines))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=4_000_000, help="training rows")
    parser.add_argument("--quick", action="store_true", help="200,000 rows: a smoke run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--only", default=None,
                        help="comma-separated substrings: run only the matching rows")
    parser.add_argument("--dir", type=Path, default=None, help="where the files go")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the profiles of neurona's runs (py-spy)")
    parser.add_argument("--write", action="store_true",
                        help="write docs/performance.md's section, the plot and the JSON")
    parser.add_argument("--render", type=Path, default=None, metavar="JSON",
                        help="write the docs from this record of an earlier run (no run)")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:  # a tool's own process: --child NAME DATA OUT PARAMS
        name, data, out, params = argv[1:]
        CHILDREN[name](Path(data), Path(out), json.loads(params))
        return 0
    args = parser.parse_args(argv)
    if args.render:
        report(json.loads(args.render.read_text()), True)
        return 0
    return bench(args)


def bench(args) -> int:
    rows = 200_000 if args.quick else args.rows
    test_rows = max(50_000, rows // 8)
    sys.path.insert(0, str(ROOT / "src"))
    launcher = Launcher()  # first, while this process is small
    load_start = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    shown, skip = [], False
    for a in sys.argv[1:]:  # the command as run, less where its files went
        if not skip and a != "--keep" and not a.startswith("--dir"):
            shown.append(a)
        skip = a == "--dir"
    command = " ".join(["python benchmarks/out_of_core.py", *shown])

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

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
            keep |= {"tovw-" + t.kind for t in table if t.data and t.key in keep}
            keep |= {"read-" + t.kind for t in table if t.key in keep}  # the plot's floor
            table = [t for t in table if t.key in keep]
        # round 0: every tool once on a small file, untimed (compiled kernels, bytecode)
        small = Runner(warm_dir, warm_files, launcher)
        for tool in table:
            if not tool.parts:
                small.once(tool)
        runner = Runner(work, files, launcher)
        for path in files.values():  # every file into the page cache
            with open(path, "rb") as f:
                while f.read(1 << 24):
                    pass
        for tool in table:  # VW's text, for its cache and the first round
            if tool.key.startswith("tovw"):
                runner.once(tool)
        warm_caches(runner, table)
        rounds(runner, table, args.rounds, train, test, ref, log)
        profile = {} if args.no_profile else profiles(runner, table, log)
        for _ in range(args.rounds):  # the start-up: every row on the small file again
            for tool in table:
                if not tool.parts:
                    tool.small.append(small.once(tool)[0])
        by_key = {t.key: t for t in table}
        for tool in table:
            if tool.parts:
                tool.small = [sum(v) for v in zip(*(by_key[k].small for k in tool.parts))]
    finally:
        launcher.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"kept {work}")
    rows_out = record_of(table)
    record = {"command": command, "started": started, "commit": commit_of(ROOT),
              "rows": rows, "test_rows": test_rows,
              "features": FEATURES, "sizes": sizes, "reference": ref, "rounds": args.rounds,
              "machine": {"cores": os.cpu_count(), "load_start": load_start,
                          "load_end": os.getloadavg(), "platform": platform.platform(),
                          "processor": platform.processor() or platform.machine(),
                          "versions": versions()},
              "flags": FLAGS, "tools": rows_out, "profiles": profile,
              "ratios": ratios(rows_out) if not args.only else []}
    report(record, args.write)
    return 0


def commit_of(root: Path) -> str:
    """The commit the measured code is at, ``+`` when its sources differ from it."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              check=False).stdout.strip()
    head = git("rev-parse", "--short", "HEAD")
    return head + ("+" if head and git("status", "--porcelain", "--", "src") else "")


def phase_lines(profiles: dict) -> list[str]:
    """A table of the profiled runs: the main thread's seconds per phase."""
    keys = list(profiles)
    phases = []
    for k in keys:
        for phase in profiles[k]["main"]:
            if phase not in phases:
                phases.append(phase)
    order = [name for name, _ in PHASES] + ["the interpreter's start and exit",
                                            "other (settings, the model)"]
    phases.sort(key=lambda p: order.index(p) if p in order else len(order))
    head = "| main thread, seconds | " + " | ".join(profiles[k]["label"].replace(
        "neurona ", "") + f" ({profiles[k].get('file') or k.split('-')[2]})" for k in keys) + " |"
    lines = [head, "|---|" + "---:|" * len(keys)]
    for phase in phases:
        cells = [profiles[k]["main"].get(phase, 0.0) for k in keys]
        lines.append(f"| {phase} | " + " | ".join(f"{c:.2f}" if c else "–" for c in cells)
                     + " |")
    lines.append("| **the main thread in all** | " + " | ".join(
        f"**{profiles[k]['main_total']:.2f}**" for k in keys) + " |")
    lines.append("| the other threads (the CSV parse's pool, the cache's writer), busy | " + " | ".join(
        f"{profiles[k]['other_threads']:.2f}" for k in keys) + " |")
    lines.append("| wall, under the profiler | " + " | ".join(
        f"{profiles[k]['wall_s']:.2f}" for k in keys) + " |")
    return lines


def section(record: dict, lines: list[str]) -> str:
    """The docs section, from the run's record."""
    m, ref, v = record["machine"], record["reference"], record["machine"]["versions"]
    by_key = {r["key"]: r for r in record["tools"]}
    mb = {k: record["sizes"][k] / 1e6 for k in ("csv", "parquet")}
    flags = record["flags"]
    adam = " ".join(flags["adam"])
    sgd = ", ".join(f"{k}={'1/n' if v == '{l2}' else repr(v)}" for k, v in flags["sgd"].items()
                    if k != "random_state")
    lbfgs = (f"--optimizer lbfgs --reduction mean --l2 {1 / (C * record['rows']):.3g} "
             f"--scale none --epochs 200 --tol TOL")
    target = ref["test_log_loss"] * (1 + WITHIN)
    out = [
        HEADING, "",
        f"Measured by `{record['command']}` on {record['started']}"
        + (f", neurona at commit {record['commit']}" if record.get("commit") else "")
        + f": {m['cores']} cores "
        f"({m['processor']}), shared with other work while it ran: the one-minute load "
        f"average was {m['load_start'][0]:.1f} when it started and {m['load_end'][0]:.1f} "
        f"when it ended, against {m['cores']} cores, so the seconds are an order of magnitude "
        f"and the ratios (every tool took turns in the same rounds) the finding. Python "
        f"{v['python']}, NumPy {v['numpy']}, Numba {v['numba']}, pyarrow {v['pyarrow']}, "
        f"pandas {v['pandas']}, scikit-learn {v['scikit-learn']}, River {v['river']}, "
        f"Vowpal Wabbit {v['vowpalwabbit']} (its Python package), py-spy {v['py-spy']}. "
        f"Figures in [out_of_core_benchmark.json](out_of_core_benchmark.json).", "",
        f"**The data** (generated, seeded): {record['rows']:,} rows of {record['features']} "
        f"correlated features (corr(x_i, x_j) = {CORRELATION}^|i - j|) and a 0/1 target "
        f"drawn from a logistic model, {LABEL_NOISE:.0%} of its labels then flipped; as CSV "
        f"({mb['csv']:.0f} MB, 6 decimals) and as Parquet ({mb['parquet']:.0f} MB, the same "
        f"numbers in float64), and a held-out file of {record['test_rows']:,} rows. **The "
        f"optimum** is `LogisticRegression(C=1, tol=1e-10)` fitted in memory: objective "
        f"f* = {ref['objective']:.6f} (its `C sum l_i + |w|^2 / 2` divided by `C n`: neurona's "
        f"`--reduction mean` objective with `--l2 1/(C n)`, "
        f"[training.md](training.md#the-correspondence-with-scikit-learns-logisticregression)), "
        f"held-out log loss L* = {ref['test_log_loss']:.5f}. **The 1% model** is any model "
        f"whose held-out log loss is at most 1.01 L* = {target:.5f}; **the optimum** is "
        f"reached when the training objective is within 1e-6 (relative) of f*.", "",
        "**Method.** Each tool runs in a child process of its own, started by a small "
        "launcher process (so that the child's `ru_maxrss` is its own peak, not the "
        "parent's), on the same files, read once before the first round so that all of them "
        "sit in the page cache. Wall time runs from the child's start to its exit, its model "
        "saved; CPU is its user and system seconds, every thread. The rounds are "
        f"interleaved: round 1 runs every row of the table once, then round 2, ...; "
        f"{record['rounds']} rounds, the median shown. A round 0 on a 20,000-row file runs "
        "every row once, untimed, first (Numba's compiled kernels and Python's bytecode on "
        "disk, as on any later day). neurona runs as a user runs it: `python -m neurona "
        "train --data FILE --target y --stream --no-plots --test-size 0 --quiet` and the "
        "row's flags; **cold cache**: its cache folder emptied before the run, so the run "
        "parses the file and writes the cache; **warm cache**: the cache an earlier run of "
        "the same command wrote; `--no-cache`: every pass parses the file. The parent then "
        "reads each model (neurona's `model.json` through `neurona.load`; the others' "
        "weights, which each child writes as JSON) and scores all of them the same way: the "
        "probabilities of the held-out rows and their log loss, and the training objective.",
        "",
        "**How each tool was set** (chosen on this data, before the rounds, by single runs "
        "of the full file):", "",
        f"- neurona, the 1% model: `{adam}` with `--scale none` (the features are on "
        f"comparable scales; the row with `--scale standard` shows what the scaler costs, "
        f"the rows with `--kernel numpy` what Numba's start costs). "
        f"Batches of 1,024, 4,096 and 16,384 rows at learning rates 0.005 to 0.05 all reached "
        f"the 1% model in one epoch; 4,096 at 0.01 came nearest the optimum. Also L-BFGS "
        f"stopped early (`--tol {flags['lbfgs_loose']}`).",
        f"- neurona, the optimum: `{lbfgs}` with TOL = {flags['lbfgs_tight']}, the largest "
        f"that reached 1e-6 of f* (`--tol 1e-3` stopped 1.5e-6 above it); it took 22 "
        f"iterations, 26 passes over the training rows.",
        f"- `SGDClassifier(loss='log_loss', {sgd})`, `partial_fit` on chunks of "
        f"{CHUNK_ROWS:,} rows (pandas `read_csv(chunksize=...)`; a Parquet file's "
        f"`iter_batches` turned into DataFrames). Its defaults (alpha 1e-4, the 'optimal' "
        f"schedule) also reach the 1% model (+0.38%), in the same time (the reading is its "
        f"cost); averaged SGD with the optimum's L2 comes within 0.01% of it.",
        f"- River `LogisticRegression(optimizer=SGD(lr))` (and the intercept's rate), "
        f"`learn_many` on 1,000-row slices of the same chunks; lr 0.1, the best of 0.01 "
        f"(+0.28% above L*), 0.1 (+0.03%) and 0.5 (+0.20%).",
        "- Vowpal Wabbit: `--loss_function logistic --link logistic`, its defaults otherwise "
        "(adaptive, normalised updates, 2^18 weights), one pass over its text format "
        "(`1 | x0:v x1:v ...`), which a child writes first from the file (pyarrow's compute "
        "functions, a block at a time: the conversion row). Its `--cache_file` written "
        "during the pass made that pass slower (about 11 s against 6.5 s in a trial), so "
        "only a cache written by an earlier run is a row, beside neurona's warm cache.",
        "- `LogisticRegression()` (lbfgs, its defaults, C = 1) on the whole file read into "
        "memory by pandas (`read_csv(engine='pyarrow')`, `read_parquet`).",
        "- The floor: `pyarrow.csv.read_csv` with every column typed float64, on every core "
        "(`use_threads`), and `pyarrow.parquet.read_table`: reading the file and nothing "
        "else.", "",
        *lines, "",
        "![wall seconds per tool, CSV and Parquet](out_of_core.png)", "",
        "### The targets", "",
        "| target | neurona | s | against | s | ratio | result |",
        "|---|---|---:|---|---:|---:|---|",
    ]
    for r in record["ratios"]:
        out.append(f"| {r['target']} | {r['ours']} | {r['ours_s']:.2f} | {r['theirs']} | "
                   f"{r['theirs_s']:.2f} | {r['ratio']:.2f}x | {state(r)} |")
    if record.get("profiles"):
        out += ["", "### Where neurona's time goes", "",
                f"Each run below was made once more under `py-spy record --threads -r "
                f"{PROFILE_RATE}` after the rounds; its samples of the main thread are "
                "grouped by phase (`benchmarks/out_of_core.py`, `PHASES`), in seconds (a "
                "sample counts whether the thread ran or waited for a core).", "",
                *phase_lines(record["profiles"])]
    out += ["", *analysis(record, by_key), ""]
    return "\n".join(out)


def cores_paragraph(record, by_key) -> str:
    """The cold runs' work against the cores: the least wall time that work could take."""
    cores = record["machine"]["cores"]
    words = []
    for kind, name in NAMES.items():
        ours = fastest(by_key, [f"neurona-adam-{kind}-cold", f"neurona-adamnp-{kind}-cold"])
        rival = fastest(by_key, [f"sgd-{kind}", f"river-{kind}", f"vw-{kind}"])
        goal = rival["median_s"] / GOALS[kind]
        least = ours["median_cpu_s"] / cores
        words.append(
            f"the fastest cold {name} run ({ours['label'].removeprefix('neurona ')}) "
            f"computed for {ours['median_cpu_s']:.2f} s, which {cores} cores cannot finish "
            f"in under {least:.2f} s, " + (
                f"more than the {goal:.2f} s of the target against the rivals: it needs "
                f"less work, not more overlap (pyarrow's parse alone computes for "
                f"{by_key['read-' + kind]['median_cpu_s']:.2f} s)" if least > goal else
                f"less than the {goal:.2f} s of the target against the rivals: the work "
                f"would fit, run side by side; the run took {ours['median_s']:.2f} s"))
    return (f"**The cores.** Wall time is at least the work divided among the cores: "
            f"{'; '.join(words)}. What keeps a cold run's work in a line is the order of "
            f"its two passes: the epoch starts when the scan has ended, because its first "
            f"step needs what only the whole file tells: the classes, the number of rows "
            f"(the epoch's batches, the kernel `auto` picks, a summed loss's share of the "
            f"penalty), the scaler's statistics, and every check passed, so that bad "
            f"input is refused before any training. Training on the scan's blocks as they "
            f"come would overlap the two; it would also train on rows not yet checked, "
            f"and for CSV, whose row count only the end of the text gives, start without "
            f"the sizes above.")


def parquet_paragraph(record, by_key, t, small, ph, up, epoch) -> str:
    """The Parquet file's misses: its fastest rivals, first and second runs."""
    first = fastest(by_key, ["sgd-parquet", "river-parquet", "vw-parquet"])
    second = fastest(by_key, ["sgd-parquet", "river-parquet", "vwcache-parquet"])
    cold, warm = t("neurona-adam-parquet-cold"), t("neurona-adam-parquet-warm")
    key = "neurona-adam-parquet-cold"
    net_ours = warm - small("neurona-adam-parquet-warm")
    net_theirs = second["median_s"] - (second.get("median_small_s") or 0.0)
    none = t("neurona-adam-parquet-none")
    no_cache = (f"For one epoch the cache is written to be read once, and still pays: "
                f"`--no-cache`, which reads the file twice (the scan, the epoch), took "
                f"{none:.2f} s." if none >= cold else
                f"For one epoch the cache is written to be read once: `--no-cache` took "
                f"{none:.2f} s.")
    return (
        f"**Parquet: the start-up and the cache.** The fastest first run of a rival is "
        f"{first['label']}: {first['median_s']:.2f} s (" + (
            "River reads the file's batches into pandas and learns from 1,000-row slices; "
            if first["family"] == "river" else "") +
        f"VW first needs its text, {t('tovw-parquet'):.2f} s to convert). neurona's cold "
        f"run takes {cold:.2f} s: "
        f"start-up {up[key]:.2f} s, the cache written {ph(key, 'scan: the cache written'):.2f} "
        f"s, the epoch {ph(key, *epoch):.2f} s (the shuffle buffer "
        f"{ph(key, 'epoch: shuffle buffer'):.2f} s of it). 2x faster than "
        f"{first['median_s']:.2f} s is {first['median_s'] / 2:.2f} s: about neurona's "
        f"start-up ({small(key):.2f} s on the {WARMUP_ROWS:,}-row file) plus one read of the "
        f"file by pyarrow ({t('read-parquet'):.2f} s). " + no_cache + " Warm, "
        f"{warm:.2f} s against {second['label']}'s {second['median_s']:.2f} s; net of each "
        f"one's start-up {net_ours:.2f} s against {net_theirs:.2f} s "
        f"({net_theirs / max(net_ours, 1e-9):.1f}x).")


def warm_paragraph(record, by_key, t, small, ph, epoch) -> str:
    """A second run on the CSV file, from its cache, against the rivals' second runs."""
    second = min((by_key[k] for k in ("sgd-csv", "river-csv", "vwcache-csv")),
                 key=lambda r: r["median_s"])
    ours = t("neurona-adam-csv-warm")
    ratio = second["median_s"] / ours
    net_ours = ours - small("neurona-adam-csv-warm")
    net_theirs = second["median_s"] - (second.get("median_small_s") or 0.0)
    return (
        f"**CSV, warm.** From its cache a run reads no text: the scan checks every "
        f"block's CRC-32 and recomputes its statistics "
        f"({ph('neurona-adam-csv-warm', 'scan: the cache read and checked'):.2f} s), the "
        f"epoch takes {ph('neurona-adam-csv-warm', *epoch):.2f} s: {ours:.2f} s in all "
        f"(less than pyarrow's parse), against {second['median_s']:.2f} s for the fastest "
        f"second run of a rival, {second['label']}: {ratio:.2f}x, the 1.5x target "
        + ("met. " if ratio >= 1.5 else f"missed by {1.5 / ratio:.2f}x. ") +
        f"Take from each its time on the {WARMUP_ROWS:,}-row file (the start-up) and the "
        f"reading and learning of the {record['rows']:,} rows cost neurona "
        f"{net_ours:.2f} s and {second['label']} {net_theirs:.2f} s.")


def analysis(record: dict, by_key: dict) -> list[str]:
    """Why the targets are met or missed: the profiles' and the rows' numbers, in words."""
    profiles = record.get("profiles") or {}
    if record["rows"] < 1_000_000:  # the words below are about a file of millions of rows
        return ["(A smoke run: the analysis of the targets is written for a full run.)"]
    if not all(k in profiles for k in ("neurona-adam-csv-cold", "neurona-adam-csv-warm",
                                       "neurona-adam-parquet-cold")):
        return []

    def t(key):
        return by_key[key]["median_s"]

    def small(key):
        return by_key[key].get("median_small_s") or 0.0

    def ph(key, *names):
        return sum(profiles[key]["main"].get(n, 0.0) for n in names)

    start = ("imports", "the interpreter's start and exit",
             "compiled kernels loaded (Numba's cache)")
    cold, warm = (profiles[f"neurona-adam-{k}"] for k in ("csv-cold", "csv-warm"))
    up = {k: ph(k, *start) for k in profiles}
    epoch = ("epoch: shuffle buffer", "epoch: compiled steps", "epoch: the cache read",
             "epoch: other")
    floor = t("read-csv")
    vw = t("vw-csv")
    ours = {k: t(f"neurona-adam-{k}") for k in ("csv-cold", "csv-warm", "parquet-cold",
                                                 "parquet-warm")}
    steps = -(-record["rows"] // 4096)
    out = [
        "### Why the targets are missed", "",
        f"**Start-up.** Before it reads a row, a neurona run spends "
        f"{small('neurona-adam-csv-warm'):.1f} s or so: the "
        f"same command on the {WARMUP_ROWS:,}-row file takes "
        f"{small('neurona-adam-csv-warm'):.2f} s (warm cache), against "
        f"{small('vw-csv'):.2f} s for VW's package, {small('river-csv'):.2f} s for River, "
        f"{small('sgd-csv'):.2f} s for SGDClassifier and {small('read-csv'):.2f} s for "
        f"pyarrow. In the warm CSV run's profile, {up['neurona-adam-csv-warm']:.2f} s of "
        f"its main thread's {warm['main_total']:.2f} s are start-up: the imports "
        f"({ph('neurona-adam-csv-warm', 'imports'):.2f} s: NumPy, pyarrow, Numba, the "
        f"modules Numba imports when its first compiled call sets up its target, SciPy's "
        f"linear algebra among them, which Numba loads to find a BLAS, and the command's "
        f"modules), Numba's kernels loaded from its cache, and the interpreter's start and exit "
        f"({ph('neurona-adam-csv-warm', start[1]):.2f} s, no Python frame: the "
        f"interpreter itself and the teardown of what the imports built). scikit-learn is "
        f"imported only for a scaler (`--scale standard`: imports "
        f"{ph('neurona-adamstd-csv-cold', 'imports'):.2f} s against "
        f"{ph('neurona-adam-csv-cold', 'imports'):.2f} s in the cold CSV runs' profiles).",
        "",
        f"**CSV, cold: the parse.** A first run parses the text, every cell checked: the "
        f"parse's threads were busy {cold['other_threads']:.2f} s, and the main thread "
        f"waited {ph('neurona-adam-csv-cold', 'scan: waiting for the parse'):.2f} s for them, "
        f"built the features from the parsed columns "
        f"({ph('neurona-adam-csv-cold', 'scan: features from the parsed columns'):.2f} s), "
        f"coded the labels ({ph('neurona-adam-csv-cold', 'scan: labels coded'):.2f} s), "
        f"found each column's range "
        f"({ph('neurona-adam-csv-cold', RANGES):.2f} s) "
        f"and handed the cache its blocks "
        f"({ph('neurona-adam-csv-cold', 'scan: the cache written'):.2f} s; a thread of its "
        f"own writes them); then the epoch read the cache through the shuffle buffer "
        f"({ph('neurona-adam-csv-cold', 'epoch: shuffle buffer'):.2f} s) and took its "
        f"{steps:,} compiled Adam steps "
        f"({ph('neurona-adam-csv-cold', 'epoch: compiled steps'):.2f} s). pyarrow's parse "
        f"of the same file, typed, on both cores, and nothing else, takes {floor:.2f} s. "
        f"Within 1.5x of it is {1.5 * floor:.2f} s; the run took {ours['csv-cold']:.2f} s, "
        f"{ours['csv-cold'] - 1.5 * floor:.2f} s over, about its start-up "
        f"({up['neurona-adam-csv-cold']:.2f} s). 1.5x faster than VW reading its own text "
        f"({vw:.2f} s) is {vw / 1.5:.2f} s, " + (
            f"less than pyarrow's parse alone: no run that parses this CSV file with "
            f"pyarrow can meet it. VW reads a file converted for it beforehand (converting "
            f"took {t('tovw-csv'):.2f} s), with a reader of its own that learns as it "
            f"parses, in one thread." if vw / 1.5 < floor else
            f"{floor:.2f} s of it the parse; the rest of the run would have to fit in "
            f"{vw / 1.5 - floor:.2f} s.") +
        f" Counted with its conversion VW takes {t('vwall-csv'):.2f} s, and the fastest "
        f"first run of a rival is {'then ' if vw < t('river-csv') else ''}River's, "
        f"{t('river-csv'):.2f} s (pandas' "
        f"single-threaded parser, NumPy updates): 1.5x faster than that is "
        f"{t('river-csv') / 1.5:.2f} s, again about pyarrow's parse alone.", "",
        warm_paragraph(record, by_key, t, small, ph, epoch), "",
        parquet_paragraph(record, by_key, t, small, ph, up, epoch), "",
        cores_paragraph(record, by_key), "",
        f"**What would close the gaps,** from these profiles: the start-up, above all "
        f"Numba's. A process's first compiled call costs about 0.45 s (its target set up, "
        f"the kernels loaded from its cache); " + (
            f"the `--kernel numpy` rows, NumPy's vectorised steps and no Numba, took "
            f"{t('neurona-adamnp-csv-cold'):.2f} s and {t('neurona-adamnp-csv-warm'):.2f} s "
            f"on the CSV file (cold, warm), {t('neurona-adamnp-parquet-cold'):.2f} s and "
            f"{t('neurona-adamnp-parquet-warm'):.2f} s on Parquet, against "
            f"{ours['csv-cold']:.2f}, {ours['csv-warm']:.2f}, {ours['parquet-cold']:.2f} "
            f"and {ours['parquet-warm']:.2f} s compiled. "
            if "neurona-adamnp-parquet-warm" in by_key else "") +
        f"In single runs of the warm Parquet epoch, NumPy's steps took 1.45 s against 1.93 "
        f"s compiled in batches of 4,096 (977 batches), 1.97 s against 2.01 s in batches "
        f"of 256 (15,625). `kernel='auto'` still compiles these runs: a rule that weighs the run's "
        f"batches (its epochs times an epoch's) would make the kernel, and so the last "
        f"bits of the numbers, depend on `--epochs`, and a run interrupted and resumed "
        f"with another `--epochs` would no longer equal one straight run bit for bit; a "
        f"rule by batch size alone does not hold either (at 100 features the compiled "
        f"step stays about 25% faster than NumPy's at every batch size from 256 to 8,192 "
        f"rows); a run that knows it is short says so with `--kernel numpy` "
        f"([training.md](training.md#big-file-best-model-fastest)). Loading Numba in a "
        f"thread while the scan reads the file gained nothing "
        f"in trials (3.19 s against 2.99 s cold, 1.80 s against 1.85 s warm, Parquet): "
        f"the loading holds the GIL. A cold CSV run still parses its text once, on the "
        f"cores pyarrow's own parse uses, so it cannot come within 1.5x of that parse "
        f"while its start-up and the features' assembly "
        f"({ph('neurona-adam-csv-cold', 'scan: features from the parsed columns'):.2f} s "
        f"under the profiler) follow the parse on the main thread.", "",
        "### The targets met", "",
        f"**L-BFGS to the optimum** (`--tol {record['flags']['lbfgs_tight']}`, "
        f"{by_key['neurona-lbfgs-csv-cold']['objective_gap']:.0e} above f*): "
        f"{t('neurona-lbfgs-csv-cold'):.2f} s cold and {t('neurona-lbfgs-csv-warm'):.2f} s "
        f"warm on the CSV file, {t('neurona-lbfgs-parquet-cold'):.2f} s and "
        f"{t('neurona-lbfgs-parquet-warm'):.2f} s on Parquet, against "
        f"{t('lr-csv'):.2f} s and {t('lr-parquet'):.2f} s for `LogisticRegression()` (whose "
        f"defaults stop {by_key['lr-csv']['objective_gap']:.0e} above f*) with the file in "
        f"memory, at {by_key['neurona-lbfgs-csv-cold']['peak_rss_mib']:.0f} MiB of memory "
        f"against {by_key['lr-csv']['peak_rss_mib']:.0f} MiB. Each of its passes reads the "
        f"cache, 26 of them" + (f" (the warm CSV run's profile: "
                    f"{ph('neurona-lbfgs-csv-warm', 'lbfgs: passes over the cache'):.2f} s "
                    f"reading, "
                    f"{ph('neurona-lbfgs-csv-warm', 'lbfgs: passes (arithmetic)'):.2f} s "
                    f"computing)" if "neurona-lbfgs-csv-warm" in profiles else "") + ".",
        "",
        f"**Warm, against every rival's first run**: {ours['csv-warm']:.2f} s on the CSV "
        f"file, {t('river-csv') / ours['csv-warm']:.1f}x faster than River and "
        f"{t('vwall-csv') / ours['csv-warm']:.1f}x faster than VW with its conversion; "
        f"and within the 1.5x of the parse ({ours['csv-warm'] / floor:.2f}x).", "",
        f"**Peak memory** stays at {by_key['neurona-adam-csv-cold']['peak_rss_mib']:.0f} "
        f"MiB streamed (cold, CSV), the record batches and the shuffle buffer whatever the "
        f"file's size, against {by_key['lr-csv']['peak_rss_mib']:.0f} MiB for "
        f"`LogisticRegression` with pandas. **Streaming is the faster way here too**: in "
        f"memory (`--no-stream`) the same epoch took {t('neurona-adammem-csv'):.2f} s and "
        f"{by_key['neurona-adammem-csv']['peak_rss_mib']:.0f} MiB on the CSV file, "
        f"{t('neurona-adammem-parquet'):.2f} s on Parquet (a profile of one such CSV run: "
        f"5.7 s reading the file into one table and its arrays, 1.8 s drawing the split's "
        f"rows, 0.9 s training).", "",
        "### What changed in neurona for this", "",
        "The scan of a streamed file found each column's smallest and largest values with "
        "NumPy's `min(axis=0)` and `max(axis=0)`, which walk a narrow C-ordered array row by "
        "row, and checked the scaler's magnitudes with `abs(X).max(axis=0)`, a third such "
        "walk and a copy; a batch whose rows all train was copied for the scaler too. "
        "`neurona.data.scaling.column_range` now reduces slabs of 64 consecutive rows "
        "element by element (long contiguous runs) before the columns, the magnitude check "
        "reuses the range, and a batch of training rows only goes to the scaler uncopied: "
        "the same numbers (the runs' model, history and scaler files are byte for byte "
        "those of before, tested for CSV and Parquet, with and without a test split, "
        "float32 and the minmax scaler). `FileStream(...).scan('standard')` of the "
        "4,000,000-row CSV file, before and after, three times each in turns: from its "
        "cache 1.95 s before, 0.82 s after (medians; the main thread's CPU the same); "
        "parsing the text (no cache), the main thread's CPU 2.19 s before, 1.50 s after, "
        "and the wall 3.09 s before, 2.85 s after, where the main thread waits for the "
        "parse threads on two cores.", "",
        "Then, with the profiles of that version: the sigmoid is NumPy's own `1 / (1 + "
        "exp(-z))`, computed in float64 (SciPy's special functions cost every run 0.16 s "
        "of imports); the cache file is reserved on disk 64 MiB ahead of its writes "
        "(ext4 wrote a file growing a write at a time at 0.5 to 0.8 GB/s here, 2 to 6 "
        "GB/s reserved), written with its CRC-32 by a thread of its own while the next "
        "block is parsed, and not synced (a torn cache fails its checks and is rebuilt); "
        "the parsed columns go into the row-major features 4,096 rows at a time (0.34 s "
        "against 0.11 s for 4,000,000 x 20); a CSV block is read after room for the line "
        "the block before it left over, never copied to join it; the shuffle buffer's "
        "rows are trained where they lie in its store (copied in once, never out); and a "
        "part that leaves no rows out passes the cache's blocks on uncopied. The four "
        "one-epoch runs of the table, the version before and this one taking turns, five "
        "times each (medians, `--scale none`): CSV cold 5.26 s before, 4.52 s after; CSV "
        "warm 2.46 s, 1.92 s; Parquet cold 4.47 s, 2.78 s; Parquet warm 2.11 s, 1.70 s; "
        "and L-BFGS to the optimum from the CSV file's cache 8.64 s, 6.02 s (three turns).",
        "",
        "Then, from the profiles of the cold runs: a Parquet column of one chunk is read "
        "where it lies (`neurona.data.encoding.one_array`), where `combine_chunks` copied "
        "every feature column once for nothing (a cold Parquet epoch 2.51 s before, 2.35 s "
        "after, five turns each); Arrow columns reach NumPy from their buffers and null "
        "masks from their packed bits, because pyarrow's `Array.to_numpy` and `pa.array` "
        "import pandas, 0.2 s of every run's start (cold Parquet, `--kernel numpy`, 2.35 s "
        "before, 1.97 s after; cold CSV 4.42 s, 4.22 s; a streamed run of numeric columns "
        "with neither a scaler nor a test report now loads neither pandas nor SciPy, which "
        "a test holds in a child process); and the figure's sample of rows is drawn by the "
        "scan (`neurona.data.split.RowSample`: the rows a pass that knew the file's length "
        "would draw), so the test pass reads only the test part, and nothing when there is "
        "none, where it read the whole cache again after training for 2,000 rows (0.125 s "
        "of a 4,000,000-row run). Each pair of figures: the version before and this "
        "one, taking turns on one machine.",
    ]
    return out


if __name__ == "__main__":
    sys.exit(main())
