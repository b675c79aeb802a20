"""Spectral normalization (Miyato et al. 2018): a layer whose class sets
``spectral_normalizable`` (Dense and Conv2D, and their subclasses) runs with
``W / sigma(W)``, sigma estimated by power iteration on a vector ``u`` kept as
a buffer. The maths is ``functional/spectral_norm.py``; the plumbing in the
layer is :class:`~minigan.layers.affine.Affine`'s. A weight that feeds a
Maxout may instead be normalized piece by piece (``pieces=k``)."""

import numpy as np

from .. import backend
from .activations import Maxout


def spectral_norm(layer, n_power_iterations=1, rng=None, pieces=1):
    """Turn on spectral normalization of ``layer``'s weight (a Dense or
    Conv2D) and return the layer. The vector ``u`` starts at a random unit
    vector from ``rng`` and is a buffer (saved in ``state_dict``). With
    ``pieces=k`` (a Dense that feeds a ``Maxout(k)``) each of the k pieces is
    normalized by its own largest singular value; ``u`` is then (k, out/k),
    each row a unit vector."""
    if not getattr(layer, "spectral_normalizable", False):
        raise TypeError(f"spectral_norm: expected a Dense or Conv2D layer, got {layer!r}")
    if n_power_iterations < 1:
        raise ValueError(f"spectral_norm: expected n_power_iterations >= 1, got "
                         f"{n_power_iterations}")
    W = layer.params["W"]
    if pieces < 1 or W.shape[0] % pieces:
        raise ValueError(f"spectral_norm: {layer!r} has {W.shape[0]} outputs, which do not "
                         f"split into pieces={pieces}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    u = rng.standard_normal(W.shape[0])
    if pieces > 1:
        u = u.reshape(pieces, -1)
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    xp = backend.get_array_module(W)
    layer.buffers["sn_u"] = xp.asarray(u.astype(W.dtype))
    layer.sn_iterations = n_power_iterations
    return layer


def apply_spectral_norm(net, n_power_iterations=1, rng=0, per_piece=False):
    """Spectral normalization on every Dense and Conv2D layer of ``net`` (in
    place; returns ``net``), each with its own starting ``u``. With
    ``per_piece``, a layer followed by a ``Maxout(k)`` is normalized piece by
    piece."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    pieces = {}                              # id(layer) -> k, for the layers before a Maxout
    stack = [net]
    while stack:
        layer = stack.pop(0)
        if getattr(layer, "spectral_normalizable", False):
            spectral_norm(layer, n_power_iterations, rng, pieces.get(id(layer), 1))
        children = list(layer.children())
        if per_piece:
            pieces.update((id(a), b.pieces) for a, b in zip(children, children[1:])
                          if isinstance(b, Maxout))
        stack = children + stack
    return net
