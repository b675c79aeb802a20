"""What Dense, Conv2D and ConvTranspose2D share: ``y = A_W(x) + b``, linear in x.

Three things follow from that one fact and live here, once:

* **The tangent pass** (for the gradient penalty of WGAN-GP; see
  :meth:`Layer.jvp_forward`). The derivative of the output along a direction
  ``xt`` of the input is ``yt = A_W(xt)``: the same op without the bias. Its
  backward pass is the op's backward pass applied twice, and the weight
  gradients of the two add up::

      dx  = A_W^T(dy)        dxt = A_W^T(dyt)
      dW  = grad_W(x, dy) + grad_W(xt, dyt)        db = sum(dy)

* **Spectral normalization** of the weight (turned on by
  :func:`minigan.layers.spectral.spectral_norm`): the op runs with ``W / sigma(W)`` and the weight gradient is mapped back through
  ``functional.spectral_norm_backward``.

* The forward/backward plumbing between the layer and its functional pair.

A subclass sets ``_forward_fn(x, W, b) -> (y, cache)`` and
``_backward_fn(dy, cache, param_grads, input_grad) -> (dx, dW, db)`` and
checks its input in ``_check(x)``.
"""

from ..functional.spectral_norm import spectral_norm_backward, spectral_norm_forward
from .base import Layer


class Affine(Layer):
    cache = None
    spectral_normalizable = False  # Dense and Conv2D: spectral_norm may normalize W
    sn_iterations = None         # None: no spectral normalization
    _sn_cache = None
    _pending = ("cache", "_sn_cache")

    # -- subclass API ------------------------------------------------------
    def _check(self, x):
        raise NotImplementedError

    def _forward_fn(self, x, W, b):
        raise NotImplementedError

    def _backward_fn(self, dy, cache, param_grads, input_grad):
        raise NotImplementedError

    # -- the weight the op runs with ---------------------------------------
    def weight(self):
        """``W``, or ``W / sigma(W)`` under spectral normalization (refining
        ``u`` by power iteration in training mode)."""
        W = self.params["W"]
        if self.sn_iterations is None:
            return W
        n = self.sn_iterations if self.training else 0
        W_sn, self._sn_cache = spectral_norm_forward(W, self.buffers["sn_u"], n)
        return W_sn

    def forward_changes_state(self):
        return self.training and self.sn_iterations is not None     # the power iteration

    def _accumulate_weight_grads(self, dW, db):
        if dW is not None and self.sn_iterations is not None:
            dW = spectral_norm_backward(dW, self._sn_cache)
        self.accumulate("W", dW)
        self.accumulate("b", db)

    @property
    def sn_pieces(self):
        """k where each of k maxout pieces is normalized on its own (``u`` is
        then (k, out/k)), else 1."""
        u = self.buffers.get("sn_u")
        return 1 if u is None or u.ndim == 1 else u.shape[0]

    def _sn_tag(self):
        if self.sn_iterations is None:
            return ""
        return ", spectral norm" + (f" per piece of {self.sn_pieces}" if self.sn_pieces > 1
                                    else "")

    # -- forward / backward --------------------------------------------------
    def forward(self, x):
        self._check(x)
        y, self.cache = self._forward_fn(x, self.weight(), self.params.get("b"))
        return self.keep_output(y)

    def backward(self, dy, param_grads=True, input_grad=True):
        self.check_backward(dy)
        dx, dW, db = self._backward_fn(dy, self.cache, param_grads, input_grad)
        self.cache = None
        self._accumulate_weight_grads(dW, db)
        return dx

    # -- the tangent pass ----------------------------------------------------
    def jvp_forward(self, x, xt):
        self._check(x)
        W = self.weight()
        y, cache = self._forward_fn(x, W, self.params.get("b"))
        yt, cache_t = self._forward_fn(xt, W, None)
        self.cache = (cache, cache_t)
        return self.keep_output(y), yt

    def jvp_backward(self, dy, dyt, param_grads=True, input_grad=True):
        self.check_backward(dyt)
        if dy is not None:
            self.check_backward(dy)
        cache, cache_t = self.cache
        self.cache = None
        dx = dW = db = None
        if dy is not None:
            dx, dW, db = self._backward_fn(dy, cache, param_grads, input_grad)
        dxt, dWt, _ = self._backward_fn(dyt, cache_t, param_grads, input_grad)
        if dWt is not None:
            dW = dWt if dW is None else dW + dWt
        self._accumulate_weight_grads(dW, db)
        return dx, dxt
