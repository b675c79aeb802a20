# %% [markdown]
# # Lesson 11 — Numba: the same kernel in NumPy and JIT-compiled
#
# **Goal.** Take one of minigan's hot kernels, the Adam update, write it in
# NumPy and with Numba, check they agree, and measure what compilation buys.
#
# ## Why a loop can beat NumPy
#
# The NumPy version is a sequence of whole-array operations
# (`m *= b1; m += (1-b1)*g; ...`): each reads and writes every element, and
# several allocate temporaries, so the update streams the ~10 MB of a
# parameter tensor through memory about a dozen times. The Numba version is
# one loop over the elements that reads $p, g, m, v$ once and writes
# $p, m, v$ once, compiled to machine code, and split across cores with
# `prange`: each iteration owns its element, so no two threads ever write
# the same memory.
#
# `@njit(cache=True)` stores the compiled code on disk: the first run on a
# machine compiles (seconds), every later process loads it (milliseconds).

# %%
import math
import time

import numpy as np
from numba import njit, prange

from _common import best_ms, savefig, size

from minigan.kernels import numba_cpu, reference


def adam_numpy(p, g, m, v, lr, b1, b2, eps, t):
    m *= b1
    m += (1 - b1) * g
    v *= b2
    v += (1 - b2) * g * g
    p -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)


@njit(cache=True, parallel=True)
def adam_numba(p, g, m, v, lr, b1, b2, eps, t):
    c1, c2 = 1 - b1 ** t, 1 - b2 ** t
    for k in prange(p.size):
        mk = b1 * m[k] + (1 - b1) * g[k]
        vk = b2 * v[k] + (1 - b2) * g[k] * g[k]
        m[k], v[k] = mk, vk
        p[k] -= lr * (mk / c1) / (math.sqrt(vk / c2) + eps)


n = size(3_000_000, 10_000)
rng = np.random.default_rng(0)
g = rng.standard_normal(n).astype(np.float32)
state = [rng.standard_normal(n).astype(np.float32), np.zeros(n, np.float32),
         np.zeros(n, np.float32)]
a = [s.copy() for s in state]
b = [s.copy() for s in state]
c = [s.copy() for s in state]
t0 = time.perf_counter()
adam_numba(b[0], g, b[1], b[2], 2e-4, 0.5, 0.999, 1e-8, 1)
first_call = time.perf_counter() - t0
adam_numpy(a[0], g, a[1], a[2], 2e-4, 0.5, 0.999, 1e-8, 1)
numba_cpu.adam_update(c[0], g, c[1], c[2], 2e-4, 0.5, 0.999, 1e-8, 1, 0.0, 1.0)
print(f"ours vs NumPy: {np.abs(a[0] - b[0]).max():.1e}; ours vs minigan's kernel: "
      f"{np.abs(b[0] - c[0]).max():.1e}")
assert np.allclose(a[0], b[0], atol=1e-6) and np.allclose(b[0], c[0], atol=1e-6)


REPS = size(15, 3)


t_np = best_ms(lambda: adam_numpy(a[0], g, a[1], a[2], 2e-4, 0.5, 0.999, 1e-8, 2), REPS)
t_nb = best_ms(lambda: adam_numba(b[0], g, b[1], b[2], 2e-4, 0.5, 0.999, 1e-8, 2), REPS)
t_ref = best_ms(lambda: reference.adam_update(c[0], g, c[1], c[2], 2e-4, 0.5, 0.999, 1e-8, 2,
                                              0.0, 1.0), REPS)
print(f"{n:,} parameters: NumPy {t_np:.1f} ms (minigan's reference {t_ref:.1f} ms), "
      f"Numba {t_nb:.2f} ms: {t_np / t_nb:.1f}x faster")
print(f"first call (compile or load from the cache): {1e3 * first_call:.0f} ms")

import matplotlib.pyplot as plt  # noqa: E402

plt.figure(figsize=(4.5, 3))
plt.bar(["NumPy", "Numba"], [t_np, t_nb], color=["tab:blue", "tab:orange"])
plt.ylabel("ms per Adam update")
plt.title(f"{n:,} float32 parameters")
savefig(plt, "11_numba_adam.png")

# %% [markdown]
# Run this lesson twice: the second run's first call is fast, because the
# compiled code came from the cache (`__pycache__/*.nbi, *.nbc`).
#
# ## Try next
#
# * Replace `prange` by `range`: what does the second core add?
# * Read `minigan/kernels/numba_cpu.py`: why is `col2im` parallel over
#   channels and not over kernel offsets?
# * Its copy loops index flat views with `np.uint64` indices. Write a loop
#   that copies `x[n, c, h, w]` with plain integer indices, then one with
#   flat unsigned indices, and time both at the dcgan's shapes: Numba checks
#   every signed index for a negative value (Python's `a[-1]`).
# * Time `adam_update` on 1,000 parameters with `numba.set_num_threads(1)`
#   and with 2 threads: waking a thread costs more than small work. How does
#   `numba_cpu._Kernel` avoid paying it? (`python benchmarks/threads.py`
#   measures where the second thread starts to pay.)
