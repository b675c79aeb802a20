"""One GAN training step, exactly as the diagram in the README draws it.

    for each of the n_critic critic steps (one for the classic GAN):
        fake = G(z_k)                             (one generator forward)
        D step: zero D's grads; D(real_k) -> loss, backward; D(fake) -> loss,
                backward (grads accumulate); [gradient penalty on
                interpolates, WGAN-GP]; optimizer step on D; [clip D's
                weights, WGAN]
    G step:  zero G's grads; D(fake) -> generator loss (the fake of the last
             critic step); backward through D with param_grads=False (D is
             not touched); backward through G; optimizer step on G

InfoGAN (``io.codes`` K > 0): D has 1 + K outputs, the logit that the
objective sees and K logits Q(c|x) predicting the generator's code c. On the
fakes, both D's step and G's step add ``info_weight`` times the softmax
cross-entropy of Q against c (Chen et al. 2016's lower bound on the mutual
information I(c; G(z, c)), less the constant H(c)); D's step trains Q with D's
weights, G's step pushes G to draw images from which c can be read. On the
reals the Q outputs get no gradient.

Every forward is paired with its backward before the next forward of the
same network, so each layer's cache is always the right one. Labels (a
conditional GAN) and packing (PacGAN) enter only through :class:`Inputs`,
which builds each network's input and maps D's input gradient back.
"""

import dataclasses

from .. import backend
from ..functional.losses import softmax_cross_entropy
from . import objectives
from .inputs import Inputs
from .penalty import gradient_penalty


@dataclasses.dataclass
class Game:
    """The rules of the step: the objective and how the critic is kept in check."""
    loss: str = "non-saturating"
    real_label: float = 1.0       # < 1: one-sided label smoothing (BCE objectives)
    n_critic: int = 1             # critic steps per generator step
    clip: float = 0.0             # WGAN: clip D's weights to [-clip, clip] after each step
    gp_weight: float = 0.0        # WGAN-GP: lambda of the gradient penalty
    info_weight: float = 1.0      # InfoGAN: lambda of the code-prediction loss


def _mean_output(loss, out):
    """D's mean output: as a probability for the BCE objectives, raw otherwise."""
    xp = backend.get_array_module(out)
    out = out.astype("float64")
    if loss in objectives.BCE:
        out = 1 / (1 + xp.exp(-out))
    return backend.scalar(out.mean())


def _with_code_loss(out, loss_fn, io, game, codes):
    """Apply ``loss_fn`` to D's real/fake logit (column 0 of an InfoGAN's
    outputs) and, where ``codes`` are given, add the weighted code-prediction
    loss of the other columns. Returns (loss, code loss or None, d out)."""
    if not io.codes:
        loss, dl = loss_fn(out)
        return loss, None, dl
    xp = backend.get_array_module(out)
    logit, q = out[:, :1], out[:, 1:]
    loss, dlogit = loss_fn(logit)
    if codes is None:
        return loss, None, xp.concatenate([dlogit, xp.zeros_like(q)], axis=1)
    info, dq = softmax_cross_entropy(q, codes)
    return loss, info, xp.concatenate([dlogit, game.info_weight * dq], axis=1)


def _noisy(x, noise):
    """What D sees of ``x``: ``x + noise`` under instance noise. The addition
    does not change D's input gradient (d(x + n)/dx is the identity), so the
    gradient that reaches ``x`` is D's input gradient at the noisy point."""
    return x if noise is None else x + noise


def critic_step(G, D, opt_D, real, z, game, io, labels=None, eps=None, codes=None,
                targets=None, noise=None):
    """One update of D on ``real`` against ``G(z)``; returns (fake, metrics).

    ``targets`` (BCE objectives): D's targets on the reals and the fakes, one
    per D output (noisy or flipped labels), instead of ``game.real_label`` and
    0. ``noise``: instance noise added to the reals and the fakes D sees."""
    fake = G.forward(io.g_input(z, labels, codes))
    t_real, t_fake = targets if targets is not None else (game.real_label, 0.0)
    n_real, n_fake = noise if noise is not None else (None, None)
    D.zero_grad()
    out_real = D.forward(io.d_input(_noisy(real, n_real), labels))
    loss_real, _, dl = _with_code_loss(
        out_real, lambda x: objectives.d_real_loss(game.loss, x, t_real), io, game, None)
    D.backward(dl, input_grad=False)
    out_fake = D.forward(io.d_input(_noisy(fake, n_fake), labels))
    loss_fake, info, dl = _with_code_loss(
        out_fake, lambda x: objectives.d_fake_loss(game.loss, x, t_fake), io, game, codes)
    D.backward(dl, input_grad=False)
    d_loss = loss_real + loss_fake
    if game.gp_weight:
        # x_hat = eps*real + (1 - eps)*fake, eps ~ U(0, 1) per sample
        x_hat = fake + eps * (real - fake)
        X = io.d_input(x_hat, labels)
        penalty, _ = gradient_penalty(D, X, game.gp_weight, where=io.penalty_mask(x_hat))
        d_loss += penalty
    opt_D.step()
    if game.clip:
        for _, p, _ in D.parameters():
            backend.get_array_module(p).clip(p, -game.clip, game.clip, out=p)
    m = {"d_loss": d_loss, "d_real": _mean_output(game.loss, out_real[:, :1]),
         "d_fake": _mean_output(game.loss, out_fake[:, :1])}
    if info is not None:
        m["info_loss"] = info
    return fake, m


def gan_step(G, D, opt_G, opt_D, real, z, loss="non-saturating", real_label=1.0, game=None,
             io=None, labels=None, eps=None, codes=None, targets=None, noise=None):
    """Run one step; returns a dict of floats: ``d_loss``, ``g_loss``,
    ``d_real`` and ``d_fake`` (D's mean outputs, as probabilities for the BCE
    objectives); for an InfoGAN also ``info_loss`` (Q's cross-entropy on the
    fakes of the last critic step, before D's update).

    ``real``, ``z`` (and ``labels``, ``eps``, ``codes``, ``targets``, ``noise``)
    are one batch each for the classic game, or lists of ``game.n_critic``
    batches, one per critic step. ``targets`` are (real, fake) target arrays
    for D's BCE losses; ``noise`` (real, fake) instance noise that D sees added
    to its inputs, in its own steps and, the fake part of the last critic
    step, in G's.
    """
    game = game or Game(loss=loss, real_label=real_label)
    io = io or Inputs()
    if io.codes and game.gp_weight:
        raise ValueError("gan_step: a gradient penalty needs a critic with one output; an "
                         f"InfoGAN's D has 1 + {io.codes}")
    if not isinstance(real, (list, tuple)):
        real, z, labels, eps, codes = [real], [z], [labels], [eps], [codes]
        targets, noise = [targets], [noise]
    if not len(real) == len(z) == game.n_critic:
        raise ValueError(f"gan_step: expected {game.n_critic} batches of real data and noise "
                         f"(one per critic step), got {len(real)} and {len(z)}")
    labels = labels if labels is not None else [None] * len(real)
    eps = eps if eps is not None else [None] * len(real)
    codes = codes if codes is not None else [None] * len(real)
    targets = targets if targets is not None else [None] * len(real)
    noise = noise if noise is not None else [None] * len(real)
    for k in range(game.n_critic):
        fake, m = critic_step(G, D, opt_D, real[k], z[k], game, io, labels[k], eps[k], codes[k],
                              targets[k], noise[k])

    G.zero_grad()
    out = D.forward(io.d_input(_noisy(fake, None if noise[-1] is None else noise[-1][1]),
                               labels[-1]))
    g_loss, _, dl = _with_code_loss(out, lambda x: objectives.g_loss(game.loss, x), io, game,
                                    codes[-1])
    dX = D.backward(dl, param_grads=False)
    G.backward(io.d_input_grad(dX, fake.shape), input_grad=False)
    opt_G.step()
    m = {**m, "g_loss": g_loss}
    return dict(zip(m, backend.fetch(m.values())))     # one transfer from a GPU per step
