"""Shared by the lessons: smoke mode and the output folder.

``MINIGAN_SMOKE=1`` makes every lesson run with tiny sizes and few steps (the
test suite runs them that way, so a broken lesson fails CI).
"""

import os
import time

SMOKE = os.environ.get("MINIGAN_SMOKE") == "1"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
os.makedirs(OUT, exist_ok=True)


def size(full, smoke):
    """``full`` normally, ``smoke`` in smoke mode."""
    return smoke if SMOKE else full


def out(name):
    """Path of a figure under lessons/out/."""
    return os.path.join(OUT, name)


def savefig(fig, name):
    """Lay out ``fig`` (a Figure, or pyplot for the current one), save it as
    lessons/out/NAME and say where it went."""
    fig.tight_layout()
    fig.savefig(out(name))
    print("figure:", out(name))


def best_ms(fn, repeat, warmup=False):
    """The fastest of ``repeat`` calls of ``fn()``, in milliseconds (the
    minimum is the least disturbed by other work on a shared machine);
    ``warmup`` makes one untimed call first (JIT compilation, caches)."""
    if warmup:
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * min(times)


def ring_panels(results, means, colour_by, name):
    """Side-by-side scatter plots of 2D samples on the ring, its modes marked
    with red crosses: ``results`` maps a title to ``(points, colours)``
    (colours None: one colour; else a number per point, named ``colour_by``).
    Saved as lessons/out/NAME."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4 * len(results), 4))
    for ax, (title, (pts, c)) in zip(axes, results.items()):
        colour = dict(c=c, cmap="tab10") if c is not None else dict(c="C0")
        ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.4, **colour)
        ax.scatter(means[:, 0], means[:, 1], c="red", marker="x", s=12, linewidths=0.8)
        ax.set_xlim(-1.6, 1.6)
        ax.set_ylim(-1.6, 1.6)
        ax.set_aspect("equal")
        ax.set_title(title + (f" (colour: {colour_by})" if c is not None else ""))
    savefig(fig, name)
