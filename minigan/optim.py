"""Optimizers. They share one interface:

``opt = Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999))``
    takes ``[(name, value, grad), ...]`` (what ``Layer.parameters()`` gives);
``opt.step()``
    updates every value *in place* from its accumulated gradient;
``opt.zero_grad()``
    sets the gradients to zero (or call the network's ``zero_grad``);
``opt.state_dict()`` / ``opt.load_state_dict(state)``
    the optimizer's state as named arrays (step count, moments).

Both accept ``weight_decay`` (an L2 term ``weight_decay * p`` added to the
gradient, as PyTorch's SGD and Adam do) and ``max_grad_norm`` (scale all
gradients together so that their global L2 norm is at most this; the
gradients themselves are left as they are).
"""

import math

import numpy as np

from . import backend, kernels


class Optimizer:
    def __init__(self, params, lr, weight_decay=0.0, max_grad_norm=None):
        self.params = list(params)
        names = [p[0] for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"{type(self).__name__}: parameter names must be unique, got "
                             f"{names}")
        if lr <= 0:
            raise ValueError(f"{type(self).__name__}: expected lr > 0, got {lr}")
        self.lr, self.weight_decay, self.max_grad_norm = lr, weight_decay, max_grad_norm
        self.step_count = 0
        self.slots = {}          # slot name -> {param name: array}

    def zero_grad(self):
        for _, _, g in self.params:
            g[...] = 0

    def grad_norm(self):
        """Global L2 norm of all gradients (accumulated in float64)."""
        return math.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for _, _, g in self.params))

    def grad_scale(self):
        """The factor that clips the global gradient norm to ``max_grad_norm``."""
        if self.max_grad_norm is None:
            return 1.0
        norm = self.grad_norm()
        return min(1.0, self.max_grad_norm / (norm + 1e-6))

    def _slot(self, slot):
        if slot not in self.slots:
            self.slots[slot] = {n: backend.get_array_module(v).zeros_like(v)
                                for n, v, _ in self.params}
        return self.slots[slot]

    def state_dict(self):
        out = {"step": np.array(self.step_count, dtype=np.int64)}
        for slot, arrays in self.slots.items():
            out.update({f"{slot}.{n}": a for n, a in arrays.items()})
        return out

    def load_state_dict(self, state):
        name = type(self).__name__
        if "step" not in state:
            raise ValueError(f"{name}: state has no 'step' entry; keys {sorted(state)}")
        values = {n: v for n, v, _ in self.params}
        slots = {}
        for key, arr in state.items():
            if key == "step":
                continue
            slot, _, pname = key.partition(".")
            if pname not in values:
                raise ValueError(f"{name}: state entry {key!r} names no parameter of this "
                                 f"optimizer")
            if tuple(arr.shape) != tuple(values[pname].shape):
                raise ValueError(f"{name}: state[{key!r}] has shape {tuple(arr.shape)}, "
                                 f"expected {tuple(values[pname].shape)}")
            xp = backend.get_array_module(values[pname])
            slots.setdefault(slot, {})[pname] = xp.array(arr, dtype=values[pname].dtype)
        for slot, arrays in slots.items():
            if set(arrays) != set(values):
                raise ValueError(f"{name}: state slot {slot!r} is missing "
                                 f"{sorted(set(values) - set(arrays))}")
        self.slots = slots
        self.step_count = int(state["step"])


class SGD(Optimizer):
    """SGD with (heavy-ball) momentum, PyTorch's form::

        buf = momentum * buf + g            (buf = g on the first step)
        p  -= lr * buf
    """

    def __init__(self, params, lr=1e-2, momentum=0.0, weight_decay=0.0, max_grad_norm=None):
        super().__init__(params, lr, weight_decay, max_grad_norm)
        self.momentum = momentum

    def step(self):
        scale = self.grad_scale()
        self.step_count += 1
        for name, p, g in self.params:
            g = g * scale if scale != 1.0 else g
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.momentum:
                buf = self._slot("momentum")[name]
                if self.step_count == 1:
                    buf[...] = g
                else:
                    buf *= self.momentum
                    buf += g
                g = buf
            p -= self.lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; the update is the
    kernel ``adam_update`` (see ``kernels/reference.py`` for the formulas).

    Defaults are the paper's (lr 1e-3, betas (0.9, 0.999), eps 1e-8); GANs
    usually take lr 2e-4, betas (0.5, 0.999) (Radford et al. 2016).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 max_grad_norm=None):
        super().__init__(params, lr, weight_decay, max_grad_norm)
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"Adam: expected betas in [0, 1), got {betas}")
        self.betas, self.eps = tuple(betas), eps

    def step(self):
        scale = self.grad_scale()
        self.step_count += 1
        m, v = self._slot("m"), self._slot("v")
        b1, b2 = self.betas
        for name, p, g in self.params:
            kernels.adam_update(p, g, m[name], v[name], self.lr, b1, b2, self.eps,
                                self.step_count, self.weight_decay, scale)


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton 2012), PyTorch's form (no momentum)::

        v  = alpha * v + (1 - alpha) * g**2
        p -= lr * g / (sqrt(v) + eps)

    The optimizer of the original WGAN (lr 5e-5): no momentum, which the
    paper found to destabilize a clipped critic.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0,
                 max_grad_norm=None):
        super().__init__(params, lr, weight_decay, max_grad_norm)
        if not 0 <= alpha < 1:
            raise ValueError(f"RMSprop: expected 0 <= alpha < 1, got {alpha}")
        self.alpha, self.eps = alpha, eps

    def step(self):
        scale = self.grad_scale()
        self.step_count += 1
        sq = self._slot("square_avg")
        for name, p, g in self.params:
            g = g * scale if scale != 1.0 else g
            if self.weight_decay:
                g = g + self.weight_decay * p
            v = sq[name]
            v *= self.alpha
            v += (1 - self.alpha) * g * g
            xp = backend.get_array_module(p)
            p -= self.lr * g / (xp.sqrt(v) + self.eps)
