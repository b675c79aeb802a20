# %% [markdown]
# # Lesson 09 — BatchNorm and Dropout, backward
#
# **Goal.** Derive BatchNorm's backward pass (the one with a surprise:
# every output depends on every input of its channel), write both layers by
# hand, and check them against minigan and against numerical derivatives.
#
# ## BatchNorm forward (training mode), per channel over $M$ values
#
# $$ \mu = \tfrac1M \sum_k x_k,\quad \sigma^2 = \tfrac1M \sum_k (x_k - \mu)^2,\quad
#    \hat x_k = \frac{x_k - \mu}{\sqrt{\sigma^2 + \epsilon}},\quad y_k = \gamma \hat x_k + \beta. $$
#
# ## Backward
#
# $d\beta = \sum_k dy_k$ and $d\gamma = \sum_k dy_k \hat x_k$ are direct.
# For $dx$, $\mu$ and $\sigma^2$ depend on every $x_k$, so go back through
# the forward pass one node at a time. Write $s = 1/\sqrt{\sigma^2+\epsilon}$.
#
# 1. Into $\hat x$: $\; d\hat x_k = \gamma\, dy_k$.
# 2. Into $\sigma^2$, which reaches every $\hat x_k = (x_k - \mu)\, s$
#    through $s$, with $ds/d\sigma^2 = -\tfrac12 s^3$:
#    $$ d\sigma^2 = \sum_k d\hat x_k\,(x_k - \mu)\cdot\big(-\tfrac12 s^3\big). $$
# 3. Into $\mu$, which reaches every $\hat x_k$ directly (factor $-s$) and
#    $\sigma^2$ (factor $\partial\sigma^2/\partial\mu = -\tfrac2M\sum_k (x_k - \mu) = 0$):
#    $$ d\mu = -s \sum_k d\hat x_k + d\sigma^2 \cdot 0 . $$
# 4. Into $x_k$, along its three paths ($\hat x_k$ directly, $\sigma^2$ with
#    $\partial\sigma^2/\partial x_k = \tfrac2M (x_k - \mu)$, $\mu$ with
#    $\partial\mu/\partial x_k = \tfrac1M$):
#    $$ dx_k = d\hat x_k\, s + d\sigma^2\, \tfrac2M (x_k - \mu) + d\mu\, \tfrac1M . $$
#
# Substituting steps 2 and 3 into 4, with $x_k - \mu = \hat x_k / s$ and
# $g_k = d\hat x_k = \gamma\, dy_k$, the terms collect into
#
# $$ dx_k = \frac{s}{M}\Big( M g_k - \sum_j g_j - \hat x_k \sum_j g_j \hat x_j \Big)
#        = \frac{\gamma s}{M}\big( M\, dy_k - d\beta - \hat x_k\, d\gamma \big). $$
#
# (`bn_backward_steps` below computes steps 1-4 literally, and the test
# checks that the two forms agree.) Read it as: the gradient with its mean
# and its component along $\hat x$
# removed (normalizing makes the output blind to shifts and scalings of the
# input). In eval mode $\mu$, $\sigma^2$ are fixed running statistics and
# $dx = \gamma s\, dy$.
#
# ## Dropout (inverted)
#
# $y = x \odot m$ with $m_k = 1/(1-p)$ with probability $1 - p$, else 0, so
# that $E[y] = x$ and eval mode is the identity; $dx = dy \odot m$.

# %%
import numpy as np

from _common import savefig, size

import minigan as mg
from minigan import gradcheck


def bn_forward(x, gamma, beta, eps=1e-5):          # x: (N, C)
    mu, var = x.mean(0), x.var(0)
    s = 1 / np.sqrt(var + eps)
    xhat = (x - mu) * s
    return gamma * xhat + beta, (xhat, s, gamma)


def bn_backward(dy, cache):
    xhat, s, gamma = cache
    M = len(dy)
    dbeta, dgamma = dy.sum(0), (dy * xhat).sum(0)
    return gamma * s / M * (M * dy - dbeta - xhat * dgamma), dgamma, dbeta


def bn_backward_steps(dy, x, gamma, eps=1e-5):
    """The same dx, node by node: x-hat, then the variance, the mean, x."""
    M = x.shape[0]
    mu, var = x.mean(0), x.var(0)
    s = 1 / np.sqrt(var + eps)
    dxhat = gamma * dy                                           # step 1
    dvar = (dxhat * (x - mu)).sum(0) * (-0.5 * s**3)             # step 2
    dmu = -s * dxhat.sum(0) + dvar * (-2 / M) * (x - mu).sum(0)  # step 3 (the last sum is 0)
    return dxhat * s + dvar * 2 / M * (x - mu) + dmu / M         # step 4


rng = np.random.default_rng(0)
N, C = size(16, 6), 5
x = rng.normal(2, 3, (N, C))
gamma, beta = rng.uniform(0.5, 1.5, C), rng.standard_normal(C)
dy = rng.standard_normal((N, C))

bn = mg.BatchNorm(C, dtype=np.float64)
bn.params["gamma"][...], bn.params["beta"][...] = gamma, beta
y, cache = bn_forward(x, gamma, beta)
dx, dgamma, dbeta = bn_backward(dy, cache)
y_lib = bn.forward(x)
dx_lib = bn.backward(dy)
print(f"forward vs minigan {np.abs(y - y_lib).max():.1e}, dx {np.abs(dx - dx_lib).max():.1e}, "
      f"dgamma {np.abs(dgamma - bn.grads['gamma']).max():.1e}")
assert np.abs(dx - dx_lib).max() < 1e-12
dx_steps = bn_backward_steps(dy, x, gamma)
print(f"steps 1-4 against the collected formula: {np.abs(dx_steps - dx).max():.1e}")
assert np.abs(dx_steps - dx).max() < 1e-12
print("numerical check of minigan.BatchNorm:", gradcheck.check_layer(bn, x))
print("the removed components: sum of dx per channel", np.abs(dx.sum(0)).max().round(12),
      "| <dx, xhat> per channel", np.abs((dx * cache[0]).sum(0)).max().round(9),
      "(zero up to eps = 1e-5: sum(xhat**2) = M var / (var + eps), not exactly M)")

# %% [markdown]
# ## Dropout

# %%
d = mg.Dropout(0.3, rng=1)
xs = rng.standard_normal((size(2000, 50), 50))
ys = d.forward(xs)
kept = ys != 0
print(f"dropped share {1 - kept.mean():.3f} (p = 0.3); survivors scaled by "
      f"{(ys[kept] / xs[kept]).mean():.4f} (1/0.7 = {1 / 0.7:.4f})")
print("numerical check of minigan.Dropout:", gradcheck.check_layer(mg.Dropout(0.3, rng=2),
                                                                   rng.standard_normal((4, 6))))

# %% [markdown]
# ## Train mode versus eval mode
#
# After some training batches the running statistics approach the data's;
# sampling a generator in train mode instead normalizes with the *batch's*
# statistics, so one sample depends on the others in its batch.

# %%
bn2 = mg.BatchNorm(1, momentum=0.1, dtype=np.float64)
trace = []
for _ in range(size(60, 10)):
    bn2.forward(rng.normal(5.0, 2.0, (32, 1)))
    trace.append((bn2.buffers["running_mean"][0], bn2.buffers["running_var"][0]))
print(f"running mean {trace[-1][0]:.2f} (data 5), running var {trace[-1][1]:.2f} (data 4)")

import matplotlib.pyplot as plt  # noqa: E402

plt.figure(figsize=(5, 3))
plt.plot([m for m, _ in trace], label="running mean")
plt.plot([v for _, v in trace], label="running var")
plt.axhline(5, ls=":", c="0.5")
plt.axhline(4, ls=":", c="0.5")
plt.xlabel("training batches")
plt.legend()
plt.title("BatchNorm running statistics, momentum 0.1")
savefig(plt, "09_running_stats.png")

# %% [markdown]
# ## Try next
#
# * Derive $dx$ for BatchNorm over (N, C, H, W): what is $M$ now?
# * Sample a DCGAN generator in train mode with batches of 1 and of 64:
#   what happens to a batch of 1? (Lesson 14.)
