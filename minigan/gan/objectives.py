"""GAN objectives on the discriminator's logits ``x``.

Each objective gives the discriminator's loss on real and on fake logits and
the generator's loss on fake logits, each as ``(loss, dloss/dx)``:

=================  ==============================  ===============================
objective          discriminator                   generator
=================  ==============================  ===============================
non-saturating     BCE(x_real, 1) + BCE(x_fake, 0)  BCE(x_fake, 1) = -log D(G(z))
minimax            same                             -BCE(x_fake, 0) = log(1 - D(G(z)))
least-squares      (x_real - 1)^2/2 + x_fake^2/2    (x_fake - 1)^2/2
=================  ==============================  ===============================

Minimax is the game of Goodfellow et al. (2014); its generator gradient
vanishes when D confidently rejects the fakes (early training), which is why
the non-saturating form is the default. Least squares is Mao et al. (2017).
``real_label`` < 1 is one-sided label smoothing (Salimans et al. 2016): only
the real targets are softened.
"""

from ..functional.losses import bce_with_logits, mse

OBJECTIVES = ("non-saturating", "minimax", "least-squares")


def _half_mse(x, target):
    loss, dx = mse(x, target)
    return 0.5 * loss, 0.5 * dx


def d_real_loss(name, x, real_label=1.0):
    return _half_mse(x, real_label) if name == "least-squares" else bce_with_logits(x, real_label)


def d_fake_loss(name, x):
    return _half_mse(x, 0.0) if name == "least-squares" else bce_with_logits(x, 0.0)


def g_loss(name, x):
    if name == "non-saturating":
        return bce_with_logits(x, 1.0)
    if name == "minimax":
        loss, dx = bce_with_logits(x, 0.0)
        return -loss, -dx
    if name == "least-squares":
        return _half_mse(x, 1.0)
    raise ValueError(f"unknown loss {name!r}: expected one of {', '.join(OBJECTIVES)}")


def check(name):
    if name not in OBJECTIVES:
        raise ValueError(f"unknown loss {name!r}: expected one of {', '.join(OBJECTIVES)}")
    return name
