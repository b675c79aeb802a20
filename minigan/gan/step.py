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

Every forward is paired with its backward before the next forward of the
same network, so each layer's cache is always the right one. Labels (a
conditional GAN) and packing (PacGAN) enter only through :class:`Inputs`,
which builds each network's input and maps D's input gradient back.
"""

import dataclasses

from .. import backend
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


def _mean_output(loss, out):
    """D's mean output: as a probability for the BCE objectives, raw otherwise."""
    xp = backend.get_array_module(out)
    out = out.astype("float64")
    if loss in objectives.BCE:
        out = 1 / (1 + xp.exp(-out))
    return float(out.mean())


def critic_step(G, D, opt_D, real, z, game, io, labels=None, eps=None):
    """One update of D on ``real`` against ``G(z)``; returns (fake, metrics)."""
    fake = G.forward(io.g_input(z, labels))
    D.zero_grad()
    out_real = D.forward(io.d_input(real, labels))
    loss_real, dl = objectives.d_real_loss(game.loss, out_real, game.real_label)
    D.backward(dl, input_grad=False)
    out_fake = D.forward(io.d_input(fake, labels))
    loss_fake, dl = objectives.d_fake_loss(game.loss, out_fake)
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
    return fake, {"d_loss": d_loss, "d_real": _mean_output(game.loss, out_real),
                  "d_fake": _mean_output(game.loss, out_fake)}


def gan_step(G, D, opt_G, opt_D, real, z, loss="non-saturating", real_label=1.0, game=None,
             io=None, labels=None, eps=None):
    """Run one step; returns a dict of floats: ``d_loss``, ``g_loss``,
    ``d_real`` and ``d_fake`` (D's mean outputs, as probabilities for the BCE
    objectives).

    ``real``, ``z`` (and ``labels``, ``eps``) are one batch each for the
    classic game, or lists of ``game.n_critic`` batches, one per critic step.
    """
    game = game or Game(loss=loss, real_label=real_label)
    io = io or Inputs()
    if not isinstance(real, (list, tuple)):
        real, z, labels, eps = [real], [z], [labels], [eps]
    if not len(real) == len(z) == game.n_critic:
        raise ValueError(f"gan_step: expected {game.n_critic} batches of real data and noise "
                         f"(one per critic step), got {len(real)} and {len(z)}")
    labels = labels if labels is not None else [None] * len(real)
    eps = eps if eps is not None else [None] * len(real)
    for k in range(game.n_critic):
        fake, m = critic_step(G, D, opt_D, real[k], z[k], game, io, labels[k], eps[k])

    G.zero_grad()
    out = D.forward(io.d_input(fake, labels[-1]))
    g_loss, dl = objectives.g_loss(game.loss, out)
    dX = D.backward(dl, param_grads=False)
    G.backward(io.d_input_grad(dX, fake.shape), input_grad=False)
    opt_G.step()
    return {**m, "g_loss": g_loss}
