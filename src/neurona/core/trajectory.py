"""The weights and the bias at the start of every epoch, recorded during training.

:class:`WeightTrajectory` is a callback: pass it to :func:`neurona.train`. Row
``e`` holds the parameters when epoch ``e`` began (with one full batch, the
ones that produced history row ``e``), and one more row holds the parameters
after the last epoch (the model's, unless early stopping restored earlier
ones). An epoch cut short by an interruption adds no row. The
weight-trajectory figure and the training animation draw from it, and a run
directory keeps it as ``weights.csv`` so that ``neurona report`` can draw
them again without training.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from . import numeric_csv
from .callbacks import Callback
from ..errors import NeuronaError


def column_names(feature_names) -> list[str]:
    """The CSV header: ``epoch``, one ``w[name]`` per feature, then ``b``."""
    return ["epoch", *(f"w[{name}]" for name in feature_names), "b"]


class WeightTrajectory(Callback):
    """Record ``neuron.weights`` and ``neuron.bias`` at each epoch boundary.

    Parameters
    ----------
    neuron : Neuron, default=None
        The neuron being trained (read, never changed). Not needed when the
        callback is given to :func:`neurona.train` or a
        :class:`neurona.training.Trainer`, whose parameters it reads; nor
        for a trajectory rebuilt from a file with :meth:`from_csv`.
    feature_names : list of str, default=None
        The names in the CSV header (default: the neuron's, or x0, x1...).

    Attributes
    ----------
    epoch : ndarray of shape (n_rows,)
        The epoch each row starts; the last row is the number of epochs run.
    weights : ndarray of shape (n_rows, n_features)
    bias : ndarray of shape (n_rows,)

    Examples
    --------
    >>> import numpy as np
    >>> from neurona import Neuron, train
    >>> neuron = Neuron([0.0], 0.0)
    >>> path = WeightTrajectory(neuron)
    >>> _ = train(neuron, np.array([[1.0], [-1.0]]), [1, 0], epochs=3, callbacks=[path])
    >>> path.epoch.tolist()
    [0, 1, 2, 3]
    >>> bool(np.allclose(path.weights[-1], neuron.weights))
    True
    """

    def __init__(self, neuron=None, feature_names=None):
        self.neuron = neuron
        names = feature_names or (neuron.feature_names if neuron is not None else None)
        self.feature_names = list(names) if names else None
        self._epochs: list[int] = []
        self._params: list[np.ndarray] = []

    # --- recording ---------------------------------------------------------

    def _record(self, epoch: int) -> None:
        if self._epochs and self._epochs[-1] == epoch:
            return
        if self.trainer is not None:  # the running Trainer's parameters, bias last
            params = np.array(self.trainer.params, dtype=np.float64)
        else:
            params = np.r_[np.asarray(self.neuron.weights, dtype=np.float64),
                           float(self.neuron.bias)]
        self._epochs.append(int(epoch))
        self._params.append(params)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._record(epoch)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._record(epoch + 1)

    # --- reading -----------------------------------------------------------

    def __len__(self) -> int:
        return len(self._epochs)

    def _matrix(self) -> np.ndarray:
        if not self._params:
            return np.zeros((0, 0))
        return np.vstack(self._params)

    @property
    def epoch(self) -> np.ndarray:
        return np.asarray(self._epochs, dtype=np.int64)

    @property
    def weights(self) -> np.ndarray:
        return self._matrix()[:, :-1]

    @property
    def bias(self) -> np.ndarray:
        return self._matrix()[:, -1]

    @property
    def n_features(self) -> int:
        return self._params[0].size - 1 if self._params else 0

    def at(self, epoch: int) -> tuple[np.ndarray, float]:
        """The weights and bias at the start of ``epoch`` (after ``epoch`` updates)."""
        try:
            i = self._epochs.index(int(epoch))
        except ValueError:
            raise NeuronaError(
                f"epoch {epoch} is not in the trajectory; it holds epochs "
                f"{self._epochs[0]} to {self._epochs[-1]}.") from None
        return self._params[i][:-1].copy(), float(self._params[i][-1])

    def names(self) -> list[str]:
        return list(self.feature_names or [f"x{i}" for i in range(self.n_features)])

    # --- the file ----------------------------------------------------------

    def to_csv(self) -> str:
        """The trajectory as CSV text: ``epoch,w[x0],...,b``, one row per epoch boundary."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(column_names(self.names()))
        for epoch, params in zip(self._epochs, self._params):
            writer.writerow([epoch, *(repr(float(v)) for v in params)])
        return out.getvalue()

    @classmethod
    def from_csv(cls, text: str, where: str = "weights.csv") -> "WeightTrajectory":
        """Read the text :meth:`to_csv` writes; raise ``NeuronaError`` naming ``where``.

        The header is ``epoch,w[name],...,b``; the epochs follow each other by
        one; every weight and bias is a finite number.
        """
        header, cells = numeric_csv.read_table(text, where, "weights")
        if not header:
            raise NeuronaError(f"{where}: empty file; expected a header epoch,w[...],...,b.")
        if (len(header) < 3 or header[0] != "epoch" or header[-1] != "b"
                or not all(h.startswith("w[") and h.endswith("]") and len(h) > 3
                           for h in header[1:-1])):
            raise NeuronaError(
                f"{where}: header {','.join(header)[:80]!r} is not epoch,w[name],...,b.")
        path = cls(feature_names=[h[2:-1] for h in header[1:-1]])
        for line, row in enumerate(cells, start=2):
            path._epochs.append(numeric_csv.count(row[0], where, line, "epoch"))
            path._params.append(np.array([numeric_csv.number(v, where, line, h,
                                                             "weights")
                                          for v, h in zip(row[1:], header[1:])]))
        if not path._epochs:
            raise NeuronaError(f"{where}: no rows after the header.")
        numeric_csv.consecutive(path._epochs, where, start=None)
        return path
