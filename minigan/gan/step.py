"""One GAN training step: lesson 05's loop, with the variants' hooks.

    for each of the n_critic critic steps (one for the classic GAN):
        fake = G(z_k)
        D step: zero D's grads; the objective's D loss on D(real_k) and D(fake),
                backward into D's grads; [gradient penalty, WGAN-GP];
                optimizer step on D; [clip D's weights, WGAN]
    G step:  zero G's grads; the objective's G loss on D(fake) (the fake of the
             last critic step); backward through D without touching D's grads,
             then through G; optimizer step on G
    [simultaneous updates: D's optimizer step waits until after G's step, so
     both gradients are taken at the same weights; then, unless D's forward
     pass changes state (Dropout, BatchNorm), a penalty reruns it or the
     loss is coupled, G's gradient goes back through the same D(fake) as
     D's, as in the PacGAN authors' graph: D runs forward twice a step]

The objective (:mod:`minigan.gan.objectives`) gives the losses and their
gradients with respect to D's outputs. A separable objective (every classic
one) is applied batch by batch, each forward paired with its backward, as in
lesson 05; a coupled one (the relativistic loss) needs the real and the fake
scores together, so D judges the two batches as one. Each layer's cache is
therefore always the right one. InfoGAN's code loss is a wrapper around the
objective (:class:`~minigan.gan.objectives.WithCodeLoss`). Labels (a
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
    real_label: float = 1.0       # < 1: one-sided label smoothing
    n_critic: int = 1             # critic steps per generator step
    clip: float = 0.0             # WGAN: clip D's weights to [-clip, clip] after each step
    gp_weight: float = 0.0        # WGAN-GP: lambda of the gradient penalty
    info_weight: float = 1.0      # InfoGAN: lambda of the code-prediction loss
    simultaneous: bool = False    # update D after G's gradient is taken (both at the same
                                  # weights, as in the PacGAN authors' runs); classic: D first

    def objective(self):
        return objectives.WithCodeLoss(objectives.get(self.loss), self.info_weight)


def _mean_output(loss, out):
    """D's mean output: as a probability for the BCE objectives, raw otherwise."""
    xp = backend.get_array_module(out)
    out = out.astype("float64")
    if loss in objectives.BCE:
        out = 1 / (1 + xp.exp(-out))
    return backend.scalar(out.mean())


def _noisy(x, noise):
    """What D sees of ``x``: ``x + noise`` under instance noise. The addition
    does not change D's input gradient (d(x + n)/dx is the identity), so the
    gradient that reaches ``x`` is D's input gradient at the noisy point."""
    return x if noise is None else x + noise


def _together(D, X_real, X_fake, loss, **backward):
    """D's outputs on the real and the fake batch judged as one batch, the
    gradients ``loss(out_real, out_fake) -> (value, info, d_real, d_fake)``
    sent back through D; returns (value, info, out_real, out_fake, dX_fake)."""
    xp = backend.get_array_module(X_real)
    n = X_real.shape[0]
    out = D.forward(xp.concatenate([X_real, X_fake]))
    value, info, d_real, d_fake = loss(out[:n], out[n:])
    dX = D.backward(xp.concatenate([d_real, d_fake]), **backward)
    return value, info, out[:n], out[n:], None if dX is None else dX[n:]


def _update_critic(D, opt_D, game):
    opt_D.step()
    if game.clip:
        for _, p, _ in D.parameters():
            backend.get_array_module(p).clip(p, -game.clip, game.clip, out=p)


def critic_step(G, D, opt_D, real, z, game, io, labels=None, eps=None, codes=None,
                targets=None, noise=None, update=True, keep=False):
    """One update of D on ``real`` against ``G(z)``; returns (fake, metrics,
    verdict). ``update=False`` leaves D's gradients in ``D.grads`` without
    stepping. ``keep=True`` (a separable objective, no penalty): D keeps its
    forward pass on the fakes through the backward pass, and ``verdict`` is
    its output there, for :func:`generator_step` (else None).

    ``targets`` (BCE objectives): D's targets on the reals and the fakes, one
    per D output (noisy or flipped labels), instead of ``game.real_label`` and
    0. ``noise``: instance noise added to the reals and the fakes D sees."""
    obj = game.objective()
    fake = G.forward(io.g_input(z, labels, codes))
    t_real, t_fake = targets if targets is not None else (game.real_label, 0.0)
    n_real, n_fake = noise if noise is not None else (None, None)
    X_real = io.d_input(_noisy(real, n_real), labels)
    X_fake = io.d_input(_noisy(fake, n_fake), labels)
    D.zero_grad()
    if obj.coupled:
        d_loss, info, out_real, out_fake, _ = _together(
            D, X_real, X_fake, lambda r, f: obj.d_loss(r, f, t_real, t_fake, codes),
            input_grad=False)
    else:
        out_real = D.forward(X_real)
        loss_real, dl = obj.d_real(out_real, t_real)
        D.backward(dl, input_grad=False)
        out_fake = D.forward(X_fake)
        loss_fake, info, dl = obj.d_fake(out_fake, t_fake, codes)
        pending = D.pending() if keep else None
        D.backward(dl, input_grad=False)
        if keep:
            D.resume(pending)
        d_loss = loss_real + loss_fake
    if game.gp_weight:
        # x_hat = eps*real + (1 - eps)*fake, eps ~ U(0, 1) per sample
        x_hat = fake + eps * (real - fake)
        penalty, _ = gradient_penalty(D, io.d_input(x_hat, labels), game.gp_weight,
                                      where=io.penalty_mask(x_hat))
        d_loss += penalty
    if update:
        _update_critic(D, opt_D, game)
    m = {"d_loss": d_loss, "d_real": _mean_output(game.loss, out_real[:, :1]),
         "d_fake": _mean_output(game.loss, out_fake[:, :1])}
    if info is not None:
        m["info_loss"] = info
    return fake, m, out_fake if keep else None


def generator_step(G, D, opt_G, fake, game, io, real=None, labels=None, codes=None,
                   noise=None, verdict=None):
    """One update of G through D's verdict on ``fake`` (G's output of the last
    critic step); D's weights and grads are not touched. A coupled objective
    also sees D's scores of ``real``. ``verdict``: D's output on ``fake``
    from :func:`critic_step` with ``keep=True``, at D's present weights (so
    D is not run again). Returns G's loss."""
    obj = game.objective()
    G.zero_grad()
    X_fake = io.d_input(_noisy(fake, None if noise is None else noise[1]), labels)
    if obj.coupled:
        def loss(out_real, out_fake):           # the reals' scores do not depend on G
            value, info, d_fake = obj.g_loss(out_fake, out_real, codes)
            return value, info, backend.get_array_module(d_fake).zeros_like(out_real), d_fake

        X_real = io.d_input(_noisy(real, None if noise is None else noise[0]), labels)
        g_loss, _, _, _, dX = _together(D, X_real, X_fake, loss, param_grads=False)
    else:
        g_loss, _, dl = obj.g_loss(D.forward(X_fake) if verdict is None else verdict, None,
                                   codes)
        dX = D.backward(dl, param_grads=False)
    G.backward(io.d_input_grad(dX, fake.shape), input_grad=False)
    opt_G.step()
    return g_loss


def one_pass_on_the_fakes(D, game):
    """Whether one forward pass of D on the fakes serves both D's and G's
    backward pass: simultaneous updates (D unchanged in between), a
    separable loss, no penalty rerunning D, and no layer of D whose forward
    pass changes state (so a second pass would only repeat the first)."""
    return (game.simultaneous and not game.objective().coupled and not game.gp_weight
            and not D.forward_changes_state())


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
    if game.simultaneous and game.n_critic != 1:
        raise ValueError(f"gan_step: simultaneous updates take one critic step per generator "
                         f"step, got n_critic={game.n_critic}")
    if not len(real) == len(z) == game.n_critic:
        raise ValueError(f"gan_step: expected {game.n_critic} batches of real data and noise "
                         f"(one per critic step), got {len(real)} and {len(z)}")
    k = game.n_critic
    labels, eps, codes, targets, noise = (v if v is not None else [None] * k
                                          for v in (labels, eps, codes, targets, noise))
    keep = one_pass_on_the_fakes(D, game)
    for i in range(k):
        fake, m, verdict = critic_step(G, D, opt_D, real[i], z[i], game, io, labels[i], eps[i],
                                       codes[i], targets[i], noise[i],
                                       update=not game.simultaneous, keep=keep)
    m["g_loss"] = generator_step(G, D, opt_G, fake, game, io, real[-1], labels[-1], codes[-1],
                                 noise[-1], verdict)
    if game.simultaneous:            # D's gradient was taken before G's step, at D's old weights
        _update_critic(D, opt_D, game)
    return dict(zip(m, backend.fetch(m.values())))     # one transfer from a GPU per step
