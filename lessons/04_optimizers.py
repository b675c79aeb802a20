# %% [markdown]
# # Lesson 04 — SGD, momentum and Adam
#
# **Goal.** Write the three update rules, check them against
# `minigan.optim`, and see why Adam needs its bias correction, above all
# with the GAN setting $\beta_1 = 0.5$.
#
# ## The rules, for a parameter $\theta$ with gradient $g_t$ at step $t$
#
# * SGD: $\theta \leftarrow \theta - \eta\, g_t$
# * momentum: $v_t = \mu v_{t-1} + g_t$, $\theta \leftarrow \theta - \eta\, v_t$
# * Adam (Kingma & Ba 2015):
#   $m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t$,
#   $v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2$,
#   $\hat m_t = m_t / (1 - \beta_1^t)$, $\hat v_t = v_t / (1 - \beta_2^t)$,
#   $\theta \leftarrow \theta - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)$.
#
# ## Why the correction
#
# $m_0 = v_0 = 0$, so early averages are biased towards 0:
# $E[m_t] = (1 - \beta_1^t) E[g]$ and $E[v_t] = (1 - \beta_2^t) E[g^2]$.
# Without the division, the first step is
# $\eta (1 - \beta_1) g / \sqrt{(1 - \beta_2) g^2} = \eta (1-\beta_1)/\sqrt{1-\beta_2}$
# in size: $3.2\,\eta$ for $(0.9, 0.999)$ and $15.8\,\eta$ for the GAN betas
# $(0.5, 0.999)$. With it, every early step has size about $\eta$.

# %%
import numpy as np

from _common import savefig, size

from minigan import optim


def adam(grad_fn, theta, lr, b1, b2, steps, correct=True, eps=1e-8):
    m, v, path = np.zeros_like(theta), np.zeros_like(theta), [theta.copy()]
    for t in range(1, steps + 1):
        g = grad_fn(theta)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mh, vh = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if correct else (m, v)
        theta = theta - lr * mh / (np.sqrt(vh) + eps)
        path.append(theta.copy())
    return np.array(path)


def momentum(grad_fn, theta, lr, mu, steps):
    v, path = np.zeros_like(theta), [theta.copy()]
    for _ in range(steps):
        v = mu * v + grad_fn(theta)
        theta = theta - lr * v
        path.append(theta.copy())
    return np.array(path)


# An elongated quadratic valley: f = 0.5 * (x^2 + 25 y^2)
def grad(theta):
    return np.array([1.0, 25.0]) * theta


start = np.array([-4.0, 1.5])
n = size(150, 20)

# %% [markdown]
# ## Agreement with minigan.optim

# %%
p = start.copy()
g = np.zeros(2)
opt = optim.Adam([("theta", p, g)], lr=0.1, betas=(0.5, 0.999))
for _ in range(n):
    g[...] = grad(p)
    opt.step()
ours = adam(grad, start, 0.1, 0.5, 0.999, n)[-1]
print(f"Adam after {n} steps: ours {ours}, minigan {p}")
assert np.allclose(ours, p, rtol=1e-10, atol=1e-12)

p = start.copy()
opt = optim.SGD([("theta", p, g)], lr=0.03, momentum=0.9)
for _ in range(n):
    g[...] = grad(p)
    opt.step()
assert np.allclose(momentum(grad, start, 0.03, 0.9, n)[-1], p)
print("momentum SGD agrees too")

# %% [markdown]
# ## Bias correction matters

# %%
for b1 in (0.9, 0.5):
    with_c = np.linalg.norm(np.diff(adam(grad, start, 0.1, b1, 0.999, 5), axis=0), axis=1)
    without = np.linalg.norm(np.diff(adam(grad, start, 0.1, b1, 0.999, 5, correct=False),
                                     axis=0), axis=1)
    print(f"beta1={b1}: first step sizes with correction {np.round(with_c, 3)}, "
          f"without {np.round(without, 3)}")

paths = {"SGD (lr 0.03)": momentum(grad, start, 0.03, 0.0, n),
         "momentum 0.9": momentum(grad, start, 0.03, 0.9, n),
         "Adam (0.5, 0.999)": adam(grad, start, 0.1, 0.5, 0.999, n),
         "Adam, no bias correction": adam(grad, start, 0.1, 0.5, 0.999, n, correct=False)}
for name, path in paths.items():
    print(f"{name:<26} distance to the minimum after {n} steps: "
          f"{np.linalg.norm(path[-1]):.2e}")

import matplotlib.pyplot as plt  # noqa: E402

xs, ys = np.meshgrid(np.linspace(-4.5, 4.5, 100), np.linspace(-2, 2, 100))
plt.figure(figsize=(6, 3.5))
plt.contour(xs, ys, 0.5 * (xs ** 2 + 25 * ys ** 2), levels=15, colors="0.8")
for name, path in paths.items():
    plt.plot(path[:, 0], path[:, 1], ".-", ms=3, label=name)
plt.legend(fontsize=7)
plt.title("f = (x² + 25 y²) / 2")
savefig(plt, "04_optimizers.png")

# %% [markdown]
# On this convex bowl the oversized first steps of uncorrected Adam do no
# lasting harm (read the distances above: it may even end closer). The
# correction matters where early steps have consequences: in a GAN, each
# step changes the other player's problem, and a first step 16 times too
# large throws both networks far from their initialization (lesson 14,
# bug 4, measures it).
#
# ## Try next
#
# * Set $\beta_2 = 0.99$: how much does the correction still change the
#   first step?
# * Give Adam `max_grad_norm=1.0` in `minigan.optim.Adam`: where does
#   clipping change anything on this problem, and why so little?
