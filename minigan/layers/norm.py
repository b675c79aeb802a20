"""BatchNorm and Dropout; maths in ``functional/batchnorm.py`` and ``dropout.py``."""

import hashlib

import numpy as np

from .. import backend
from .. import functional as F
from .. import init as initializers
from ..init import as_rng
from .base import Layer


class BatchNorm(Layer):
    """Batch normalization over (N, C) or (N, C, H, W) inputs.

    Parameters ``gamma`` (init 1) and ``beta`` (init 0); buffers
    ``running_mean`` (init 0) and ``running_var`` (init 1). ``momentum`` and
    ``eps`` mean what they mean in PyTorch:
    ``running = (1 - momentum)*running + momentum*batch`` (unbiased variance),
    ``y = gamma * (x - mean) / sqrt(var + eps) + beta``. ``groups`` g > 1:
    in training mode the samples with the same index mod g are normalized as
    g separate batches (see ``functional.batchnorm_forward``). ``stats="std"``
    keeps ``running_std`` (init 1), the running average of the batches'
    ``sqrt(biased variance + eps)``, in place of ``running_var``: the Blocks
    library's population statistics, which the PacGAN authors' G used.
    """

    def __init__(self, num_features, momentum=0.1, eps=1e-5, dtype=np.float32, groups=1,
                 stats="var"):
        super().__init__()
        if not 0 <= momentum <= 1 or eps <= 0 or groups < 1 or stats not in ("var", "std"):
            raise ValueError(f"BatchNorm({num_features}): expected 0 <= momentum <= 1, "
                             f"eps > 0, groups >= 1 and stats 'var' or 'std', got "
                             f"momentum={momentum}, eps={eps}, groups={groups}, stats={stats!r}")
        self.num_features, self.momentum, self.eps = num_features, momentum, eps
        self.groups, self.stats = groups, stats
        self.add_param("gamma", initializers.ones((num_features,), dtype=dtype))
        self.add_param("beta", initializers.zeros((num_features,), dtype=dtype))
        self.buffers["running_mean"] = initializers.zeros((num_features,), dtype=dtype)
        self._spread = "running_var" if stats == "var" else "running_std"
        self.buffers[self._spread] = initializers.ones((num_features,), dtype=dtype)
        self.cache = None

    def forward(self, x):
        C = self.num_features
        nd = getattr(x, "ndim", 0)
        self.check_input(x, (None, C, None, None) if nd == 4 else (None, C))
        y, self.cache = F.batchnorm_forward(
            x, self.params["gamma"], self.params["beta"], self.buffers["running_mean"],
            self.buffers[self._spread], self.momentum, self.eps, self.training, self.groups,
            self.stats)
        return self.keep_output(y)

    def backward(self, dy, param_grads=True, input_grad=True):
        return self._backward_through(F.batchnorm_backward, dy, param_grads, input_grad,
                                      ("gamma", "beta"))

    def forward_changes_state(self):
        return self.training                    # the running statistics

    def __repr__(self):
        return (f"BatchNorm({self.num_features}" + (f", groups={self.groups}" if self.groups > 1
                                                     else "")
                + (", stats='std')" if self.stats == "std" else ")"))


class Dropout(Layer):
    """Inverted dropout with probability ``p``; the identity in eval mode.

    The masks come from the counter-based generator of
    ``functional/dropout.py``: forward pass number ``counter`` (in training
    mode) of a layer with ``seed`` draws a mask that is a pure function of the
    two, the same on every backend. ``rng`` gives the seed: an int, or a
    Generator that draws one (None: a fresh random seed). ``seed`` and
    ``counter`` are the layer's state (:meth:`state_dict`), so a resumed run
    draws the masks it would have drawn.
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: expected 0 <= p < 1, got {p}")
        self.p = p
        if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
            self.seed = int(rng)
        else:
            self.seed = int(as_rng(rng).integers(2 ** 63))
        if not 0 <= self.seed < 2 ** 64:
            raise ValueError(f"Dropout: expected a seed in [0, 2**64), got {self.seed}")
        self.counter = 0
        self.cache = None

    def forward(self, x):
        self.check_input(x, (None,) * max(getattr(x, "ndim", 1), 1))
        y, mask = F.dropout_forward(x, self.p, self.seed, self.counter, self.training)
        if mask is not None:
            self.counter += 1
        self.cache = (mask,)
        return self.keep_output(y)

    def forward_changes_state(self):
        return self.training                    # the counter: each pass draws a new mask

    def backward(self, dy, param_grads=True, input_grad=True):
        self.check_backward(dy)
        (mask,) = self.cache
        self.cache = None
        return F.dropout_backward(dy, mask) if input_grad else None

    def state_dict(self, prefix=""):
        return {prefix + "seed_counter": np.array([self.seed, self.counter], dtype=np.uint64)}

    def upgrade_state(self, state, prefix):
        """A minigan whose Dropout drew from a NumPy Generator saved its state
        as ``rng_state``: that stream cannot be continued, so a seed is
        derived from it and the counter starts at 0."""
        old = prefix + "rng_state"
        if old not in state:
            return state
        state = dict(state)
        text = backend.to_numpy(state.pop(old)).astype(np.uint8).tobytes()
        seed = int.from_bytes(hashlib.sha256(text).digest()[:8], "little")
        state[prefix + "seed_counter"] = np.array([seed, 0], dtype=np.uint64)
        return state

    def load_state_dict(self, state):
        state = self._upgrade(state)
        keys = set(state)
        if keys != {"seed_counter"}:
            raise ValueError(f"{self!r}: state does not match; expected ['seed_counter'], "
                             f"got {sorted(keys)}")
        seed, counter = (int(v) for v in backend.to_numpy(state["seed_counter"]))
        self.seed, self.counter = seed, counter

    def __repr__(self):
        return f"Dropout({self.p})"
