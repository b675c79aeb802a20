"""GAN objectives on the discriminator's outputs ``x`` (logits, or a critic's
scores).

Each objective gives the discriminator's loss on real and on fake outputs and
the generator's loss on fake outputs, each as ``(loss, dloss/dx)``:

==============  ================================  ================================
objective       discriminator                     generator
==============  ================================  ================================
non-saturating  BCE(x_real, 1) + BCE(x_fake, 0)   BCE(x_fake, 1) = -log D(G(z))
minimax         same                              -BCE(x_fake, 0) = log(1 - D(G(z)))
least-squares   (x_real - 1)^2/2 + x_fake^2/2     (x_fake - 1)^2/2
wgan, wgan-gp   mean(x_fake) - mean(x_real)       -mean(x_fake)
hinge           mean(relu(1 - x_real))            -mean(x_fake)
                + mean(relu(1 + x_fake))
==============  ================================  ================================

Minimax is the game of Goodfellow et al. (2014); its generator gradient
vanishes when D confidently rejects the fakes (early training), which is why
the non-saturating form is the default. Least squares is Mao et al. (2017).
The Wasserstein objectives (Arjovsky et al. 2017; Gulrajani et al. 2017)
train a *critic* whose scores estimate the Wasserstein-1 distance; it must be
kept 1-Lipschitz, by weight clipping (wgan) or a gradient penalty (wgan-gp,
:mod:`minigan.gan.penalty`). The hinge loss is that of SNGAN (Miyato et al.
2018), usually with spectral normalization. ``real_label`` < 1 is one-sided
label smoothing (Salimans et al. 2016); ``real_label`` and ``fake_label`` may
also be arrays, one target per output (noisy or flipped labels, set by the
trainer), and apply to the BCE objectives only.
"""

from .. import backend
from ..functional.losses import bce_with_logits, mse

OBJECTIVES = ("non-saturating", "minimax", "least-squares", "wgan", "wgan-gp", "hinge")
BCE = ("non-saturating", "minimax")
WASSERSTEIN = ("wgan", "wgan-gp")


def _half_mse(x, target):
    loss, dx = mse(x, target)
    return 0.5 * loss, 0.5 * dx


def _mean(x, sign):
    """``sign * mean(x)`` and its gradient."""
    xp = backend.get_array_module(x)
    return backend.scalar(sign * x.sum(dtype="float64") / x.size), xp.full_like(x, sign / x.size)


def _hinge(x, sign):
    """``mean(relu(1 + sign*x))`` and its gradient."""
    active = (1 + sign * x) > 0
    loss = backend.scalar((active * (1 + sign * x)).sum(dtype="float64") / x.size)
    return loss, (sign / x.size) * active.astype(x.dtype)


def d_real_loss(name, x, real_label=1.0):
    if name == "least-squares":
        return _half_mse(x, real_label)
    if name in WASSERSTEIN:
        return _mean(x, -1.0)
    if name == "hinge":
        return _hinge(x, -1.0)
    return bce_with_logits(x, real_label)


def d_fake_loss(name, x, fake_label=0.0):
    if name == "least-squares":
        return _half_mse(x, 0.0)
    if name in WASSERSTEIN:
        return _mean(x, 1.0)
    if name == "hinge":
        return _hinge(x, 1.0)
    return bce_with_logits(x, fake_label)


def g_loss(name, x):
    if name == "non-saturating":
        return bce_with_logits(x, 1.0)
    if name == "minimax":
        loss, dx = bce_with_logits(x, 0.0)
        return -loss, -dx
    if name == "least-squares":
        return _half_mse(x, 1.0)
    if name in WASSERSTEIN or name == "hinge":
        return _mean(x, -1.0)
    raise ValueError(f"unknown loss {name!r}: expected one of {', '.join(OBJECTIVES)}")


def check(name):
    if name not in OBJECTIVES:
        raise ValueError(f"unknown loss {name!r}: expected one of {', '.join(OBJECTIVES)}")
    return name
