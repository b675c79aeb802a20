# %% [markdown]
# # Lesson 10 — a DCGAN on MNIST
#
# **Goal.** Build the DCGAN of the TensorFlow tutorial layer by layer,
# check it is exactly minigan's reference model, and train it on real
# handwritten digits until digits appear.
#
# ## The architecture (Radford et al. 2016, as in the TensorFlow tutorial)
#
# Generator: $z \in \mathbb{R}^{100}$ → Dense to $7\cdot7\cdot256$ (no bias,
# BatchNorm follows) → BN → LeakyReLU(0.3) → reshape to (256, 7, 7) →
# ConvT 5×5 stride 1 to 128 channels → BN → LReLU → ConvT 5×5 stride 2
# (7 → 14) to 64 → BN → LReLU → ConvT 5×5 stride 2 (14 → 28) to 1 → tanh.
#
# Discriminator: Conv 5×5 stride 2 (28 → 14) to 64 → LReLU(0.3) →
# Dropout(0.3) → Conv 5×5 stride 2 (14 → 7) to 128 → LReLU → Dropout →
# flatten → Dense to one logit.
#
# DCGAN's recipe: weights from $N(0, 0.02^2)$, BatchNorm $\gamma$ from
# $N(1, 0.02^2)$, Adam with $\eta = 2\cdot10^{-4}$, $\beta_1 = 0.5$; no
# BatchNorm in D's input layer nor G's output layer; tanh output for images
# scaled to $[-1, 1]$.

# %%
import time

import numpy as np

from _common import out, size

import minigan as mg
from minigan import data, gan, init, optim, viz


def dcgan_by_hand(rng):
    kw = dict(rng=rng, init=init.dcgan)

    def bn(n):
        layer = mg.BatchNorm(n)
        layer.params["gamma"][...] = init.normal((n,), rng, 1.0, 0.02)
        return layer

    G = mg.Sequential(
        mg.Dense(100, 7 * 7 * 256, bias=False, **kw), bn(7 * 7 * 256), mg.LeakyReLU(0.3),
        mg.Reshape(256, 7, 7),
        mg.ConvTranspose2D(256, 128, 5, stride=1, padding=2, bias=False, **kw), bn(128),
        mg.LeakyReLU(0.3),
        mg.ConvTranspose2D(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False, **kw),
        bn(64), mg.LeakyReLU(0.3),
        mg.ConvTranspose2D(64, 1, 5, stride=2, padding=2, output_padding=1, bias=False, **kw),
        mg.Tanh())
    D = mg.Sequential(
        mg.Conv2D(1, 64, 5, stride=2, padding=2, **kw), mg.LeakyReLU(0.3),
        mg.Dropout(0.3, rng=rng.integers(2**63)),
        mg.Conv2D(64, 128, 5, stride=2, padding=2, **kw), mg.LeakyReLU(0.3),
        mg.Dropout(0.3, rng=rng.integers(2**63)),
        mg.Flatten(), mg.Dense(7 * 7 * 128, 1, **kw))
    return G, D


G, D = dcgan_by_hand(np.random.default_rng(0))
G_lib, D_lib = gan.dcgan(rng=0)
same = all(np.array_equal(a, b) for a, b in zip(G.state_dict().values(),
                                                G_lib.state_dict().values()))
n_params = sum(v.size for _, v, _ in G.parameters() + D.parameters())
print(f"identical to minigan.gan.dcgan(rng=0): {same}; {n_params:,} parameters")
assert same

# %% [markdown]
# ## Train
#
# Each step is `minigan.gan.gan_step` (lesson 05's loop). Samples come from
# a fixed noise batch, with G in **eval mode** (running BatchNorm
# statistics), then back to train mode.

# %%
images, _ = data.load_mnist("test")                     # the bundled 10,000 digits
real = data.to_unit_range(images[:size(10000, 64)])
batches = data.Batches(real, size(32, 16), seed=0)
steps = size(4 * batches.steps_per_epoch, 3)
oG = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
oD = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
rng = np.random.default_rng(1)
fixed = rng.standard_normal((64, 100)).astype(np.float32)
t0 = time.perf_counter()
for t in range(steps):
    m = gan.gan_step(G, D, oG, oD, batches.batch(t),
                     rng.standard_normal((batches.batch_size, 100)).astype(np.float32))
    if (t + 1) % max(steps // 8, 1) == 0:
        print(f"step {t + 1}/{steps}: D loss {m['d_loss']:.3f}, G loss {m['g_loss']:.3f}, "
              f"D(x) {m['d_real']:.2f}, D(G(z)) {m['d_fake']:.2f}")
print(f"{steps} steps in {time.perf_counter() - t0:.0f} s")
G.eval()
viz.save_grid(out("10_dcgan_samples.png"), G.forward(fixed))
G.train()
print("figure:", out("10_dcgan_samples.png"))

# %% [markdown]
# In full mode (4 epochs of the 10,000 digits, 1,250 steps, a few minutes
# on 2 cores) strokes and the first digit shapes appear. `minigan train`
# runs this model for 12 epochs with an EMA of G's weights and scores it
# every epoch, conditioned on 20 k-means clusters of the digits (lesson
# 17), which lifts its scores far above this plain model's. `minigan train
# --clusters 0` is this plain model, with one change: its D has no Dropout,
# which measured better for it (`--dropout 0.3` puts it back; the README
# has the numbers).
#
# ## Try next
#
# * Remove D's Dropout here: do the first digits appear sooner?
# * Remove the BatchNorm layers from G: how do the first few hundred steps
#   change?
# * Sample with `G.train()` instead of `G.eval()` (lesson 14).
