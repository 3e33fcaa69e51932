"""One training epoch of one neuron: neurona against NumPy, PyTorch and scikit-learn.

    pip install -e ".[bench]"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/epoch.py [--quick] [--write]

Everything runs in one process, so the ratios between variants hold even on a
machine shared with other work. First the machine's read bandwidth: the
median of several timed reads of a 1 GiB array by all cores. Then, for each
size N x d (float32 and float64), the median time of one epoch of each
variant, the variants taking turns in every round:

- neurona, fused pass (``kernel="numba"``), X C-ordered and F-ordered;
- neurona, NumPy path (``kernel="numpy"``), C and F;
- a naive NumPy transcription of the tutorial post's loop (bias column, X.dot);
- PyTorch on the CPU, gradient written by hand, and by autograd;
- scikit-learn's SGDClassifier, one ``partial_fit`` (one epoch of per-sample SGD).

Every variant computes the same epoch: the log loss, the summed squared error
and the accuracy of the forward pass, the gradient, one update. "GB/s" is the
size of X (N * d * itemsize) divided by the epoch's time: the rate at which
the epoch consumes the data. Then the mini-batch epoch (batch 32, Adam)
against SGDClassifier, the first-run compile cost of the kernels, and the
per-epoch time of ``neurona.train`` at the post's size.

--quick runs small sizes only (a sanity check, seconds). --write replaces the
'## Epoch speed' section of docs/performance.md and writes docs/epoch_speed.png.
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, when set, can make OpenBLAS pick a
slow kernel: unset both for this command (as above); the BLAS kernel that ran
is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from performance_doc import put_section  # noqa: E402 (benchmarks/)

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
PLOT = ROOT / "docs" / "epoch_speed.png"
RAW = ROOT / "docs" / "epoch_speed.json"  # the measured seconds, to redraw the plot
HEADING = "## Epoch speed"
LEARNING_RATE = 0.1  # with reduction="mean": a stable step for every size

VARIANTS = ["neurona fused C", "neurona fused F", "neurona NumPy C", "neurona NumPy F",
            "naive NumPy", "PyTorch manual", "PyTorch autograd", "SGDClassifier"]


# --- measuring ---------------------------------------------------------------------------

def median_times(fns: dict, rounds: int, slow_after: float = 2.0) -> dict:
    """``(median, rounds, best)`` seconds of each callable: a warm-up call, then rounds of turns.

    A variant whose warm-up took over ``slow_after`` seconds runs 3 rounds only.
    """
    first = {}
    for name, fn in fns.items():
        t = time.perf_counter()
        fn()
        first[name] = time.perf_counter() - t
    times: dict[str, list[float]] = {name: [] for name in fns}
    for r in range(rounds):
        for name, fn in fns.items():
            if r >= 3 and first[name] > slow_after:
                continue
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {name: (float(np.median(v)), len(v), min(v)) for name, v in times.items()}


def read_bandwidth(rounds: int) -> dict:
    """GB/s of reading a 1 GiB float64 array: all cores (Numba prange), and one (NumPy)."""
    from numba import njit, prange

    @njit(parallel=True, fastmath=True)
    def threaded_sum(a):
        n = a.shape[0]
        k = 64
        step = (n + k - 1) // k
        out = np.zeros(k)
        for c in prange(k):
            s = 0.0
            for i in range(c * step, min(n, (c + 1) * step)):
                s += a[i]
            out[c] = s
        return out.sum()

    a = np.ones(1 << 27)
    times = median_times({"all cores": lambda: threaded_sum(a),
                          "one core": lambda: np.add.reduce(a)}, rounds)
    out = {k: a.nbytes / t / 1e9 for k, (t, _, _) in times.items()}
    out["all cores, best"] = a.nbytes / times["all cores"][2] / 1e9
    return out


def make_data(n: int, d: int, dtype, rng) -> tuple[np.ndarray, np.ndarray]:
    X = rng.standard_normal((n, d), dtype=dtype)
    w = rng.standard_normal(d).astype(dtype) / np.sqrt(d)
    y = ((X @ w) + 0.5 * rng.standard_normal(n, dtype=dtype) > 0).astype(np.float64)
    return X, y


def neurona_epoch(X, y, kernel):
    from neurona.core import optimizers
    from neurona.core.activations import ACTIVATIONS
    from neurona.core.losses import LOSSES
    from neurona.engines.memory import run_epoch

    opt = optimizers.get_optimizer("gd", LEARNING_RATE)
    state = {"params": np.zeros(X.shape[1] + 1)}
    state["opt"] = opt.init(state["params"])
    act, loss = ACTIVATIONS["sigmoid"], LOSSES["log_loss"]

    def epoch():
        state["params"], state["opt"], _ = run_epoch(
            X, y, state["params"], state["opt"], None, optimizer=opt, activation=act,
            loss=loss, reduction="mean", kernel=kernel)
    return epoch


def naive_epoch(X, y):
    """The post's loop, transcribed: a bias column, X.dot(W), SSE, X.T.dot(error).

    Like every variant it also computes the log loss and the accuracy, and
    uses the mean (the post sums; the step size is the only difference).
    """
    Xb = np.c_[X, np.ones(X.shape[0], dtype=X.dtype)]
    Y = y.reshape(-1, 1).astype(X.dtype)
    state = {"W": np.zeros((Xb.shape[1], 1), dtype=X.dtype)}

    def epoch():
        W = state["W"]
        z = Xb.dot(W)
        preds = 1.0 / (1 + np.exp(-z))
        error = preds - Y
        np.sum(error ** 2)
        np.mean(np.logaddexp(0, z) - Y * z)
        np.mean((preds > 0.5) == (Y > 0.5))
        gradient = Xb.T.dot(error) / len(Y)
        W += -LEARNING_RATE * gradient
    return epoch, Xb


def torch_epochs(X, y):
    import torch
    import torch.nn.functional as F

    Xt = torch.from_numpy(X)  # shares memory with X
    yt = torch.from_numpy(y.astype(X.dtype))
    n = len(y)
    w = torch.zeros(X.shape[1], dtype=Xt.dtype)
    b = torch.zeros((), dtype=Xt.dtype)

    def manual():
        with torch.no_grad():
            z = Xt @ w + b
            a = torch.sigmoid(z)
            e = a - yt
            float((F.softplus(z) - yt * z).mean())
            float(e @ e)
            float(((a > 0.5) == (yt > 0.5)).double().mean())
            w.sub_(LEARNING_RATE * (Xt.T @ e) / n)
            b.sub_(LEARNING_RATE * e.mean())

    wa = torch.zeros(X.shape[1], dtype=Xt.dtype, requires_grad=True)
    ba = torch.zeros((), dtype=Xt.dtype, requires_grad=True)

    def autograd():
        z = Xt @ wa + ba
        loss = F.binary_cross_entropy_with_logits(z, yt)
        loss.backward()
        with torch.no_grad():
            a = torch.sigmoid(z)
            e = a - yt
            float(loss)
            float(e @ e)
            float(((a > 0.5) == (yt > 0.5)).double().mean())
            wa.sub_(LEARNING_RATE * wa.grad)
            ba.sub_(LEARNING_RATE * ba.grad)
            wa.grad = None
            ba.grad = None
    return manual, autograd


def sgd_epoch(X, y):
    from sklearn.linear_model import SGDClassifier

    clf = SGDClassifier(loss="log_loss", random_state=0)  # its defaults: rows shuffled
    labels = y.astype(np.int64)

    def epoch():
        clf.partial_fit(X, labels, classes=[0, 1])
    return epoch


def measure_size(n, d, dtype, rounds, max_bytes, rng) -> dict:
    """Median epoch time of each variant that fits in memory at this size."""
    X, y = make_data(n, d, dtype, rng)
    fns = {"neurona fused C": neurona_epoch(X, y, "numba"),
           "neurona NumPy C": neurona_epoch(X, y, "numpy")}
    XF = Xb = None
    if 2 * X.nbytes <= max_bytes:
        XF = np.asfortranarray(X)
        fns["neurona fused F"] = neurona_epoch(XF, y, "numba")
        fns["neurona NumPy F"] = neurona_epoch(XF, y, "numpy")
    if X.nbytes * (d + 1) / d * 2 <= max_bytes * 1.01:
        fns["naive NumPy"], Xb = naive_epoch(X, y)
    fns["PyTorch manual"], fns["PyTorch autograd"] = torch_epochs(X, y)
    if n * d * 8 <= max_bytes / 2:  # SGDClassifier reads float64 (a copy of float32 X)
        fns["SGDClassifier"] = sgd_epoch(X, y)
    times = median_times(fns, rounds)
    del X, XF, Xb
    return times


def minibatch_times(n, d, rounds, rng) -> dict:
    """Median epoch time with batch 32 and Adam: neurona compiled, NumPy loop, PyTorch; and SGD."""
    import torch

    from neurona.core import optimizers
    from neurona.core.activations import ACTIVATIONS
    from neurona.core.losses import LOSSES
    from neurona.engines.memory import run_epoch

    X, y = make_data(n, d, np.float64, rng)
    act, loss = ACTIVATIONS["sigmoid"], LOSSES["log_loss"]
    order_rng = np.random.default_rng(0)

    def neurona(kernel):
        opt = optimizers.get_optimizer("adam", 1e-3)
        state = {"params": np.zeros(d + 1)}
        state["opt"] = opt.init(state["params"])

        def epoch():
            state["params"], state["opt"], _ = run_epoch(
                X, y, state["params"], state["opt"], order_rng.permutation(n), optimizer=opt,
                activation=act, loss=loss, reduction="mean", batch_size=32, kernel=kernel)
        return epoch

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    model_w = torch.zeros(d, dtype=torch.float64, requires_grad=True)
    model_b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    adam = torch.optim.Adam([model_w, model_b], lr=1e-3)

    def torch_adam():
        torch.set_num_threads(1)  # 32-row operations: one thread is faster than two
        perm = torch.from_numpy(order_rng.permutation(n))
        for s in range(0, n, 32):
            rows = perm[s:s + 32]
            adam.zero_grad()
            z = Xt[rows] @ model_w + model_b
            torch.nn.functional.binary_cross_entropy_with_logits(z, yt[rows]).backward()
            adam.step()
        torch.set_num_threads(os.cpu_count())

    fns = {"neurona compiled": neurona("numba"), "neurona NumPy loop": neurona("numpy"),
           "PyTorch Adam": torch_adam, "SGDClassifier": sgd_epoch(X, y)}
    return median_times(fns, rounds, slow_after=1.0)


def compile_costs() -> dict:
    """Seconds of the first fused calls in a fresh process: with an empty cache, then cached."""
    code = (
        "import time; t0 = time.perf_counter()\n"
        "import numpy as np\n"
        "from neurona import optimizers\n"
        "from neurona.core.activations import ACTIVATIONS as A\n"
        "from neurona.core.losses import LOSSES as L\n"
        "from neurona.engines.memory import forward_backward, run_epoch\n"
        "X = np.random.default_rng(0).standard_normal((5000, 8)); y = (X[:, 0] > 0) * 1.0\n"
        "out = []\n"
        "for dt in (np.float64, np.float32):\n"
        "    t = time.perf_counter()\n"
        "    forward_backward(X.astype(dt), y, np.zeros(8), 0.0, A['sigmoid'], L['log_loss'],"
        " kernel='numba')\n"
        "    out.append(time.perf_counter() - t)\n"
        "opt = optimizers.get_optimizer('adam', 1e-3); p = np.zeros(9)\n"
        "t = time.perf_counter()\n"
        "run_epoch(X, y, p, opt.init(p), None, optimizer=opt, activation=A['sigmoid'],"
        " loss=L['log_loss'], batch_size=32, kernel='numba')\n"
        "out.append(time.perf_counter() - t)\n"
        "print(*out, time.perf_counter() - t0)\n")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                               text=True, check=True).stdout.split() for _ in range(2)]
    keys = ("full batch float64", "full batch float32", "mini-batch float64", "whole script")
    return {"cold": dict(zip(keys, map(float, runs[0]))),
            "cached": dict(zip(keys, map(float, runs[1])))}


POST_SCRIPT = """
import numpy as np
from sklearn.datasets import make_blobs
from sklearn.metrics import classification_report
from sklearn.model_selection import train_test_split

X, y = make_blobs(n_samples=500, n_features=2, centers=2, cluster_std=2.5, random_state=1)
X = np.c_[X, np.ones(len(X))]
y = y.reshape(-1, 1)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=1)
W = np.random.randn(3, 1)
for epoch in range(100):
    a = 1.0 / (1 + np.exp(-Xtr.dot(W)))
    e = a - ytr
    print("[{}] loss: {}".format(epoch, np.sum(e ** 2)))
    W -= 0.01 * Xtr.T.dot(e)
p = 1.0 / (1 + np.exp(-Xte.dot(W)))
print(classification_report(yte, (p > 0.5).astype(int)))
"""


def startup(rounds: int) -> dict:
    """Median wall seconds of `neurona train --no-plots` and of the post's script without plots."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.py"
        script.write_text(POST_SCRIPT)
        count = iter(range(10**6))
        neurona = Path(sys.executable).with_name("neurona")

        def run_neurona():
            subprocess.run([str(neurona), "train", "--no-plots", "--out",
                            f"{tmp}/run{next(count)}"], check=True, stdout=subprocess.DEVNULL)

        def run_post():
            subprocess.run([sys.executable, str(script)], check=True, stdout=subprocess.DEVNULL)

        times = median_times({"neurona train --no-plots": run_neurona,
                              "post's script": run_post}, rounds)
    return {k: t for k, (t, _, _) in times.items()}


def seed_overhead(rounds: int) -> dict:
    """Microseconds per epoch at the post's size (350 x 2): neurona.train against the post's loop."""
    from neurona import Callback, Neuron, train
    from neurona.data import blobs, split

    X, y = blobs()
    parts = split(X, y)
    Xtr, ytr = parts.X_train, parts.y_train
    epochs = 2000

    class Nothing(Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    def neurona():
        train(Neuron.random(2, 1), Xtr, ytr, epochs=epochs, callbacks=[Nothing()])

    Xb = np.c_[Xtr, np.ones(len(ytr))]
    Y = ytr.reshape(-1, 1).astype(float)

    def post():
        W = np.random.default_rng(1).standard_normal((3, 1))
        losses = []
        for _ in np.arange(0, epochs):
            preds = 1.0 / (1 + np.exp(-Xb.dot(W)))
            error = preds - Y
            losses.append(np.sum(error ** 2))
            W += -0.01 * Xb.T.dot(error)

    times = median_times({"neurona.train": neurona, "post's loop": post}, rounds)
    return {k: t / epochs * 1e6 for k, (t, _, _) in times.items()}


def anatomy(rounds: int) -> None:
    """Print where a fused pass's time goes at d = 100, float64, on one thread, then on all.

    One thread: the read alone (NumPy's sum of X), the pass's arithmetic alone
    (the pass over a 2,000-row X that stays in the core's cache, per row), and
    the whole pass over 1e6 rows from memory. When the last is close to the
    sum of the first two, reading and arithmetic do not overlap. All threads:
    1e5 x 100 (80 MB) epochs back to back, as training runs them, against the
    same epochs after other work, as the main benchmark's turns leave the
    machine: a read of 1 GB of other data on one thread, or 0.2 s asleep.
    Last, the compiled mini-batch epoch with its rows shuffled, in order, and
    in the cache: what the shuffle costs over the arithmetic.
    """
    from neurona.engines import _fused, kernels
    from neurona.core.activations import ACTIVATIONS
    from neurona.core.losses import LOSSES

    rng = np.random.default_rng(0)
    d = 100
    sig, log = kernels._ACTIVATION_CODES["sigmoid"], kernels._LOSS_CODES["log_loss"]

    def problem(n):
        """X (n x d), 0/1 targets and weights: drawn once per size, shared by every part."""
        return (rng.standard_normal((n, d)), (rng.random(n) < 0.5) * 1.0,
                rng.normal(scale=0.1, size=d))

    problems = {n: problem(n) for n in (2000, 10**5, 10**6)}

    def one_thread(n):
        X, y, w = problems[n]
        out = np.zeros(d + _fused.N_EXTRA)
        repeat = max(1, 10**6 // n)

        def fused():
            for _ in range(repeat):
                _fused._rows(X, y, w, 0.1, np.empty(0), sig, log, 0.5, 0, n,
                             kernels._ROW_BLOCK, out)

        def read():
            for _ in range(repeat):
                np.add.reduce(X, axis=None)

        times = median_times({"fused": fused, "read": read}, rounds)
        return {k: t / (repeat * n) * 1e9 for k, (t, _, _) in times.items()}

    cached, memory = one_thread(2000), one_thread(10**6)
    print("one thread, d = 100, float64, ns per row (median):")
    print(f"  read from memory (NumPy's sum)         {memory['read']:6.1f}")
    print(f"  fused pass, X in the core's cache       {cached['fused']:6.1f}")
    print(f"  fused pass, X from memory               {memory['fused']:6.1f}")

    X, y, w = problems[10**5]
    other = np.ones(1 << 27)

    def epoch():
        kernels.fused_forward_backward(X, y, w, 0.1, ACTIVATIONS["sigmoid"], LOSSES["log_loss"])

    def after(pause):
        pause()
        t = time.perf_counter()
        epoch()
        return time.perf_counter() - t

    print("all threads, 1e5 x 100 float64 (80 MB), one epoch (median):")
    cases = {"back to back, as training runs them": None,
             "after reading 1 GB of other data on one thread": lambda: np.add.reduce(other),
             "after 0.2 s asleep": lambda: time.sleep(0.2)}
    for label, pause in cases.items():
        t = (median_times({"epoch": epoch}, rounds)["epoch"][0] if pause is None
             else float(np.median([after(pause) for _ in range(rounds)])))
        print(f"  {label:48s} {t * 1e3:6.2f} ms {X.nbytes / t / 1e9:6.1f} GB/s")

    from neurona.core import optimizers
    from neurona.engines.memory import run_epoch

    print("compiled mini-batch epoch, batch 32, Adam, d = 100, float64, ns per row (median):")
    for label, n, shuffled in (("1e6 rows, shuffled (the benchmark's epoch)", 10**6, True),
                               ("1e6 rows, in order", 10**6, False),
                               ("2,000 rows in the core's cache, shuffled", 2000, True)):
        X, y, _ = problems[n]
        order = rng.permutation(n) if shuffled else np.arange(n)
        opt = optimizers.get_optimizer("adam", 1e-3)
        params = np.zeros(d + 1)
        state = opt.init(params)
        repeat = max(1, 10**6 // n)

        def minibatch():
            for _ in range(repeat):
                run_epoch(X, y, params, state, order, optimizer=opt,
                          activation=ACTIVATIONS["sigmoid"], loss=LOSSES["log_loss"],
                          reduction="mean", batch_size=32, kernel="numba")

        t = median_times({"epoch": minibatch}, min(rounds, 5))["epoch"][0]
        print(f"  {label:48s} {t / (repeat * n) * 1e9:6.1f}")


# --- reporting ---------------------------------------------------------------------------

def machine() -> dict:
    from threadpoolctl import threadpool_info

    model = platform.processor()
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = re.search(r"Model name:\s*(.+)", lscpu).group(1).strip()
    except (OSError, AttributeError):
        pass
    blas = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture', '?')}, "
            f"{i.get('num_threads')} threads)" for i in threadpool_info()
            if i.get("user_api") == "blas"]
    import numba
    import sklearn
    import torch

    return {"cpu": model, "cores": os.cpu_count(), "blas": "; ".join(blas),
            "openblas_env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE",
                                                              "OPENBLAS_L2_SIZE")},
            "versions": f"Python {platform.python_version()}, NumPy {np.__version__}, "
                        f"Numba {numba.__version__}, PyTorch {torch.__version__} "
                        f"({torch.get_num_threads()} threads), scikit-learn {sklearn.__version__}"}


def gbps(n, d, itemsize, seconds):
    return n * d * itemsize / seconds / 1e9


def size_table(results: list[dict], bandwidth: float) -> str:
    head = "| N | d | dtype | X (MB) | " + " | ".join(VARIANTS) + " |"
    lines = [head, "|" + "---:|" * (4 + len(VARIANTS))]
    for r in results:
        cells = []
        for v in VARIANTS:
            if v not in r["times"]:
                cells.append("–")
                continue
            t = r["times"][v][0]
            g = gbps(r["n"], r["d"], r["itemsize"], t)
            cells.append(f"{t * 1e3:.3g} ms<br>{g:.1f} GB/s ({100 * g / bandwidth:.0f}%)")
        lines.append(f"| {r['n']:.0e} | {r['d']} | {r['dtype']} | "
                     f"{r['n'] * r['d'] * r['itemsize'] / 1e6:.3g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def target_table(results: list[dict], bandwidth: float, best_bandwidth: float) -> str:
    lines = ["| N | d | dtype | fused C, median: GB/s (% of bandwidth) | vs naive NumPy | "
             "vs PyTorch (faster of the two) | best round: GB/s (% of best bandwidth) | "
             "vs naive | vs PyTorch |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        if r["n"] * r["d"] < 1e7:
            continue
        cells = []
        for k, bw in ((0, bandwidth), (2, best_bandwidth)):
            t = {name: v[k] for name, v in r["times"].items()}
            fused = t["neurona fused C"]
            g = gbps(r["n"], r["d"], r["itemsize"], fused)
            naive = t.get("naive NumPy")
            torch_best = min(t["PyTorch manual"], t["PyTorch autograd"])
            cells += [f"{g:.1f} ({100 * g / bw:.0f}%)",
                      "–" if naive is None else f"{naive / fused:.1f}x",
                      f"{torch_best / fused:.1f}x"]
        lines.append(f"| {r['n']:.0e} | {r['d']} | {r['dtype']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(results: list[dict], bandwidth: float, path: Path) -> None:
    """GB/s against N, one panel per (dtype, d), one line per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dims = sorted({r["d"] for r in results})
    dtypes = [t for t in ("float64", "float32") if any(r["dtype"] == t for r in results)]
    fig, axes = plt.subplots(len(dtypes), len(dims), figsize=(4.2 * len(dims), 3.4 * len(dtypes)),
                             sharey=True, squeeze=False)
    for row, dtype in zip(axes, dtypes):
        for ax, d in zip(row, dims):
            rows = sorted((r for r in results if r["dtype"] == dtype and r["d"] == d),
                          key=lambda r: r["n"])
            for v in VARIANTS:
                pts = [(r["n"], gbps(r["n"], d, r["itemsize"], r["times"][v][0]))
                       for r in rows if v in r["times"]]
                if pts:
                    x, yv = zip(*pts)
                    ax.plot(x, yv, marker="o", ms=3, label=v,
                            lw=2.4 if v.startswith("neurona fused") else 1.1)
            ax.axhline(bandwidth, color="k", ls="--", lw=1)
            ax.set_xscale("log")
            ax.set_title(f"{dtype}, d = {d}", fontsize=10)
            ax.grid(alpha=0.3)
            ax.set_xlabel("N (rows)")
        row[0].set_ylabel("GB/s of X per epoch")
    handles, labels = axes[0][0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], color="k", ls="--", lw=1))
    labels.append(f"measured read bandwidth ({bandwidth:.1f} GB/s)")
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_section(body: str) -> None:
    put_section(f"{HEADING}\n\n{body.strip()}", HEADING, DOC)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only, a sanity check")
    parser.add_argument("--rounds", type=int, default=None,
                        help="timed rounds per size (default: 7, 3 with --quick)")
    parser.add_argument("--max-gb", type=float, default=4.0,
                        help="skip sizes whose X (and its copies) would pass this (default 4)")
    parser.add_argument("--write", action="store_true",
                        help="update docs/performance.md and docs/epoch_speed.png")
    parser.add_argument("--plot-only", action="store_true",
                        help="redraw docs/epoch_speed.png from docs/epoch_speed.json, measure nothing")
    parser.add_argument("--anatomy", action="store_true",
                        help="only print where the compiled passes' time goes (d = 100)")
    args = parser.parse_args(argv)
    if args.anatomy:
        anatomy(args.rounds or 7)
        return
    if args.plot_only:
        raw = json.loads(RAW.read_text())
        plot(raw["results"], raw["bandwidth"], PLOT)
        return
    rounds = args.rounds or (3 if args.quick else 7)
    max_bytes = args.max_gb * 1e9
    sizes = [(n, d) for n in ((10**4, 10**5) if args.quick else (10**4, 10**5, 10**6, 10**7))
             for d in ((2, 20) if args.quick else (2, 20, 100))]
    warnings.simplefilter("ignore", category=UserWarning)  # torch's own notices
    rng = np.random.default_rng(0)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_before = os.getloadavg()[0]
    info = machine()
    print(f"{info['cpu']}, {info['cores']} cores; BLAS: {info['blas']}; {info['versions']}")
    print(f"OpenBLAS environment: {info['openblas_env']}")
    bw = read_bandwidth(rounds)
    bandwidth = bw["all cores"]
    print(f"read bandwidth: {bandwidth:.1f} GB/s all cores (best round "
          f"{bw['all cores, best']:.1f}), {bw['one core']:.1f} GB/s one core")

    results, skipped = [], []
    for dtype in (np.float64, np.float32):
        for n, d in sizes:
            itemsize = np.dtype(dtype).itemsize
            if n * d * itemsize > max_bytes:
                skipped.append(f"{n:.0e} x {d} {np.dtype(dtype).name} "
                               f"({n * d * itemsize / 1e9:.0f} GB)")
                continue
            times = measure_size(n, d, dtype, rounds, max_bytes, rng)
            results.append({"n": n, "d": d, "dtype": np.dtype(dtype).name,
                            "itemsize": itemsize, "times": times})
            fused = times["neurona fused C"][0]
            print(f"N={n:.0e} d={d:3d} {np.dtype(dtype).name}: " + ", ".join(
                f"{k} {t * 1e3:.3g} ms ({gbps(n, d, itemsize, t) / bandwidth:.0%})"
                for k, (t, _, _) in times.items()))
    sizes_md = size_table(results, bandwidth)
    targets_md = target_table(results, bandwidth, bw["all cores, best"])
    print(sizes_md, targets_md, sep="\n\n")

    mb_n, mb_d = (10**4, 20) if args.quick else (10**6, 100)
    mb = minibatch_times(mb_n, mb_d, 3 if args.quick else 5, rng)
    mb_md = ["| variant | seconds per epoch (median) | best | rounds | SGDClassifier's median over this |",
             "|---|---:|---:|---:|---:|"]
    for k, (t, r, best) in mb.items():
        mb_md.append(f"| {k} | {t:.3g} | {best:.3g} | {r} | {mb['SGDClassifier'][0] / t:.1f}x |")
    mb_md = "\n".join(mb_md)
    print(mb_md)

    costs = compile_costs()
    seed = seed_overhead(5)
    start = startup(3 if args.quick else 9)
    print(costs, seed, start)

    load_after = os.getloadavg()[0]
    print(f"load average (1 min): {load_before:.1f} before, {load_after:.1f} after")
    if not args.write:
        return
    rounds_note = (f"{rounds} rounds (3 for a variant whose first epoch took over 2 s)")
    costs_md = "\n".join(
        [f"| {k} | {costs['cold'][k]:.2f} | {costs['cached'][k]:.2f} |" for k in costs["cold"]])
    body = f"""
Measured by `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/epoch.py --write`
on {started}: {info['cpu']}, {info['cores']} cores (`nproc`), shared with other work while it
ran: the one-minute load average was {load_before:.1f} when it started and {load_after:.1f} when it
ended, against {info['cores']} cores. {info['versions']}. BLAS: {info['blas']}; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE were
{'unset' if not any(info['openblas_env'].values()) else info['openblas_env']}.

**Method.** Everything runs in one process. The read bandwidth is the median of {rounds}
timed sums of a 1 GiB float64 array by all cores (Numba `prange`, one partial sum per
chunk): **{bandwidth:.1f} GB/s** (best round {bw['all cores, best']:.1f} GB/s; {bw['one core']:.1f} GB/s
on one core, NumPy's sum). Each
epoch time is the median of {rounds_note}, after one untimed warm-up call; the variants
take turns within each round, so that a burst of other work on the machine slows them
alike. Every variant does the same work per epoch: the forward pass, the log loss, the
summed squared error and the accuracy, the gradient and one update. GB/s is the size of X
(N x d x itemsize) over the epoch time; % is that over the measured bandwidth. "naive
NumPy" is the post's loop with its bias column (`np.c_[X, 1]`, made once, outside the
timing). SGDClassifier's epoch is one `partial_fit`: per-sample SGD in float64 (float32 X
is converted on each call, which is part of its cost). Sizes skipped because X would pass
{args.max_gb:g} GB: {', '.join(skipped) or 'none'}; F-ordered copies and the naive
variant's bias-column copy are made only where they fit in that budget too, and
SGDClassifier only where its float64 copy fits in half of it.

### Every size

{sizes_md}

![GB/s of X per epoch against the size of X](epoch_speed.png)

### Targets (N x d >= 1e7, X C-ordered)

{targets_md}

### Mini-batches: batch 32, Adam, N = {mb_n:.0e}, d = {mb_d}, float64

One epoch of 32-row batches with an Adam update after each (rows reshuffled every epoch),
against one epoch of SGDClassifier (per-sample updates, the same data). "neurona
compiled" is `run_epoch` with the whole epoch in one Numba loop; "neurona NumPy loop"
the same epoch batch by batch in Python; PyTorch Adam a plain loop over the batches.

{mb_md}

### First-run compile cost

Seconds of the first call of each kernel in a fresh process, with an empty Numba cache
(compiling) and with the cache the first process wrote (`cache=True`: loading only).
"whole script" includes importing NumPy, neurona and Numba.

| kernel | empty cache (s) | cached (s) |
|---|---:|---:|
{costs_md}

### The post's size (N = 350, d = 2)

Microseconds per epoch over {2000} epochs (median of 5 runs): `neurona.train` (its
Trainer, the history and one callback) {seed['neurona.train']:.1f} µs, the post's loop
{seed["post's loop"]:.1f} µs: an overhead of {seed['neurona.train'] - seed["post's loop"]:.1f} µs
per epoch. At this size the NumPy path is used and Numba is never imported.

Wall time of the whole command, median of {3 if args.quick else 9} runs each, taking turns:
`neurona train --no-plots` {start['neurona train --no-plots']:.2f} s, the post's script
without its plots (the same data, loop and report, written out in the benchmark)
{start["post's script"]:.2f} s: a ratio of
{start['neurona train --no-plots'] / start["post's script"]:.2f}.
"""
    write_section(body)
    from neurona.files.rundir import atomic_write_text

    atomic_write_text(RAW, json.dumps({"bandwidth": bandwidth, "results": results}, indent=1))
    plot(results, bandwidth, PLOT)
    print(f"wrote {DOC} and {PLOT}")


if __name__ == "__main__":
    main()
