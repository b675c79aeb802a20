# %% [markdown]
# # Lesson 01 — a dense layer, forward and backward, by hand
#
# **Goal.** Write the forward and backward pass of a fully connected layer
# with nothing but NumPy, check it against minigan's `Dense`, and train it.
#
# ## The forward pass
#
# A batch of $N$ inputs with $I$ features, $x \in \mathbb{R}^{N \times I}$,
# a weight $W \in \mathbb{R}^{O \times I}$ (PyTorch's layout) and a bias
# $b \in \mathbb{R}^{O}$:
#
# $$ y = x W^\top + b, \qquad y_{no} = \sum_i x_{ni} W_{oi} + b_o .$$
#
# ## The backward pass
#
# Backpropagation hands us $\partial L / \partial y$ (call it `dy`, same
# shape as $y$) and asks for the gradients of the same scalar loss $L$ with
# respect to $x$, $W$ and $b$. The chain rule, one index at a time:
#
# $$ \frac{\partial L}{\partial x_{ni}} = \sum_o \frac{\partial L}{\partial y_{no}} W_{oi}
#    \;\Rightarrow\; dx = dy\, W, $$
# $$ \frac{\partial L}{\partial W_{oi}} = \sum_n \frac{\partial L}{\partial y_{no}} x_{ni}
#    \;\Rightarrow\; dW = dy^\top x, $$
# $$ \frac{\partial L}{\partial b_o} = \sum_n \frac{\partial L}{\partial y_{no}}
#    \;\Rightarrow\; db = \textstyle\sum_n dy_{n\cdot}. $$
#
# Every gradient has the shape of what it is the gradient of: a quick
# check of any derivation.

# %%
import numpy as np

from _common import savefig, size

import minigan as mg


def dense_forward(x, W, b):
    return x @ W.T + b, (x, W)


def dense_backward(dy, cache):
    x, W = cache
    return dy @ W, dy.T @ x, dy.sum(axis=0)


# %% [markdown]
# ## Does it agree with minigan?
#
# minigan's `Dense` (`minigan/functional/dense.py`) is the same maths. Give
# both the same weights, input and upstream gradient `dy` (random, never all
# ones: an all-ones `dy` would hide a transposed or mis-summed term).

# %%
rng = np.random.default_rng(0)
layer = mg.Dense(5, 3, rng=0, dtype=np.float64)
x = rng.standard_normal((4, 5))
dy = rng.standard_normal((4, 3))

y, cache = dense_forward(x, layer.params["W"], layer.params["b"])
dx, dW, db = dense_backward(dy, cache)
y_lib = layer.forward(x)
dx_lib = layer.backward(dy)
diff = max(np.abs(y - y_lib).max(), np.abs(dx - dx_lib).max(),
           np.abs(dW - layer.grads["W"]).max(), np.abs(db - layer.grads["b"]).max())
print(f"largest difference from minigan.Dense: {diff:.1e}")
assert diff < 1e-12

# %% [markdown]
# ## And with the definition of a derivative?
#
# Nudge one weight by $\pm\varepsilon$ and watch $L = \sum y \odot dy$ move:
# $(L(W + \varepsilon) - L(W - \varepsilon)) / 2\varepsilon$ must match
# `dW` at that entry. (Lesson 02 makes this systematic.)

# %%
eps = 1e-6
W = layer.params["W"].copy()
W[1, 2] += eps
lp = (dense_forward(x, W, layer.params["b"])[0] * dy).sum()
W[1, 2] -= 2 * eps
lm = (dense_forward(x, W, layer.params["b"])[0] * dy).sum()
numeric = (lp - lm) / (2 * eps)
print(f"dW[1, 2]: analytic {dW[1, 2]:.10f}, numeric {numeric:.10f}")
assert abs(numeric - dW[1, 2]) < 1e-8

# %% [markdown]
# ## Train it
#
# Fit a noisy linear map with the hand-written pair and plain gradient
# descent on the mean squared error $L = \frac{1}{N}\sum (y - t)^2$, whose
# gradient is $dy = \frac{2}{N}(y - t)$.

# %%
true_W = np.array([[2.0, -1.0, 0.5]])
X = rng.standard_normal((256, 3))
T = X @ true_W.T + 0.3 + 0.05 * rng.standard_normal((256, 1))
W, b = 0.1 * rng.standard_normal((1, 3)), np.zeros(1)
losses = []
for step in range(size(200, 20)):
    y, cache = dense_forward(X, W, b)
    losses.append(float(((y - T) ** 2).mean()))
    _, dW, db = dense_backward(2 * (y - T) / len(X), cache)
    W -= 0.1 * dW
    b -= 0.1 * db
print(f"loss {losses[0]:.3f} -> {losses[-1]:.4f}; learned W {np.round(W, 2)}, b {np.round(b, 2)}")

import matplotlib.pyplot as plt  # noqa: E402

plt.figure(figsize=(5, 3))
plt.semilogy(losses)
plt.xlabel("step")
plt.ylabel("mean squared error")
plt.title("a dense layer trained by hand")
savefig(plt, "01_dense_loss.png")

# %% [markdown]
# ## Try next
#
# * Forget the `.T` in `dW = dy.T @ x`: which check catches it, and how?
# * Replace `dy` by `np.ones_like(y)` in the comparison: what still passes?
# * Add a second layer with a ReLU between and fit $t = |x_0|$.
