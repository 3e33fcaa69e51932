"""scikit-learn estimators: :class:`NeuronClassifier` and :class:`NeuronRegressor`.

Both are thin wrappers over :class:`neurona.Trainer`, the loop that
:func:`neurona.train` runs: the estimator validates its input the way
scikit-learn does, turns the labels into 0/1 targets, runs one trainer per
neuron and keeps the weights, the history and the state that lets training
continue (``warm_start``, ``partial_fit``).

- :class:`NeuronClassifier` trains one sigmoid neuron for two classes and,
  for ``k > 2`` classes, one neuron per class, each trained on its own
  one-vs-rest problem (its class against all the others).
- :class:`NeuronRegressor` trains one linear unit (identity activation,
  squared error): Adaline, linear regression by gradient descent.

Their defaults differ from the command line's, which reproduce the tutorial
post; see ``docs/estimators.md`` for how and why.
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from scipy.special import expit, log_expit, logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (_check_partial_fit_first_call,
                                      check_classification_targets, unique_labels)
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ..files import model as model_file, rundir
from ..files.jsonfile import dumps
from ..core import lbfgs, optimizers as optim
from ..core.activations import ACTIVATIONS
from ..core.callbacks import Callback, EarlyStopping, History
from .console import ProgressBar
from ..engines.choose import is_dask
from ..engines.dask import as_dask_array
from ..errors import ModelFileError, NeuronaError
from ..files.jsonfile import check_format, read_json
from ..core.losses import check_pair
from ..core.neuron import Neuron
from ..core.gradient import n_batches
from ..core.spec import TrainSpec
from .api import Trainer

#: The format name of an estimator file (it holds one model document per neuron).
FORMAT = "neurona-estimator"
FORMAT_VERSION = 1

#: learning_rate="auto" for the optimizers that scale their own steps.
ADAPTIVE_OPTIMIZERS = ("adagrad", "rmsprop", "adam", "adamw")
ADAPTIVE_AUTO_RATE = 0.01

#: The net input at which each activation equals the threshold 0.5: the
#: decision function is ``z`` minus this, so that it is positive for class 1.
_Z_AT_THRESHOLD = {"sigmoid": 0.0, "step": 0.0, "identity": 0.5, "tanh": math.atanh(0.5)}

#: The training settings an estimator sets itself rather than passing on its parameter of
#: the same name: ``learning_rate="auto"``, ``epochs`` per call, early stopping with its
#: ``tol``, the validation split, the seed and the class weights (applied as row weights).
_OWN_SETTINGS = ("learning_rate", "epochs", "early_stopping", "patience", "validation_fraction",
                 "random_state", "class_weight", "tol")

#: The training settings that must be unchanged for the optimizer state to carry over.
_OPTIMIZER_SETTINGS = ("optimizer", "learning_rate", "schedule", "decay_rate", "decay_steps",
                       "power_t", "end_learning_rate", "momentum", "beta_1", "beta_2",
                       "epsilon", "rho", "weight_decay", "n_features")


# --- the learning rate "auto" --------------------------------------------------------

def loss_curvature(activation: str, loss: str, y: np.ndarray) -> float:
    """An upper bound on ``d^2 l / dz^2``, the per-sample loss's curvature in ``z``.

    Log loss (from logits): ``sigmoid'(z) <= 1/4``. Squared error ``(g(z) - y)^2``:
    ``2 g'^2 + 2 (g - y) g''``, bounded with ``|g'|``, ``|g''|`` and ``|g - y|``;
    the step activation trains by the perceptron rule, like the identity.
    """
    if loss == "log_loss":
        return 0.25
    if activation in ("identity", "step"):
        return 2.0
    spread = 1.0 + float(np.max(np.abs(y)))  # |g(z) - y| for g(z) in [-1, 1]
    if activation == "sigmoid":  # |g'| <= 1/4, |g''| <= 1 / (6 sqrt 3)
        return 2.0 * (1.0 / 16.0 + spread / (6.0 * math.sqrt(3.0)))
    return 2.0 * (1.0 + spread * 4.0 / (3.0 * math.sqrt(3.0)))  # tanh: |g'| <= 1, |g''| <= 0.77


def largest_eigenvalue(X: np.ndarray, sample_weight: np.ndarray, iterations: int = 30) -> float:
    """The largest eigenvalue of ``[X 1]^T diag(s) [X 1]``, by power iteration.

    The start vector comes from a fixed seed, so the result is deterministic;
    each iteration is two passes over ``X`` (like one epoch), and the column of
    ones (the bias) is never built.
    """
    v = np.random.default_rng(0).standard_normal(X.shape[1] + 1)
    value = 0.0
    for _ in range(iterations):
        v /= np.linalg.norm(v)
        z = X @ v[:-1] + v[-1]
        sz = z if sample_weight is None else sample_weight * z
        if is_dask(X):  # the same arithmetic, one pass over the partitions each time
            import dask

            u = np.append(*dask.compute(X.T @ sz, sz.sum()))
        else:
            u = np.append(X.T @ sz, np.sum(sz))
        value = float(v @ u)
        v = u
    return value


def auto_learning_rate(X, targets, sample_weight, *, activation, loss, optimizer, reduction,
                       batch_size, l2, validation_fraction=None) -> float:
    """The step ``1 / L`` of ``learning_rate="auto"``; 0.01 for the adaptive optimizers.

    ``L`` bounds the curvature of each batch's objective: the loss's curvature
    in ``z`` times the largest eigenvalue of the rows' (weighted) Gram matrix,
    bias column included (one full batch), or the largest squared row norm
    (mini-batches), plus ``l2``. Gradient descent with this step decreases
    the objective at every epoch, whatever the scale of the data.
    """
    if isinstance(optimizer, str) and optimizer in ADAPTIVE_OPTIMIZERS:
        return ADAPTIVE_AUTO_RATE
    n = X.shape[0]
    s = sample_weight
    c = max(loss_curvature(activation, loss, t) for t in targets)
    if n_batches(n, batch_size) == 1:
        if reduction == "mean":  # the training rows' mean can exceed all rows' by n / n_train
            total = n if s is None else float(s.sum())
            lam = largest_eigenvalue(X, s) / total / (1.0 - (validation_fraction or 0.0))
        else:
            lam = largest_eigenvalue(X, s)
    else:
        rows = (X * X).sum(axis=1) + 1.0
        if s is None:
            s = rows * 0.0 + 1.0
        if reduction == "mean":
            lam = float(rows[s > 0].max())
        elif is_dask(X):
            import dask.array as da

            lam = float(da.topk(s * rows, batch_size).sum())
        else:
            lam = float(np.sum(np.sort(s * rows)[-batch_size:]))
    return 1.0 / (c * lam + l2)


# --- callbacks -----------------------------------------------------------------------

class ConvergenceMonitor(Callback):
    """Stop when the training loss has not improved by ``tol`` for ``patience`` epochs.

    The rule of scikit-learn's ``MLPClassifier``: an epoch whose loss is above
    ``best - tol`` counts as no improvement; ``patience`` such epochs in a row
    stop training with the status ``"converged"``. Its state goes into
    checkpoints, so a resumed run counts on.
    """

    def __init__(self, tol: float, patience: int):
        self.tol, self.patience = float(tol), int(patience)
        self.best: float | None = None
        self.count = 0

    def on_epoch_end(self, epoch, logs=None):
        loss = float(logs["loss"])
        improved = self.best is None or loss <= self.best - self.tol
        self.count = 0 if improved else self.count + 1
        self.best = loss if self.best is None else min(self.best, loss)
        if self.count >= self.patience:
            self.trainer.stop("converged")

    def get_state(self) -> dict:
        return {"best": self.best, "count": self.count}

    def set_state(self, state: dict) -> None:
        self.best, self.count = state["best"], state["count"]


# --- the shared estimator ------------------------------------------------------------

def _store_parameters(estimator, values: dict) -> None:
    """What every ``__init__`` does: store its arguments as they are, nothing else."""
    for name, value in values.items():
        if name != "self":
            setattr(estimator, name, value)


_POSITIVE = Interval(Real, 0, None, closed="neither")
_NONNEGATIVE = Interval(Real, 0, None, closed="left")
_UNIT = Interval(Real, 0, 1, closed="left")
_COUNT = Interval(Integral, 1, None, closed="left")


class _NeuronEstimator(BaseEstimator):
    """The parts :class:`NeuronClassifier` and :class:`NeuronRegressor` share."""

    #: The training task (:class:`~neurona.core.spec.TrainSpec`'s ``task``): what the
    #: history measures besides the loss.
    _task = "classify"

    _parameter_constraints: dict = {
        "optimizer": [StrOptions({*optim.OPTIMIZERS, lbfgs.NAME}),
                      optim.GradientTransformation],
        "learning_rate": [_POSITIVE, StrOptions({"auto"})],
        "epochs": [_COUNT],
        "batch_size": [_COUNT, None],
        "shuffle": ["boolean"],
        "reduction": [StrOptions({"mean", "sum"})],
        "l1": [_NONNEGATIVE],
        "l2": [_NONNEGATIVE],
        "tol": [_NONNEGATIVE, None],
        "patience": [_COUNT],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "schedule": [StrOptions(set(optim.SCHEDULES))],
        "decay_rate": [_POSITIVE, None],
        "decay_steps": [_COUNT, None],
        "power_t": [_NONNEGATIVE],
        "end_learning_rate": [_NONNEGATIVE],
        "momentum": [_UNIT],
        "beta_1": [_UNIT],
        "beta_2": [_UNIT],
        "epsilon": [_POSITIVE],
        "rho": [_UNIT],
        "weight_decay": [_NONNEGATIVE],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "callbacks": [list, tuple, None],
    }

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted once it has weights (a fit that failed may leave other attributes)."""
        return hasattr(self, "coef_")

    # -- fitting --

    def _validation_fraction(self) -> float | None:
        if self.validation_fraction is None and self.early_stopping:
            return 0.1
        return self.validation_fraction

    def _check_settings(self) -> None:
        """The checks no single-parameter constraint can make."""
        check_pair(self.activation, self.loss)
        for cb in self.callbacks or ():
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be neurona.Callback instances, got "
                                f"{type(cb).__name__}: {cb!r}.")

    def _lbfgs(self) -> bool:
        return isinstance(self.optimizer, str) and self.optimizer == lbfgs.NAME

    def _train_kwargs(self, learning_rate: float | None) -> dict:
        """The training settings that come from the parameters of the same name, and the
        estimator's task; with lbfgs, ``tol`` is its stopping rule (None: never)."""
        shared = [k for k in TrainSpec.names()
                  if k in self._parameter_constraints and k not in _OWN_SETTINGS]
        out = dict({k: getattr(self, k) for k in shared}, task=self._task)
        if learning_rate is not None:
            out["learning_rate"] = learning_rate
        if self._lbfgs():
            out["tol"] = 0.0 if self.tol is None else self.tol
        return out

    def _learning_rate(self, X, targets, sample_weight, validation_fraction) -> float | None:
        if self.learning_rate != "auto":
            return float(self.learning_rate)
        if self._lbfgs():  # its line search chooses every step
            return None
        return auto_learning_rate(
            X, targets, sample_weight, activation=self.activation, loss=self.loss,
            optimizer=self.optimizer, reduction=self.reduction, batch_size=self.batch_size,
            l2=self.l2, validation_fraction=validation_fraction)

    def _seed(self) -> int:
        if isinstance(self.random_state, Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _callbacks(self, k: int, epochs: int, monitor: bool) -> list:
        """This neuron's callbacks: stopping, progress lines, then the user's."""
        out = []
        if monitor and self.early_stopping:
            out.append(EarlyStopping("val_loss", patience=self.patience,
                                     min_delta=self.tol or 0.0, restore_best_weights=True))
        elif monitor and self.tol is not None and not self._lbfgs():
            out.append(ConvergenceMonitor(self.tol, self.patience))
        if self.verbose:
            name = self.loss if self._n_neurons() == 1 else f"{self.classes_[k]} {self.loss}"
            out.append(ProgressBar(epochs, loss_name=name))
        return out + list(self.callbacks or ())

    def _fit_neurons(self, X, targets, sample_weight, *, partial: bool) -> None:
        """Train one neuron per target; set the fitted attributes.

        A cold start begins at zero weights. ``warm_start`` (``fit``) continues
        the previous run exactly (optimizer state, generator, history, stopping
        state) when its settings are unchanged and it ran out of epochs, and
        otherwise continues from the current weights. ``partial_fit`` runs one
        epoch from the current weights and optimizer state.
        """
        self._check_settings()
        n_out, n_features = len(targets), X.shape[1]
        warm = hasattr(self, "coef_") and (partial or self.warm_start)
        if warm:
            coef = np.array(self.coef_, dtype=np.float64).reshape(n_out, n_features)
            intercept = np.array(self.intercept_, dtype=np.float64).reshape(n_out)
            runs = getattr(self, "_runs", None) or [None] * n_out
            histories = self._histories()
        else:
            coef, intercept = np.zeros((n_out, n_features)), np.zeros(n_out)
            runs, histories = [None] * n_out, [History() for _ in range(n_out)]
        validation = None if partial else self._validation_fraction()
        if partial and warm and self.learning_rate == "auto" and self.learning_rate_:
            lr = self.learning_rate_  # keep the step of the first call
        else:
            lr = self._learning_rate(X, targets, sample_weight, validation)
        if partial:  # one generator per neuron, so that the shuffles go on as in one fit
            if not warm or len(getattr(self, "_rngs", ())) != n_out:
                seed = self._seed()
                self._rngs = [np.random.default_rng(seed) for _ in range(n_out)]
            seeds = self._rngs
        else:
            seeds = [self._seed()] * n_out

        new_runs, statuses = [], []
        for k, t in enumerate(targets):
            neuron = Neuron(coef[k], intercept[k], activation=self.activation)
            trainer, resumed = self._trainer(k, neuron, X, t, sample_weight, lr, seeds[k],
                                             validation, runs[k], partial)
            trainer.run()
            coef[k], intercept[k] = neuron.weights, neuron.bias
            kept = histories[k].rows[:len(histories[k]) - resumed]
            histories[k] = _continue_history(kept, trainer.history)
            # An lbfgs state holds the loss and gradient of these rows: a fit on others starts
            # over from the weights.
            new_runs.append({"checkpoint": trainer.checkpoint(),
                             "resumable": not partial and trainer.status == "finished"
                             and not self._lbfgs()})
            rows = trainer.history.rows
            rose = trainer.status == "converged" and rows[-1]["loss"] > rows[0]["loss"]
            statuses.append("rose" if rose else trainer.status)

        self._runs = new_runs
        self._set_weights(coef, intercept)
        self._set_history(histories, lr)
        if not partial:
            self._warn(statuses, lr)

    def _warn(self, statuses: list, lr: float) -> None:
        """A ``ConvergenceWarning`` for the neurons that ran out of epochs or whose loss rose."""
        def which(status):
            ks = [k for k, s in enumerate(statuses) if s == status]
            if len(statuses) == 1 or not ks:
                return ks, ""
            return ks, f" (the neurons of class(es) {self.classes_[ks].tolist()})"

        late, names = which("finished")
        if late and self._lbfgs() and not self.early_stopping:
            warnings.warn(
                f"Maximum number of epochs ({self.epochs}) reached before convergence"
                f"{names}: lbfgs's gradient had not fallen to tol={self.tol} of its first "
                f"value. Consider increasing epochs, or scaling the input data (for example "
                f"with StandardScaler).", ConvergenceWarning)
        elif late and (self.tol is not None or self.early_stopping):
            warnings.warn(
                f"Maximum number of epochs ({self.epochs}) reached before convergence"
                f"{names}: the {'validation' if self.early_stopping else 'training'} loss "
                f"still improved by more than tol={self.tol} within the last "
                f"{self.patience} epochs. Consider increasing epochs, or scaling the input "
                f"data (for example with StandardScaler).", ConvergenceWarning)
        rose, names = which("rose")
        if rose:
            warnings.warn(
                f"The training loss rose{names} and training stopped after {self.patience} "
                f"epochs without improvement: the learning rate ({lr:g}) is probably too "
                f"large. Try learning_rate='auto' or a smaller one.", ConvergenceWarning)

    def _trainer(self, k, neuron, X, t, sample_weight, lr, seed, validation, run, partial):
        """The trainer of neuron ``k``, and how many history rows it starts with.

        A warm ``fit`` resumes the previous run of the neuron (its checkpoint)
        when that run used up its epochs and the settings are unchanged; the
        trainer's history then starts with that run's rows. Otherwise a new run
        starts from the neuron's weights; ``partial_fit`` hands it the previous
        optimizer state when the optimizer's settings are unchanged.
        """
        common = dict(sample_weight=sample_weight, validation_fraction=validation,
                      **self._train_kwargs(lr))
        if run is not None and run["resumable"] and self.warm_start and not partial:
            epochs = run["checkpoint"]["epoch"] + self.epochs
            try:
                trainer = Trainer(neuron, X, t, epochs=epochs,
                                  random_state=run["checkpoint"]["settings"]["random_state"],
                                  callbacks=self._callbacks(k, epochs, True),
                                  resume=run["checkpoint"], **common)
                return trainer, len(run["checkpoint"]["history"])
            except NeuronaError:
                pass  # the settings changed: continue from the weights alone
        epochs = 1 if partial else self.epochs
        trainer = Trainer(neuron, X, t, epochs=epochs, random_state=seed,
                          callbacks=self._callbacks(k, epochs, not partial), **common)
        if partial and run is not None and all(
                run["checkpoint"]["settings"].get(key) == trainer.settings.get(key)
                for key in _OPTIMIZER_SETTINGS):
            trainer.opt_state = optim.state_from_json(run["checkpoint"]["optimizer_state"])
        return trainer, 0

    def _histories(self) -> list:
        """``history_`` as a list, one History per neuron."""
        return [self.history_] if isinstance(self.history_, History) else list(self.history_)

    def _set_history(self, histories: list, learning_rate) -> None:
        self.learning_rate_ = learning_rate
        self.history_ = histories[0] if len(histories) == 1 else histories
        self.n_iter_ = max(len(h) for h in histories)
        self.loss_curve_ = _curves(histories, "loss")
        self.validation_loss_curve_ = _curves(histories, "val_loss")

    def _net_input(self, X) -> np.ndarray:
        """``z = X w + b`` for every neuron: shape (n_samples, n_neurons)."""
        check_is_fitted(self)
        if is_dask(X):  # lazily, partition by partition: a Dask array comes back
            X = _dask_features(self, X, reset=False)
        else:
            X = validate_data(self, X, reset=False, dtype=np.float64)
        coef = np.reshape(self.coef_, (-1, self.n_features_in_))
        return X @ coef.T + np.reshape(self.intercept_, -1)

    def _sample_weight(self, sample_weight, X):
        if sample_weight is None:
            return None
        return _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)

    # -- ONNX --

    def to_onnx(self, path=None, *, force: bool = False):
        """The fitted estimator as an ONNX graph (``onnx.ModelProto``), written to ``path``
        atomically when given (an existing file only with ``force``).

        The input ``X`` is float32 ``[N, n_features_in_]``; the outputs are ``label`` and
        ``probabilities`` (``predict_proba``; ``decision``, the decision function, without
        a sigmoid) for a classifier, ``prediction`` for a regressor. Needs the ``onnx``
        package (``pip install 'neurona[onnx]'``); see ``docs/export.md``.
        """
        from ..files import onnx_export

        return onnx_export.export(self._onnx_predictor(), path, force=force,
                                  where=type(self).__name__)

    def _onnx_predictor(self):
        from ..files.onnx_export import Predictor

        check_is_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        names = None if names is None else [str(n) for n in names]
        coef = np.reshape(self.coef_, (-1, self.n_features_in_))
        common = dict(feature_names=names, source=type(self).__name__)
        if isinstance(self, RegressorMixin):
            return Predictor(coef, np.reshape(self.intercept_, -1), self.activation,
                             task="regress", **common)
        return Predictor(coef, np.reshape(self.intercept_, -1), self.activation,
                         rule="net_input", offset=_Z_AT_THRESHOLD[self.activation],
                         classes=self.classes_, probabilities=self.activation == "sigmoid",
                         **common)

    # -- the model file --

    def save(self, path) -> None:
        """Write the fitted estimator to a JSON model file (``model.json``), atomically.

        The file holds one neurona model document per neuron (the format
        :func:`neurona.save` writes), the estimator's parameters, its classes
        and its history; no pickle. Parameters that are not plain data (a
        custom optimizer object, callbacks, a ``RandomState``) are not saved
        and come back with their defaults. Read it with :meth:`load`.
        """
        check_is_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        names = None if names is None else [str(n) for n in names]
        coef = np.reshape(self.coef_, (-1, self.n_features_in_))
        intercept = np.reshape(self.intercept_, -1)
        histories = self._histories()
        neurons = []
        for k in range(coef.shape[0]):
            task = "regress" if isinstance(self, RegressorMixin) else "classify"
            doc = model_file.model_document(
                Neuron(coef[k], intercept[k], self.activation, task=task), loss=self.loss,
                feature_names=names, training={"n_iter": len(histories[k])})
            neurons.append(model_file.validate_document(doc, str(path)))
        params, dropped = {}, []
        for key, value in self.get_params().items():
            value = _param_to_json(value)
            if value is _UNSAVED:
                dropped.append(key)
            else:
                params[key] = value
        doc = {"format": FORMAT, "format_version": FORMAT_VERSION,
               "neurona_version": neurons[0]["neurona_version"],
               "estimator": type(self).__name__, "params": params, "params_not_saved": dropped,
               "n_features_in": int(self.n_features_in_), "feature_names_in": names,
               "learning_rate": self.learning_rate_, "neurons": neurons,
               "histories": [h.rows for h in histories]}
        if hasattr(self, "classes_"):
            doc["classes"] = _labels_to_json(self.classes_)
        rundir.atomic_write_text(path, dumps(doc))

    @classmethod
    def load(cls, path):
        """Read an estimator written by :meth:`save`, or a plain neurona model file.

        A model file written by :func:`neurona.save` or ``neurona train``
        holds one neuron: it becomes a fitted estimator whose classes are
        ``[0, 1]`` (a classifier) with no history.

        Raises
        ------
        neurona.ModelFileError
            When the file is missing, is not one of these formats, or is inconsistent.
        """
        path = Path(path)
        where = str(path)
        doc = _read_json(path)
        if isinstance(doc, dict) and doc.get("format") == model_file.FORMAT:
            return cls._from_model_document(model_file.validate_document(doc, where), where)
        _check_estimator_document(doc, cls.__name__, where)
        known = cls().get_params()
        try:
            est = cls(**{k: _param_from_json(v) for k, v in doc["params"].items() if k in known})
            est._validate_params()
            if isinstance(est, ClassifierMixin):
                est.classes_ = _labels_from_json(doc["classes"])
            neurons = [model_file.validate_document(n, where) for n in doc["neurons"]]
            if len(doc["histories"]) != len(neurons):
                raise ValueError(f"{len(neurons)} neurons but {len(doc['histories'])} "
                                 f"histories.")
            est._restore(neurons, doc["n_features_in"], doc["feature_names_in"])
            rate = doc["learning_rate"]
            est._set_history([History(rows) for rows in doc["histories"]],
                             None if rate is None else float(rate))
        except ModelFileError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise ModelFileError(f"{where}: {exc}") from None
        return est

    @classmethod
    def _from_model_document(cls, doc: dict, where: str):
        """A fitted estimator from one neuron's model document (no history)."""
        est = cls(activation=doc["activation"], loss=doc["loss"])
        allowed = est._parameter_constraints
        if not (allowed["activation"][0].is_satisfied_by(doc["activation"])
                and allowed["loss"][0].is_satisfied_by(doc["loss"])):
            raise ModelFileError(f"{where}: a neuron with activation={doc['activation']!r} and "
                                 f"loss={doc['loss']!r} is not a {cls.__name__}.")
        if doc["threshold"] != 0.5:
            raise ModelFileError(f"{where}: the neuron's threshold is {doc['threshold']}; "
                                 f"{cls.__name__} predicts with 0.5.")
        if "scaler" in doc:
            raise ModelFileError(
                f"{where}: the neuron scales its features ({doc['scaler']['kind']}) before "
                f"its weights, which {cls.__name__} does not; load it with neurona.load, or "
                f"fit a pipeline with a scaler.")
        if "encoding" in doc:
            raise ModelFileError(
                f"{where}: the neuron encodes raw columns (one-hot categories, filled-in "
                f"values), which {cls.__name__} does not; load it with neurona.load, or fit "
                f"a pipeline with a ColumnTransformer.")
        if "target_scaler" in doc:
            raise ModelFileError(
                f"{where}: the neuron was trained on scaled targets, which {cls.__name__} "
                f"does not map back; load it with neurona.load, or wrap the estimator in "
                f"scikit-learn's TransformedTargetRegressor.")
        task = "regress" if issubclass(cls, RegressorMixin) else "classify"
        if doc.get("task", task) != task:
            raise ModelFileError(
                f"{where}: the model's task is {doc['task']!r}; load it with "
                f"{'NeuronRegressor' if doc['task'] == 'regress' else 'NeuronClassifier'}.")
        names = doc["feature_names"]
        if isinstance(est, ClassifierMixin):  # a data file's own labels, when it had them
            est.classes_ = np.array(doc.get("classes", [0, 1]))
        default = [f"x{i}" for i in range(len(names))]
        est._restore([doc], len(names), None if names == default else names)
        rate = doc.get("training", {}).get("learning_rate")
        est._set_history([History()], float(rate) if isinstance(rate, (int, float)) else None)
        return est

    def _restore(self, neurons: list, n_features: int, names) -> None:
        """Set the weights from model documents (after :meth:`load` read them)."""
        if any(len(n["weights"]) != n_features for n in neurons):
            raise ValueError(f"every neuron must have n_features_in={n_features} weights.")
        if len(neurons) != self._n_neurons():
            raise ValueError(f"{len(neurons)} neurons, expected {self._n_neurons()}.")
        self.n_features_in_ = int(n_features)
        if names is not None:
            self.feature_names_in_ = np.array(names, dtype=object)
        self._set_weights(np.array([n["weights"] for n in neurons], dtype=np.float64),
                          np.array([n["bias"] for n in neurons], dtype=np.float64))


def _trains_by_batches(estimator) -> bool:
    """``partial_fit`` trains on the rows of one call: every optimizer but lbfgs, whose
    iterations (and its stored loss and gradient) are over the whole training set."""
    if estimator._lbfgs():
        raise AttributeError(
            "partial_fit is not available with optimizer='lbfgs': each of its iterations "
            "needs every training row; use fit, or another optimizer.")
    return True


# --- the classifier ------------------------------------------------------------------

def _has_probabilities(estimator) -> bool:
    if estimator.activation != "sigmoid":
        raise AttributeError(
            f"predict_proba is available with activation='sigmoid' only (the neuron's output "
            f"is then a probability), not activation={estimator.activation!r}.")
    return True


class NeuronClassifier(ClassifierMixin, _NeuronEstimator):
    """A single neuron as a scikit-learn classifier; one neuron per class beyond two.

    With two classes, one sigmoid neuron trained on the log loss (logistic
    regression by gradient descent): ``classes_[1]`` is the positive class.
    With ``k > 2`` classes, one neuron per class, each trained on its own
    one-vs-rest problem (its class as 1, all others as 0); ``predict`` takes
    the class whose neuron has the largest net input and ``predict_proba``
    normalises the ``k`` sigmoid outputs to sum to 1.

    Parameters
    ----------
    activation : {"sigmoid", "tanh", "identity", "step"}, default="sigmoid"
        The neuron's activation. ``"step"`` trains by the perceptron rule,
        ``"identity"`` is Adaline on 0/1 targets. Class 1 is where the output
        is above 0.5.
    loss : {"log_loss", "squared_error"}, default="log_loss"
        ``"log_loss"`` needs ``activation="sigmoid"``.
    optimizer : {"gd", "momentum", "nesterov", "nesterov_restart", "adagrad", \
"rmsprop", "adam", "adamw", "lbfgs"} or GradientTransformation, \
default="nesterov_restart"
        See :mod:`neurona.optimizers`. The default, Nesterov momentum that
        restarts when it overshoots, is accelerated and lowers the loss at
        (almost) every epoch, so ``tol`` stops it near the optimum. A
        ``GradientTransformation`` object brings its own learning rate.
        ``"lbfgs"``: quasi-Newton iterations over the full batch with a line
        search (:mod:`neurona.core.lbfgs`); an epoch is one iteration, it takes
        no learning rate, schedule, ``batch_size`` or ``l1``, and has no
        ``partial_fit``.
    learning_rate : float or "auto", default="auto"
        The step size (the schedule's starting value). ``"auto"`` is ``1 / L``
        for ``gd`` and the momentum optimizers, where ``L`` bounds the
        curvature of the objective on the training data (so training never
        diverges, whatever the scale of ``X``), and 0.01 for the adaptive
        optimizers. The value used is ``learning_rate_``.
    epochs : int, default=1000
        The most epochs (passes over the training rows) a call to ``fit`` runs.
    batch_size : int, default=None
        Rows per update; ``None``: one full batch per epoch.
    shuffle : bool, default=True
        Reshuffle the rows every epoch (with mini-batches only).
    reduction : {"mean", "sum"}, default="mean"
        Whether each batch averages or sums its per-sample losses.
    l1 : float, default=0.0
        L1 penalty ``l1 * sum|w|`` on the weights (not the bias).
    l2 : float, default=0.001
        L2 penalty ``l2 / 2 * sum w^2`` on the weights (not the bias). With
        ``reduction="mean"`` it is scikit-learn's
        ``LogisticRegression(C=1 / (l2 * n_samples))``.
    class_weight : dict, "balanced" or None, default=None
        Weights per class label, multiplied into the sample weights;
        ``"balanced"`` is ``n_samples / (n_classes * count(label))``.
    tol : float or None, default=1e-4
        Training stops when the training loss has not improved by ``tol`` for
        ``patience`` epochs (with ``early_stopping``, the validation loss).
        ``None``: always run ``epochs`` epochs. With ``optimizer="lbfgs"``:
        its own test, the largest gradient entry down to ``tol`` times its
        first value (or an iteration lowering the loss by at most ``tol**2``
        of it), see :func:`neurona.core.lbfgs.converged`.
    patience : int, default=10
        Epochs without improvement before stopping (scikit-learn's
        ``n_iter_no_change``).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, stop when the validation
        loss stops improving and keep the weights of its best epoch.
    validation_fraction : float in (0, 1) or None, default=None
        Validate on this fraction of the rows (0.1 when ``early_stopping`` and
        None) and record ``validation_loss_curve_``.
    schedule : {"constant", "step", "exponential", "invscaling", "cosine"}, \
default="constant"
        The learning rate as a function of the update count.
    decay_rate, decay_steps, power_t, end_learning_rate : schedule parameters
        As in :func:`neurona.train`.
    momentum, beta_1, beta_2, epsilon, rho, weight_decay : optimizer parameters
        As in :func:`neurona.train`.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split and the shuffles (the weights start at 0).
    warm_start : bool, default=False
        ``fit`` continues from the current model instead of starting over.
    verbose : int, default=0
        Above 0, print one line per epoch (and a live bar on a terminal).
    callbacks : list of neurona.Callback, default=None
        Called during training; with ``k > 2`` classes each neuron's training
        calls them in turn (``on_train_begin`` ... ``on_train_end`` per class).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` had string column names (a DataFrame).
    n_iter_ : int
        Epochs run (the most over the neurons); continued by ``warm_start``
        and ``partial_fit``.
    loss_curve_ : list of float, or one list per class
        The training loss (the objective) per epoch.
    validation_loss_curve_ : list of float, one list per class, or None
        The validation loss per epoch, when validating.
    history_ : neurona.History, or one per class
        Every per-epoch record: loss, sse, accuracy, grad_norm, learning_rate
        and the ``val_`` keys when validating.
    learning_rate_ : float or None
        The learning rate used (the value of ``"auto"``); None with ``"lbfgs"``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from neurona import NeuronClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), NeuronClassifier(random_state=0)).fit(X, y)
    >>> model[-1].coef_.shape
    (3, 4)
    >>> round(model.score(X, y), 2)
    0.96
    """

    _parameter_constraints: dict = {
        **_NeuronEstimator._parameter_constraints,
        "activation": [StrOptions(set(ACTIVATIONS))],
        "loss": [StrOptions({"log_loss", "squared_error"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, *, activation="sigmoid", loss="log_loss",
                 optimizer="nesterov_restart", learning_rate="auto", epochs=1000,
                 batch_size=None, shuffle=True, reduction="mean", l1=0.0, l2=0.001,
                 class_weight=None, tol=1e-4, patience=10, early_stopping=False,
                 validation_fraction=None, schedule="constant", decay_rate=None,
                 decay_steps=None, power_t=0.5, end_learning_rate=0.0, momentum=0.9,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, rho=0.9, weight_decay=0.01,
                 random_state=None, warm_start=False, verbose=0, callbacks=None):
        _store_parameters(self, locals())

    def _n_neurons(self) -> int:
        return 1 if len(self.classes_) == 2 else len(self.classes_)

    def _set_weights(self, coef, intercept) -> None:
        self.coef_, self.intercept_ = coef, intercept

    def _check_classes(self, classes: np.ndarray) -> None:
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data, but "
                f"the data contains only one class: {classes.tolist()[0]!r}.")

    def _targets(self, X, y, sample_weight):
        """One 0/1 target per neuron, and the row weights (sample times class weights)."""
        index = np.searchsorted(self.classes_, y)
        unknown = (index >= len(self.classes_)) | \
            (self.classes_[np.minimum(index, len(self.classes_) - 1)] != y)
        if unknown.any():
            raise ValueError(f"y contains label(s) {unique_labels(y[unknown]).tolist()} that "
                             f"are not in classes_ {self.classes_.tolist()}.")
        weights = self._sample_weight(sample_weight, X)
        if self.class_weight is not None:
            per_row = compute_class_weight(self.class_weight, classes=self.classes_, y=y)[index]
            weights = per_row if weights is None else weights * per_row
            if not np.any(weights > 0):
                raise ValueError("The sample weights times the class weights are all zero; "
                                 "at least one row must have a nonzero weight.")
        if len(self.classes_) == 2:
            return [(index == 1).astype(np.float64)], weights
        return [(index == k).astype(np.float64) for k in range(len(self.classes_))], weights

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the neuron(s) on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels of any type scikit-learn accepts (ints, strings, bools).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : NeuronClassifier
        """
        warm = self.warm_start and hasattr(self, "coef_")
        if is_dask(X):
            return self._fit_dask(X, y, sample_weight, warm)
        X, y = validate_data(self, X, y, reset=not warm, dtype=np.float64)
        check_classification_targets(y)
        classes = unique_labels(y)
        self._check_classes(classes)
        if warm and not np.array_equal(classes, self.classes_):
            raise ValueError(f"y has the classes {classes.tolist()}, but the model being "
                             f"continued (warm_start=True) has {self.classes_.tolist()}; fit "
                             f"with warm_start=False to start over.")
        self.classes_ = classes
        targets, weights = self._targets(X, y, sample_weight)
        self._fit_neurons(X, targets, weights, partial=False)
        return self

    def _fit_dask(self, X, y, sample_weight, warm):
        """``fit`` on Dask collections: the same trainer, fed partition by partition."""
        X = _dask_features(self, X, reset=not warm)
        y = as_dask_array(y)
        labels, counts = (np.asarray(a) for a in _compute(*_unique_counts(y)))
        check_classification_targets(labels)
        self._check_classes(labels)
        if warm and not np.array_equal(labels, self.classes_):
            raise ValueError(f"y has the classes {labels.tolist()}, but the model being "
                             f"continued (warm_start=True) has {self.classes_.tolist()}; fit "
                             f"with warm_start=False to start over.")
        self.classes_ = labels
        weights = None if sample_weight is None else as_dask_array(sample_weight)
        if self.class_weight is not None:
            if self.class_weight == "balanced":  # scikit-learn's n / (n_classes * count)
                cw = counts.sum() / (len(labels) * counts.astype(np.float64))
            else:
                cw = compute_class_weight(self.class_weight, classes=labels, y=labels)
            per_row = y.map_blocks(lambda b: cw[np.searchsorted(labels, b)], dtype=np.float64)
            weights = per_row if weights is None else weights * per_row
        outs = labels[1:] if len(labels) == 2 else labels
        targets = [(y == label).astype(np.float64) for label in outs]
        self._fit_neurons(X, targets, weights, partial=False)
        return self

    @available_if(_trains_by_batches)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch on ``X`` and ``y``, from the current weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            Every class of the problem: required on the first call, since
            ``y`` may hold only some of them.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : NeuronClassifier
        """
        first = not hasattr(self, "coef_")
        if first and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit, which sees part of "
                "the data only. Compute the weights on the whole target with "
                "sklearn.utils.class_weight.compute_class_weight('balanced', classes=classes, "
                "y=y) and pass them as class_weight={label: weight}.")
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self._check_classes(unique_labels(classes))
            self.__dict__.pop("classes_", None)  # left by a first call that failed
        X, y = validate_data(self, X, y, reset=first, dtype=np.float64)
        check_classification_targets(y)
        _check_partial_fit_first_call(self, classes)
        targets, weights = self._targets(X, y, sample_weight)
        self._fit_neurons(X, targets, weights, partial=True)
        return self

    def decision_function(self, X):
        """The net input minus its value at the threshold: positive for class 1.

        Returns
        -------
        ndarray of shape (n_samples,) with two classes (positive means
        ``classes_[1]``), else (n_samples, n_classes).
        """
        d = self._net_input(X) - _Z_AT_THRESHOLD[self.activation]
        return d[:, 0] if d.shape[1] == 1 else d

    def predict(self, X):
        """The class of each sample: where the decision is positive, or the largest one."""
        d = self.decision_function(X)

        def pick(b):
            return self.classes_[(b > 0).astype(int) if b.ndim == 1 else np.argmax(b, axis=1)]

        if is_dask(d):  # Dask input: a lazy Dask array of labels, partition by partition
            return d.map_blocks(pick, dtype=self.classes_.dtype,
                                **({"drop_axis": 1} if d.ndim == 2 else {}))
        return pick(d)

    @available_if(_has_probabilities)
    def predict_log_proba(self, X):
        """The logarithm of :meth:`predict_proba`, computed without overflow."""
        z = self._net_input(X)
        if z.shape[1] == 1:
            return np.column_stack((log_expit(-z[:, 0]), log_expit(z[:, 0])))
        log_p = log_expit(z)
        return log_p - logsumexp(log_p, axis=1, keepdims=True)

    @available_if(_has_probabilities)
    def predict_proba(self, X):
        """The probability of each class.

        Two classes: ``[1 - p, p]`` with ``p`` the neuron's sigmoid output.
        More: the one-vs-rest outputs, normalised to sum to 1.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        z = self._net_input(X)
        if z.shape[1] == 1:
            return np.column_stack((expit(-z[:, 0]), expit(z[:, 0])))
        return np.exp(self.predict_log_proba(X))


# --- the regressor -------------------------------------------------------------------

class NeuronRegressor(RegressorMixin, _NeuronEstimator):
    """A single linear unit as a scikit-learn regressor: Adaline, linear regression by GD.

    The neuron's output ``g(X w + b)`` with the identity activation, trained
    on the squared error ``(y - output)^2``.

    Parameters
    ----------
    activation : {"identity", "tanh", "sigmoid"}, default="identity"
        ``"tanh"`` and ``"sigmoid"`` bound the output to (-1, 1) or (0, 1).
    loss : {"squared_error"}, default="squared_error"
    optimizer, learning_rate, epochs, batch_size, shuffle, reduction, l1, tol, \
patience, early_stopping, validation_fraction, schedule, decay_rate, decay_steps, \
power_t, end_learning_rate, momentum, beta_1, beta_2, epsilon, rho, weight_decay, \
random_state, warm_start, verbose, callbacks
        As in :class:`NeuronClassifier`.
    l2 : float, default=0.0
        L2 penalty ``l2 / 2 * sum w^2`` on the weights (not the bias): ridge
        regression. None by default, like ``LinearRegression``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_features_in_, feature_names_in_, n_iter_, loss_curve_, \
validation_loss_curve_, history_, learning_rate_
        As in :class:`NeuronClassifier`, for the one neuron.

    Examples
    --------
    >>> import numpy as np
    >>> from neurona import NeuronRegressor
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = 2 * X[:, 0] + 1
    >>> reg = NeuronRegressor(tol=None, epochs=300).fit(X, y)
    >>> reg.coef_.round(6), round(float(reg.intercept_), 6)
    (array([2.]), 1.0)
    """

    _parameter_constraints: dict = {
        **_NeuronEstimator._parameter_constraints,
        "activation": [StrOptions({"identity", "tanh", "sigmoid"})],
        "loss": [StrOptions({"squared_error"})],
    }

    def __init__(self, *, activation="identity", loss="squared_error",
                 optimizer="nesterov_restart", learning_rate="auto", epochs=1000,
                 batch_size=None, shuffle=True, reduction="mean", l1=0.0, l2=0.0,
                 tol=1e-4, patience=10, early_stopping=False,
                 validation_fraction=None, schedule="constant", decay_rate=None,
                 decay_steps=None, power_t=0.5, end_learning_rate=0.0, momentum=0.9,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, rho=0.9, weight_decay=0.01,
                 random_state=None, warm_start=False, verbose=0, callbacks=None):
        _store_parameters(self, locals())

    _task = "regress"

    def _n_neurons(self) -> int:
        return 1

    def _set_weights(self, coef, intercept) -> None:
        self.coef_, self.intercept_ = coef[0], np.float64(intercept[0])

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the unit on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : NeuronRegressor
        """
        reset = not (self.warm_start and hasattr(self, "coef_"))
        if is_dask(X):
            X = _dask_features(self, X, reset=reset)
            weights = None if sample_weight is None else as_dask_array(sample_weight)
            self._fit_neurons(X, [as_dask_array(y).astype(np.float64)], weights, partial=False)
            return self
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float64, y_numeric=True)
        self._fit_neurons(X, [y.astype(np.float64)], self._sample_weight(sample_weight, X),
                          partial=False)
        return self

    @available_if(_trains_by_batches)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch on ``X`` and ``y``, from the current weights.

        Returns
        -------
        self : NeuronRegressor
        """
        X, y = validate_data(self, X, y, reset=not hasattr(self, "coef_"), dtype=np.float64,
                             y_numeric=True)
        self._fit_neurons(X, [y.astype(np.float64)], self._sample_weight(sample_weight, X),
                          partial=True)
        return self

    def predict(self, X):
        """The unit's output for each sample.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        z = self._net_input(X)[:, 0]
        g = ACTIVATIONS[self.activation].value
        return z.map_blocks(g, dtype=np.float64) if is_dask(z) else g(z)


# --- helpers -------------------------------------------------------------------------

def _dask_features(estimator, X, reset: bool):
    """The feature matrix of a Dask collection as a float64 Dask array; sets or checks
    ``n_features_in_`` and ``feature_names_in_`` as ``validate_data`` does for NumPy."""
    names = getattr(X, "columns", None)
    X = as_dask_array(X)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D Dask array, got {X.ndim}-D.")
    if reset:
        estimator.n_features_in_ = int(X.shape[1])
        if names is not None:
            estimator.feature_names_in_ = np.asarray(list(names), dtype=object)
        else:
            estimator.__dict__.pop("feature_names_in_", None)
    elif X.shape[1] != estimator.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(estimator).__name__} is "
                         f"expecting {estimator.n_features_in_} features as input.")
    return X.astype(np.float64)


def _unique_counts(y):
    import dask.array as da

    return da.unique(y, return_counts=True)


def _compute(*collections):
    import dask

    return dask.compute(*collections)


def _continue_history(previous: list, new: History) -> History:
    """The rows ``previous`` followed by ``new``'s, renumbered to follow on."""
    start = len(previous)
    passes = previous[-1].get("passes", start) if previous else 0
    return History(previous + [dict(row, epoch=start + i, passes=passes + row["passes"])
                               if "passes" in row else dict(row, epoch=start + i)
                               for i, row in enumerate(new.rows)])


def _curves(histories: list, key: str):
    """The history column ``key`` as lists of floats, one per neuron (unnested for one).

    ``None`` for ``val_loss`` unless every epoch was validated.
    """
    if key != "loss" and not all(key in row for h in histories for row in h.rows):
        return None
    curves = [[float(row[key]) for row in h.rows] for h in histories]
    return curves[0] if len(curves) == 1 else curves


_UNSAVED = object()


def _param_to_json(value):
    """A parameter as JSON data, or ``_UNSAVED`` when it is not plain data."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, dict):  # class_weight: labels need not be strings
        pairs = [[_labels_to_json(np.array([k]))["values"][0], float(v)]
                 for k, v in value.items()]
        return {"pairs": pairs}
    return _UNSAVED


def _param_from_json(value):
    if isinstance(value, dict) and "pairs" in value:
        return {label: weight for label, weight in value["pairs"]}
    return value


def _labels_to_json(labels: np.ndarray) -> dict:
    """Class labels and their dtype as JSON data (ints, floats, bools or strings)."""
    if labels.dtype.kind not in "biufUO" or (
            labels.dtype.kind == "O" and not all(isinstance(v, str) for v in labels)):
        raise ValueError(f"Class labels of dtype {labels.dtype} cannot be saved; the model "
                         f"file holds ints, floats, bools and strings.")
    return {"dtype": "object" if labels.dtype.kind == "O" else labels.dtype.str,
            "values": labels.tolist()}


def _labels_from_json(data) -> np.ndarray:
    dtype = np.dtype(object if data["dtype"] == "object" else data["dtype"])
    if dtype.kind not in "biufUO":
        raise ValueError(f"classes have dtype {dtype}; expected ints, floats, bools or strings.")
    return np.array(data["values"], dtype=dtype)


_ESTIMATOR_FIELDS = {
    "estimator": str, "params": dict, "n_features_in": int,
    "feature_names_in": (list, type(None)), "learning_rate": (float, int, type(None)),
    "neurons": list, "histories": list,
}


def _check_estimator_document(doc, name: str, where: str) -> None:
    """The estimator file's format, version, fields and their types; raise if wrong."""
    check_format(doc, format=FORMAT, versions=(FORMAT_VERSION,), where=where,
                 what="estimator or model file", error=ModelFileError,
                 fields=_ESTIMATOR_FIELDS, also=(model_file.FORMAT,))
    wrong = [k for k, kind in _ESTIMATOR_FIELDS.items() if not isinstance(doc[k], kind)]
    if wrong:
        raise ModelFileError(f"{where}: field(s) of the wrong type: {', '.join(wrong)}.")
    if doc["estimator"] != name:
        raise ModelFileError(f"{where}: holds a {doc['estimator']}, not a {name}; load it "
                             f"with {doc['estimator']}.load.")


def _read_json(path: Path):
    """Parse an estimator or model file strictly (see :func:`neurona.jsonfile.read_json`)."""
    return read_json(path, what="model file", error=ModelFileError)
