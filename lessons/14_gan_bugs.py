# %% [markdown]
# # Lesson 14 — GAN bugs you will meet
#
# **Goal.** Five classic bugs, each planted on purpose, each with the
# symptom it causes (measured) and the fix. Most of them do not crash: the
# code runs and the samples are quietly bad, which is why they survive.

# %%
import numpy as np

from _common import savefig, size

import minigan as mg
from minigan import data, gan, metrics, optim

STEPS = size(4000, 30)
MEANS = data.ring_means()


def ring_run(step_fn, seed=1, steps=STEPS, **opt_kw):
    """Train the toy GAN on the ring with ``step_fn``; return modes captured
    and the final mean D(x), D(G(z))."""
    G, D = gan.toy_gan(rng=seed)
    kw = {"lr": 2e-4, "betas": (0.5, 0.999), **opt_kw}
    oG, oD = optim.Adam(G.parameters(), **kw), optim.Adam(D.parameters(), **kw)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        m = step_fn(G, D, oG, oD, data.sample_mixture("ring", 256, rng),
                    rng.standard_normal((256, 2)).astype(np.float32))
    pts = G.forward(rng.standard_normal((2000, 2)).astype(np.float32))
    return metrics.mode_metrics(pts, MEANS, 0.01)["modes_captured"], m


def correct_step(G, D, oG, oD, real, z):
    return gan.gan_step(G, D, oG, oD, real, z)


# %% [markdown]
# ## Bug 1: real and fake labels swapped in D's loss
#
# **Symptom:** D learns to call real data fake: mean D(x) near 0. G's
# non-saturating loss then pushes samples *away* from the data.
# **Fix:** targets 1 for real, 0 for fake (`gan.objectives.d_real_loss`).

# %%
def swapped_labels(G, D, oG, oD, real, z):
    fake = G.forward(z)
    D.zero_grad()
    logits_real = D.forward(real)
    _, dl = mg.bce_with_logits(logits_real, 0.0)                       # wrong: 0 for real
    D.backward(dl, input_grad=False)
    _, dl = mg.bce_with_logits(D.forward(fake), 1.0)                   # wrong: 1 for fake
    D.backward(dl, input_grad=False)
    oD.step()
    G.zero_grad()
    _, dl = mg.bce_with_logits(D.forward(fake), 1.0)
    G.backward(D.backward(dl, param_grads=False), input_grad=False)
    oG.step()
    return {"d_real": float((1 / (1 + np.exp(-logits_real))).mean())}


good = ring_run(correct_step)
bad = ring_run(swapped_labels)
print(f"bug 1: modes captured {bad[0]}/8 (correct: {good[0]}/8); mean D(x) {bad[1]['d_real']:.2f}"
      f" (correct: {good[1]['d_real']:.2f})")
assert bad[1]["d_real"] < good[1]["d_real"], "swapped labels should lower D's score of the reals"

# %% [markdown]
# ## Bug 2: the discriminator updated during the generator step
#
# Backpropagating G's loss through D *with* D's weight gradients, and
# stepping D's optimizer again, trains D to help G fool it.
# **Symptom:** D's weights move during the G step; D(G(z)) creeps towards
# D(x), and D stops telling them apart. **Fix:** `D.backward(dl,
# param_grads=False)` and only G's optimizer in the G step.

# %%
def d_trained_by_g(G, D, oG, oD, real, z):
    m = gan.gan_step(G, D, oG, oD, real, z)
    D.zero_grad()
    G.zero_grad()
    _, dl = mg.bce_with_logits(D.forward(G.forward(z)), 1.0)
    D.backward(dl)          # wrong: D's grads now point where G wants D to go
    oD.step()               # wrong: and D follows them
    return m


bad = ring_run(d_trained_by_g)
gap = lambda m: m["d_real"] - m["d_fake"]  # noqa: E731
print(f"bug 2: modes captured {bad[0]}/8 (correct {good[0]}/8); D(x) - D(G(z)) = "
      f"{gap(bad[1]):.3f} (correct {gap(good[1]):.3f})")
assert gap(bad[1]) < gap(good[1]), "a D trained by G's loss should tell real from fake less well"

# %% [markdown]
# ## Bug 3: BatchNorm left in training mode when sampling
#
# In training mode BatchNorm normalizes with the statistics of the batch in
# front of it. **Symptom:** a sample depends on the rest of its batch, and a
# batch of one would be normalized to exactly $\beta$, the same image for
# every z (minigan refuses that case outright, as PyTorch does). **Fix:**
# `G.eval()` to sample (running statistics), then `G.train()`; minigan's
# trainer does this.

# %%
G, _ = gan.dcgan(latent_dim=16, width=8, rng=0)
zs = np.random.default_rng(0).standard_normal((8, 16)).astype(np.float32)
try:
    G.forward(zs[:1])
except ValueError as e:
    print("bug 3, one z in training mode:", str(e).split(";")[0])
# the first z, drawn beside three others and then beside three different ones
with_a, with_b = G.forward(zs[:4])[0], G.forward(zs[[0, 5, 6, 7]])[0]
G.eval()
eval_a, eval_b = G.forward(zs[:4])[0], G.forward(zs[[0, 5, 6, 7]])[0]
G.train()
singles_train, singles_eval = np.stack([with_a, with_b]), np.stack([eval_a, eval_b])
print(f"bug 3: the same z in two different batches differs by "
      f"{np.abs(with_a - with_b).max():.2f} in train mode, {np.abs(eval_a - eval_b).max():.1e} "
      f"in eval mode")
assert np.abs(with_a - with_b).max() > 1e-2 and np.array_equal(eval_a, eval_b)

# %% [markdown]
# ## Bug 4: Adam without bias correction
#
# **Symptom:** with $\beta_1 = 0.5$ the first updates are $0.5/\sqrt{0.001}
# \approx 16$ times the learning rate (lesson 04): the first steps throw the
# networks far from their careful initialization.
# **Fix:** divide by $1 - \beta^t$.

# %%
class AdamNoCorrection(optim.Adam):
    def step(self):
        self.step_count += 1
        m, v = self._slot("m"), self._slot("v")
        b1, b2 = self.betas
        for name, p, g in self.params:
            m[name] *= b1
            m[name] += (1 - b1) * g
            v[name] *= b2
            v[name] += (1 - b2) * g * g
            p -= self.lr * m[name] / (np.sqrt(v[name]) + self.eps)


G, D = gan.toy_gan(rng=0)
w0 = G[0].params["W"].copy()
opts = (AdamNoCorrection(G.parameters(), lr=2e-4, betas=(0.5, 0.999)),
        AdamNoCorrection(D.parameters(), lr=2e-4, betas=(0.5, 0.999)))
rng = np.random.default_rng(0)
gan.gan_step(G, D, *opts, data.sample_mixture("ring", 256, rng),
             rng.standard_normal((256, 2)).astype(np.float32))
moved_bad = np.abs(G[0].params["W"] - w0).max()
G, D = gan.toy_gan(rng=0)
opts = (optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999)),
        optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999)))
rng = np.random.default_rng(0)
gan.gan_step(G, D, *opts, data.sample_mixture("ring", 256, rng),
             rng.standard_normal((256, 2)).astype(np.float32))
moved_good = np.abs(G[0].params["W"] - w0).max()
print(f"bug 4: largest first-step weight change {moved_bad:.2e} without correction vs "
      f"{moved_good:.2e} with (lr = 2e-4): {moved_bad / moved_good:.1f}x")
assert moved_bad / moved_good > 10      # about 0.5 / sqrt(1 - 0.999) = 15.8 (lesson 04)

# %% [markdown]
# ## Bug 5: sigmoid, then log, instead of BCE on logits
#
# **Symptom:** once D is confident enough that $\sigma(x)$ underflows to 0 in
# float32 (logits below about $-88.7$, where $e^{-x}$ overflows the largest
# float32, $3.4\cdot 10^{38} = e^{88.72}$, and $1/(1 + \infty) = 0$; the
# smallest float32 could hold $\sigma(x)$ down to about $-103.9$, but this
# formula never gets there), G's loss $-\log\sigma(x)$ becomes
# `inf` and its gradient, computed through the sigmoid as
# $-(1/\sigma)\cdot\sigma(1-\sigma)$, becomes $0/0$ = `nan`, which the next
# update spreads into every weight (the trainer's NaN guard stops there).
# **Fix:** `bce_with_logits` (lesson 03): loss $|x|$ and gradient
# $\sigma(x) - t$, exact at any logit.

# %%
x = np.array([[-20.0], [-60.0], [-120.0]], dtype=np.float32)   # D rejects fakes confidently
with np.errstate(all="ignore"):
    s = 1 / (1 + np.exp(-x))
    naive_loss = -np.log(s)                                      # G's loss, target 1
    naive_grad = -(1 / s) * s * (1 - s)                          # chain rule through sigmoid
_, good_grad = mg.bce_with_logits(x, 1.0)
print("bug 5: G loss via sigmoid+log", naive_loss.ravel(), "| gradient",
      naive_grad.ravel(), "| on logits:", (good_grad * len(x)).ravel())
assert np.isinf(naive_loss[2, 0]) and np.isnan(naive_grad[2, 0])
assert np.allclose(good_grad * len(x), -1.0)          # sigma(x) - 1, exact at any logit
with np.errstate(over="ignore"):
    grid = np.arange(-100, -80, 0.01, dtype=np.float32)
    zero = grid[1 / (1 + np.exp(-grid)) == 0]
print(f"sigma(x) computed as 1/(1 + exp(-x)) in float32 is exactly 0 below x = {zero.max():.2f}")

# %% [markdown]
# ## Not a bug, a habit: noisy labels
#
# The Keras DCGAN tutorial adds noise to D's labels ("an important trick").
# By hand: D's loss on a real sample with target $t$ has gradient
# $\sigma(x) - t$ in the logit $x$. With $t = 1$ a D that is already sure
# ($x = 8$) is still pushed to be surer ($\sigma(8) - 1 < 0$); with a noisy
# target $t = 1 - A u$ (minigan's `--label-noise A`, $u \sim U(0, 1)$) the
# push reverses once $\sigma(x) > t$, so D's confidence stays bounded and G
# keeps a gradient. `--label-flip P` goes further and swaps a share $P$ of
# the targets. Whether that helps a given GAN is an empirical question:
# docs/habits.md has the measurements.

# %%
logits = np.array([[8.0], [2.0], [-1.0]])
u = np.random.default_rng(0).random((3, 1))
targets = 1 - 0.1 * u                                            # --label-noise 0.1
by_hand = (1 / (1 + np.exp(-logits)) - targets) / len(logits)    # d mean BCE / d logit
_, library = gan.objectives.d_real_loss("non-saturating", logits, targets)
print("habit: D's gradient on confident reals, target 1:",
      ((1 / (1 + np.exp(-logits)) - 1) / 3).ravel().round(5), "| noisy targets:",
      by_hand.ravel().round(5))
assert np.allclose(by_hand, library, rtol=1e-12, atol=0)

import matplotlib.pyplot as plt  # noqa: E402

fig, axes = plt.subplots(1, 2, figsize=(7, 3))
axes[0].imshow(np.concatenate(list(singles_train[:, 0]), 1), cmap="gray")
axes[0].set_title("one z, two batches: train mode")
axes[1].imshow(np.concatenate(list(singles_eval[:, 0]), 1), cmap="gray")
axes[1].set_title("one z, two batches: eval mode")
for ax in axes:
    ax.axis("off")
savefig(fig, "14_batchnorm_mode.png")

# %% [markdown]
# ## Try next
#
# * Plant bug 2 with only `D.backward(dl)` (no extra `oD.step()`): why is it
#   harmless in minigan's step but not in a loop that forgets `D.zero_grad()`?
# * Turn on the trainer's NaN guard by planting bug 5 in a copy of
#   `gan/objectives.py` and a large learning rate.
