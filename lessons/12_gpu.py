# %% [markdown]
# # Lesson 12 — the GPU: one thread per output element
#
# **Goal.** See what changes when a kernel runs on a GPU instead of two CPU
# cores, by writing two of minigan's kernels the GPU way: the Adam update
# (elementwise, the easy case) and `col2im` (the fold that sums overlapping
# patches, the hard case). Everything the GPU kernels compute is first
# written and proven here on the CPU, and the library's CUDA sources
# themselves are executed on the CPU by a host harness; only the GPU timing
# needs a GPU, and without one it says so and skips.
#
# ## The model
#
# A GPU runs one small program, the *kernel*, on thousands of threads at
# once; thread $i$ knows only its index. The natural unit is therefore **one
# thread per output element**: thread $i$ computes output $i$ from whatever
# inputs it needs, and writes nothing else. Two consequences:
#
# * elementwise kernels (Adam, activations) map one-to-one: thread $i$
#   updates $p_i, m_i, v_i$;
# * a kernel that *adds into* shared outputs (a scatter) breaks: two threads
#   doing `x[k] += a` at once read the same old value and one addition is
#   lost, unless every addition is an atomic operation (slow, and in
#   floating point its order, hence the rounding, changes from run to run).
#
# `col2im` is such a scatter in its natural form: every column entry is
# added into the pixel it was read from, and neighbouring patches overlap.
# The fix is to turn it around into a **gather**: the thread of output pixel
# $(n, c, h, w)$ finds every column entry that was read from it and sums
# them itself. With padding $p$, stride $s$ and the padded coordinate
# $h' = h + p$, the patch rows that cover $h'$ are the kernel offsets $i$
# with $h' - i \ge 0$, $(h' - i) \bmod s = 0$ and $o_h = (h' - i)/s < OH$,
# and likewise for $w$. Each pixel sums at most $KH \cdot KW$ entries, no
# two threads write the same place, and the order of the sum is fixed.

# %%
import numba
import numpy as np

from _common import best_ms, savefig, size

from minigan.kernels import numba_cpu, reference
from minigan.kernels.reference import conv_output_size

# %% [markdown]
# ## A lost update, on the CPU
#
# NumPy's `x[idx] += a` with repeated indices behaves like the racing
# threads: each repeated index reads the old value once, so only one of the
# additions survives. `np.add.at` is the "atomic" version.

# %%
idx = np.array([0, 1, 1, 1, 2])
racy = np.zeros(3)
racy[idx] += 1.0
atomic = np.zeros(3)
np.add.at(atomic, idx, 1.0)
print(f"x[idx] += 1 with idx {idx.tolist()}: {racy.tolist()}  (np.add.at: {atomic.tolist()})")
assert racy[1] == 1.0 and atomic[1] == 3.0

# %% [markdown]
# ## col2im as a gather
#
# The function below is written exactly as one GPU thread would run it:
# `idx` is the thread's index, the loop body is the kernel. Numba runs the
# threads as a parallel loop on the CPU, so the index arithmetic is tested
# here before it ever reaches a GPU (the CUDA text further down is the same
# arithmetic, line for line).

# %%
@numba.njit(parallel=True, cache=True)
def col2im_gather(cols, N, C, H, W, KH, KW, s, p, OH, OW, out):
    total = N * OH * OW
    for idx in numba.prange(N * C * H * W):          # one "thread" per output pixel
        w = idx % W
        t = idx // W
        h = t % H
        t //= H
        c = t % C
        n = t // C
        hp, wp = h + p, w + p
        acc = 0.0
        for ki in range(KH):
            dh = hp - ki
            if dh < 0 or dh % s != 0 or dh // s >= OH:
                continue
            oh = dh // s
            for kj in range(KW):
                dw = wp - kj
                if dw < 0 or dw % s != 0 or dw // s >= OW:
                    continue
                ow = dw // s
                acc += cols[((c * KH + ki) * KW + kj) * total + (n * OH + oh) * OW + ow]
        out[idx] = acc


def col2im_by_gather(cols, x_shape, KH, KW, s, p):
    N, C, H, W = x_shape
    OH, OW = conv_output_size(H, KH, s, p), conv_output_size(W, KW, s, p)
    out = np.empty(N * C * H * W, dtype=cols.dtype)
    col2im_gather(np.ascontiguousarray(cols).reshape(-1), N, C, H, W, KH, KW, s, p, OH, OW, out)
    return out.reshape(x_shape)


rng = np.random.default_rng(0)
worst = 0.0
for (N, C, H, W, K, s, p) in [(2, 3, 7, 7, 5, 2, 2), (1, 2, 6, 5, 3, 1, 1), (3, 4, 14, 14, 5, 2, 2),
                              (2, 1, 9, 9, 4, 3, 0)]:
    OH, OW = conv_output_size(H, K, s, p), conv_output_size(W, K, s, p)
    cols = rng.standard_normal((C * K * K, N * OH * OW))
    mine = col2im_by_gather(cols, (N, C, H, W), K, K, s, p)
    lib = reference.col2im(cols, (N, C, H, W), K, K, s, p)
    worst = max(worst, float(np.abs(mine - lib).max()))
print(f"gather col2im vs minigan's reference col2im (scatter), float64, 4 shapes: max "
      f"difference {worst:.1e}")
assert worst < 1e-12

# %% [markdown]
# On two CPU cores the gather costs more than the library's Numba col2im
# (which loops over the kernel offsets and adds whole rows, friendly to a
# CPU's caches), because each pixel re-derives its sources. A GPU pays
# nothing for that arithmetic next to what it saves: no atomics, full
# parallelism over $N \cdot C \cdot H \cdot W$ threads.

# %%
shape, K, s, p = (size(64, 4), 64, 14, 14), 5, 2, 2
OH = conv_output_size(14, K, s, p)
cols32 = rng.standard_normal((64 * K * K, shape[0] * OH * OH)).astype(np.float32)


REPS = size(7, 2)
cpu = {
    "col2im, numpy reference": best_ms(lambda: reference.col2im(cols32, shape, K, K, s, p),
                                       REPS, warmup=True),
    "col2im, numba (library)": best_ms(lambda: numba_cpu.col2im(cols32, shape, K, K, s, p),
                                       REPS, warmup=True),
    "col2im, numba gather": best_ms(lambda: col2im_by_gather(cols32, shape, K, K, s, p),
                                    REPS, warmup=True),
}
for name, ms in cpu.items():
    print(f"{name:<28} {ms:8.2f} ms   (batch {shape[0]}, 64 channels, 14x14, 5x5 s2)")

# %% [markdown]
# ## The same two kernels for the GPU: minigan's own, run here on the CPU
#
# `cupy.ElementwiseKernel` compiles a few lines of CUDA C++ into a kernel
# that runs once per thread, with the thread's index in `i`; `raw` marks an
# array that the thread indexes itself. minigan keeps each of its kernels as
# such a spec (`minigan/kernels/cupy_gpu.py`): col2im is the gather above,
# Adam the elementwise case. The **host harness**
# (`minigan/kernels/cuda_host.py`) runs the very same text on any machine: it
# wraps the body in a C++ loop, one pass per thread, checks every array
# index, and compiles it with g++. So these kernels are executed here, not
# just printed, and on a GPU the same text runs through CuPy.

# %%
from minigan.kernels import cuda_host, cupy_gpu  # noqa: E402

print(cupy_gpu.COL2IM.body)
N, C, H, W, K, s_, p_ = 2, 3, 7, 7, 5, 2, 2
OH = conv_output_size(H, K, s_, p_)
cols_small = rng.standard_normal((C * K * K, N * OH * OH))
x_host = np.full((N, C, H, W), np.nan)                # an unwritten element would stay NaN
cuda_host.run(cupy_gpu.COL2IM, [cols_small, C, H, W, K, K, s_, p_, OH, OH, N * OH * OH,
                                x_host], x_host.size)
err = float(np.abs(x_host - reference.col2im(cols_small, (N, C, H, W), K, K, s_, p_)).max())
print(f"col2im's CUDA source, run on the CPU by the host harness, vs the reference: max "
      f"difference {err:.1e}")
assert err < 1e-12

n = 1000
p_h, g_h = rng.standard_normal(n), rng.standard_normal(n)
m_h, v_h = np.zeros(n), np.zeros(n)
p_k, m_k, v_k = p_h.copy(), m_h.copy(), v_h.copy()
for step in (1, 2):
    reference.adam_update(p_h, g_h * step, m_h, v_h, 1e-3, 0.9, 0.999, 1e-8, step, 0.0, 1.0)
    cuda_host.run(cupy_gpu.ADAM, [g_h * step, 1e-3, 0.9, 0.999, 1e-8, 1 - 0.9 ** step,
                                  1 - 0.999 ** step, 0.0, 1.0, p_k, m_k, v_k], n)
err = float(np.abs(p_k - p_h).max())
print(f"Adam's CUDA source on the CPU vs the reference, 2 steps: max difference {err:.1e}")
assert err < 1e-12


# %%
def gpu_or_none():
    """CuPy with a working GPU, or None (with the reason printed)."""
    try:
        import cupy
        cupy.cuda.runtime.getDeviceCount()
        cupy.zeros(1).sum()                          # fails without a usable device
        return cupy
    except Exception as e:                           # ImportError, CUDA errors
        print(f"no GPU here ({type(e).__name__}: {str(e).splitlines()[0][:80]}): the GPU "
              f"timing is skipped (the kernels above ran on the CPU)")
        return None


cp = gpu_or_none()
gpu = {}
if cp is not None:
    from cupyx.profiler import benchmark
    col2im_gpu = cp.ElementwiseKernel(cupy_gpu.COL2IM.in_params, cupy_gpu.COL2IM.out_params,
                                      cupy_gpu.COL2IM.body, cupy_gpu.COL2IM.name)
    cols_d = cp.asarray(cols32)
    x_d = cp.full(shape, cp.nan, cp.float32)
    args = (cols_d, 64, 14, 14, K, K, s, p, OH, OH, shape[0] * OH * OH, x_d)
    col2im_gpu(*args, size=x_d.size)
    err = float(np.abs(cp.asnumpy(x_d) - reference.col2im(cols32, shape, K, K, s, p)).max())
    print(f"col2im gather on the GPU vs the reference: max difference {err:.1e}")
    assert err < 1e-4
    r = benchmark(lambda: col2im_gpu(*args, size=x_d.size), (), n_repeat=50)
    gpu["col2im, CuPy gather (GPU)"] = 1e3 * float(np.median(r.gpu_times))
    print(f"{'col2im, CuPy gather (GPU)':<28} {gpu['col2im, CuPy gather (GPU)']:8.3f} ms")

# %%
import matplotlib.pyplot as plt  # noqa: E402

times = {**cpu, **gpu}
fig, ax = plt.subplots(figsize=(7, 3))
ax.barh(list(times), list(times.values()),
        color=["C0"] * len(cpu) + ["C2"] * len(gpu))
ax.set_xlabel("milliseconds (best of repeats)")
ax.set_title("col2im at the DCGAN's shape" + ("" if gpu else " (no GPU here)"))
savefig(fig, "12_gpu.png")

# %% [markdown]
# ## What to look for
#
# * The gather and the scatter agree exactly here: both add each pixel's
#   terms in the order of the kernel offsets. The gather keeps that fixed
#   order on a GPU, so it gives the same bits every run; an atomic scatter
#   adds in whatever order the threads arrive.
# * On the CPU the gather is slower than the library's loop over kernel
#   offsets: the best algorithm depends on the machine. A GPU turns that
#   around.
# * Moving data costs too: copy the batch to the GPU once per step and keep
#   weights, gradients and optimizer state there, or the copies cost more
#   than the kernels save.
#
# ## Try next
#
# * Write the leaky-ReLU backward (`kernels/reference.py`) as an
#   `ElementwiseKernel`.
# * Time `cupy.matmul` against `numpy.matmul` at the DCGAN's GEMM shapes:
#   most of a GAN step is matrix products.
# * Make the gather faster on the CPU by looping over output rows instead of
#   pixels, and measure.
