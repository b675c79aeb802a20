"""How the networks' inputs are assembled: class labels (conditional GAN),
packing (PacGAN) and a categorical latent code (InfoGAN). With none of them,
both are the identity and cost nothing.

**Conditional GAN** (Mirza & Osindero 2014): both networks see the label as a
one-hot vector y of ``n_classes``. The generator gets ``[z, y]``; the
discriminator gets the image with y appended, as ``n_classes`` constant
channels for a convolutional D (``spatial=True``: (N, C+K, H, W)) or as K more
features for a dense one ((N, C*H*W + K)). The discriminator can then reject
a well-drawn 3 that was asked to be a 7. With ``--clusters K`` the "labels"
are the k-means clusters of the training data (:mod:`minigan.data.clusters`):
the same machinery, and no labels used.

**PacGAN** (Lin et al. 2018): the discriminator judges ``m`` samples at once,
concatenated along the channels (or features): (N, F) -> (N/m, m*F). A
generator that collapses onto a few modes makes packs of near-identical
samples, which real packs never are; so D can see the collapse that it cannot
see one sample at a time. Packing is a plain reshape of consecutive samples.

**InfoGAN** (Chen et al. 2016): the generator's noise is ``[z, onehot(c)]``
with a code c drawn uniformly from ``codes`` values; no labels are used. D
sees only the image (its extra outputs predict c, see :mod:`minigan.gan.step`).
"""

import math

import numpy as np

from .. import backend


class Inputs:
    """``n_classes`` > 0: conditional; ``pack`` = m >= 1; ``spatial``: labels as
    channels (convolutional D) rather than features (dense D)."""

    def __init__(self, n_classes=0, pack=1, spatial=True, codes=0):
        if n_classes < 0 or pack < 1 or codes < 0:
            raise ValueError(f"expected n_classes >= 0, pack >= 1 and codes >= 0, got "
                             f"n_classes={n_classes}, pack={pack}, codes={codes}")
        self.n_classes, self.pack, self.spatial = n_classes, pack, spatial
        self.codes = codes

    def onehot(self, labels, like, k=None, what="labels"):
        k = self.n_classes if k is None else k
        xp = backend.get_array_module(like)
        labels = xp.asarray(labels)
        if labels.shape != (like.shape[0],):
            raise ValueError(f"expected {like.shape[0]} {what}, got shape "
                             f"{tuple(labels.shape)}")
        # checked where the labels are on the host; device labels come from the
        # trainer, which checked them on the host (a check here would stall a GPU)
        if xp is np and labels.size and (int(labels.min()) < 0 or int(labels.max()) >= k):
            raise ValueError(f"{what} must be in [0, {k}), got "
                             f"{int(labels.min())}..{int(labels.max())}")
        return (labels[:, None] == xp.arange(k)[None, :]).astype(like.dtype)

    def g_input(self, z, labels=None, codes=None):
        """The generator's input: ``z``, with ``onehot(labels)`` appended for a
        conditional GAN and ``onehot(codes)`` for an InfoGAN."""
        parts = [z]
        if self.n_classes:
            parts.append(self.onehot(labels, z))
        if self.codes:
            if codes is None:
                raise ValueError(f"an InfoGAN generator needs a code in [0, {self.codes}) "
                                 f"per sample")
            parts.append(self.onehot(codes, z, self.codes, "codes"))
        if len(parts) == 1:
            return z
        return backend.get_array_module(z).concatenate(parts, axis=1)

    def _assemble(self, x, y):
        xp = backend.get_array_module(x)
        N = x.shape[0]
        if y is not None:
            if self.spatial and x.ndim == 4:
                maps = xp.broadcast_to(y[:, :, None, None], (N, y.shape[1]) + x.shape[2:])
                x = xp.concatenate([x, maps], axis=1)
            else:
                x = xp.concatenate([x.reshape(N, -1), y], axis=1)
        if self.pack > 1:
            if N % self.pack:
                raise ValueError(f"PacGAN: the batch ({N}) must be a multiple of the "
                                 f"pack size ({self.pack})")
            x = x.reshape((N // self.pack, self.pack * x.shape[1]) + x.shape[2:])
        return x

    def d_input(self, x, labels=None):
        """The discriminator's input for samples ``x`` (N, ...) with ``labels``."""
        return self._assemble(x, self.onehot(labels, x) if self.n_classes else None)

    def d_input_grad(self, dX, x_shape):
        """The gradient with respect to ``x`` from that with respect to
        ``d_input(x, labels)``: unpack, drop the label part."""
        N = x_shape[0]
        if self.pack > 1:
            dX = dX.reshape((N, dX.shape[1] // self.pack) + dX.shape[2:])
        if self.n_classes:
            if self.spatial and len(x_shape) == 4:
                dX = dX[:, :x_shape[1]]
            else:
                dX = dX[:, :math.prod(x_shape[1:])]
            xp = backend.get_array_module(dX)
            dX = xp.ascontiguousarray(dX).reshape(x_shape)
        return dX

    def penalty_mask(self, x):
        """For samples ``x``: an array shaped like ``d_input(x, labels)`` that
        is 1 on the coordinates from the samples and 0 on the label part (a
        gradient penalty constrains D as a function of the sample only); None
        when there is no label part."""
        if not self.n_classes:
            return None
        xp = backend.get_array_module(x)
        ones = xp.ones_like(x)
        return self._assemble(ones, xp.zeros((x.shape[0], self.n_classes), dtype=x.dtype))
