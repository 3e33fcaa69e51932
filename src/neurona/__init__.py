"""neurona: train, explain and serve a single artificial neuron by gradient descent.

The package is layered, each layer a folder, imports pointing down only
(``docs/architecture.md``): :mod:`neurona.core` (the maths, the settings and
the one training loop), :mod:`neurona.data`, :mod:`neurona.engines` (where
the rows live), :mod:`neurona.files` (what is written and read back),
:mod:`neurona.show` (figures, report, notebook views) and :mod:`neurona.face`
(the command line, the experiment, the estimators). This module is the
public API.
"""

__version__ = "0.1.0"

import sys

from .core import optimizers
from .core.activations import ACTIVATIONS, Activation, get_activation
from .core.callbacks import Callback, EarlyStopping, History
from .core.losses import LOSSES, Loss, get_loss, objective
from .core.neuron import Neuron
from .core.spec import TrainSpec
from .core.trainer import DivergenceError
from .core.trajectory import WeightTrajectory
from .engines.memory import forward_backward, run_epoch
from .errors import ModelFileError, NeuronaError, RunDirectoryError
from .face.api import Trainer, train
from .face.console import GracefulInterrupt, ProgressBar
from .files.checkpoint import Checkpoint, load_checkpoint
from .files.model import load, save

__all__ = [
    "ACTIVATIONS", "Activation", "Callback", "Checkpoint", "DivergenceError", "EarlyStopping",
    "GracefulInterrupt", "History", "LOSSES", "Loss", "ModelFileError", "Neuron",
    "NeuronClassifier", "NeuronRegressor", "NeuronaError", "ProgressBar", "RunDirectoryError",
    "TrainSpec", "Trainer", "WeightTrajectory", "__version__", "export_onnx", "forward_backward",
    "get_activation", "get_loss", "load", "load_checkpoint", "objective", "optimizers",
    "plots", "run_epoch", "save", "train",
]

# Imported on first use: the estimators bring scikit-learn's machinery, the figures
# matplotlib; a run without them never pays their import time.
_LAZY = {"NeuronClassifier": ("face.estimators", "NeuronClassifier"),
         "NeuronRegressor": ("face.estimators", "NeuronRegressor"),
         "plots": ("show.plots", None),
         "export_onnx": ("face.export", "export_onnx")}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        module, attribute = _LAZY[name]
        found = import_module(f"{__name__}.{module}")
        return found if attribute is None else getattr(found, attribute)
    raise AttributeError(f"module 'neurona' has no attribute {name!r}")


def _show_in_notebooks() -> None:
    """In a running IPython (a notebook), show neurons and histories as HTML tables."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        from .show.notebook import register

        register(shell)


_show_in_notebooks()
