# %% [markdown]
# # Lesson 08 — transposed convolution is the adjoint of convolution
#
# **Goal.** Understand the layer that makes a DCGAN generator *grow* images:
# it is not a deconvolution and not an inverse, but the **adjoint** (the
# transpose) of a convolution.
#
# ## The idea
#
# For a fixed weight, convolution is a linear map $x \mapsto y = A x$ from
# images of size $H$ to images of size $OH$. Its adjoint $A^\top$ goes the
# other way, from size $OH$ back to size $H$, and is characterised by
#
# $$ \langle A x, y \rangle = \langle x, A^\top y \rangle \quad \text{for all } x, y. $$
#
# In lesson 07 we already met $A^\top$: it is the convolution's input
# gradient, $dx = \text{col2im}(W_{\text{mat}}^\top\, dY)$. So
#
# * transposed-convolution forward = convolution's input-gradient, and
# * transposed-convolution input-gradient = convolution forward.
#
# Its output size inverts the convolution's:
# $OH = (H - 1)s - 2p + K + \text{op}$, where the *output padding*
# $0 \le \text{op} < s$ picks one of the $s$ sizes that a strided
# convolution maps to the same $H$. The DCGAN generator uses
# $K = 5, s = 2, p = 2, \text{op} = 1$: $7 \to 14 \to 28$.

# %%
import numpy as np

from _common import savefig, size

import minigan as mg
from minigan.kernels import reference

rng = np.random.default_rng(0)
C, OC, K, s, p, op = 3, 4, 5, 2, 2, 1
conv = mg.Conv2D(C, OC, K, stride=s, padding=p, bias=False, rng=0, dtype=np.float64)
convT = mg.ConvTranspose2D(OC, C, K, stride=s, padding=p, output_padding=op, bias=False,
                           dtype=np.float64)
convT.params["W"][...] = conv.params["W"]         # the same weight, (OC, C, K, K)

x = rng.standard_normal((2, C, 14, 14))
y = rng.standard_normal((2, OC, 7, 7))
lhs = float((conv.forward(x) * y).sum())
rhs = float((x * convT.forward(y)).sum())
print(f"<conv(x), y> = {lhs:.12f}\n<x, convT(y)> = {rhs:.12f}\nrelative gap "
      f"{abs(lhs - rhs) / abs(lhs):.1e}")
assert abs(lhs - rhs) < 1e-10 * abs(lhs)

# %% [markdown]
# ## Transposed convolution forward = convolution input-gradient

# %%
conv.forward(x)
dx = conv.backward(y)                      # upstream gradient y
print(f"convT(y) vs conv's input gradient for dy = y: "
      f"{np.abs(convT.forward(y) - dx).max():.1e}")
by_hand = reference.col2im(conv.params["W"].reshape(OC, -1).T
                           @ y.transpose(1, 0, 2, 3).reshape(OC, -1), x.shape, K, K, s, p)
assert np.abs(by_hand - dx).max() < 1e-12

# %% [markdown]
# ## What it does to one pixel
#
# A single 1 in the input paints one copy of the kernel in the output,
# shifted by the stride: upsampling by "stamping" kernels. Where stamps
# overlap they add up, which is where the checkerboard artefacts of
# transposed convolutions come from when $K$ is not a multiple of $s$.

# %%
one = mg.ConvTranspose2D(1, 1, 4, stride=2, padding=1, bias=False, dtype=np.float64)
one.params["W"][...] = 1.0
stamped = one.forward(np.ones((1, 1, size(8, 4), size(8, 4))))
print("4x4 kernel of ones, stride 2, on a constant image: values",
      np.unique(stamped[0, 0, 2:-2, 2:-2]))

import matplotlib.pyplot as plt  # noqa: E402

odd = mg.ConvTranspose2D(1, 1, 3, stride=2, padding=1, output_padding=1, bias=False,
                         dtype=np.float64)
odd.params["W"][...] = 1.0
fig, axes = plt.subplots(1, 2, figsize=(7, 3.2))
axes[0].imshow(stamped[0, 0], cmap="gray")
axes[0].set_title("K=4, s=2: even overlap")
axes[1].imshow(odd.forward(np.ones((1, 1, size(8, 4), size(8, 4))))[0, 0], cmap="gray")
axes[1].set_title("K=3, s=2: checkerboard")
savefig(fig, "08_checkerboard.png")

# %% [markdown]
# ## Try next
#
# * Check $\langle A x, y\rangle = \langle x, A^\top y\rangle$ for stride 3
#   and output padding 2.
# * Why must the output padding be smaller than the stride?
