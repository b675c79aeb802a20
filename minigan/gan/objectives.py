"""GAN objectives on the discriminator's outputs (logits, or a critic's
scores): one registry, ``OBJECTIVES[name]``, of small objects.

Every objective has the **joint form** the step needs::

    d_loss(real, fake, t_real, t_fake) -> (loss, d loss/d real, d loss/d fake)
    g_loss(fake, real)                 -> (loss, d loss/d fake)

where ``real`` and ``fake`` are D's outputs on a real and a fake batch. A
loss that couples the two batches (``coupled = True``: the relativistic
average loss, whose real term compares each real score with the fakes' mean)
is written only in that form, and the step shows D both batches at once. A
*separable* loss, the sum of a term on the reals and a term on the fakes, also
gives the two terms, ``d_real(x, t)`` and ``d_fake(x, t)``, and the step pairs
each batch's forward with its backward.

==================  ========================================  ==========================
objective           discriminator                             generator
==================  ========================================  ==========================
non-saturating      BCE(r, 1) + BCE(f, 0)                     BCE(f, 1) = -log D(G(z))
minimax             same                                      -BCE(f, 0) = log(1 - D(G(z)))
least-squares       (r - 1)^2/2 + f^2/2                       (f - 1)^2/2
wgan, wgan-gp       mean(f) - mean(r)                         -mean(f)
hinge               mean(relu(1 - r)) + mean(relu(1 + f))     -mean(f)
relativistic        BCE(r - mean f, 1) + BCE(f - mean r, 0)   BCE(f - mean r, 1)
                                                              + BCE(r - mean f, 0)
==================  ========================================  ==========================

(BCE is the mean binary cross-entropy of logits.) Minimax is the game of
Goodfellow et al. (2014); its generator gradient vanishes when D confidently
rejects the fakes (early training), which is why the non-saturating form is
the default. Least squares is Mao et al. (2017). The Wasserstein objectives
(Arjovsky et al. 2017; Gulrajani et al. 2017) train a *critic* whose scores
estimate the Wasserstein-1 distance; it must be kept 1-Lipschitz, by weight
clipping (wgan) or a gradient penalty (wgan-gp, :mod:`minigan.gan.penalty`).
The hinge loss is that of SNGAN (Miyato et al. 2018), usually with spectral
normalization. The relativistic average GAN (RaSGAN, Jolicoeur-Martineau,
"The relativistic discriminator: a key element missing from standard GAN",
2018) asks D how much more real a real sample looks than the average fake,
and G the reverse; its generator gradient comes from the reals' scores too.

Targets: ``t_real`` < 1 is one-sided label smoothing (Salimans et al. 2016);
``t_real`` and ``t_fake`` may also be arrays, one target per output (noisy or
flipped labels, set by the trainer), which only the BCE objectives
(``has_targets``) take; smoothing also moves the real target of least squares
and of the relativistic loss.

Adding an objective: a subclass here with ``name`` and either the two terms
(separable) or ``d_loss`` and ``g_loss`` (coupled), and one line in
``OBJECTIVES``; ``--loss``, the gradient checks of ``tests/test_gan_variants.py``
and ``minigan gradcheck`` take it from there.
"""

from .. import backend
from ..functional.losses import bce_with_logits, mse, softmax_cross_entropy


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


class Objective:
    """A separable objective: a term on the reals plus a term on the fakes."""
    name = None
    has_targets = False     # the BCE objectives: D's outputs are logits of probabilities
    coupled = False         # the real term depends on the fakes' scores (and vice versa)

    def d_real(self, x, target=1.0):
        raise NotImplementedError

    def d_fake(self, x, target=0.0):
        raise NotImplementedError

    def d_loss(self, real, fake, t_real=1.0, t_fake=0.0):
        loss_r, d_real = self.d_real(real, t_real)
        loss_f, d_fake = self.d_fake(fake, t_fake)
        return loss_r + loss_f, d_real, d_fake

    def g_loss(self, fake, real=None):
        raise NotImplementedError

    def __repr__(self):
        return f"<objective {self.name}>"


class NonSaturating(Objective):
    name, has_targets = "non-saturating", True

    def d_real(self, x, target=1.0):
        return bce_with_logits(x, target)

    def d_fake(self, x, target=0.0):
        return bce_with_logits(x, target)

    def g_loss(self, fake, real=None):
        return bce_with_logits(fake, 1.0)


class Minimax(NonSaturating):
    name = "minimax"

    def g_loss(self, fake, real=None):
        loss, dx = bce_with_logits(fake, 0.0)
        return -loss, -dx


class LeastSquares(Objective):
    name = "least-squares"

    def d_real(self, x, target=1.0):
        return _half_mse(x, target)

    def d_fake(self, x, target=0.0):
        return _half_mse(x, 0.0)

    def g_loss(self, fake, real=None):
        return _half_mse(fake, 1.0)


class Wasserstein(Objective):
    def __init__(self, name):
        self.name = name

    def d_real(self, x, target=1.0):
        return _mean(x, -1.0)

    def d_fake(self, x, target=0.0):
        return _mean(x, 1.0)

    def g_loss(self, fake, real=None):
        return _mean(fake, -1.0)


class Hinge(Wasserstein):
    def __init__(self):
        super().__init__("hinge")

    def d_real(self, x, target=1.0):
        return _hinge(x, -1.0)

    def d_fake(self, x, target=0.0):
        return _hinge(x, 1.0)


class RelativisticAverage(Objective):
    """RaSGAN. With a = r - mean(f) and b = f - mean(r) (one per sample),
    D's loss is BCE(a, 1) + BCE(b, 0). Each real score r_i enters a_i
    directly and every b_j through mean(r), so

        dL/dr_i = dL/da_i - mean_j dL/db_j,    dL/df_j = dL/db_j - mean_i dL/da_i

    G's loss is the same with the targets swapped; only dL/df reaches G."""
    name, coupled = "relativistic", True

    @staticmethod
    def _both(real, fake, t_real, t_fake):
        a = real - fake.mean(dtype="float64").astype(fake.dtype)
        b = fake - real.mean(dtype="float64").astype(real.dtype)
        loss_a, da = bce_with_logits(a, t_real)
        loss_b, db = bce_with_logits(b, t_fake)
        d_real = da - db.sum(dtype="float64").astype(db.dtype) / real.size
        d_fake = db - da.sum(dtype="float64").astype(da.dtype) / fake.size
        return loss_a + loss_b, d_real, d_fake

    def d_loss(self, real, fake, t_real=1.0, t_fake=0.0):
        return self._both(real, fake, t_real, t_fake)

    def g_loss(self, fake, real=None):
        loss, _, d_fake = self._both(real, fake, 0.0, 1.0)
        return loss, d_fake


class WithCodeLoss:
    """InfoGAN's objective around another: D's outputs are ``[logit | Q]``,
    the logit that ``inner`` scores and K logits Q(c|x) predicting the
    generator's code c. On the fakes, ``weight`` times the softmax
    cross-entropy of Q against c is added (Chen et al. 2016's lower bound on
    I(c; G(z, c)), less the constant H(c)); the reals' Q gets no gradient.
    Each loss returns ``(loss, code loss or None, gradients...)``. With no Q
    outputs (K = 0) it is ``inner`` itself, so the step always uses it."""

    def __init__(self, inner, weight=1.0):
        self.inner, self.weight = inner, weight
        self.coupled, self.has_targets, self.name = inner.coupled, inner.has_targets, inner.name

    def _with_code(self, out, d_logit, codes):
        if out.shape[1] == 1:               # no code: the inner objective's gradient
            return None, d_logit
        xp = backend.get_array_module(out)
        q = out[:, 1:]
        if codes is None:
            return None, xp.concatenate([d_logit, xp.zeros_like(q)], axis=1)
        info, dq = softmax_cross_entropy(q, codes)
        return info, xp.concatenate([d_logit, self.weight * dq], axis=1)

    def d_real(self, x, target=1.0):
        loss, d = self.inner.d_real(x[:, :1], target)
        return loss, self._with_code(x, d, None)[1]

    def d_fake(self, x, target=0.0, codes=None):
        loss, d = self.inner.d_fake(x[:, :1], target)
        info, d = self._with_code(x, d, codes)
        return loss, info, d

    def d_loss(self, real, fake, t_real=1.0, t_fake=0.0, codes=None):
        loss, d_real, d_fake = self.inner.d_loss(real[:, :1], fake[:, :1], t_real, t_fake)
        info, d_fake = self._with_code(fake, d_fake, codes)
        return loss, info, self._with_code(real, d_real, None)[1], d_fake

    def g_loss(self, fake, real=None, codes=None):
        loss, d = self.inner.g_loss(fake[:, :1], None if real is None else real[:, :1])
        info, d = self._with_code(fake, d, codes)
        return loss, info, d


OBJECTIVES = {o.name: o for o in (NonSaturating(), Minimax(), LeastSquares(),
                                  Wasserstein("wgan"), Wasserstein("wgan-gp"), Hinge(),
                                  RelativisticAverage())}
BCE = tuple(name for name, o in OBJECTIVES.items() if o.has_targets)
WASSERSTEIN = ("wgan", "wgan-gp")


def get(name):
    """The objective called ``name``; an unknown name is refused, naming the known ones."""
    if name not in OBJECTIVES:
        raise ValueError(f"unknown loss {name!r}: expected one of {', '.join(OBJECTIVES)}")
    return OBJECTIVES[name]



# The terms by name, for lessons and tests.
def d_real_loss(name, x, real_label=1.0):
    return get(name).d_real(x, real_label)


def d_fake_loss(name, x, fake_label=0.0):
    return get(name).d_fake(x, fake_label)


def g_loss(name, x):
    return get(name).g_loss(x)
