# %% [markdown]
# # Lesson 05 — a first GAN, on a ring of eight Gaussians
#
# **Goal.** Write the GAN training loop by hand from minigan's layers,
# losses and optimizers, train it on 2D points, and see (and count) the
# modes it finds and misses.
#
# ## The game
#
# Goodfellow et al. (2014): a generator $G$ maps noise $z$ to samples, a
# discriminator $D$ outputs the logit of "this is real". They play
#
# $$ \min_G \max_D\; E_x[\log \sigma(D(x))] + E_z[\log(1 - \sigma(D(G(z))))]. $$
#
# $D$'s side is binary cross-entropy with targets 1 (real) and 0 (fake).
# $G$'s side as written (**minimax**) minimizes $\log(1 - \sigma(D(G(z))))$,
# whose gradient with respect to the logit, $-\sigma(D(G(z)))$, vanishes
# exactly when $D$ confidently rejects the fakes, early in training. The
# **non-saturating** loss minimizes $-\log \sigma(D(G(z)))$ instead
# (BCE with target 1): same fixed point, gradient $\sigma - 1 \approx -1$
# where it is needed.
#
# ## One step
#
# D step on a real and a fake batch (gradients accumulate), then G step
# *through* D with D's weight gradients off (`param_grads=False`), so that
# D is not trained by G's loss.

# %%
import numpy as np

from _common import savefig, size

import minigan as mg
from minigan import data, gan, metrics, optim


def make(seed):
    G, D = gan.toy_gan(rng=seed)
    return (G, D, optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999)),
            optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999)))


def step(G, D, oG, oD, real, z, minimax=False):
    fake = G.forward(z)
    D.zero_grad()
    for batch, target in ((real, 1.0), (fake, 0.0)):
        _, dlogits = mg.bce_with_logits(D.forward(batch), target)
        D.backward(dlogits, input_grad=False)
    oD.step()
    G.zero_grad()
    logits = D.forward(fake)
    if minimax:                        # minimize log(1 - sigmoid) = -BCE(x, 0)
        _, dlogits = mg.bce_with_logits(logits, 0.0)
        dlogits = -dlogits
    else:                              # non-saturating: BCE(x, 1)
        _, dlogits = mg.bce_with_logits(logits, 1.0)
    G.backward(D.backward(dlogits, param_grads=False), input_grad=False)
    oG.step()


# %% [markdown]
# ## Our step is minigan's step
#
# `minigan.gan.gan_step` (`minigan/gan/step.py`) is the library's version;
# from the same start on the same batch they must give identical weights.

# %%
rng = np.random.default_rng(0)
real = data.sample_mixture("ring", 64, rng)
z = rng.standard_normal((64, 2)).astype(np.float32)
a, b = make(0), make(0)
step(*a, real, z)
gan.gan_step(*b, real, z)
same = all(np.array_equal(p, q) for (_, p, _), (_, q, _) in
           zip(a[0].parameters() + a[1].parameters(), b[0].parameters() + b[1].parameters()))
print("hand-written step == minigan.gan.gan_step:", same)
assert same

# %% [markdown]
# ## Train, and count the modes
#
# PacGAN's metrics (Lin et al. 2018): a sample is *high quality* within 3
# standard deviations (here 0.03) of its nearest mode; a mode is *captured*
# when it has at least one high-quality sample.

# %%
steps, batch = size(6000, 40), 256
means = data.ring_means()
results = {}
for name, minimax in (("non-saturating", False), ("minimax", True)):
    G, D, oG, oD = make(1)
    rng = np.random.default_rng(1)
    curve = []
    for t in range(steps):
        step(G, D, oG, oD, data.sample_mixture("ring", batch, rng),
             rng.standard_normal((batch, 2)).astype(np.float32), minimax)
        if (t + 1) % max(steps // 12, 1) == 0:
            pts = G.forward(rng.standard_normal((2000, 2)).astype(np.float32))
            curve.append((t + 1, metrics.mode_metrics(pts, means, 0.01)))
    results[name] = (G.forward(rng.standard_normal((2000, 2)).astype(np.float32)), curve)
    last = curve[-1][1]
    early = [m["modes_captured"] for s, m in curve if s <= steps // 3]
    print(f"{name:<15} modes captured during the first third of training: {early}; after "
          f"{steps} steps: {last['modes_captured']}/8 modes, high-quality share "
          f"{last['high_quality_share']:.2f}, reverse KL {last['reverse_kl']:.2f}")

import matplotlib.pyplot as plt  # noqa: E402

fig, axes = plt.subplots(1, 3, figsize=(11, 3.5))
for ax, (name, (pts, _)) in zip(axes, results.items()):
    ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.4)
    ax.scatter(means[:, 0], means[:, 1], c="red", marker="x")
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.6, 1.6)
    ax.set_aspect("equal")
    ax.set_title(name)
for name, (_, curve) in results.items():
    axes[2].plot([s for s, _ in curve], [m["modes_captured"] for _, m in curve], "o-",
                 label=name)
axes[2].set_xlabel("step")
axes[2].set_ylabel("modes captured (of 8)")
axes[2].legend()
savefig(fig, "05_ring.png")

# %% [markdown]
# ## What to look for
#
# * **Mode collapse**, counted by the curve on the right: a generator often
#   covers only a few of the eight modes at a time, typically early in
#   training, finding the points that fool the *current* discriminator
#   rather than the whole distribution; D then chases it from mode to mode.
#   The printed lists show how many modes each run covered in its first
#   third; whether a run recovers all eight, and when, depends on the seed
#   (try a few).
# * **Bridges** between modes, in the scatter plots: $G$ is continuous and
#   its noise is connected, so its samples form a connected curve through
#   the modes, and the points on the curve between modes are not within 3
#   standard deviations of any: that is why the high-quality share stays
#   well below the real data's 0.99 even when all eight modes are captured.
#
# Lesson 15 (losses) and the PacGAN option of the trainer attack both.
#
# ## Try next
#
# * Run with other seeds (`make(2)`, `default_rng(2)`): how stable is the
#   number of modes captured?
# * Replace the ring by `"grid"` (25 modes, std 0.05) and count again.
# * Give D twice G's learning rate.
