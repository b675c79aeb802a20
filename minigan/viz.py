"""Pictures: sample grids, loss curves, the GIF of training, 2D scatter plots.

Files are written atomically (temporary file, then rename) so that a viewer
refreshing them during training never sees half a picture.
"""

import numpy as np

from . import backend
from ._atomic import atomic_write as _atomic


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend, imported on first use
    (it is half a second of every process's start otherwise)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def image_grid(images, nrow=None, pad=2):
    """(N, C, H, W) images in [-1, 1] -> one uint8 (rows*H, cols*W, C) grid."""
    x = backend.to_numpy(images).astype(np.float32)
    N, C, H, W = x.shape
    nrow = nrow or int(np.ceil(np.sqrt(N)))
    ncol = int(np.ceil(N / nrow))
    grid = np.full((ncol * (H + pad) + pad, nrow * (W + pad) + pad, C), 255, np.uint8)
    pix = np.clip((x + 1) * 127.5 + 0.5, 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)
    for k in range(N):
        r, c = divmod(k, nrow)
        grid[pad + r * (H + pad):pad + r * (H + pad) + H,
             pad + c * (W + pad):pad + c * (W + pad) + W] = pix[k]
    return grid


def save_grid(path, images, nrow=None):
    """Save (N, C, H, W) images in [-1, 1] as one PNG grid."""
    grid = image_grid(images, nrow)
    img = grid[..., 0] if grid.shape[2] == 1 else grid
    _atomic(path, lambda p: _pyplot().imsave(p, img, cmap="gray", vmin=0, vmax=255))


def save_points(path, points, means=None, title=None, lim=None):
    """Scatter plot of 2D samples (and the mixture's means) as a PNG."""
    pts = backend.to_numpy(points)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.5, label="generated")
    if means is not None:
        ax.scatter(means[:, 0], means[:, 1], s=30, c="red", marker="x", label="modes")
    if lim:
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    _atomic(path, lambda p: fig.savefig(p))
    plt.close(fig)


def loss_curve(steps, values, smooth=25, points=5000):
    """The drawn curve of one logged series: its moving average over
    ``smooth`` steps (each at its window's last step), every k-th one
    (ending at the last step) so that at most ``points`` are drawn; more do
    not show at a picture's width, and 400,000 would cost seconds a picture."""
    steps, v = np.asarray(steps), np.asarray(values, np.float64)
    if len(v) >= smooth:
        steps = steps[smooth - 1:]
        v = np.convolve(v, np.ones(smooth) / smooth, mode="valid")
    every = max(1, -(-len(v) // points))
    return steps[::-1][::every][::-1], v[::-1][::every][::-1]


def plot_losses(path, steps, d_loss, g_loss, d_real=None, d_fake=None, smooth=25,
                probabilities=True):
    """D and G losses and, if given, mean D(x) and D(G(z)), against the step
    (each as :func:`loss_curve` draws it): probabilities in [0, 1] for the
    BCE objectives, raw critic scores (``probabilities=False``) otherwise."""
    def ma(v):
        return loss_curve(steps, v, smooth)[1]

    s = loss_curve(steps, d_loss, smooth)[0]
    panels = 2 if d_real is not None else 1
    plt = _pyplot()
    fig, axes = plt.subplots(panels, 1, figsize=(7, 3 * panels), dpi=100, sharex=True)
    axes = np.atleast_1d(axes)
    axes[0].plot(s, ma(d_loss), label="D loss")
    axes[0].plot(s, ma(g_loss), label="G loss")
    axes[0].set_ylabel("loss")
    axes[0].legend()
    if d_real is not None:
        axes[1].plot(s, ma(d_real), label="mean D(x)")
        axes[1].plot(s, ma(d_fake), label="mean D(G(z))")
        if probabilities:
            axes[1].set_ylim(0, 1)
        axes[1].set_ylabel("probability" if probabilities else "critic score")
        axes[1].legend()
    axes[-1].set_xlabel("step")
    fig.tight_layout()
    _atomic(path, lambda p: fig.savefig(p))
    plt.close(fig)


def plot_metric(path, epochs, values, name):
    """One score against the epoch (e.g. the classifier FID falling)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3), dpi=100)
    ax.plot(epochs, values, marker="o")
    ax.set_xlabel("epoch")
    ax.set_ylabel(name)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    _atomic(path, lambda p: fig.savefig(p))
    plt.close(fig)


def make_gif(path, frames, seconds_per_frame=0.4):
    """An animated GIF of the PNG files ``frames`` (Pillow, matplotlib's own
    image dependency), looping forever."""
    from PIL import Image
    images = [Image.open(f).convert("RGB") for f in frames]
    if not images:
        return
    _atomic(path, lambda p: images[0].save(p, format="GIF", save_all=True,
                                           append_images=images[1:],
                                           duration=int(1000 * seconds_per_frame), loop=0))
