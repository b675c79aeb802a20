"""Layer classes: thin holders of parameters around ``minigan.functional``.

See :mod:`minigan.layers.base` for the contract every layer keeps
(``params``/``grads``/``buffers`` dicts, accumulating ``backward`` that never
changes a weight, ``param_grads=False`` for frozen passes, ``state_dict``).
"""

from .activations import LeakyReLU, Maxout, ReLU, Sigmoid, Tanh
from .base import Layer
from .conv import Conv2D, ConvTranspose2D
from .dense import Dense
from .norm import BatchNorm, Dropout
from .sequential import Sequential
from .shape import Flatten, Reshape
from .spectral import apply_spectral_norm, spectral_norm

__all__ = ["Layer", "Dense", "Conv2D", "ConvTranspose2D", "BatchNorm", "Dropout", "ReLU",
           "LeakyReLU", "Maxout", "Tanh", "Sigmoid", "Reshape", "Flatten", "Sequential",
           "spectral_norm", "apply_spectral_norm"]
