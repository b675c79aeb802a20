"""A workspace pool: large work arrays reused from step to step.

A GAN step allocates the same large arrays every time (the im2col columns of
a DCGAN layer are 160 MB at batch 256). Allocations that large bypass the C
allocator's free lists: each one is a fresh ``mmap``, whose pages the
kernel must fault in and zero on first touch, which cost 10-20% of a whole
dcgan step here. The pool keeps such blocks and hands them out again.

A block is free when nothing but the pool refers to it. Every NumPy view of
a block (reshapes, transposes, slices) holds a reference to the block
itself (``view.base is block``), so the reference count says exactly whether
any array still uses its memory: there is no ``release`` to forget.

Only arrays of at least ``MIN_BYTES`` come from the pool; blocks are matched
by exact size (shapes repeat every step). Free blocks are dropped, least
recently used first, when the pool would grow past ``POOL_LIMIT_BYTES``.
"""

import math
import sys
from collections import OrderedDict

import numpy as np

MIN_BYTES = 1 << 20
POOL_LIMIT_BYTES = 1 << 30        # the dcgan step at batch 256 pools about 400 MB

_blocks = OrderedDict()            # key -> 1-D uint8 array; most recently used last
_by_size = {}                      # nbytes -> keys of the blocks of that size
_keys = iter(range(1 << 62))


def _is_free(key):
    # references: the dict's, and getrefcount's own argument; any more is a view
    return sys.getrefcount(_blocks[key]) == 2


def empty(shape, dtype):
    """An uninitialized C-contiguous array, from the pool when it is large."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    key = next((k for k in _by_size.get(nbytes, ()) if _is_free(k)), None)
    if key is None:
        total = sum(b.nbytes for b in _blocks.values())
        for k in [k for k in _blocks if _is_free(k)]:
            if total + nbytes <= POOL_LIMIT_BYTES:
                break
            total -= _drop(k)
        key = next(_keys)
        _blocks[key] = np.empty(nbytes, np.uint8)
        _by_size.setdefault(nbytes, []).append(key)
    _blocks.move_to_end(key)
    return _blocks[key].view(dtype).reshape(shape)


def _drop(key):
    """Forget block ``key``; returns its size."""
    nbytes = _blocks.pop(key).nbytes
    _by_size[nbytes].remove(key)
    return nbytes


def pooled_bytes():
    """(bytes held by the pool, bytes of them in use)."""
    held = sum(b.nbytes for b in _blocks.values())
    used = sum(_blocks[k].nbytes for k in _blocks if not _is_free(k))
    return held, used


def clear():
    """Drop every free block (blocks still in use stay until they are free)."""
    for k in [k for k in _blocks if _is_free(k)]:
        _drop(k)
