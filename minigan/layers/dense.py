"""Dense (fully connected) layer; the maths is in ``functional/dense.py``."""

import numpy as np

from .. import functional as F
from .affine import Affine
from ..init import add_weight_and_bias


class Dense(Affine):
    """``y = x @ W.T + b``; x (N, in_features), W (out_features, in_features).

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
    rng : numpy.random.Generator, int or None
        Source of the initial weights.
    init : callable ``init(shape, rng, dtype)`` or None
        Weight initializer (``minigan.init``); None is PyTorch's default,
        U(-1/sqrt(in), 1/sqrt(in)) for W and b. With an explicit ``init``
        the bias starts at zero.
    dtype : float32 (default) or float64
    """

    spectral_normalizable = True

    def __init__(self, in_features, out_features, bias=True, rng=None, init=None,
                 dtype=np.float32):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        add_weight_and_bias(self, (out_features, in_features), out_features, bias, rng,
                            init, dtype)

    def _check(self, x):
        self.check_input(x, (None, self.in_features))

    _forward_fn = staticmethod(F.dense_forward)
    _backward_fn = staticmethod(F.dense_backward)

    def __repr__(self):
        return f"Dense({self.in_features} -> {self.out_features}{self._sn_tag()})"
