# %% [markdown]
# # Lesson 03 — activations, and binary cross-entropy on logits
#
# **Goal.** Derive the backward passes of the activations a GAN uses, then
# the loss every GAN discriminator is trained with, and see why it must be
# computed from logits.
#
# ## Activations
#
# | activation | $y$ | $dy/dx$, written with $y$ |
# |---|---|---|
# | leaky ReLU | $\max(x, a x)$ | $1$ if $y > 0$ else $a$ |
# | tanh | $\tanh x$ | $1 - y^2$ |
# | sigmoid | $\sigma(x) = 1 / (1 + e^{-x})$ | $y (1 - y)$ |
#
# Writing the derivative with the output $y$ means the backward pass only
# needs the forward pass's output: minigan's activations cache nothing else.
#
# ## Binary cross-entropy
#
# D outputs a logit $x$; the probability that the input is real is
# $p = \sigma(x)$. With target $t \in [0, 1]$:
#
# $$ \ell = -t \log p - (1 - t) \log(1 - p). $$
#
# Substituting $\log \sigma(x) = -\log(1 + e^{-x})$ and
# $\log(1 - \sigma(x)) = -x - \log(1 + e^{-x})$:
#
# $$ \ell = (1 - t)\,x + \log(1 + e^{-x}) = \max(x, 0) - x t + \log(1 + e^{-|x|}), $$
#
# the last form being equal for both signs of $x$ and never exponentiating
# a positive number. Its derivative is strikingly simple:
#
# $$ \frac{\partial \ell}{\partial x} = \sigma(x) - t. $$

# %%
import numpy as np

from _common import savefig, size

import minigan as mg
from minigan import gradcheck


def naive_bce(x, t):
    p = 1 / (1 + np.exp(-x))
    return -(t * np.log(p) + (1 - t) * np.log(1 - p))


def stable_bce(x, t):
    return np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))


x = np.array([-200.0, -40.0, -5.0, 0.0, 5.0, 40.0, 200.0], dtype=np.float32)
with np.errstate(all="ignore"):
    print("naive  (t=1):", naive_bce(x, np.float32(1)))
print("stable (t=1):", stable_bce(x, np.float32(1)))
loss, grad = mg.bce_with_logits(x.reshape(-1, 1), 1.0)
print(f"minigan.bce_with_logits mean {loss:.6g} (stable mean "
      f"{stable_bce(x, np.float32(1)).mean():.6g})")
assert np.isclose(loss, stable_bce(x.astype(np.float64), 1.0).mean(), rtol=1e-6)

# %% [markdown]
# The naive form gives `inf` for a confidently wrong logit ($x = -200$,
# where $\sigma(x)$ rounds to 0 and $\log 0 = -\infty$) and, in float32, also
# for $x = 40$ with $t = 0$ (where $1 - \sigma(x)$ rounds to 0). The stable
# form is exact everywhere: a wrong answer at $x$ costs $|x|$.
#
# ## Check the derivations numerically

# %%
rng = np.random.default_rng(0)
for layer in (mg.LeakyReLU(0.2), mg.Tanh(), mg.Sigmoid()):
    xs = rng.standard_normal((4, 6))
    xs[np.abs(xs) < 0.05] = 0.05        # keep off the leaky ReLU's kink
    print(f"{layer!r:<16}", gradcheck.check_layer(layer, xs))
t = rng.uniform(size=(8, 1))
print("bce_with_logits  ", gradcheck.check_loss(mg.bce_with_logits,
                                                 3 * rng.standard_normal((8, 1)), t))

# %% [markdown]
# ## The two losses across the logit range (target t = 0)

# %%
grid = np.linspace(-30, 120, size(600, 50)).astype(np.float32)
with np.errstate(all="ignore"):
    naive = naive_bce(grid, np.float32(0))
stable = stable_bce(grid, np.float32(0))
first_inf = grid[np.isinf(naive)].min() if np.isinf(naive).any() else None
print(f"float32 naive BCE first becomes inf at logit {first_inf}")

import matplotlib.pyplot as plt  # noqa: E402

plt.figure(figsize=(5, 3.5))
plt.plot(grid, np.where(np.isfinite(naive), naive, np.nan), label="naive: sigmoid then log")
plt.plot(grid, stable, "--", label="on logits (stable)")
plt.xlabel("logit x (target 0)")
plt.ylabel("loss")
plt.legend()
plt.title("float32 BCE: the naive form breaks off")
savefig(plt, "03_bce.png")

# %% [markdown]
# ## Try next
#
# * Find the logit at which the naive form's *gradient* first becomes 0
#   while the true gradient is still 1.
# * `mg.bce` (on probabilities) clips $p$ to $[10^{-7}, 1 - 10^{-7}]$: what
#   gradient does it return where the clip is active, and why is that bad for
#   a generator that is being confidently rejected?
