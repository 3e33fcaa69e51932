"""neurona reproduces the tutorial post's experiment, checked against a plain
NumPy transcription of the post's loop written here, independently of neurona."""

import csv
import io

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import classification_report
from sklearn.model_selection import train_test_split

from neurona.face.cli import main

POST_W = [-0.96418793, -0.53384948, 0.7176862]


def post_experiment(W0, n_epochs=100, learning_rate=0.01):
    """The post's code, step by step: bias column, summed SSE printed, X^T error update."""
    X, y = make_blobs(n_samples=500, n_features=2, centers=2, cluster_std=2.5, random_state=1)
    y = y.reshape((y.shape[0], 1))
    X = np.c_[X, np.ones((X.shape[0]))]
    train_X, test_X, train_Y, test_Y = train_test_split(X, y, test_size=0.3, random_state=1)
    W = np.array(W0, dtype=float).reshape(3, 1)
    losses = []
    for _ in np.arange(0, n_epochs):
        preds = 1.0 / (1 + np.exp(-train_X.dot(W)))
        error = preds - train_Y
        losses.append(np.sum(error ** 2))
        W += -learning_rate * train_X.T.dot(error)
    preds = 1.0 / (1 + np.exp(-test_X.dot(W)))
    preds[preds <= 0.5] = 0
    preds[preds > 0.5] = 1
    return np.array(losses), W.ravel(), classification_report(test_Y, preds)


def _history(run_dir):
    with open(run_dir / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("form", ["separate", "equals"])
def test_train_matches_the_post_from_its_printed_weights(tmp_path, capsys, form):
    value = ",".join(map(str, POST_W))
    args = ["--init-weights", value] if form == "separate" else [f"--init-weights={value}"]
    out = tmp_path / "run"
    assert main(["train", *args, "--out", str(out), "--no-plots"]) == 0
    stdout = capsys.readouterr().out

    losses, W, report = post_experiment(POST_W)
    rows = _history(out)
    assert [int(r["epoch"]) for r in rows] == list(range(100))
    sse = np.array([float(r["sse"]) for r in rows])
    np.testing.assert_allclose(sse, losses, rtol=1e-9)
    assert (out / "report.txt").read_text() == report
    assert report in stdout
    import json

    model = json.loads((out / "model.json").read_text())
    np.testing.assert_allclose([*model["weights"], model["bias"]], W, rtol=1e-9)


def test_each_epoch_line_is_printed_with_the_posts_sse(tmp_path, capsys):
    value = ",".join(map(str, POST_W))
    assert main(["train", "--init-weights", value, "--out", str(tmp_path / "r"), "--no-plots"]) == 0
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("[")]
    losses, _, _ = post_experiment(POST_W)
    assert len(lines) == 100
    for line, sse in zip(lines, losses):
        assert f"sse: {sse:.6f}" in line
        assert "log_loss:" in line and "accuracy:" in line


def test_default_run_is_reproducible(tmp_path, capsys):
    for name in ("a", "b"):
        assert main(["train", "--out", str(tmp_path / name), "--no-plots", "--quiet"]) == 0
    assert (tmp_path / "a" / "history.csv").read_text() == (tmp_path / "b" / "history.csv").read_text()
    assert (tmp_path / "a" / "model.json").read_text() == (tmp_path / "b" / "model.json").read_text()
    assert capsys.readouterr().out == ""


def test_default_seed_draws_the_initial_weights_from_a_standard_normal(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "r"), "--no-plots", "--quiet"]) == 0
    import json

    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["seed"] == 1
    expected = np.random.default_rng(1).standard_normal(3)
    np.testing.assert_array_equal(config["init_weights"], expected)
    losses, _, _ = post_experiment(expected)
    sse = np.array([float(r["sse"]) for r in _history(tmp_path / "r")])
    np.testing.assert_allclose(sse, losses, rtol=1e-9)
