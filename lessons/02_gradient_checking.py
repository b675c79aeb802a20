# %% [markdown]
# # Lesson 02 — gradient checking
#
# **Goal.** Prove a backward pass right with nothing but the definition of a
# derivative, understand how small the error should be, and use
# `minigan.gradcheck` on any layer, including your own.
#
# ## The idea
#
# For a layer $y = f(x)$ and *any* fixed array $dy$, the scalar
# $L(x) = \sum f(x) \odot dy$ has gradient exactly what `backward(dy)`
# returns. Central differences estimate it one entry at a time:
#
# $$ \frac{\partial L}{\partial x_i} \approx \frac{L(x + \varepsilon e_i) - L(x - \varepsilon e_i)}{2\varepsilon}. $$
#
# Taylor's theorem gives the error: the $\varepsilon^2 f'''/6$ terms do not
# cancel (truncation, $O(\varepsilon^2)$), and each evaluation of $L$ is
# rounded to about $u\,|L|$ with $u = 2^{-53} \approx 10^{-16}$ in float64,
# which the division by $2\varepsilon$ magnifies (roundoff,
# $O(u/\varepsilon)$). The total is smallest near
# $\varepsilon \approx u^{1/3} \approx 10^{-5}$ to $10^{-6}$, where the
# relative error is around $10^{-10}$. In float32 ($u \approx 6\cdot10^{-8}$)
# the best achievable is five or more orders of magnitude worse (about
# $10^{-5}$ below, often $10^{-3}$): always check in float64.
#
# We report, per tensor, $\max|a - n| / \max(\max|a|, \max|n|)$.

# %%
import numpy as np

from _common import savefig, size

import minigan as mg
from minigan import gradcheck


def numerical_gradient(f, x, eps):
    """Central differences of the scalar f() with respect to x (in place)."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        fp = f()
        x[i] = old - eps
        fm = f()
        x[i] = old
        g[i] = (fp - fm) / (2 * eps)
    return g


def rel_error(a, n):
    return np.abs(a - n).max() / max(np.abs(a).max(), np.abs(n).max())


# %% [markdown]
# ## Check a convolution by hand
#
# minigan's `Conv2D` backward pass is three lines of matrix algebra
# (`minigan/functional/conv.py`). Check its input gradient with our own
# `numerical_gradient`, then compare with the library's checker.

# %%
rng = np.random.default_rng(0)
conv = mg.Conv2D(2, 3, 3, stride=2, padding=1, rng=0, dtype=np.float64)
x = rng.standard_normal((2, 2, 5, 5))
y = conv.forward(x)
dy = rng.standard_normal(y.shape)
conv.zero_grad()
conv.forward(x)
dx = conv.backward(dy)
ours = rel_error(dx, numerical_gradient(lambda: (conv.forward(x) * dy).sum(), x, 1e-6))
theirs = gradcheck.check_layer(conv, x)
print(f"Conv2D input gradient, our check: {ours:.1e}; minigan.gradcheck: {theirs}")
assert ours < 1e-7 and max(theirs.values()) < 1e-7

# %% [markdown]
# ## The error against epsilon: truncation meets roundoff
#
# A convolution is linear in $x$, so its central differences have no
# truncation error at all (try it: the error only grows as $\varepsilon$
# shrinks). Put a `Tanh` after it to see both effects.

# %%
epsilons = np.logspace(-1, -12, size(23, 6))


def curve(dtype):
    net = mg.Sequential(mg.Conv2D(2, 3, 3, stride=2, padding=1, rng=0, dtype=dtype), mg.Tanh())
    xd, dyd = x.astype(dtype), dy.astype(dtype)
    net.forward(xd)
    analytic = net.backward(dyd).astype(np.float64)
    return [rel_error(analytic, numerical_gradient(
        lambda: float((net.forward(xd) * dyd).sum(dtype=np.float64)), xd, e)) for e in epsilons]


errors64, errors32 = curve(np.float64), curve(np.float32)
best = int(np.argmin(errors64))
print(f"float64: best error {errors64[best]:.1e} at eps = {epsilons[best]:.0e}; "
      f"float32: best {min(errors32):.1e}")

import matplotlib.pyplot as plt  # noqa: E402

plt.figure(figsize=(5, 3.5))
plt.loglog(epsilons, errors64, "o-", label="float64")
plt.loglog(epsilons, errors32, "s-", label="float32")
plt.xlabel("epsilon")
plt.ylabel("max relative error")
plt.title("central differences: truncation vs roundoff")
plt.legend()
savefig(plt, "02_gradcheck_eps.png")

# %% [markdown]
# ## A check must be able to fail
#
# A broken backward pass (the bias gradient doubled) is caught at once:

# %%
class BrokenDense(mg.Dense):
    def backward(self, dy, param_grads=True, input_grad=True):
        dx = super().backward(dy, param_grads, input_grad)
        self.grads["b"] *= 2
        return dx


print("broken layer:", gradcheck.check_layer(BrokenDense(4, 2, rng=0, dtype=np.float64),
                                             rng.standard_normal((3, 4))))

# %% [markdown]
# ## Try next
#
# * Check `mg.BatchNorm` in training mode, then in eval mode: which terms of
#   its backward pass disappear in eval mode?
# * Check a `LeakyReLU` at inputs exactly 0: why does the check fail there?
# * Write a `Square` layer (`y = x**2`), get its backward wrong on purpose,
#   and watch `gradcheck.check_layer` catch it.
