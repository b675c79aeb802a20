# %% [markdown]
# # Lesson 18 — Packing: a discriminator that judges samples together
#
# **Goal.** See why a discriminator that judges one sample at a time is
# half blind to mode collapse, and fix it as PacGAN does (Lin, Khetan,
# Fanti & Oh, NeurIPS 2018): $D$ judges *packs* of $m$ samples, all real
# or all fake. The distances that packing amplifies, computed exactly; a
# pack built by hand and checked against `gan.Inputs`; the maxout unit of
# the paper's discriminator by hand, checked numerically; then the grid of
# 25 Gaussians trained with and without packing, measured.
#
# ## What one sample cannot show
#
# A discriminator trained to its best measures a distance between the real
# distribution $P$ and the fake one $Q$: with the classic loss, the
# Jensen-Shannon divergence (Goodfellow et al. 2014), which is small
# exactly when the total variation is small (each bounds the other),
#
# $$ \mathrm{TV}(P, Q) = \sup_A |P(A) - Q(A)| = \tfrac12 \sum_x |P(x) - Q(x)|. $$
#
# Two generators can be equally far from $P$ in that distance and wrong in
# very different ways. On the 8 modes of the ring, one draws modes 0-3 a
# little too often and modes 4-7 a little too rarely (5/32 and 3/32 instead
# of 1/8); the other never draws mode 0 and spreads its share over the
# other seven (1/7 each). Both are 1/8 away from $P$ in total variation,
# so one sample at a time $D$ can tell them from $P$ equally well, and the
# second is the one a user calls broken.
#
# A pack of $m$ independent samples is one draw of the product
# distribution $P^m$ (or $Q^m$), and the two distances grow differently
# with $m$. For the collapsed generator, $Q$ is $P$ given "not mode 0", so
# $Q^m$ is $P^m$ given "no sample of the pack at mode 0", an event $B$ of
# probability $(7/8)^m$; and between a distribution and itself conditioned
# on $B$ the total variation is $1 - P(B)$ (the largest difference is on
# $B$'s complement, which the conditioned one never draws):
#
# $$ \mathrm{TV}(P^m, Q_{\text{collapsed}}^m) = 1 - (7/8)^m . $$
#
# The paper proves the general form: at a given total variation, the
# packed distance of a pair with mode collapse (a region that $P$ gives
# much more mass than $Q$) is bounded below by more, and grows faster with
# $m$, than that of a pair without it.

# %%
import numpy as np

from _common import savefig, size

from minigan import data, functional, gan, layers, metrics, optim

P = np.full(8, 1 / 8)
uneven = np.array([5, 5, 5, 5, 3, 3, 3, 3]) / 32
collapsed = np.array([0] + [1 / 7] * 7)


def tv_of_packs(p, q, m):
    """TV(p^m, q^m) over all 8^m packs, exactly: the product distributions as
    outer products, then half the sum of the absolute differences."""
    pm, qm = np.ones(1), np.ones(1)
    for _ in range(m):
        pm, qm = np.outer(pm, p).ravel(), np.outer(qm, q).ravel()
    return 0.5 * np.abs(pm - qm).sum()


ms = range(1, 5)
tv = {name: [tv_of_packs(P, q, m) for m in ms]
      for name, q in (("uneven", uneven), ("collapsed", collapsed))}
for i, m in enumerate(ms):
    print(f"m = {m}: TV of packs, uneven {tv['uneven'][i]:.4f}, collapsed "
          f"{tv['collapsed'][i]:.4f} (1 - (7/8)^m = {1 - (7 / 8) ** m:.4f})")
    assert abs(tv["collapsed"][i] - (1 - (7 / 8) ** m)) < 1e-12
assert np.allclose([tv["uneven"][0], tv["collapsed"][0]], 1 / 8)

import matplotlib.pyplot as plt  # noqa: E402

fig, ax = plt.subplots(figsize=(4.5, 3.2))
for name, values in tv.items():
    ax.plot(list(ms), values, "o-", label=name)
ax.set_xlabel("pack size m")
ax.set_ylabel("TV(P^m, Q^m)")
ax.set_xticks(list(ms))
ax.legend()
savefig(fig, "18_tv_of_packs.png")

# %% [markdown]
# ## A pack, built by hand
#
# $G$ draws $N = Bm$ samples; consecutive groups of $m$ become one row of
# $D$'s input, their coordinates side by side, so $D$'s first layer takes
# $2m$ numbers instead of 2. The real batch is packed the same way, and
# the loss is the usual one, one score per pack. Going back, $D$'s input
# gradient (B, 2m) is cut into the $m$ samples' gradients: each sample
# learns from the verdict on its whole pack. `gan.Inputs(pack=m)` does
# both; packing changes nothing else in the step.

# %%
m, B = 3, 4
rng = np.random.default_rng(0)
x = rng.standard_normal((B * m, 2))
by_hand = np.stack([np.concatenate([x[j * m + s] for s in range(m)]) for j in range(B)])
io = gan.Inputs(pack=m, spatial=False)
dX = rng.standard_normal((B, 2 * m))
dx_by_hand = np.concatenate([dX[j].reshape(m, 2) for j in range(B)])
print(f"packs by hand == gan.Inputs.d_input: {np.array_equal(io.d_input(x), by_hand)}; "
      f"gradient unpacked by hand == d_input_grad: "
      f"{np.array_equal(io.d_input_grad(dX, x.shape), dx_by_hand)}")
assert np.array_equal(io.d_input(x), by_hand)
assert np.array_equal(io.d_input_grad(dX, x.shape), dx_by_hand)

# %% [markdown]
# ## Maxout, the paper's discriminator unit
#
# The paper's $D$ (`--model pacgan-mlp`) is three maxout layers (Goodfellow
# et al. 2013): a dense layer computes $K$ *pieces* per unit, and the unit
# outputs the largest,
#
# $$ y_{nf} = \max_k x_{n, fK + k}, \qquad
#    \frac{\partial y_{nf}}{\partial x_{n, fK + k}} = [k = k^*_{nf}], $$
#
# so each unit is a convex piecewise-linear function that it learns (ReLU
# is the special case of two pieces, one of them fixed at 0). Backward
# routes each unit's gradient to the piece that won, $k^*$, and nothing to
# the others.

# %%
def maxout_by_hand(x, K):
    N, FK = x.shape
    pieces = x.reshape(N, FK // K, K)
    winner = pieces.argmax(axis=2)              # argmax: the first of tied pieces
    return pieces.max(axis=2), winner


def maxout_backward_by_hand(dy, winner, K):
    N, F = dy.shape
    dx = np.zeros((N, F, K))
    np.put_along_axis(dx, winner[:, :, None], dy[:, :, None], axis=2)
    return dx.reshape(N, F * K)


K, F = 5, 4
x = rng.standard_normal((6, F * K))
dy = rng.standard_normal((6, F))
y, winner = maxout_by_hand(x, K)
y_lib, cache = functional.maxout_forward(x, K)
dx = maxout_backward_by_hand(dy, winner, K)
dx_lib = functional.maxout_backward(dy, cache)
print(f"by hand vs minigan: forward {np.abs(y - y_lib).max():.1e}, "
      f"backward {np.abs(dx - dx_lib).max():.1e}")
assert np.array_equal(y, y_lib) and np.array_equal(dx, dx_lib)

# the numerical derivative of sum(dy * y), by central differences (lesson 02)
eps, num = 1e-6, np.zeros_like(x)
for i in np.ndindex(x.shape):
    up, down = x.copy(), x.copy()
    up[i] += eps
    down[i] -= eps
    num[i] = (np.sum(dy * maxout_by_hand(up, K)[0])
              - np.sum(dy * maxout_by_hand(down, K)[0])) / (2 * eps)
err = np.abs(num - dx_lib).max() / np.abs(num).max()
print(f"maxout's backward against central differences: relative error {err:.1e}")
assert err < 1e-8

# %% [markdown]
# A tie is a kink: where two pieces are equal, raising either raises the
# output and lowering either leaves it, so the central difference gives
# each of the two half the gradient and no single piece has it. minigan
# gives it all to the first tied piece, on every backend, so training is
# deterministic; a gradient check must use inputs without ties (random
# floats have none).

# %%
tie = np.array([[0.5, 2.0, 2.0, -1.0, 0.0]])
_, tie_cache = functional.maxout_forward(tie, 5)
routed = functional.maxout_backward(np.ones((1, 1)), tie_cache)
central = [(maxout_by_hand(tie + eps * np.eye(5)[k], 5)[0]
            - maxout_by_hand(tie - eps * np.eye(5)[k], 5)[0]).item() / (2 * eps)
           for k in range(5)]
print(f"a tie between pieces 1 and 2: minigan routes {routed.ravel()}, "
      f"central differences give {np.round(central, 6)}")
assert routed.ravel().tolist() == [0, 1, 0, 0, 0]

# the layer (what pacgan-mlp stacks after each Dense) is the same pair
layer = layers.Maxout(K)
assert np.array_equal(layer.forward(x), y_lib)

# %% [markdown]
# ## The grid, with and without packing
#
# The toy GAN of lessons 05 and 16 on the grid's 25 Gaussians, three seeds
# each: once judging single samples, once packs of two. The batch is 256
# *packs*, so PacGAN2's $G$ draws twice as many samples a step (as in the
# paper); its $D$ differs only in its first layer, 4 inputs instead of 2.
# Scored by PacGAN's metrics (lesson 05): modes captured (a sample within 3
# standard deviations of them), the share of such samples, and the reverse
# KL of the mode histogram against uniform, the score that mode collapse
# moves most.

# %%
steps, batch = size(6000, 30), 256
means, std = data.grid_means(), 0.05
points = data.sample_mixture("grid", size(50000, 2048), np.random.default_rng(0))


def train(pack, seed):
    G, D = gan.toy_gan(rng=seed, pack=pack)
    oG = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    oD = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    io = gan.Inputs(pack=pack, spatial=False)
    batches = data.Batches(points, batch * pack, seed=seed)
    noise = np.random.default_rng([seed, 1])
    for step in range(steps):
        z = noise.standard_normal((batch * pack, 2)).astype(np.float32)
        gan.gan_step(G, D, oG, oD, batches.batch(step), z, io=io)
    z = np.random.default_rng([seed, 2]).standard_normal((5000, 2)).astype(np.float32)
    return G.forward(z)


seeds = range(size(3, 1))
scores, samples = {}, {}
for pack in (1, 2):
    name = "GAN" if pack == 1 else f"PacGAN{pack}"
    runs = [train(pack, s) for s in seeds]
    samples[name] = runs[0]
    scores[name] = [metrics.mode_metrics(r, means, std) for r in runs]
    for s, sc in zip(seeds, scores[name]):
        print(f"{name:<8} seed {s}: modes {sc['modes_captured']}/25, high-quality share "
              f"{sc['high_quality_share']:.3f}, reverse KL {sc['reverse_kl']:.3f}")
for name, sc in scores.items():
    print(f"{name:<8} mean of {len(sc)}: modes "
          f"{np.mean([s['modes_captured'] for s in sc]):.1f}, reverse KL "
          f"{np.mean([s['reverse_kl'] for s in sc]):.3f}")

fig, axes = plt.subplots(1, 2, figsize=(8, 4))
for ax, (name, pts) in zip(axes, samples.items()):
    ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.3)
    ax.scatter(means[:, 0], means[:, 1], c="red", marker="x", s=12, linewidths=0.8)
    ax.set_xlim(-6, 6)
    ax.set_ylim(-6, 6)
    ax.set_aspect("equal")
    ax.set_title(f"{name}, seed 0")
savefig(fig, "18_packing_grid.png")

# %% [markdown]
# ## What to look for
#
# * **The distances.** At $m = 1$ the two wrong generators are equally far
#   from $P$; with packs the collapsed one pulls away (0.23 against 0.14
#   at $m = 2$, 0.41 against 0.21 at $m = 4$): a packed $D$ has more to
#   gain from punishing a missing mode than an uneven one.
# * **The grid.** Packing two samples lowers the mean reverse KL over the
#   seeds and raises the mean of the modes captured, though not on every
#   seed (runs this short vary): the packed $D$ sees when $G$'s samples
#   pile onto a few modes, as the distances predict. In the figure the
#   packed $G$ spreads its samples over the grid's border more evenly.
#   The high-quality share is low for both (a few percent): the toy model
#   is small and short-trained, and its samples smear between the modes
#   (lessons 16 and 17 take that up).
# * **The cost.** A packed step draws and back-propagates $m$ times the
#   samples through $G$; $D$ judges the same number of rows.
#
# The paper's own experiment (its $G$ four 400-unit layers with
# BatchNorm, its $D$ the maxout layers above, 400 epochs) is
# `minigan train --model pacgan-mlp --dataset grid --pack 2`, hours on one
# core; its Table 1, reproduced with minigan and set beside the paper's, is
# [docs/pacgan.md](../docs/pacgan.md).
#
# Try: `pack` 3 and 4; the ring (`"ring"`, `data.ring_means()`, std 0.01);
# `tv_of_packs` for a generator that drops two modes, or one that draws
# mode 0 at 1/16 instead of not at all.
