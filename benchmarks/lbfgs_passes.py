"""Passes and seconds until ``optimizer="lbfgs"`` reaches LogisticRegression's optimum.

    python benchmarks/lbfgs_passes.py [--quick] [--write]

For each problem, ``LogisticRegression(C=1, tol=1e-10)`` gives the optimum's
objective ``f*`` (its own, ``C sum l_i + |w|^2 / 2``, divided by ``C n``: the
mean log loss plus ``|w|^2 / (2 C n)``). neurona trains the same objective
(``reduction="mean"``, ``l2 = 1 / (C n)``) from zero weights with
``optimizer="lbfgs"``; the row of its history at which the objective is first
within 1e-6 of ``f*`` (relative) gives the passes over the data and the
seconds taken to get there (the iterations' wall time, recorded by a
callback). ``LogisticRegression()`` with its defaults is timed for comparison
(one fit, its ``n_iter_``). One warm-up run each before the clock, best of 3.

--quick uses smaller problems. --write replaces the '## L-BFGS: passes to the
optimum' section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
from performance_doc import put_section  # noqa: E402 (benchmarks/)

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
HEADING = "## L-BFGS: passes to the optimum"
C = 1.0


def problems(quick: bool):
    from sklearn.datasets import load_breast_cancer, make_classification
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    yield "breast cancer (569 x 30, standardised)", StandardScaler().fit_transform(X), y
    n = 20_000 if quick else 200_000
    X, y = make_classification(n_samples=n, n_features=20, n_informative=10, flip_y=0.1,
                               random_state=0)
    yield f"make_classification ({n:,} x 20)", X, y
    n = 20_000 if quick else 1_000_000
    X, y = make_classification(n_samples=n, n_features=100, n_informative=20,
                               n_redundant=10, flip_y=0.1, class_sep=0.8, random_state=0)
    yield f"make_classification ({n:,} x 100)", StandardScaler().fit_transform(X), y


def objective(X, y, w, b):
    z = X @ w + b
    return float(np.mean(np.logaddexp(0, z) - y * z) + w @ w / (2 * C * len(y)))


def neurona_run(X, y):
    import neurona

    class Clock(neurona.Callback):
        def on_train_begin(self, logs=None):
            self.start, self.seconds = time.perf_counter(), []

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)

    clock = Clock()
    neuron = neurona.Neuron(np.zeros(X.shape[1]))
    history = neurona.train(neuron, X, y, optimizer="lbfgs", reduction="mean",
                            l2=1.0 / (C * len(y)), epochs=500, tol=1e-10, callbacks=[clock])
    return history, clock.seconds


def measure(name, X, y):
    from sklearn.linear_model import LogisticRegression

    best = LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X, y)
    target = objective(X, y, best.coef_[0], best.intercept_[0])
    neurona_run(X, y)  # warm-up (and the fused kernel's compilation)
    runs = []
    for _ in range(3):
        history, seconds = neurona_run(X, y)
        first = next(i for i, f in enumerate(history["loss"]) if f <= target * (1 + 1e-6))
        runs.append((seconds[first], int(history["passes"][first]), first + 1))
    seconds, passes, iterations = min(runs)
    LogisticRegression(C=C).fit(X, y)
    fits = []
    for _ in range(3):
        start = time.perf_counter()
        default = LogisticRegression(C=C).fit(X, y)
        fits.append(time.perf_counter() - start)
    default_gap = objective(X, y, default.coef_[0], default.intercept_[0]) / target - 1
    return (f"| {name} | {iterations} | {passes} | {seconds:.3f} | {min(fits):.3f} | "
            f"{int(default.n_iter_[0])} | {default_gap:.1e} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = [measure(*p) for p in problems(args.quick)]
    text = "\n".join([
        HEADING, "",
        f"Measured by `python benchmarks/lbfgs_passes.py{' --quick' if args.quick else ''}"
        f"{' --write' if args.write else ''}` on {time.strftime('%Y-%m-%d')} "
        f"({platform.machine()}, Python {platform.python_version()}, best of 3 after a "
        f"warm-up, on a machine shared with other jobs: the seconds are an order of "
        f"magnitude). "
        f"neurona: `optimizer=\"lbfgs\"`, `reduction=\"mean\"`, `l2 = 1 / (C n)` with C = 1, "
        f"from zero weights, in memory; the first iteration whose objective is within 1e-6 "
        f"(relative) of `LogisticRegression(tol=1e-10)`'s. `LogisticRegression()`: its "
        f"defaults (lbfgs, tol 1e-4), one fit, and how far its objective ends above the "
        f"optimum.", "",
        "| problem | lbfgs iterations | passes | seconds | LogisticRegression() s | "
        "its iterations | its objective above the optimum |",
        "|---|---:|---:|---:|---:|---:|---:|", *rows, ""])
    print(text)
    if args.write:
        put_section(text, HEADING, DOC)


if __name__ == "__main__":
    main()
