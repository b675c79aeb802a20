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
