"""Shape helpers shared by the functional pairs."""


def as_ncl(a):
    """View any (N, C, ...) or (N, F) array as (N, C, L) without copying: the
    layout the per-channel kernels (bias + activation, BatchNorm) take."""
    return a.reshape(a.shape[0], a.shape[1] if a.ndim > 1 else 1, -1)
