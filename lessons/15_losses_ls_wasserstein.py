# %% [markdown]
# # Lesson 15 — least-squares and Wasserstein losses, compared on the ring
#
# **Goal.** Two answers to the vanishing and unstable gradients of the
# original GAN: the least-squares loss, and the Wasserstein critic with its
# two ways of staying Lipschitz (weight clipping, and a gradient penalty
# whose weight gradient needs a *second-order* backward pass, built here by
# hand). Then all of them on the 8-Gaussian ring of lesson 05, measured.
#
# ## Least squares (Mao et al. 2017)
#
# D outputs a score $x$ (no sigmoid). D regresses real to 1 and fake to 0,
# G pulls its fakes' scores to 1:
#
# $$ L_D = \tfrac12 E[(D(x)-1)^2] + \tfrac12 E[D(G(z))^2], \qquad
#    L_G = \tfrac12 E[(D(G(z))-1)^2]. $$
#
# The gradient with respect to a fake's score is $D(G(z)) - 1$: it grows
# with the distance from the target instead of saturating the way a sigmoid
# does, so fakes far on the "real" side of the boundary are still pulled.
#
# ## Wasserstein (Arjovsky et al. 2017)
#
# The Wasserstein-1 distance has the dual form
# $W(P_r, P_g) = \sup_{\|f\|_L \le 1} E_{P_r}[f(x)] - E_{P_g}[f(x)]$.
# A *critic* $D$ restricted to 1-Lipschitz functions estimates it by
# minimizing $L_D = E[D(G(z))] - E[D(x)]$; the generator minimizes
# $L_G = -E[D(G(z))]$. The per-sample gradients are constants,
# $\partial L_D / \partial D(x) = -1/N$, $\partial L_D/\partial D(G(z)) = +1/N$:
# nothing saturates, but *everything* rests on the Lipschitz constraint.
#
# * **Clipping**: after every critic step, clip each weight to
#   $[-c, c]$, $c = 0.01$. Crude: it bounds the Lipschitz constant only
#   loosely and pushes the weights to $\pm c$.
# * **Gradient penalty** (Gulrajani et al. 2017): add
#   $\lambda\, E_{\hat x}[(\|\nabla_{\hat x} D(\hat x)\| - 1)^2]$ at points
#   $\hat x = \epsilon x + (1-\epsilon) G(z)$, $\epsilon \sim U(0, 1)$.
#
# ## The penalty's gradient, without autograd
#
# With $g_i = \nabla_x D(\hat x_i)$ (a backward pass) and $n_i = \|g_i\|$,
# $P = \lambda \frac1N \sum_i (n_i - 1)^2$ and
# $v_i = \partial P / \partial g_i = \frac{2\lambda}{N}(n_i - 1)\, g_i / n_i$.
# The chain rule through $g$ gives, for the weights $\theta$,
#
# $$ \frac{\partial P}{\partial \theta} = \sum_i v_i \cdot \frac{\partial g_i}{\partial \theta}
#    = \frac{\partial}{\partial \theta}\Big[\sum_i v_i \cdot \nabla_x D(\hat x_i)\Big]_{v \text{ fixed}}, $$
#
# and $v_i \cdot \nabla_x D(\hat x_i)$ is the derivative of $D$'s output
# along the direction $v_i$: a **tangent** (Jacobian-vector product). Each
# layer can carry one forward: for $y = Wx + b$, the tangent is
# $\dot y = W \dot x$; for an elementwise $y = f(x)$, $\dot y = f'(x)\dot x$.
# Backpropagating through the pair $(y, \dot y)$ then gives
#
# $$ \bar W = \bar y\, x^T + \bar{\dot y}\, \dot x^T, \qquad
#    \bar x = f'(x)\,\bar y + f''(x)\,\dot x\,\bar{\dot y}, \qquad
#    \bar{\dot x} = f'(x)\, \bar{\dot y}, $$
#
# where $f'' = 0$ for (leaky) ReLU. That is `jvp_forward` / `jvp_backward`
# in `minigan/layers/affine.py` and `activations.py`; we write the dense
# and ReLU versions here and check them.

# %%
import numpy as np

from _common import savefig, size

import minigan as mg
from minigan import data, gan, gradcheck, metrics, optim


def ls_losses(x_real, x_fake):
    """Least-squares D loss (and its gradients) by hand."""
    n_r, n_f = x_real.size, x_fake.size
    loss = 0.5 * np.mean((x_real - 1) ** 2) + 0.5 * np.mean(x_fake ** 2)
    return loss, (x_real - 1) / n_r, x_fake / n_f


def wasserstein_losses(x_real, x_fake):
    """The critic's loss E[D(fake)] - E[D(real)] and its gradients."""
    loss = x_fake.mean() - x_real.mean()
    return loss, np.full_like(x_real, -1 / x_real.size), np.full_like(x_fake, 1 / x_fake.size)


rng = np.random.default_rng(0)
xr, xf = rng.standard_normal((6, 1)), rng.standard_normal((6, 1))
for name, mine in (("least-squares", ls_losses), ("wgan", wasserstein_losses)):
    loss, dr, df = mine(xr, xf)
    lr_, dr_ = gan.objectives.d_real_loss(name, xr)
    lf_, df_ = gan.objectives.d_fake_loss(name, xf)
    gap = max(abs(loss - lr_ - lf_), np.abs(dr - dr_).max(), np.abs(df - df_).max())
    print(f"{name:<14} hand-written D loss vs minigan.gan.objectives: max difference {gap:.1e}")
    assert gap < 1e-12

# %% [markdown]
# ### The penalty by hand, for a ReLU critic
#
# A two-layer critic $D(x) = w_2 \cdot \mathrm{relu}(W_1 x + b_1) + b_2$.
# Its input gradient is $g = W_1^T (\mathrm{relu}'(h) \odot w_2)$. The
# tangent forward along $v$ is $\dot h = W_1 v$,
# $\dot a = \mathrm{relu}'(h) \odot \dot h$, $\dot y = w_2 \cdot \dot a$;
# its backward from $\bar{\dot y} = 1$ gives
# $\bar w_2 = \dot a$, $\bar{\dot a} = w_2$,
# $\bar{\dot h} = \mathrm{relu}'(h) \odot w_2$, $\bar W_1 = \bar{\dot h} v^T$.

# %%
def penalty_by_hand(W1, b1, w2, x, lam):
    h = x @ W1.T + b1                               # (N, H)
    slope = (h > 0).astype(x.dtype)                 # relu'(h)
    g = (slope * w2) @ W1                           # (N, 2): dD/dx per sample
    n = np.linalg.norm(g, axis=1)
    P = lam * np.mean((n - 1) ** 2)
    v = (2 * lam / len(x)) * ((n - 1) / n)[:, None] * g
    h_dot = v @ W1.T                                # the tangent pass along v
    a_dot = slope * h_dot
    dw2 = a_dot.sum(axis=0)                         # its backward from dy_dot = 1
    dh_dot = slope * w2
    dW1 = dh_dot.T @ v
    return P, dW1, dw2


f64 = np.float64
critic = mg.Sequential(mg.Dense(2, 16, rng=0, dtype=f64), mg.ReLU(), mg.Dense(16, 1, rng=1,
                                                                               dtype=f64))
x_hat = rng.standard_normal((32, 2))
W1, b1 = critic[0].params["W"], critic[0].params["b"]
w2 = critic[2].params["W"][0]
P, dW1, dw2 = penalty_by_hand(W1, b1, w2, x_hat, 10.0)
critic.zero_grad()
P_lib, _ = gan.gradient_penalty(critic, x_hat, weight=10.0)
numeric = gradcheck.numerical_gradient(
    lambda: gan.gradient_penalty(critic, x_hat, 10.0, param_grads=False)[0], W1)
print(f"penalty {P:.6f} (minigan: {P_lib:.6f})")
print(f"dP/dW1: hand vs minigan {gradcheck.rel_error(dW1, critic[0].grads['W']):.1e}, "
      f"hand vs finite differences {gradcheck.rel_error(dW1, numeric):.1e}")
print(f"dP/dw2: hand vs minigan {gradcheck.rel_error(dw2, critic[2].grads['W'][0]):.1e}")
assert gradcheck.rel_error(dW1, numeric) < 1e-6
assert gradcheck.rel_error(dw2, critic[2].grads["W"][0]) < 1e-10

# %% [markdown]
# ## The four objectives on the ring
#
# The toy GAN of lesson 05 (`gan.toy_gan`), batch 256, each objective with
# its paper's settings: Adam 2e-4 (non-saturating, least squares); WGAN with
# RMSprop 5e-5, clip 0.01, 5 critic steps per generator step; WGAN-GP with
# Adam 1e-4, betas (0.5, 0.9), 5 critic steps and $\lambda = 0.1$ (the value
# the WGAN-GP authors used on their own 2D toys; 10 is for images). Every
# run sees the same number of real batches, so the Wasserstein runs make a
# fifth as many generator steps. `gan.gan_step` with a `gan.Game` runs the
# critic steps, the clipping and the penalty.

# %%
batches = size(15000, 60)
means = data.ring_means()
settings = {
    "non-saturating": (gan.Game("non-saturating"), "adam", 2e-4, (0.5, 0.999)),
    "least-squares": (gan.Game("least-squares"), "adam", 2e-4, (0.5, 0.999)),
    "wgan (clip)": (gan.Game("wgan", n_critic=5, clip=0.01), "rmsprop", 5e-5, None),
    "wgan-gp": (gan.Game("wgan-gp", n_critic=5, gp_weight=0.1), "adam", 1e-4, (0.5, 0.9)),
}
results = {}
for name, (game, kind, lr, betas) in settings.items():
    G, D = gan.toy_gan(rng=1)
    make = ((lambda p: optim.RMSprop(p, lr=lr)) if kind == "rmsprop"
            else (lambda p: optim.Adam(p, lr=lr, betas=betas)))
    oG, oD = make(G.parameters()), make(D.parameters())
    rng = np.random.default_rng(1)
    n = game.n_critic
    curve = []
    for t in range(batches // n):
        reals = [data.sample_mixture("ring", 256, rng) for _ in range(n)]
        zs = [rng.standard_normal((256, 2)).astype(np.float32) for _ in range(n)]
        eps = [rng.random((256, 1)).astype(np.float32) for _ in range(n)]
        m = gan.gan_step(G, D, oG, oD, reals, zs, game=game, eps=eps)
        if (t + 1) % max(batches // n // 10, 1) == 0:
            curve.append(((t + 1) * n, m["d_real"] - m["d_fake"]))
    pts = G.forward(rng.standard_normal((2000, 2)).astype(np.float32))
    results[name] = (pts, metrics.mode_metrics(pts, means, 0.01), curve)
    r = results[name][1]
    gaps = "" if n == 1 else (f"; critic gap E[D(x)] - E[D(G(z))] {curve[0][1]:.3g} -> "
                              f"{curve[-1][1]:.3g}" if curve else "")
    print(f"{name:<15} {batches // n:>6} G steps: {r['modes_captured']}/8 modes, high-quality "
          f"share {r['high_quality_share']:.2f}, reverse KL {r['reverse_kl']:.2f}{gaps}")

import matplotlib.pyplot as plt  # noqa: E402

fig, axes = plt.subplots(1, 5, figsize=(18, 3.6))
for ax, (name, (pts, r, _)) in zip(axes, results.items()):
    ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.4)
    ax.scatter(means[:, 0], means[:, 1], c="red", marker="x")
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.6, 1.6)
    ax.set_aspect("equal")
    ax.set_title(f"{name}: {r['modes_captured']}/8, HQ {r['high_quality_share']:.2f}")
for name in ("wgan (clip)", "wgan-gp"):
    c = results[name][2]
    axes[4].plot([s for s, _ in c], [g for _, g in c], "o-", label=name)
axes[4].set_xlabel("real batches seen")
axes[4].set_ylabel("E[D(x)] - E[D(G(z))]")
axes[4].set_title("the critic's Wasserstein estimate")
axes[4].legend()
savefig(fig, "15_losses.png")

# %% [markdown]
# ## What to look for
#
# * The **critic's gap** $E[D(x)] - E[D(G(z))]$ (right) is an estimate of
#   the Wasserstein distance, up to the critic's Lipschitz constant: under
#   the gradient penalty it is on the data's own scale and falls as the
#   generator improves, a loss curve that means something, which the
#   BCE losses never give. Under clipping its scale is set by $c$.
# * **Precision.** The ring's modes have std 0.01; a sample counts as high
#   quality within 0.03 of a mode. A Lipschitz critic is smooth and sees
#   little difference between 0.01 and 0.05 from a mode, so the
#   Wasserstein generators cover the modes but spread around them. Compare
#   the high-quality shares.
# * **Clipping** with $c = 0.01$ leaves a critic that can barely bend: the
#   slowest learner here, as Gulrajani et al. found.
# * **Least squares** keeps the BCE GAN's step and only changes the loss;
#   in a full run here it was the most precise of the four. That ranking is
#   one seed's; the README's table has three seeds of the trainer's
#   variants on the ring and the grid.
#
# `minigan train --model toy --loss wgan-gp` (or `wgan`, `least-squares`,
# `hinge --spectral-norm`, `--pack 2`) runs the same on the ring and the
# grid; the README's table has three seeds of each.
#
# ## Try next
#
# * $\lambda = 10$ for WGAN-GP on the ring: what happens to the spread?
# * Clip at 0.1 instead of 0.01.
# * The least-squares generator with one-sided targets: real 1, fake -1,
#   generator 0 (the paper's other coding).
