# %% [markdown]
# # Lesson 06 — the classic MLP GAN on MNIST
#
# **Goal.** Rebuild the fully connected GAN of the TensorFlow-era
# tutorials in minigan and train it on real digits.
#
# The model: G maps $z \in \mathbb{R}^{100}$ through one hidden layer of
# 128 units to 784 pixels with a **sigmoid** (images in $[0, 1]$); D maps
# 784 pixels through 128 LeakyReLU units with **dropout 0.3** to one
# logit. Adam with $\eta = 10^{-3}$, $\beta_1 = 0.5$. Everything here
# (layers, BCE on logits, Adam, the frozen-D generator step) comes from
# minigan; what this lesson writes by hand is the model and the loop.
#
# ## The loop, and where it differs from lesson 05
#
# Images are scaled to $[0, 1]$ to match the sigmoid, not $[-1, 1]$; and
# D's dropout makes its two forward passes in the generator step and the
# discriminator step see different masks, which is intended.

# %%
import time

import numpy as np

from _common import out, size

import minigan as mg
from minigan import data, optim, viz

from minigan import gan


def make(seed):
    """G, D and their optimizers, all from one seed."""
    rng = np.random.default_rng(seed)
    G = mg.Sequential(mg.Dense(100, 128, rng=rng), mg.LeakyReLU(0.2),
                      mg.Dense(128, 784, rng=rng), mg.Sigmoid(), mg.Reshape(1, 28, 28))
    D = mg.Sequential(mg.Flatten(), mg.Dense(784, 128, rng=rng), mg.LeakyReLU(0.2),
                      mg.Dropout(0.3, rng=rng), mg.Dense(128, 1, rng=rng))
    return (G, D, optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999)),
            optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999)))


def step(G, D, oG, oD, real, z):
    fake = G.forward(z)
    D.zero_grad()
    l_real, dl = mg.bce_with_logits(D.forward(real), 1.0)
    D.backward(dl, input_grad=False)
    l_fake, dl = mg.bce_with_logits(D.forward(fake), 0.0)
    D.backward(dl, input_grad=False)
    oD.step()
    G.zero_grad()
    l_g, dl = mg.bce_with_logits(D.forward(fake), 1.0)
    G.backward(D.backward(dl, param_grads=False), input_grad=False)
    oG.step()
    return l_real + l_fake, l_g


images, _ = data.load_mnist("test")
real_all = (images[:size(10000, 128)].astype(np.float32) / 255.0)      # [0, 1]
batches = data.Batches(real_all, 64, seed=0)
rng = np.random.default_rng(1)

# %% [markdown]
# This loop is minigan's step: from the same start on the same batch, one
# step of each leaves every weight, every Adam moment and D's Dropout state
# (its draw counter) bit for bit the same.

# %%
a, b = make(0), make(0)
z = rng.standard_normal((64, 100)).astype(np.float32)
step(*a, batches.batch(0), z)
gan.gan_step(*b, batches.batch(0), z)
same = all(np.array_equal(p, q) for p, q in
           zip(list(a[0].state_dict().values()) + list(a[1].state_dict().values()),
               list(b[0].state_dict().values()) + list(b[1].state_dict().values())))
print("hand-written step == minigan.gan.gan_step:", same)
assert same

# %%
G, D, oG, oD = make(0)
steps = size(30 * batches.steps_per_epoch, 4)
fixed = rng.standard_normal((64, 100)).astype(np.float32)
history = []
t0 = time.perf_counter()
for t in range(steps):
    z = rng.standard_normal((64, 100)).astype(np.float32)
    history.append(step(G, D, oG, oD, batches.batch(t), z))
    if (t + 1) % max(steps // 6, 1) == 0:
        print(f"step {t + 1}/{steps}: D loss {history[-1][0]:.3f}, G loss {history[-1][1]:.3f}")
print(f"{steps} steps in {time.perf_counter() - t0:.1f} s")
assert np.all(np.isfinite(history)), "a loss became NaN or infinite"

viz.save_grid(out("06_mlp_gan_samples.png"), 2 * G.forward(fixed) - 1)   # grid wants [-1, 1]
print("figure:", out("06_mlp_gan_samples.png"))

# %% [markdown]
# The samples are recognisable but speckled: every pixel is an independent
# output of a dense layer, with no notion that neighbouring pixels belong
# together. Lesson 10's convolutional generator fixes exactly that.
#
# ## Try next
#
# * Remove D's dropout: does D overpower G sooner (watch D's loss)?
# * Replace the sigmoid by tanh and scale the data to $[-1, 1]$.
# * Compare with the bigger reference `mlp` model: `minigan train --model mlp`.
