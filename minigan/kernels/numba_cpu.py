"""Numba twins of the reference kernels (being written)."""
from .reference import *  # noqa: F401,F403
from .reference import conv_output_size  # noqa: F401
