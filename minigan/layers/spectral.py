"""Spectral normalization (Miyato et al. 2018): a layer whose class sets
``spectral_normalizable`` (Dense and Conv2D, and their subclasses) runs with
``W / sigma(W)``, sigma estimated by power iteration on a vector ``u`` kept as
a buffer. The maths is ``functional/spectral_norm.py``; the plumbing in the
layer is :class:`~minigan.layers.affine.Affine`'s."""

import numpy as np

from .. import backend


def spectral_norm(layer, n_power_iterations=1, rng=None):
    """Turn on spectral normalization of ``layer``'s weight (a Dense or
    Conv2D) and return the layer. The vector ``u`` starts at a random unit
    vector from ``rng`` and is a buffer (saved in ``state_dict``)."""
    if not getattr(layer, "spectral_normalizable", False):
        raise TypeError(f"spectral_norm: expected a Dense or Conv2D layer, got {layer!r}")
    if n_power_iterations < 1:
        raise ValueError(f"spectral_norm: expected n_power_iterations >= 1, got "
                         f"{n_power_iterations}")
    W = layer.params["W"]
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    u = rng.standard_normal(W.shape[0])
    u /= np.linalg.norm(u)
    xp = backend.get_array_module(W)
    layer.buffers["sn_u"] = xp.asarray(u.astype(W.dtype))
    layer.sn_iterations = n_power_iterations
    return layer


def apply_spectral_norm(net, n_power_iterations=1, rng=0):
    """Spectral normalization on every Dense and Conv2D layer of ``net`` (in
    place; returns ``net``), each with its own starting ``u``."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    stack = [net]
    while stack:
        layer = stack.pop(0)
        if getattr(layer, "spectral_normalizable", False):
            spectral_norm(layer, n_power_iterations, rng)
        stack = list(layer.children()) + stack
    return net
