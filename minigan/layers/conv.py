"""Conv2D and ConvTranspose2D; the maths is in ``functional/conv.py``."""

import numpy as np

from .. import functional as F
from ..functional.conv import conv_output_size
from .affine import Affine
from ..init import add_weight_and_bias


def _pair_check(name, kernel_size, stride, padding, output_padding=0):
    if kernel_size < 1 or stride < 1 or padding < 0:
        raise ValueError(f"{name}: expected kernel_size >= 1, stride >= 1, padding >= 0, "
                         f"got kernel_size={kernel_size}, stride={stride}, padding={padding}")
    if not 0 <= output_padding < stride:
        raise ValueError(f"{name}: expected 0 <= output_padding < stride ({stride}), "
                         f"got output_padding={output_padding}")


class _ConvBase(Affine):
    """Shared construction: weight of ``w_shape``, bias over ``bias_len``."""

    def _init_params(self, w_shape, bias_len, bias, rng, init, dtype):
        add_weight_and_bias(self, w_shape, bias_len, bias, rng, init, dtype)

    def _settings(self):
        k, s, p = self.kernel_size, self.stride, self.padding
        return f"{self.in_channels} -> {self.out_channels}, {k}x{k}, s{s}, p{p}"


class Conv2D(_ConvBase):
    """2D convolution (cross-correlation), NCHW; W (out, in, k, k) as in PyTorch.

    ``OH = (H + 2*padding - kernel_size) // stride + 1``. Parameters as
    :class:`~minigan.layers.Dense`, plus ``kernel_size``, ``stride``,
    ``padding`` (square kernels, equal padding on every side).

    ``constant_channels`` K > 0 declares that the last K input channels are
    each constant over their plane (a conditional critic's label channels):
    their share is then K precomputed maps instead of K convolved channels,
    the same function at a fraction of the cost; the input is checked, and
    their gradient is the one along constant planes (see
    ``functional/conv.py``).
    """

    spectral_normalizable = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 bias=True, rng=None, init=None, dtype=np.float32, constant_channels=0):
        super().__init__()
        _pair_check(f"Conv2D({in_channels} -> {out_channels})", kernel_size, stride, padding)
        if not 0 <= constant_channels < in_channels:
            raise ValueError(f"Conv2D({in_channels} -> {out_channels}): expected 0 <= "
                             f"constant_channels < in_channels, got {constant_channels}")
        self.constant_channels = constant_channels
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self._init_params((out_channels, in_channels, kernel_size, kernel_size),
                          out_channels, bias, rng, init, dtype)

    def output_shape(self, input_shape):
        N, _, H, W = input_shape
        k, s, p = self.kernel_size, self.stride, self.padding
        return (N, self.out_channels, conv_output_size(H, k, s, p), conv_output_size(W, k, s, p))

    def _check(self, x):
        N, _, H, W = self.check_input(x, (None, self.in_channels, None, None))
        k, p = self.kernel_size, self.padding
        if H + 2 * p < k or W + 2 * p < k:
            raise ValueError(
                f"{self!r}: kernel {k}x{k} is larger than the padded input "
                f"{H + 2 * p}x{W + 2 * p}; expected input of shape (N, {self.in_channels}, H, W) "
                f"with H, W >= {k - 2 * p}, got {tuple(x.shape)}")

    def _forward_fn(self, x, W, b):
        if self.constant_channels:
            return F.conv2d_constant_forward(x, W, b, self.stride, self.padding,
                                             self.constant_channels)
        return F.conv2d_forward(x, W, b, self.stride, self.padding)

    def _backward_fn(self, dy, cache, param_grads, input_grad):
        backward = F.conv2d_constant_backward if self.constant_channels else F.conv2d_backward
        return backward(dy, cache, param_grads, input_grad)

    def __repr__(self):
        tag = f", {self.constant_channels} constant" if self.constant_channels else ""
        return f"Conv2D({self._settings()}{tag}{self._sn_tag()})"


class ConvTranspose2D(_ConvBase):
    """Transposed convolution: the adjoint of :class:`Conv2D` with the same
    weight. W (in, out, k, k) as in PyTorch.

    ``OH = (H - 1)*stride - 2*padding + kernel_size + output_padding``, with
    ``0 <= output_padding < stride`` choosing among the sizes that a strided
    convolution maps to the same H.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, bias=True, rng=None, init=None, dtype=np.float32):
        super().__init__()
        _pair_check(f"ConvTranspose2D({in_channels} -> {out_channels})", kernel_size, stride,
                    padding, output_padding)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.output_padding = output_padding
        self._init_params((in_channels, out_channels, kernel_size, kernel_size),
                          out_channels, bias, rng, init, dtype)

    def output_shape(self, input_shape):
        N, _, H, W = input_shape
        args = (self.kernel_size, self.stride, self.padding, self.output_padding)
        return (N, self.out_channels, F.conv_transpose_output_size(H, *args),
                F.conv_transpose_output_size(W, *args))

    def _check(self, x):
        self.check_input(x, (None, self.in_channels, None, None))
        out = self.output_shape(x.shape)
        if out[2] < 1 or out[3] < 1:
            raise ValueError(
                f"{self!r}: the output size would be {out[2]}x{out[3]}; expected input of "
                f"shape (N, {self.in_channels}, H, W) giving an output of at least 1x1, "
                f"got {tuple(x.shape)}")

    def _forward_fn(self, x, W, b):
        return F.conv_transpose2d_forward(x, W, b, self.stride, self.padding,
                                          self.output_padding)

    _backward_fn = staticmethod(F.conv_transpose2d_backward)

    def __repr__(self):
        return f"ConvTranspose2D({self._settings()}, op{self.output_padding})"
