"""minigan: generative adversarial networks built from nothing.

NumPy arrays, no autograd: every backward pass is written by hand and
proven by gradient checks; the hot kernels run in NumPy (the reference),
Numba (CPU) or CuPy (GPU) behind one API.

Where things live (read them in this order):

``minigan.functional``  the maths: stateless forward/backward pairs
``minigan.layers``      parameter-holding layers built on them
``minigan.optim``       SGD, Adam and RMSprop
``minigan.init``        initializers
``minigan.gradcheck``   numerical gradient checks
``minigan.kernels``     the hot loops, one dispatch point for every backend
``minigan.backend``     the numpy | numba | cupy switch
"""

from . import backend, functional, gradcheck, init, kernels, layers, optim
from .backend import get_backend, set_backend, use_backend
from .functional.losses import bce, bce_with_logits, mse, softmax_cross_entropy
from .layers import (BatchNorm, Conv2D, ConvTranspose2D, Dense, Dropout, Flatten, Layer,
                     LeakyReLU, Maxout, ReLU, Reshape, Sequential, Sigmoid, Tanh,
                     apply_spectral_norm,
                     spectral_norm)

__version__ = "0.1.0"

__all__ = [
    "backend", "functional", "gradcheck", "init", "kernels", "layers", "optim",
    "get_backend", "set_backend", "use_backend",
    "bce", "bce_with_logits", "mse", "softmax_cross_entropy",
    "Layer", "Dense", "Conv2D", "ConvTranspose2D", "BatchNorm", "Dropout", "ReLU", "LeakyReLU",
    "Maxout",
    "Tanh", "Sigmoid", "Reshape", "Flatten", "Sequential", "spectral_norm",
    "apply_spectral_norm",
]
