"""neurona: train, explain and serve a single artificial neuron by gradient descent."""

__version__ = "0.1.0"

from . import optimizers
from .activations import ACTIVATIONS, Activation, get_activation
from .callbacks import (Callback, Checkpoint, EarlyStopping, GracefulInterrupt, History,
                        ProgressBar, load_checkpoint)
from .errors import ModelFileError, NeuronaError, RunDirectoryError
from .io import load, save
from .losses import LOSSES, Loss, get_loss, objective
from .neuron import Neuron
from .training import DivergenceError, Trainer, forward_backward, run_epoch, train

__all__ = [
    "ACTIVATIONS", "Activation", "Callback", "Checkpoint", "DivergenceError", "EarlyStopping",
    "GracefulInterrupt", "History", "LOSSES", "Loss", "ModelFileError", "Neuron",
    "NeuronClassifier", "NeuronRegressor",
    "NeuronaError", "ProgressBar", "RunDirectoryError", "Trainer", "__version__",
    "forward_backward", "get_activation", "get_loss", "load", "load_checkpoint", "objective",
    "optimizers", "run_epoch", "save", "train",
]


# The scikit-learn estimators import scikit-learn's machinery: only when first used.
_ESTIMATORS = ("NeuronClassifier", "NeuronRegressor")


def __getattr__(name: str):
    if name in _ESTIMATORS:
        from . import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module 'neurona' has no attribute {name!r}")
