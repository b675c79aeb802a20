"""The gradient penalty of WGAN-GP (Gulrajani et al. 2017), by hand.

For a critic D and points ``x_i`` (interpolates between real and fake
samples), with ``g_i = dD(x_i)/dx_i`` and ``n_i = ||g_i||``::

    P = lambda * mean_i (n_i - 1)^2

The critic is trained on ``P``, so we need dP/dtheta for its weights theta,
and ``g`` is itself the output of a backward pass. The chain rule through
``g`` gives, with ``v_i = dP/dg_i = lambda * 2 (n_i - 1) / N * g_i / n_i``::

    dP/dtheta = sum_i v_i . dg_i/dtheta = d/dtheta [ sum_i v_i . dD(x_i)/dx_i ]   (v fixed)

and ``v_i . dD(x_i)/dx_i`` is the derivative of D's output along the input
direction ``v_i``: exactly what the *tangent pass* computes
(``D.jvp_forward(x, v) -> (y, yt)``). So dP/dtheta is the gradient of
``sum(yt)``: a backward pass through the tangent pass
(``D.jvp_backward(None, ones)``), layer by layer. Three passes in all:

1. ``D.forward(x)``, ``D.backward(ones, param_grads=False)`` -> ``g``, P, ``v``
2. ``D.jvp_forward(x, v)``
3. ``D.jvp_backward(None, ones)`` -> dP/dtheta, added into D's grads.

(The primal adjoint is None because P depends on the output D(x) only
through g; for the piecewise-linear layers it stays zero all the way down.)
Each sample's output must depend on that sample alone: no BatchNorm in the
critic (the paper's advice too), and no Dropout, whose masks would differ
between the passes; both refuse.
"""

from .. import backend


def gradient_penalty(D, x, weight=10.0, target=1.0, where=None, param_grads=True):
    """Add ``d/dtheta [weight * mean_i (||dD(x_i)/dx_i|| - target)^2]`` into
    D's grads. ``where`` (broadcastable to ``x``, 0/1) restricts the gradient
    to some input coordinates (the image, not the label channels, of a
    conditional critic). Returns ``(penalty, norms)``: the value (a float, or a
    0-d device array on the GPU: ``backend.scalar``) and the
    per-sample gradient norms."""
    if not D.supports_tangent():
        D.jvp_forward(x, x)          # raises, naming the layer without a tangent pass
    xp = backend.get_array_module(x)
    N = x.shape[0]
    out = D.forward(x)
    if out.shape[0] != N or out.size != N:
        raise ValueError(f"gradient_penalty: the critic must give one score per sample, "
                         f"got output of shape {tuple(out.shape)} for {N} samples")
    ones = xp.ones_like(out)
    g = D.backward(ones, param_grads=False)
    if where is not None:
        g = g * where
    axes = tuple(range(1, g.ndim))
    norms = xp.sqrt((g.astype("float64") ** 2).sum(axis=axes))
    penalty = backend.scalar(weight * ((norms - target) ** 2).mean())
    if param_grads:
        coef = weight * 2 * (norms - target) / (N * xp.maximum(norms, 1e-12))
        v = g * coef.reshape((N,) + (1,) * (g.ndim - 1)).astype(g.dtype)
        D.jvp_forward(x, v)
        D.jvp_backward(None, ones, input_grad=False)
    return penalty, norms
