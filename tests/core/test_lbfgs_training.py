"""``optimizer="lbfgs"`` in the trainer, in memory: scikit-learn's optimum in a few dozen
passes, the history's passes, the refusals, exact resume, stopping."""

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import neurona
from neurona import DivergenceError, Neuron, NeuronaError, train
from neurona.core.callbacks import Callback
from neurona.core.gradient import penalty
from neurona.core.losses import objective
from neurona.engines.memory import MemoryEngine
from neurona.errors import SettingError

#: The most passes lbfgs may take to reach LogisticRegression's optimum here.
MAX_PASSES = 60


def classification(n=800, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.linspace(0.5, 3.0, d) + np.linspace(-1.0, 1.0, d)
    logit = X @ rng.normal(size=d) / 2 + 0.3
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(float)
    return X, y, rng.uniform(0.2, 3.0, size=n)


def sklearn_fit(X, y, C, sample_weight=None, class_weight=None):
    model = LogisticRegression(C=C, tol=1e-12, max_iter=100_000, class_weight=class_weight)
    model.fit(X, y, sample_weight=sample_weight)
    return model.coef_[0], model.intercept_[0]


def neurona_objective(X, y, w, b, l2, reduction, sample_weight=None):
    z = X @ w + b
    return objective(y, z, "sigmoid", "log_loss", reduction, sample_weight) + penalty(w, 0, l2)


def l2_of(C, reduction, total_weight):
    """LogisticRegression(C) minimises C sum s_i l_i + |w|^2 / 2: l2 = 1/C (sum) or
    1 / (C S) (mean, S the total weight)."""
    return 1.0 / C if reduction == "sum" else 1.0 / (C * total_weight)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("weights", [None, "sample", "balanced"])
@pytest.mark.parametrize("C", [1.0, 0.01])
def test_lbfgs_reaches_logistic_regressions_optimum_in_a_few_dozen_passes(reduction, weights,
                                                                          C):
    X, y, sw = classification()
    sample_weight = sw if weights == "sample" else None
    class_weight = "balanced" if weights == "balanced" else None
    w_ref, b_ref = sklearn_fit(X, y, C, sample_weight, class_weight)
    if class_weight:
        counts = np.bincount(y.astype(int))
        total = float(np.sum(len(y) / (2 * counts[y.astype(int)])))
    else:
        total = float(len(y) if sample_weight is None else sample_weight.sum())
    l2 = l2_of(C, reduction, total)
    neuron = Neuron(np.zeros(X.shape[1]))
    trainer = neurona.Trainer(neuron, X, y, optimizer="lbfgs", epochs=200, l2=l2,
                              reduction=reduction, sample_weight=sample_weight,
                              class_weight=class_weight)
    history = trainer.run()
    np.testing.assert_allclose(neuron.weights, w_ref, rtol=0, atol=1e-5)
    assert neuron.bias == pytest.approx(b_ref, abs=1e-5)
    assert trainer.status == "converged" and trainer.convergence["reason"] in (
        "gradient", "loss_change")
    # The loss the history ends with is the optimum's, to 1e-6 relative.
    weights_of_rows = sample_weight
    if class_weight:
        counts = np.bincount(y.astype(int))
        weights_of_rows = len(y) / (2 * counts[y.astype(int)])
    best = neurona_objective(X, y, w_ref, b_ref, l2, reduction, weights_of_rows)
    assert history["loss"][-1] == pytest.approx(best, rel=1e-6)
    assert history["loss"][-1] <= best * (1 + 1e-9)
    passes = history["passes"]
    assert passes[-1] == trainer.passes <= MAX_PASSES
    assert np.all(np.diff(passes) >= 1) and passes[0] >= 2  # x0, then its line search
    assert np.all(np.diff(history["loss"]) <= 1e-12 * abs(best))  # never up (but rounding)


def test_sum_and_mean_take_the_same_iterations():
    # L-BFGS is invariant to the objective's scale: sum and mean (with l2 scaled to match)
    # are the same run.
    X, y, _ = classification(seed=1)
    a, b = Neuron(np.zeros(5)), Neuron(np.zeros(5))
    ha = train(a, X, y, optimizer="lbfgs", epochs=100, l2=1.0, reduction="sum")
    hb = train(b, X, y, optimizer="lbfgs", epochs=100, l2=1.0 / len(y), reduction="mean")
    assert len(ha) == len(hb)
    np.testing.assert_array_equal(ha["passes"], hb["passes"])
    np.testing.assert_allclose(a.weights, b.weights, rtol=1e-9)


def test_a_regression_reaches_ridges_closed_form():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(500, 4)) * [1.0, 4.0, 0.3, 2.0] + [0.0, 3.0, -1.0, 5.0]
    y = X @ [1.5, -0.5, 2.0, 0.25] + 7.0 + rng.normal(size=500)
    for reduction, l2 in [("sum", 10.0), ("mean", 0.02), ("mean", 0.0)]:
        # sum (a - y)^2 (/ n for mean) + l2/2 |w|^2: 2 Xc^T Xc w + n l2 w = 2 Xc^T yc
        # (without the n for sum), b = mean(y) - mean(X) w.
        Xc, yc = X - X.mean(axis=0), y - y.mean()
        scale = 1.0 if reduction == "sum" else len(y)
        w = np.linalg.solve(2 * Xc.T @ Xc + scale * l2 * np.eye(4), 2 * Xc.T @ yc)
        b = y.mean() - X.mean(axis=0) @ w
        neuron = Neuron(np.zeros(4), activation="identity")
        history = train(neuron, X, y, optimizer="lbfgs", loss="squared_error", epochs=200,
                        l2=l2, reduction=reduction, tol=1e-12)
        np.testing.assert_allclose(neuron.weights, w, rtol=1e-8)
        assert neuron.bias == pytest.approx(b, rel=1e-8)
        assert "r2" in history.keys and history["passes"][-1] <= MAX_PASSES


@pytest.mark.parametrize("settings, match", [
    (dict(batch_size=32), "batch_size is 32, but the lbfgs optimizer takes every row"),
    (dict(learning_rate=0.5), "learning_rate is 0.5, which does nothing with the lbfgs"),
    (dict(schedule="cosine"), "schedule is 'cosine', which does nothing with the lbfgs"),
    (dict(momentum=0.5), "momentum is 0.5, which does nothing with the lbfgs"),
    (dict(l1=0.01), "l1 is 0.01, but the lbfgs optimizer needs a smooth objective"),
])
def test_settings_lbfgs_has_no_use_for_are_refused_before_any_work(settings, match):
    with pytest.raises(SettingError, match=match) as info:
        neurona.TrainSpec(optimizer="lbfgs", **settings)
    assert "\n" not in str(info.value)


def test_tol_belongs_to_lbfgs_and_the_step_activation_is_refused():
    with pytest.raises(SettingError, match="tol is 0.001, but it is the stopping rule of the "
                                           "lbfgs optimizer only"):
        neurona.TrainSpec(optimizer="gd", tol=1e-3)
    X, y, _ = classification(100)
    with pytest.raises(NeuronaError, match="the step activation trains by the perceptron rule"):
        train(Neuron(np.zeros(5), activation="step"), X, y, loss="squared_error",
              optimizer="lbfgs")


def test_every_optimizers_history_counts_one_pass_per_epoch():
    X, y, _ = classification(200)
    full = train(Neuron(np.zeros(5)), X, y, epochs=4)
    mini = train(Neuron(np.zeros(5)), X, y, epochs=4, batch_size=16, optimizer="adam",
                 random_state=0)
    assert list(full["passes"]) == list(mini["passes"]) == [1, 2, 3, 4]


def _checkpoint_through_json(trainer):
    return json.loads(json.dumps(trainer.checkpoint(), allow_nan=False))


def test_a_resumed_lbfgs_run_is_the_run_in_one_go_bit_for_bit():
    X, y, _ = classification(seed=3)
    once = neurona.Trainer(Neuron(np.zeros(5)), X, y, optimizer="lbfgs", epochs=25, l2=0.5,
                           tol=1e-14, validation_fraction=0.2, random_state=4)
    once.run()
    first = neurona.Trainer(Neuron(np.zeros(5)), X, y, optimizer="lbfgs", epochs=6, l2=0.5,
                            tol=1e-14, validation_fraction=0.2, random_state=4)
    first.run()
    assert first.status == "finished" and len(first.history) == 6
    doc = _checkpoint_through_json(first)
    again = neurona.Trainer(Neuron(np.zeros(5)), X, y, optimizer="lbfgs", epochs=25, l2=0.5,
                            tol=1e-14, validation_fraction=0.2, random_state=4, resume=doc)
    again.run()
    assert np.array_equal(again.params, once.params)
    assert again.history.rows == once.history.rows
    assert (again.status, again.passes, again.step) == (once.status, once.passes, once.step)


def test_a_converged_run_resumed_for_more_epochs_stays_converged():
    X, y, _ = classification(seed=5)
    trainer = neurona.Trainer(Neuron(np.zeros(5)), X, y, optimizer="lbfgs", epochs=500, l2=1.0)
    trainer.run()
    assert trainer.status == "converged"
    more = neurona.Trainer(Neuron(np.zeros(5)), X, y, optimizer="lbfgs", epochs=900, l2=1.0,
                           resume=_checkpoint_through_json(trainer))
    more.run()
    assert more.status == "converged" and more.history.rows == trainer.history.rows
    assert np.array_equal(more.params, trainer.params) and more.passes == trainer.passes


def test_a_checkpoint_of_another_optimizer_does_not_resume_as_lbfgs():
    X, y, _ = classification(200)
    gd = neurona.Trainer(Neuron(np.zeros(5)), X, y, epochs=3)
    gd.run()
    with pytest.raises(NeuronaError, match="other settings .*optimizer='gd' there, 'lbfgs' here"):
        neurona.Trainer(Neuron(np.zeros(5)), X, y, optimizer="lbfgs", epochs=9,
                        resume=_checkpoint_through_json(gd))


class StopsAtPass(MemoryEngine):
    """Rows in memory whose ``stop_at``-th pass asks the trainer to stop (as Ctrl-C would)."""

    trainer = None

    def __init__(self, X, y, stop_at):
        super().__init__(X, y)
        self.calls, self.stop_at = 0, stop_at

    def forward_backward(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.stop_at:
            self.trainer.stop("interrupted")
        return super().forward_backward(*args, **kwargs)


def test_a_stop_inside_an_iteration_drops_it_and_the_resume_does_it_again():
    X, y, _ = classification(seed=6)
    once = neurona.Trainer(Neuron(np.zeros(5)), X, y, optimizer="lbfgs", epochs=12, l2=0.5)
    once.run()
    engine = StopsAtPass(X, y, stop_at=1)  # in the first pass of iteration 0
    cut = neurona.Trainer(Neuron(np.zeros(5)), engine, optimizer="lbfgs", epochs=12, l2=0.5)
    engine.trainer = cut
    cut.run()
    assert cut.status == "interrupted" and engine.calls == 1
    assert (cut.epoch, cut.step, cut.passes, len(cut.history)) == (0, 0, 0, 0)
    assert not np.any(cut.params)
    again = neurona.Trainer(Neuron(np.zeros(5)), X, y, optimizer="lbfgs", epochs=12, l2=0.5,
                            resume=_checkpoint_through_json(cut))
    again.run()
    assert np.array_equal(again.params, once.params) and again.history.rows == once.history.rows


def test_a_stop_asked_in_an_iterations_last_pass_ends_after_it():
    X, y, _ = classification(seed=6)
    engine = StopsAtPass(X, y, stop_at=6)
    trainer = neurona.Trainer(Neuron(np.zeros(5)), engine, optimizer="lbfgs", epochs=50,
                              l2=0.5)
    engine.trainer = trainer
    trainer.run()
    assert trainer.status == "interrupted"
    assert trainer.passes == trainer.history["passes"][-1] <= 6 < engine.calls + 1


def test_early_stopping_watches_lbfgs_iterations():
    X, y, _ = classification(seed=7)
    neuron = Neuron(np.zeros(5))
    trainer = neurona.Trainer(neuron, X, y, optimizer="lbfgs", epochs=200, early_stopping=True,
                              patience=2, random_state=0, tol=1e-14)
    history = trainer.run()
    assert trainer.status in ("early_stopping", "converged")
    assert "val_loss" in history.keys and len(history) < 200
    stopper = trainer.early_stopping
    best = stopper.best_weights
    np.testing.assert_array_equal(np.append(neuron.weights, neuron.bias), best)


def test_an_overflowing_start_is_a_divergence_error_without_learning_rate_advice():
    X, y, _ = classification(50)
    neuron = Neuron(np.full(5, 1e200), activation="identity")
    with pytest.raises(DivergenceError, match="epoch #0") as info:
        train(neuron, X, y * 3.0, optimizer="lbfgs", loss="squared_error")
    assert "learning rate" not in str(info.value)
    assert "Scaling the input data" in str(info.value)


def test_float32_passes_stop_at_their_own_rounding():
    # A float32 pass's loss is exact to about 1e-7 of itself: the line search takes changes
    # below 1e-6 for rounding and the run ends there, without searching the noise.
    X, y, _ = classification(5000, 6, seed=8)
    wide, narrow = Neuron(np.zeros(6)), Neuron(np.zeros(6))
    h64 = train(wide, X, y, optimizer="lbfgs", l2=1.0, epochs=300)
    trainer = neurona.Trainer(narrow, X, y, optimizer="lbfgs", l2=1.0, epochs=300,
                              dtype="float32")
    h32 = trainer.run()
    assert trainer.status == "converged" and h32["passes"][-1] <= h64["passes"][-1] + 5
    np.testing.assert_allclose(narrow.weights, wide.weights, atol=1e-3)


def test_a_checkpoint_written_before_passes_were_counted_counts_on_from_its_epochs():
    X, y, _ = classification(200)
    first = neurona.Trainer(Neuron(np.zeros(5)), X, y, epochs=3)
    first.run()
    doc = _checkpoint_through_json(first)
    for row in doc["history"]:
        del row["passes"]
    again = neurona.Trainer(Neuron(np.zeros(5)), X, y, epochs=5, resume=doc)
    history = again.run()
    assert [row.get("passes") for row in history.rows] == [None, None, None, 4, 5]
