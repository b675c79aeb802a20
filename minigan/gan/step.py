"""One GAN training step, exactly as the diagram in the README draws it.

    fake = G(z)                                  (one generator forward)
    D step:  zero D's grads; D(real) -> loss, backward; D(fake) -> loss,
             backward (grads accumulate); Adam step on D
    G step:  zero G's grads; D(fake) -> generator loss; backward through D
             with param_grads=False (D is not touched); backward through G;
             Adam step on G

Every forward is paired with its backward before the next forward of the
same network, so each layer's cache is always the right one.
"""

from .. import backend
from . import objectives


def _mean_sigmoid(logits):
    xp = backend.get_array_module(logits)
    return float((1 / (1 + xp.exp(-logits.astype("float64")))).mean())


def gan_step(G, D, opt_G, opt_D, real, z, loss="non-saturating", real_label=1.0):
    """Run one step; returns a dict of floats: ``d_loss``, ``g_loss``,
    ``d_real`` (mean D(x), as a probability) and ``d_fake`` (mean D(G(z)))."""
    fake = G.forward(z)

    D.zero_grad()
    logits_real = D.forward(real)
    loss_real, dl = objectives.d_real_loss(loss, logits_real, real_label)
    D.backward(dl, input_grad=False)
    logits_fake = D.forward(fake)
    loss_fake, dl = objectives.d_fake_loss(loss, logits_fake)
    D.backward(dl, input_grad=False)
    opt_D.step()

    G.zero_grad()
    logits = D.forward(fake)
    g_loss, dl = objectives.g_loss(loss, logits)
    dfake = D.backward(dl, param_grads=False)
    G.backward(dfake, input_grad=False)
    opt_G.step()

    return {"d_loss": loss_real + loss_fake, "g_loss": g_loss,
            "d_real": _mean_sigmoid(logits_real), "d_fake": _mean_sigmoid(logits_fake)}
