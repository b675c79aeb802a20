"""The Layer base class: parameters, gradients, buffers, train/eval, state.

A layer keeps three dicts of arrays:

``params``   learnable arrays, e.g. ``{"W": ..., "b": ...}``
``grads``    one gradient per parameter, *same keys*, accumulated by backward
``buffers``  state that is not learned (BatchNorm's running statistics)

and implements two methods:

``forward(x) -> y``
    computes the output and keeps what backward needs (the cache of the
    *latest* forward; pair every forward with its backward, in order).
``backward(dy, param_grads=True, input_grad=True) -> dx``
    **adds** the parameter gradients into ``grads`` (``+=``: they accumulate
    until :meth:`zero_grad`) and returns ``dx``. It never changes a
    parameter; optimizers do that.

Freezing a network for one pass (the GAN generator step)
--------------------------------------------------------
The generator's loss is computed through the discriminator, which must not
learn from it. Backpropagate through D with ``param_grads=False``::

    logits = D.forward(G.forward(z))
    loss, dlogits = bce_with_logits(logits, 1.0)
    dfake = D.backward(dlogits, param_grads=False)   # D.grads untouched, cheaper
    G.backward(dfake, input_grad=False)              # z needs no gradient

``input_grad=False`` skips the gradient with respect to the input where
nobody needs it (the first layer of a network fed with data).

Second order: the tangent pass (for WGAN-GP's gradient penalty)
---------------------------------------------------------------
A gradient penalty depends on ``g = dD/dx``, itself computed by a backward
pass; its gradient with respect to the weights needs the derivative of a
backward pass. Layers that support it implement a *tangent* pass:

``jvp_forward(x, xt) -> (y, yt)``
    the output and its derivative along the input direction ``xt`` with the
    weights held fixed, ``yt = J(x) xt`` (a Jacobian-vector product);
``jvp_backward(dy, dyt) -> (dx, dxt)``
    the backward pass of that pair: given dL/dy (None for zero) and dL/dyt,
    add dL/dweights into ``grads`` and return dL/dx and dL/dxt.

:mod:`minigan.gan.penalty` shows why this is all a penalty needs: for fixed
``v``, ``v . dD/dx`` is ``yt`` with ``xt = v``, so its weight gradient is a
backward pass through the tangent pass. Layers without it (BatchNorm,
Dropout) refuse with a clear error.
"""

import numpy as np

from .. import backend


def layer_classes():
    """minigan's layer classes by name (those ``minigan.layers`` exports): the
    registry the gradient-check table and the tangent-pass message are drawn
    from."""
    from .. import layers
    return {n: getattr(layers, n) for n in sorted(layers.__all__)
            if isinstance(getattr(layers, n), type) and issubclass(getattr(layers, n), Layer)
            and n != "Layer"}


def tangent_layers():
    """Names of the layer classes that have a tangent pass."""
    return [n for n, c in layer_classes().items() if c.jvp_forward is not Layer.jvp_forward]


class Layer:
    """Base class of every layer; see the module docstring for the contract."""

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.buffers = {}
        self.training = True

    # -- subclass API ------------------------------------------------------
    def forward(self, x):
        raise NotImplementedError

    def backward(self, dy, param_grads=True, input_grad=True):
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    def jvp_forward(self, x, xt):
        """``(y, yt)``: the output and its derivative along ``xt``; see the
        module docstring."""
        raise NotImplementedError(
            f"{self!r} has no tangent pass (second-order backward), so it cannot be in a "
            f"network whose input gradient is penalized (WGAN-GP); the layers that have one "
            f"are {', '.join(tangent_layers())}")

    def jvp_backward(self, dy, dyt, param_grads=True, input_grad=True):
        """Backward pass of :meth:`jvp_forward`: returns ``(dx, dxt)``."""
        raise NotImplementedError(f"{self!r} has no tangent pass (second-order backward)")

    def supports_tangent(self):
        """Whether this layer and all its children have a tangent pass."""
        own = type(self).jvp_forward is not Layer.jvp_forward
        return own and all(c.supports_tangent() for c in self.children())

    def children(self):
        """Sub-layers, in order (``Sequential`` has some)."""
        return []

    # -- one forward pass, two backward passes -------------------------------
    # the attributes a forward pass leaves for its backward pass (which drops them)
    _pending = ("cache",)

    def pending(self):
        """What the latest forward pass left for backward, in this layer and
        its children. A backward pass drops it; :meth:`resume` puts it back,
        so that a second backward pass runs from the same forward pass (the
        simultaneous GAN step sends D's gradient and G's back through one
        ``D(fake)``). Backward passes never change what they read from it."""
        own = [(self, {name: getattr(self, name, None) for name in self._pending})]
        return own + [p for child in self.children() for p in child.pending()]

    @staticmethod
    def resume(pending):
        """Put back what :meth:`pending` returned."""
        for layer, saved in pending:
            for name, value in saved.items():
                setattr(layer, name, value)

    def forward_changes_state(self):
        """Whether a forward pass of this layer or its children changes more
        than what it leaves for backward (in training mode: a Dropout mask
        drawn, BatchNorm's running statistics, spectral norm's power
        iteration). Where none does, a second forward pass on the same input
        at the same weights repeats the first exactly, and one can serve two
        backward passes."""
        return any(child.forward_changes_state() for child in self.children())

    # -- parameters ----------------------------------------------------------
    def add_param(self, name, value):
        """Register a parameter and a zero gradient of the same shape."""
        self.params[name] = value
        self.grads[name] = backend.get_array_module(value).zeros_like(value)

    def _backward_through(self, backward_fn, dy, param_grads, input_grad, names):
        """The common body of a parameterized layer's ``backward``: run the
        functional ``backward_fn(dy, cache, ...) -> (dx, *grads)``, drop the
        cache, add each grad into ``grads[name]`` (``names`` in order)."""
        self.check_backward(dy)
        dx, *grads = backward_fn(dy, self.cache, param_grads, input_grad)
        self.cache = None
        for name, grad in zip(names, grads):
            self.accumulate(name, grad)
        return dx

    def accumulate(self, name, grad):
        """``grads[name] += grad`` (the only way backward touches gradients)."""
        if grad is not None:
            self.grads[name] += grad

    def parameters(self, prefix=""):
        """``[(qualified_name, value, grad), ...]`` for this layer and its
        children; the arrays are the layer's own, so optimizers update them in
        place."""
        out = [(prefix + k, v, self.grads[k]) for k, v in self.params.items()]
        for i, child in enumerate(self.children()):
            out += child.parameters(f"{prefix}{i}.")
        return out

    def zero_grad(self):
        for g in self.grads.values():
            g[...] = 0
        for child in self.children():
            child.zero_grad()

    # -- modes -------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (batch statistics, dropout on). Returns self."""
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self):
        """Evaluation mode (running statistics, dropout off). Returns self."""
        return self.train(False)

    # -- state ---------------------------------------------------------------
    def state_dict(self, prefix=""):
        """Parameters and buffers as ``{qualified_name: array}`` (the layer's
        own arrays, not copies)."""
        out = {prefix + k: v for k, v in self.params.items()}
        out.update({prefix + k: v for k, v in self.buffers.items()})
        for i, child in enumerate(self.children()):
            out.update(child.state_dict(f"{prefix}{i}."))
        return out

    def load_state_dict(self, state):
        """Copy ``state`` into this layer's arrays in place (so optimizers
        holding them stay valid). Keys, shapes and dtypes must all match
        (state saved by an older minigan is upgraded first: :meth:`upgrade_state`)."""
        state = self._upgrade(state)
        own = set(self.state_dict())
        missing, unexpected = sorted(own - set(state)), sorted(set(state) - own)
        if missing or unexpected:
            raise ValueError(f"{self!r}: state does not match; missing {missing}, "
                             f"unexpected {unexpected}")
        for k, dst in {**self.params, **self.buffers}.items():
            src = state[k]
            if tuple(src.shape) != tuple(dst.shape) or src.dtype != dst.dtype:
                raise ValueError(f"{self!r}: state[{k!r}] is {src.dtype} {tuple(src.shape)}, "
                                 f"expected {dst.dtype} {tuple(dst.shape)}")
            dst[...] = backend.get_array_module(dst).asarray(src)
        for i, child in enumerate(self.children()):
            p = f"{i}."
            child.load_state_dict({k[len(p):]: v for k, v in state.items() if k.startswith(p)})

    def upgrade_state(self, state, prefix):
        """Rewrite entries under ``prefix`` that an older minigan saved in
        another form (a hook; the default changes nothing). Returns the state."""
        return state

    def _upgrade(self, state, prefix=""):
        state = self.upgrade_state(state, prefix)
        for i, child in enumerate(self.children()):
            state = child._upgrade(state, f"{prefix}{i}.")
        return state

    def astype(self, dtype):
        """Convert parameters, gradients and buffers to ``dtype`` (e.g. float64
        for gradient checks). Create optimizers after this. Returns self."""
        for d in (self.params, self.grads, self.buffers):
            for k in d:
                d[k] = d[k].astype(dtype)
        for child in self.children():
            child.astype(dtype)
        return self

    def __repr__(self):
        return f"{type(self).__name__}()"

    # -- input checks shared by the layers ----------------------------------
    def check_input(self, x, expected):
        """Raise ``ValueError`` naming this layer unless ``x`` is a floating
        array matching ``expected`` (a tuple of ints, or None for any size;
        its length is the rank), in the dtype of the layer's parameters."""
        shape = tuple(getattr(x, "shape", ()))
        want = "(" + ", ".join("N" if i == 0 else ("?" if e is None else str(e))
                               for i, e in enumerate(expected)) + ")"
        if not hasattr(x, "dtype") or x.dtype.kind != "f":
            raise ValueError(f"{self!r}: expected a floating-point array of shape {want}, "
                             f"got dtype {getattr(x, 'dtype', type(x).__name__)} "
                             f"with shape {shape}")
        if len(shape) != len(expected) or any(
                e is not None and s != e for s, e in zip(shape[1:], expected[1:])):
            raise ValueError(f"{self!r}: expected input of shape {want}, got {shape}")
        if shape[0] == 0:
            raise ValueError(f"{self!r}: expected a batch of at least one sample, got "
                             f"shape {shape}")
        if self.params:
            param = next(iter(self.params.values()))
            where = backend.get_array_module(param)
            if backend.get_array_module(x) is not where:
                kind = "NumPy" if where is np else "cupy"
                raise TypeError(f"{self!r}: expected a {kind} array (its parameters live "
                                f"there), got a {type(x).__module__}.{type(x).__name__}; "
                                f"move the input with minigan.backend.asarray")
            dtype = param.dtype
            if x.dtype != dtype:
                raise ValueError(f"{self!r}: expected input dtype {dtype} (the dtype of "
                                 f"its parameters), got {x.dtype}; convert the input or "
                                 f"call .astype({np.dtype(x.dtype).name!r}) on the layer")
        return shape

    def keep_output(self, y):
        """Remember the shape and dtype of the output ``y`` (returned as is):
        :meth:`check_backward` holds the incoming gradient to them."""
        self.output_spec = (tuple(y.shape), y.dtype)
        return y

    def check_backward(self, dy, cache_name="cache"):
        """Raise unless a forward pass is pending and ``dy`` is an array of the
        shape and dtype of that forward's output (a kernel must never index a
        gradient by the size of another array)."""
        if getattr(self, cache_name, None) is None:
            raise RuntimeError(f"{self!r}: backward called before forward")
        shape, dtype = getattr(self, "output_spec", (None, None))
        if shape is None:
            return
        got = tuple(getattr(dy, "shape", ()))
        got_dtype = getattr(dy, "dtype", type(dy).__name__)
        if got != shape or got_dtype != dtype:
            raise ValueError(f"{self!r}: expected a gradient of shape {shape} and dtype "
                             f"{dtype} (its output's), got shape {got} and dtype {got_dtype}")
