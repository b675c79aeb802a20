"""BatchNorm and Dropout; maths in ``functional/batchnorm.py`` and ``dropout.py``."""

import json

import numpy as np

from .. import backend
from .. import functional as F
from .. import init as initializers
from .base import Layer, as_rng


class BatchNorm(Layer):
    """Batch normalization over (N, C) or (N, C, H, W) inputs.

    Parameters ``gamma`` (init 1) and ``beta`` (init 0); buffers
    ``running_mean`` (init 0) and ``running_var`` (init 1). ``momentum`` and
    ``eps`` mean what they mean in PyTorch:
    ``running = (1 - momentum)*running + momentum*batch`` (unbiased variance),
    ``y = gamma * (x - mean) / sqrt(var + eps) + beta``.
    """

    def __init__(self, num_features, momentum=0.1, eps=1e-5, dtype=np.float32):
        super().__init__()
        if not 0 <= momentum <= 1 or eps <= 0:
            raise ValueError(f"BatchNorm({num_features}): expected 0 <= momentum <= 1 and "
                             f"eps > 0, got momentum={momentum}, eps={eps}")
        self.num_features, self.momentum, self.eps = num_features, momentum, eps
        self.add_param("gamma", initializers.ones((num_features,), dtype=dtype))
        self.add_param("beta", initializers.zeros((num_features,), dtype=dtype))
        self.buffers["running_mean"] = initializers.zeros((num_features,), dtype=dtype)
        self.buffers["running_var"] = initializers.ones((num_features,), dtype=dtype)
        self.cache = None

    def forward(self, x):
        C = self.num_features
        nd = getattr(x, "ndim", 0)
        self.check_input(x, (None, C, None, None) if nd == 4 else (None, C))
        y, self.cache = F.batchnorm_forward(
            x, self.params["gamma"], self.params["beta"], self.buffers["running_mean"],
            self.buffers["running_var"], self.momentum, self.eps, self.training)
        return self.keep_output(y)

    def backward(self, dy, param_grads=True, input_grad=True):
        return self._backward_through(F.batchnorm_backward, dy, param_grads, input_grad,
                                      ("gamma", "beta"))

    def __repr__(self):
        return f"BatchNorm({self.num_features})"


class Dropout(Layer):
    """Inverted dropout with probability ``p``; the identity in eval mode.

    ``rng`` (a Generator or an int seed) draws the masks: the same seed gives
    the same masks. Its state is part of :meth:`state_dict` (as JSON text in
    a uint8 array) so that a resumed run draws the masks it would have drawn.
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: expected 0 <= p < 1, got {p}")
        self.p = p
        self.rng = as_rng(rng)
        self.cache = None

    def forward(self, x):
        self.check_input(x, (None,) * max(getattr(x, "ndim", 1), 1))
        y, mask = F.dropout_forward(x, self.p, self.rng, self.training)
        self.cache = (mask,)
        return self.keep_output(y)

    def backward(self, dy, param_grads=True, input_grad=True):
        self.check_backward(dy)
        (mask,) = self.cache
        self.cache = None
        return F.dropout_backward(dy, mask) if input_grad else None

    def state_dict(self, prefix=""):
        text = json.dumps(self.rng.bit_generator.state)
        return {prefix + "rng_state": np.frombuffer(text.encode(), dtype=np.uint8)}

    def load_state_dict(self, state):
        keys = set(state)
        if keys != {"rng_state"}:
            raise ValueError(f"{self!r}: state does not match; expected ['rng_state'], "
                             f"got {sorted(keys)}")
        arr = backend.to_numpy(state["rng_state"])
        self.rng.bit_generator.state = json.loads(arr.astype(np.uint8).tobytes().decode())

    def __repr__(self):
        return f"Dropout({self.p})"
