"""Wall time until the test log loss is within 1% of logistic regression's optimum.

    pip install -e ".[bench]"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        python benchmarks/time_to_accuracy.py [--quick] [--write]

The data: scikit-learn's ``make_classification`` with label noise (10% of the
labels flipped), 100 features of which 20 informative, N = 1e6 training rows
and 2e5 test rows, float64, standardised with the training rows' mean and
standard deviation (as scikit-learn advises for SGD). The target: the test log loss (mean) of
``LogisticRegression`` fitted to convergence (lbfgs, tol 1e-10), times 1.01.

Each contender trains epoch by epoch; after each epoch its test log loss is
computed (not timed) and the clock stops at the first epoch within the
target. Contenders: neurona with a few optimizer settings (the best is the
headline), scikit-learn's ``SGDClassifier`` (``partial_fit``, its defaults
for log loss, and with averaging), ``LogisticRegression`` with its default
settings (one ``fit``), and PyTorch with Adam and neurona's best settings.
neurona's kernels are loaded once before any timing.

--quick uses N = 1e5 (seconds). --write replaces the '## Time to accuracy'
section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from performance_doc import put_section  # noqa: E402 (benchmarks/)

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
HEADING = "## Time to accuracy"
MAX_EPOCHS = 20
FULL_BATCH_EPOCHS = 100  # a full-batch epoch is one update: it gets more of them


def test_log_loss(w, b, X, y) -> float:
    z = X @ w + b
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def make_data(n_train: int, seed: int = 0):
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=n_train + n_train // 5, n_features=100,
                               n_informative=20, n_redundant=10, flip_y=0.1,
                               class_sep=0.8, random_state=seed)
    # Standardised with the training rows' statistics, as scikit-learn advises for SGD.
    mean, std = X[:n_train].mean(axis=0), X[:n_train].std(axis=0)
    X = (X - mean) / std
    return (np.ascontiguousarray(X[:n_train]), y[:n_train].astype(np.float64),
            np.ascontiguousarray(X[n_train:]), y[n_train:].astype(np.float64))


def run_until(epoch, weights, target, X_test, y_test, max_epochs=MAX_EPOCHS) -> dict:
    """Call ``epoch()`` until ``weights()`` reaches ``target``; time only the epochs."""
    spent, losses = 0.0, []
    for e in range(1, max_epochs + 1):
        t = time.perf_counter()
        epoch()
        spent += time.perf_counter() - t
        losses.append(test_log_loss(*weights(), X_test, y_test))
        if losses[-1] <= target:
            return {"seconds": spent, "epochs": e, "loss": losses[-1], "reached": True}
    return {"seconds": spent, "epochs": max_epochs, "loss": min(losses), "reached": False}


def neurona_contender(X, y, optimizer, learning_rate, batch_size, **kw):
    from neurona.core import optimizers
    from neurona.core.activations import ACTIVATIONS
    from neurona.core.losses import LOSSES
    from neurona.engines.memory import run_epoch

    opt = optimizers.get_optimizer(optimizer, learning_rate, **kw)
    state = {"p": np.zeros(X.shape[1] + 1)}
    state["s"] = opt.init(state["p"])
    rng = np.random.default_rng(0)
    act, loss = ACTIVATIONS["sigmoid"], LOSSES["log_loss"]

    def epoch():
        order = rng.permutation(len(y)) if batch_size else None
        state["p"], state["s"], _ = run_epoch(
            X, y, state["p"], state["s"], order, optimizer=opt, activation=act, loss=loss,
            reduction="mean", batch_size=batch_size)
    return epoch, lambda: (state["p"][:-1], state["p"][-1])


def sgd_contender(X, y, **kw):
    from sklearn.linear_model import SGDClassifier

    clf = SGDClassifier(loss="log_loss", random_state=0, **kw)
    labels = y.astype(np.int64)
    return (lambda: clf.partial_fit(X, labels, classes=[0, 1]),
            lambda: (clf.coef_[0], clf.intercept_[0]))


def torch_contender(X, y, batch_size, learning_rate):
    import torch

    torch.set_num_threads(1)  # batch-sized operations: one thread is faster than two
    torch.manual_seed(0)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    adam = torch.optim.Adam([w, b], lr=learning_rate)
    n = len(y)

    def epoch():
        perm = torch.randperm(n)
        for s in range(0, n, batch_size):
            rows = perm[s:s + batch_size]
            adam.zero_grad()
            z = Xt[rows] @ w + b
            torch.nn.functional.binary_cross_entropy_with_logits(z, yt[rows]).backward()
            adam.step()
    return epoch, lambda: (w.detach().numpy().copy(), float(b))


def warm_up() -> None:
    """Load (or compile) neurona's kernels once, off the clock: that cost is reported
    by benchmarks/epoch.py."""
    X, y, _, _ = make_data(2000)
    for batch_size in (None, 32):
        epoch, _ = neurona_contender(X, y, "adam", 1e-3, batch_size)
        from neurona.engines import kernels

        saved = kernels.FUSED_MIN_SIZE
        kernels.FUSED_MIN_SIZE = 0
        try:
            epoch()
        finally:
            kernels.FUSED_MIN_SIZE = saved


def main(argv=None) -> None:
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 1e5 instead of 1e6")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args(argv)
    n = 10**5 if args.quick else 10**6
    warnings.simplefilter("ignore", category=UserWarning)
    X, y, X_test, y_test = make_data(n)

    t = time.perf_counter()
    ref = LogisticRegression(tol=1e-10, max_iter=10_000).fit(X, y)
    ref_seconds = time.perf_counter() - t
    optimum = test_log_loss(ref.coef_[0], ref.intercept_[0], X_test, y_test)
    target = 1.01 * optimum
    print(f"optimum test log loss {optimum:.6f} (LogisticRegression, tol 1e-10, "
          f"{ref_seconds:.1f} s); target {target:.6f}")

    rows = []
    t = time.perf_counter()
    lr = LogisticRegression().fit(X, y)
    seconds = time.perf_counter() - t
    loss = test_log_loss(lr.coef_[0], lr.intercept_[0], X_test, y_test)
    rows.append(("LogisticRegression() (lbfgs, defaults)", "one fit",
                 {"seconds": seconds, "epochs": None, "loss": loss, "reached": loss <= target}))

    contenders = [
        ("neurona, Adam, batch 32, lr 1e-3", "compiled epoch",
         lambda: neurona_contender(X, y, "adam", 1e-3, 32)),
        ("neurona, Adam, batch 256, lr 1e-3", "compiled epoch",
         lambda: neurona_contender(X, y, "adam", 1e-3, 256)),
        ("neurona, gd, full batch, lr 1.0", "fused pass",
         lambda: neurona_contender(X, y, "gd", 1.0, None)),
        ("SGDClassifier(loss='log_loss')", "partial_fit",
         lambda: sgd_contender(X, y)),
        ("SGDClassifier(loss='log_loss', average=True)", "partial_fit",
         lambda: sgd_contender(X, y, average=True)),
        ("PyTorch, Adam, batch 32, lr 1e-3", "Python loop, 1 thread",
         lambda: torch_contender(X, y, 32, 1e-3)),
    ]
    warm_up()
    for name, how, make in contenders:
        epoch, weights = make()
        limit = FULL_BATCH_EPOCHS if "full batch" in name else MAX_EPOCHS
        result = run_until(epoch, weights, target, X_test, y_test, limit)
        rows.append((name, how, result))
        print(f"{name}: {result}")

    lines = ["| contender | how | epochs | seconds to target | test log loss | reached |",
             "|---|---|---:|---:|---:|---|"]
    for name, how, r in rows:
        reached = "yes" if r["reached"] else f"no, in {r['epochs']} epochs"
        lines.append(f"| {name} | {how} | {r['epochs'] or '–'} | {r['seconds']:.2f} | "
                     f"{r['loss']:.5f} | {reached} |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        body = (f"{HEADING}\n\nMeasured by `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python "
                f"benchmarks/time_to_accuracy.py --write` on {time.strftime('%Y-%m-%d')}, on the "
                f"machine of the epoch benchmark above. Data: `make_classification(n_samples="
                f"{n + n // 5:.2g}, n_features=100, n_informative=20, n_redundant=10, "
                f"flip_y=0.1, class_sep=0.8, random_state=0)`, the first {n:.0e} rows to train, "
                f"the rest to test, float64, standardised with the training rows' mean and standard "
                f"deviation. Target: the test log loss of `LogisticRegression"
                f"(tol=1e-10)` ({optimum:.5f}, fitted in {ref_seconds:.1f} s) plus 1%: "
                f"{target:.5f}. Seconds count training only: each contender trains epoch by "
                f"epoch (at most {MAX_EPOCHS}, {FULL_BATCH_EPOCHS} for full batches) and its "
                f"test loss is computed between epochs, "
                f"off the clock. One run each.\n\n{table}\n\n")
        put_section(body, HEADING, DOC)


if __name__ == "__main__":
    main()
