# %% [markdown]
# # Lesson 07 — convolution, from nested loops to im2col
#
# **Goal.** Write a 2D convolution as the definition says (six nested
# loops), turn it into one matrix product with *im2col*, derive its
# backward pass from that product, and check all of it against minigan.
#
# ## The definition (NCHW, PyTorch's weight layout (OC, C, KH, KW))
#
# $$ y_{n,o,h,w} = b_o + \sum_{c,i,j} W_{o,c,i,j}\; x_{n,c,\,h s + i - p,\,w s + j - p},
#    \qquad OH = \left\lfloor \frac{H + 2p - KH}{s} \right\rfloor + 1 $$
#
# (zero where the index falls into the padding; integer division, always).
#
# ## im2col
#
# Copy every patch the kernel sees into a column: row $(c, i, j)$, column
# $(n, h, w)$ of a matrix `cols` of shape $(C\,KH\,KW,\; N\,OH\,OW)$. Then
# the whole convolution is $Y = W_{\text{mat}}\, \text{cols}$ with
# $W_{\text{mat}} = W$ reshaped to $(OC, C\,KH\,KW)$: one BLAS call.
#
# ## Backward, from the matrix form
#
# With $dY$ the upstream gradient in the same $(OC, N\,OH\,OW)$ layout,
# lesson 01's dense-layer rules apply to the product:
# $dW_{\text{mat}} = dY\, \text{cols}^\top$ and
# $d\text{cols} = W_{\text{mat}}^\top dY$; then *col2im* (the adjoint of
# im2col) adds each column entry back to the pixel it was copied from,
# summing where patches overlap: that sum is $dx$.

# %%
import time

import numpy as np

from _common import savefig, size

import minigan as mg
from minigan.kernels import reference


def conv_loops(x, W, b, s, p):
    N, C, H, Wd = x.shape
    OC, _, KH, KW = W.shape
    OH, OW = (H + 2 * p - KH) // s + 1, (Wd + 2 * p - KW) // s + 1
    y = np.zeros((N, OC, OH, OW))
    for n in range(N):
        for o in range(OC):
            for h in range(OH):
                for w in range(OW):
                    acc = b[o]
                    for c in range(C):
                        for i in range(KH):
                            for j in range(KW):
                                hh, ww = h * s + i - p, w * s + j - p
                                if 0 <= hh < H and 0 <= ww < Wd:
                                    acc += W[o, c, i, j] * x[n, c, hh, ww]
                    y[n, o, h, w] = acc
    return y


def im2col(x, KH, KW, s, p):
    N, C, H, Wd = x.shape
    OH, OW = (H + 2 * p - KH) // s + 1, (Wd + 2 * p - KW) // s + 1
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    cols = np.empty((C, KH, KW, N, OH, OW))
    for i in range(KH):                 # loop over kernel offsets only:
        for j in range(KW):             # each is one strided slice of the image
            cols[:, i, j] = xp[:, :, i:i + s * OH:s, j:j + s * OW:s].transpose(1, 0, 2, 3)
    return cols.reshape(C * KH * KW, N * OH * OW)


def conv_im2col(x, W, b, s, p):
    N = x.shape[0]
    OC, C, KH, KW = W.shape
    cols = im2col(x, KH, KW, s, p)
    y2 = W.reshape(OC, -1) @ cols + b[:, None]
    OH, OW = (x.shape[2] + 2 * p - KH) // s + 1, (x.shape[3] + 2 * p - KW) // s + 1
    return y2.reshape(OC, N, OH, OW).transpose(1, 0, 2, 3)


rng = np.random.default_rng(0)
N, C, OC, H = size(4, 2), 3, 8, size(14, 7)
x = rng.standard_normal((N, C, H, H))
layer = mg.Conv2D(C, OC, 5, stride=2, padding=2, rng=0, dtype=np.float64)
W, b = layer.params["W"], layer.params["b"]

t0 = time.perf_counter()
y_loops = conv_loops(x, W, b, 2, 2)
t1 = time.perf_counter()
y_cols = conv_im2col(x, W, b, 2, 2)
t2 = time.perf_counter()
y_lib = layer.forward(x)
print(f"loops vs im2col: max difference {np.abs(y_loops - y_cols).max():.1e}; "
      f"im2col vs minigan.Conv2D: {np.abs(y_cols - y_lib).max():.1e}")
print(f"nested loops {1e3 * (t1 - t0):.1f} ms, im2col {1e3 * (t2 - t1):.2f} ms: "
      f"{(t1 - t0) / (t2 - t1):.0f}x faster")
assert np.abs(y_loops - y_lib).max() < 1e-12
assert np.array_equal(im2col(x, 5, 5, 2, 2), reference.im2col(x, 5, 5, 2, 2))

# %% [markdown]
# ## The backward pass, checked

# %%
dy = rng.standard_normal(y_lib.shape)
dY = dy.transpose(1, 0, 2, 3).reshape(OC, -1)
cols = im2col(x, 5, 5, 2, 2)
dW = (dY @ cols.T).reshape(W.shape)
dx = reference.col2im(W.reshape(OC, -1).T @ dY, x.shape, 5, 5, 2, 2)
dx_lib = layer.backward(dy)
print(f"dW vs minigan: {np.abs(dW - layer.grads['W']).max():.1e}; "
      f"dx vs minigan: {np.abs(dx - dx_lib).max():.1e}")
assert np.abs(dW - layer.grads["W"]).max() < 1e-10 and np.abs(dx - dx_lib).max() < 1e-10

import matplotlib.pyplot as plt  # noqa: E402

fig, axes = plt.subplots(1, 2, figsize=(8, 3))
axes[0].imshow(cols[:, :64], aspect="auto", cmap="gray")
axes[0].set_title("cols: rows (c, i, j), first 64 columns")
axes[1].imshow(dx[0, 0], cmap="gray")
axes[1].set_title("dx[0, 0]: col2im sums overlaps")
savefig(fig, "07_im2col.png")

# %% [markdown]
# ## Try next
#
# * Count the multiply-adds of the loops and of the product: why is the
#   product so much faster when both do the same arithmetic?
# * The memory cost: how large is `cols` for a batch of 256 images of
#   64 x 14 x 14 with a 5 x 5 kernel? (See `minigan/kernels/workspace.py`.)
