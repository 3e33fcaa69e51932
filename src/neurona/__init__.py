"""neurona: train, explain and serve a single artificial neuron by gradient descent."""

__version__ = "0.1.0"

from .activations import ACTIVATIONS, Activation, get_activation
from .callbacks import Callback, History
from .errors import ModelFileError, NeuronaError, RunDirectoryError
from .io import load, save
from .losses import LOSSES, Loss, get_loss, objective
from .neuron import Neuron
from .training import forward_backward, train

__all__ = [
    "ACTIVATIONS", "Activation", "Callback", "History", "LOSSES", "Loss", "ModelFileError",
    "Neuron", "NeuronaError", "RunDirectoryError", "__version__", "forward_backward",
    "get_activation", "get_loss", "load", "objective", "save", "train",
]
