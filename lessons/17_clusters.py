# %% [markdown]
# # Lesson 17 — Clusters: a discrete choice that the data fixes in advance
#
# **Goal.** Remove the generator's blends between modes without a single
# label, by a different route from lesson 16's: cluster the training data
# with k-means first, then train a *conditional* GAN on the cluster numbers
# as if they were labels. k-means by hand (Lloyd's two steps), checked
# against the library; the digits' clusters, looked at; the ring trained
# with and without them, measured.
#
# ## Why clusters
#
# Lesson 16: noise $z \sim N(0, I)$ fills a connected space, so a
# continuous $G$ must draw something *between* separate modes. InfoGAN
# gives $G$ a discrete code, but the code means nothing at first: $G$ and
# $Q$ must agree on a meaning while they train, and on the digits they
# agree only partly (some codes draw two digits). Here the meaning is fixed
# before training starts: sample $k$ is the cluster of the training data
# that $G$ must imitate, and $D$ judges each image *with* its cluster
# number, as a conditional GAN does with a label (`gan/inputs.py`). A
# sample of the whole model draws a cluster $k$ with probability
# $\pi_k$ (its share of the data), then $z$: the mixture
# $p(x) = \sum_k \pi_k\, p_G(x \mid k)$ is still an unconditional model of
# the data, and no label was used anywhere. This is the idea of the
# self-conditioned GAN (Liu, Wang, Bau, Zhu & Torralba, "Diverse Image
# Generation via Self-Conditioned GANs", CVPR 2020), which clusters the
# discriminator's features and re-clusters as training goes; minigan clusters
# the pixels once, before the first step.
#
# ## k-means (Lloyd 1982)
#
# Choose $K$ centres $c_k$; then repeat two steps until nothing changes:
#
# $$ a_n = \arg\min_k \lVert x_n - c_k \rVert^2, \qquad
#    c_k = \frac{1}{|\{n : a_n = k\}|} \sum_{n:\, a_n = k} x_n . $$
#
# Each step can only lower the within-cluster sum of squares
# $W = \sum_n \lVert x_n - c_{a_n} \rVert^2$ (the first picks the nearest
# centre, the second the point that minimizes a sum of squares: the mean),
# so it stops. Where it stops depends on the start; `data.kmeans` starts
# from k-means++ (each next centre drawn with probability proportional to
# its squared distance from the nearest centre so far).

# %%
import numpy as np

from _common import ring_panels, savefig, size

from minigan import data, gan, metrics, optim


def lloyd(X, centres, max_iter=100):
    """Lloyd's two steps from the given centres, by hand. Returns the
    assignments, the centres and W after each assignment step."""
    X, C = X.astype(np.float64), centres.astype(np.float64).copy()
    a, history = None, []
    for _ in range(max_iter):
        d = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)   # (N, K) squared distances
        new = d.argmin(axis=1)
        history.append(d[np.arange(len(X)), new].sum())
        if a is not None and np.array_equal(new, a):
            break
        a = new
        C = np.array([X[a == k].mean(axis=0) if np.any(a == k) else C[k] for k in range(len(C))])
    return a, C, history


images, labels = data.load_mnist("test")
n = size(10000, 600)
X = images[:n].reshape(n, -1) / 255.0
K = 20

first = X[np.random.default_rng(0).choice(n, K, replace=False)]   # K random digits
a_hand, C_hand, W = lloyd(X[:size(2000, 300)], first)
drops = np.diff(W)
print(f"by hand, {len(W)} assignment steps on {size(2000, 300)} digits: W from {W[0]:.0f} to "
      f"{W[-1]:.0f}, never rising (largest change {drops.max():+.3g})")
assert np.all(drops <= 1e-6 * W[0])

a_lib, C_lib = data.kmeans(X, K, seed=0)
a_again, C_again, _ = lloyd(X, C_lib, max_iter=2)                 # one more pair of steps
print(f"library: {K} clusters of {n} digits; one more Lloyd step by hand moves "
      f"{np.sum(a_again != a_lib)} assignments and the centres by "
      f"{np.abs(C_again - C_lib).max():.1e}")
assert np.array_equal(a_again, a_lib) and np.allclose(C_again, C_lib)

# %% [markdown]
# ## What the digits' clusters are
#
# The labels play no part in training; here they only *describe* the
# clusters: the share of each cluster's digits that are its most common
# digit ("purity"). More clusters are purer: k-means splits a digit by
# slant and stroke before it merges two digits, so with 20 clusters most
# are one digit in one style.

# %%
for k in (10, K):
    a, _ = data.kmeans(X, k, seed=0)
    purity = sum(np.bincount(labels[:n][a == j], minlength=10).max() for j in range(k)) / n
    print(f"{k} clusters: sizes {np.bincount(a).min()} to {np.bincount(a).max()}, "
          f"purity against the labels {purity:.3f}")

import matplotlib.pyplot as plt  # noqa: E402

fig, axes = plt.subplots(2, K // 2, figsize=(K * 0.6, 2.6))
for k, ax in enumerate(axes.flat):
    ax.imshow(C_lib[k].reshape(28, 28), cmap="gray")
    ax.set_title(f"{k}: {np.sum(a_lib == k)}", fontsize=7)
    ax.axis("off")
savefig(fig, "17_digit_clusters.png")

# %% [markdown]
# ## The ring, with its clusters as labels
#
# The same toy GAN as in lessons 05 and 16, on a fixed set of ring points,
# once plain and once conditioned on the points' 8 k-means clusters
# (`gan.toy_gan(n_classes=8)`, `gan.Inputs(n_classes=8, spatial=False)`;
# the fakes of a step take the clusters of that step's real batch, so they
# follow the clusters' sizes). Samples draw their clusters in proportion
# to the sizes (`data.proportional_labels`).

# %%
steps, batch = size(6000, 40), 256
means, std = data.ring_means(), 0.01
points = data.sample_mixture("ring", size(50000, 2048), np.random.default_rng(0))
ring_labels, _ = data.kmeans(points, 8, seed=0)
sizes = np.bincount(ring_labels, minlength=8)


def train(k):
    G, D = gan.toy_gan(rng=1, n_classes=k)
    oG = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    oD = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    io = gan.Inputs(n_classes=k, spatial=False)
    batches = data.Batches(points, batch, seed=1, labels=ring_labels)
    rng = np.random.default_rng(1)
    for step in range(steps):
        z = rng.standard_normal((batch, 2)).astype(np.float32)
        y = batches.labels_of(step) if k else None
        gan.gan_step(G, D, oG, oD, batches.batch(step), z, io=io, labels=y)
    z = np.random.default_rng(2).standard_normal((4000, 2)).astype(np.float32)
    y = data.proportional_labels(sizes, 4000) if k else None
    return G.forward(io.g_input(z, y)), y


results = {"no clusters": train(0), "8 k-means clusters": train(8)}
for name, (pts, _) in results.items():
    m = metrics.mode_metrics(pts, means, std)
    print(f"{name:<19} modes {m['modes_captured']}/8, high-quality share "
          f"{m['high_quality_share']:.3f}, reverse KL {m['reverse_kl']:.3f}")

ring_panels(results, means, "cluster", "17_clusters_ring.png")

# %% [markdown]
# ## What to look for
#
# * **The ring's clusters are its modes**, so the conditional GAN is told
#   which mode to draw, and the arcs between modes empty as they did with
#   InfoGAN's code, but from the first step: there is nothing to discover.
# * **On the digits** clusters are not digits (20 clusters are about three
#   quarters pure), yet each is a tight family of similar images, which a
#   generator can draw without blending two of them. `minigan train`
#   conditions the DCGAN on 20 clusters by default; the README shows what
#   it did to the confident share, against the plain DCGAN and InfoGAN.
#
# Try: the ring with 4 clusters (each cluster then holds two modes, and an
# arc reappears within it), or `train(8)` with the labels shuffled
# (`np.random.default_rng(0).permutation(ring_labels)`): clusters that
# mean nothing give G nothing to go by.
