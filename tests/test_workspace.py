"""The workspace pool hands a block out again only when no array uses it."""

import numpy as np

from minigan.kernels import workspace as ws


def test_blocks_are_reused_only_when_nothing_refers_to_them():
    ws.clear()
    a = ws.empty((512, 1024), np.float32)                 # 2 MiB: pooled
    view = a.T[:3]                                        # a view keeps the block busy
    del a
    b = ws.empty((1024, 512), np.float32)
    assert not np.shares_memory(b, view)
    assert ws.pooled_bytes() == (2 * 2**21, 2 * 2**21)
    del view
    c = ws.empty((2048, 256), np.float32)                 # same size: the freed block
    assert ws.pooled_bytes() == (2 * 2**21, 2 * 2**21)
    c[...] = 1
    b[...] = 2
    assert (c == 1).all()                                 # no aliasing between live arrays
    del b, c
    ws.clear()
    assert ws.pooled_bytes() == (0, 0)


def test_small_arrays_bypass_the_pool():
    ws.clear()
    x = ws.empty((10, 10), np.float64)
    assert x.shape == (10, 10) and ws.pooled_bytes() == (0, 0)
