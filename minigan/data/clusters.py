"""k-means clusters of a data set: discrete structure found without labels.

``minigan train --clusters K`` conditions the GAN on the k-means cluster of
each training image, the way ``--conditional`` conditions it on a label, but
nothing here looks at labels: the clusters come from the pixels alone. A
generator fed Gaussian noise must map one connected space onto digits that
lie apart, so some of its samples fall between them (lesson 16); given a
cluster to draw from, it has a discrete switch whose meaning the data fixed
in advance, where InfoGAN's code must discover one while it trains. (The
self-conditioned GAN of Liu, Wang, Bau, Zhu & Torralba, "Diverse Image
Generation via Self-Conditioned GANs", CVPR 2020, conditions on clusters the
same way; it clusters D's features and re-clusters during training.)

Lloyd's algorithm (Lloyd 1982), with k-means++ seeding (Arthur & Vassilvitskii
2007), in float64::

    assign:  a_n = argmin_k ||x_n - c_k||^2      (||x||^2 - 2 x.c + ||c||^2: one GEMM)
    update:  c_k = mean of the x_n with a_n = k

until no assignment changes. Each step lowers the sum of squared distances,
so it stops. A cluster left empty takes the point farthest from its centre.
Clusters are numbered by size, largest first.
"""

import numpy as np


def _squared_distances(X, xx, C):
    """(N, K) squared distances from the rows of X to the rows of C."""
    d = xx[:, None] - 2.0 * (X @ C.T) + (C * C).sum(axis=1)[None, :]
    return np.maximum(d, 0.0)


def _plus_plus(X, xx, k, rng):
    """k-means++: each next centre is a point drawn with probability
    proportional to its squared distance from the nearest centre so far."""
    centers = [X[rng.integers(len(X))]]
    d2 = _squared_distances(X, xx, centers[0][None])[:, 0]
    for _ in range(1, k):
        total = d2.sum()
        i = rng.choice(len(X), p=d2 / total) if total > 0 else rng.integers(len(X))
        centers.append(X[i])
        d2 = np.minimum(d2, _squared_distances(X, xx, X[i][None])[:, 0])
    return np.array(centers)


def kmeans(X, k, seed=0, max_iter=100):
    """Cluster the rows of ``X`` into ``k`` groups.

    Parameters
    ----------
    X : (N, ...) array; each sample is flattened (an image becomes its pixels).
    k : int, 1 <= k <= N
    seed : int; the k-means++ seeding is the only randomness.
    max_iter : int, most Lloyd iterations (it usually stops well before).

    Returns
    -------
    labels : (N,) int64 in [0, k), cluster 0 the largest.
    centers : (k, D) float64, the mean of each cluster's samples.
    """
    X = np.asarray(X)
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"kmeans: expected samples as the rows of an (N, ...) array, got shape "
                         f"{X.shape}")
    X = X.reshape(len(X), -1).astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError("kmeans: the samples contain NaN or infinite values")
    if not 1 <= k <= len(X):
        raise ValueError(f"kmeans: k must be between 1 and the number of samples ({len(X)}), "
                         f"got {k}")
    xx = (X * X).sum(axis=1)
    C = _plus_plus(X, xx, k, np.random.default_rng([seed, 8]))
    labels = None
    for _ in range(max_iter):
        d = _squared_distances(X, xx, C)
        new = d.argmin(axis=1)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        own = d[np.arange(len(X)), labels]
        counts = np.bincount(labels, minlength=k)
        while np.any(counts == 0):          # an empty cluster takes the point farthest
            movable = counts[labels] > 1    # from its centre (one that leaves no
            far = np.where(movable, own, -1.0).argmax()    # cluster empty behind it)
            counts[labels[far]] -= 1
            labels[far] = np.flatnonzero(counts == 0)[0]
            counts[labels[far]] += 1
            own[far] = -1.0
        onehot = np.zeros((k, len(X)))
        onehot[labels, np.arange(len(X))] = 1.0
        C = (onehot @ X) / counts[:, None]            # the sums of each cluster, one GEMM
    # number the clusters by size, largest first (ties: by old number)
    order = np.lexsort((np.arange(k), -np.bincount(labels, minlength=k)))
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    return rank[labels], C[order]


def proportional_labels(sizes, n):
    """``n`` cluster numbers in proportion to ``sizes``: a stratified draw
    from p(k) = sizes[k] / sum(sizes), sorted. Sample i takes the cluster
    whose share of the cumulative distribution holds (i + 1/2) / n."""
    sizes = np.asarray(sizes, dtype=np.float64)
    if sizes.ndim != 1 or len(sizes) == 0 or np.any(sizes < 0) or sizes.sum() <= 0:
        raise ValueError(f"cluster sizes must be non-negative and not all 0, got {sizes}")
    cum = np.cumsum(sizes) / sizes.sum()
    k = np.searchsorted(cum, (np.arange(n) + 0.5) / n, side="right")
    return np.minimum(k, len(sizes) - 1).astype(np.int64)
