"""Numerical gradient checking: is a hand-written backward pass right?

For a layer ``y = f(x; params)`` pick a *random* upstream gradient ``dy``
(never all ones: that would hide transposed or mis-summed terms) and the
scalar ``L = sum(f(x) * dy)``. Then ``dL/dx`` is exactly what
``backward(dy)`` must return, and ``dL/dparam`` what it must add to
``grads``. Central differences estimate each one numerically::

    dL/dx[i] ~ (L(x + eps*e_i) - L(x - eps*e_i)) / (2*eps)      error O(eps**2)

Use float64 (``layer.astype(np.float64)``): in float32 the rounding error of
``L`` divided by ``eps`` swamps everything. ``L`` is evaluated as
``sum((f(x) - f(x0)) * dy)``, the same gradient without the constant part,
so that its rounding error is relative to the change, not to ``f`` itself.
The error reported per tensor is

    max |analytic - numeric| / max(max |analytic|, max |numeric|)

the largest discrepancy relative to the tensor's scale; correct backward
passes give about 1e-9 to 1e-11, a wrong one about 1e-1.

Layers with randomness (Dropout) count their draws in ``.counter``; the
check rewinds every such counter before each forward so that all evaluations
see the same mask. BatchNorm is checked in training mode (the mode whose
backward is the hard one). Avoid inputs at the kinks of (leaky) ReLUs.

Example::

    from minigan import gradcheck, layers
    layer = layers.Dense(5, 3, rng=0, dtype=np.float64)
    errors = gradcheck.check_layer(layer, np.random.default_rng(1).normal(size=(4, 5)))
    # {'x': 3e-11, 'W': 2e-11, 'b': 1e-11}
"""

import numpy as np

from . import backend


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of the scalar function ``f()`` with respect
    to the array ``x``, which ``f`` reads and which is perturbed in place (and
    restored) one element at a time."""
    xp = backend.get_array_module(x)
    grad = xp.zeros_like(x)
    if not x.flags.c_contiguous:
        raise ValueError("numerical_gradient: x must be C-contiguous (it is perturbed in place)")
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(x.size):
        old = flat[i].item()
        flat[i] = old + eps
        fp = f()
        flat[i] = old - eps
        fm = f()
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * eps)
    return grad


def rel_error(analytic, numeric):
    """``max|a - n| / max(max|a|, max|n|)`` (0 when both are all zeros)."""
    a = backend.to_numpy(analytic).astype(np.float64)
    n = backend.to_numpy(numeric).astype(np.float64)
    if a.shape != n.shape:
        raise ValueError(f"rel_error: shapes differ, analytic {a.shape} vs numeric {n.shape}")
    scale = max(np.abs(a).max(initial=0.0), np.abs(n).max(initial=0.0))
    return 0.0 if scale == 0 else float(np.abs(a - n).max() / scale)


def _walk(layer):
    yield layer
    for child in layer.children():
        yield from _walk(child)


def check_layer(layer, x, seed=0, eps=1e-6):
    """Gradient-check ``layer`` at input ``x``.

    Returns ``{"x": error, "<param name>": error, ...}`` with the relative
    error of :func:`rel_error` for the input and every parameter (qualified
    names, such as ``"0.W"``, for a ``Sequential``).
    """
    if x.dtype != np.float64:
        raise ValueError(f"check_layer: use float64 inputs and layers, got input dtype {x.dtype}")
    x = x.copy()
    random_layers = [l for l in _walk(layer) if hasattr(l, "counter")]
    counters = [l.counter for l in random_layers]

    def run():
        for l, counter in zip(random_layers, counters):
            l.counter = counter
        return layer.forward(x)

    xp = backend.get_array_module(x)
    y = run()
    # A stream of its own: default_rng(seed) is what users draw x from, and
    # dy == x would hide errors (for BatchNorm it is even projected away).
    dy = xp.asarray(np.random.default_rng([seed, 0x67726164]).standard_normal(y.shape))
    layer.zero_grad()
    run()
    dx = layer.backward(dy)
    params = layer.parameters()
    analytic = {"x": dx, **{name: g.copy() for name, _, g in params}}

    y0 = run().copy()          # a copy: y may be a view of x (Reshape)

    def loss():
        # sum((y - y0) * dy) has the gradient of sum(y * dy) but no large
        # constant part, so rounding in the sum is relative to the change.
        return float(((run() - y0) * dy).sum())

    errors = {"x": rel_error(analytic["x"], numerical_gradient(loss, x, eps))}
    for name, value, _ in params:
        errors[name] = rel_error(analytic[name], numerical_gradient(loss, value, eps))
    return errors


def check_tangent(layer, x, xt, seed=0, eps=1e-6):
    """Check a layer's tangent pass (``jvp_forward``/``jvp_backward``, the
    second-order backward used by gradient penalties) at input ``x`` and
    direction ``xt``, both float64.

    Two things are compared with central differences:

    ``"yt"``
        the tangent itself against ``(f(x + eps*xt) - f(x - eps*xt)) / (2 eps)``;
    ``"x"``, ``"xt"``, each parameter
        the gradients of ``L = sum(y * a) + sum(yt * b)`` (random ``a``, ``b``)
        returned or accumulated by ``jvp_backward(a, b)``.

    Returns ``{name: relative error}``.
    """
    for name, a in (("input", x), ("direction", xt)):
        if a.dtype != np.float64:
            raise ValueError(f"check_tangent: use float64, got {name} dtype {a.dtype}")
    x, xt = x.copy(), xt.copy()
    xp = backend.get_array_module(x)
    y, yt = layer.jvp_forward(x, xt)
    numeric_yt = (layer.forward(x + eps * xt) - layer.forward(x - eps * xt)) / (2 * eps)
    layer.cache = None
    errors = {"yt": rel_error(yt, numeric_yt)}

    stream = np.random.default_rng([seed, 0x74616E67])
    a = xp.asarray(stream.standard_normal(y.shape))
    b = xp.asarray(stream.standard_normal(yt.shape))
    layer.zero_grad()
    layer.jvp_forward(x, xt)
    dx, dxt = layer.jvp_backward(a, b)
    params = layer.parameters()
    analytic = {"x": dx, "xt": dxt, **{name: g.copy() for name, _, g in params}}
    y0, yt0 = (a.copy() for a in layer.jvp_forward(x, xt))   # copies: y may view x

    def loss():
        y1, yt1 = layer.jvp_forward(x, xt)
        return float(((y1 - y0) * a).sum() + ((yt1 - yt0) * b).sum())

    errors["x"] = rel_error(analytic["x"], numerical_gradient(loss, x, eps))
    errors["xt"] = rel_error(analytic["xt"], numerical_gradient(loss, xt, eps))
    for name, value, _ in params:
        errors[name] = rel_error(analytic[name], numerical_gradient(loss, value, eps))
    return errors


def check_loss(loss_fn, x, *args, eps=1e-6):
    """Gradient-check a loss ``loss_fn(x, *args) -> (loss, dx)`` with respect
    to ``x``. Returns ``{"x": error}``."""
    if x.dtype != np.float64:
        raise ValueError(f"check_loss: use a float64 input, got dtype {x.dtype}")
    x = x.copy()
    _, dx = loss_fn(x, *args)
    numeric = numerical_gradient(lambda: loss_fn(x, *args)[0], x, eps)
    return {"x": rel_error(dx, numeric)}


def layer_cases(seed=0):
    """``[(layer, x), ...]``: at least one float64 case per layer class of
    ``minigan.layers`` (tested: a new layer class without a case fails), each
    input off the layer's kinks."""
    import minigan as mg
    rng = np.random.default_rng(seed)
    f64 = np.float64
    vec, img = rng.standard_normal((4, 6)), rng.standard_normal((2, 3, 6, 6))
    off_zero = np.where(np.abs(img) < 0.05, 0.05, img)
    pieces = vec.reshape(4, 2, 3).copy()                         # each unit's winner leads by
    n, f = np.indices((4, 2))                                    # 0.1 or more: off the kinks
    pieces[n, f, pieces.argmax(axis=2)] += 0.1
    vec, img, off_zero, pieces = (backend.asarray(a) for a in (vec, img, off_zero, pieces))
    return [
        (mg.Dense(6, 5, rng=seed, dtype=f64), vec),
        (mg.Conv2D(3, 4, 3, stride=2, padding=1, rng=seed, dtype=f64), img),
        (mg.ConvTranspose2D(3, 2, 5, stride=2, padding=2, output_padding=1, rng=seed,
                            dtype=f64), img),
        (mg.BatchNorm(3, dtype=f64), img),
        (mg.BatchNorm(6, dtype=f64), vec),
        (mg.Dropout(0.3, rng=seed), vec),
        (mg.ReLU(), off_zero), (mg.LeakyReLU(0.2), off_zero),
        (mg.Maxout(3), pieces.reshape(4, 6)),
        (mg.Tanh(), vec), (mg.Sigmoid(), vec),
        (mg.Reshape(3, 2), vec), (mg.Flatten(), img),
        (mg.Sequential(mg.Dense(6, 3, rng=seed, dtype=f64), mg.Tanh()), vec),
        # spectral normalization, in eval mode (u held fixed: one function of W)
        (mg.spectral_norm(mg.Dense(6, 5, rng=seed, dtype=f64), rng=seed).eval(), vec),
        (mg.spectral_norm(mg.Conv2D(3, 4, 3, rng=seed, dtype=f64), rng=seed).eval(), img),
        (mg.spectral_norm(mg.Dense(6, 12, rng=seed, dtype=f64), rng=seed, pieces=3).eval(), vec),
    ]


def table(seed=0):
    """``[(description, {tensor: relative error}), ...]``: every layer case,
    the tangent pass of a critic, the losses and every GAN objective's joint
    form (``minigan gradcheck`` prints it)."""
    import minigan as mg
    from .gan import objectives
    rows = [(" ".join(repr(layer).split()), check_layer(layer, x, seed=seed))
            for layer, x in layer_cases(seed)]
    rng = np.random.default_rng([seed, 1])
    f64 = np.float64
    x = rng.standard_normal((2, 3, 6, 6))
    x = backend.asarray(np.where(np.abs(x) < 0.05, 0.05, x))
    critic = mg.Sequential(mg.Conv2D(3, 4, 3, stride=2, padding=1, rng=seed, dtype=f64),
                           mg.LeakyReLU(0.2), mg.Flatten(), mg.Dense(36, 5, rng=seed, dtype=f64),
                           mg.Tanh(), mg.Dense(5, 1, rng=seed, dtype=f64))
    rows.append(("tangent pass of a Conv-LReLU-Dense-Tanh-Dense critic",
                 check_tangent(critic, x, backend.asarray(rng.standard_normal(x.shape)),
                               seed=seed)))
    t = backend.asarray(rng.uniform(size=(4, 1)))
    for name, fn, v in [("bce_with_logits", mg.bce_with_logits, 3 * rng.standard_normal((4, 1))),
                        ("bce", mg.bce, rng.uniform(0.05, 0.95, size=(4, 1))),
                        ("mse", mg.mse, rng.standard_normal((4, 1)))]:
        rows.append((name, check_loss(fn, backend.asarray(v), t)))
    real = backend.asarray(np.array([[-2.5], [-0.4], [0.3], [1.7]]))    # off the hinges
    fake = backend.asarray(np.array([[-1.6], [0.2], [2.2]]))
    for name, obj in objectives.OBJECTIVES.items():
        rows.append((f"{name}: D loss", {
            "real": rel_error(obj.d_loss(real, fake)[1],
                              numerical_gradient(lambda: obj.d_loss(real, fake)[0], real)),
            "fake": rel_error(obj.d_loss(real, fake)[2],
                              numerical_gradient(lambda: obj.d_loss(real, fake)[0], fake))}))
        rows.append((f"{name}: G loss", check_loss(lambda f: obj.g_loss(f, real), fake)))
    return rows
