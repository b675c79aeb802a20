"""Every random draw of training, a pure function of (seed, purpose, step,
critic step): the noise, WGAN-GP's interpolation weights, InfoGAN's codes,
noisy or flipped labels and instance noise. A draw never depends on what was
drawn before it, so a resumed run draws exactly what the uninterrupted run
would have drawn. Each purpose has its own tag in the key
``[seed, tag, step, k]``: 0 fixed noise, 1 training noise, 2 interpolation,
3 codes, 4 labels, 5 instance noise, 6 the noise that refreshes BatchNorm's
statistics after an epoch (``[seed, 6, epoch, k]``, apart from training's).
(The batch order is ``data.Batches``'s, a function of the seed and the
epoch.)
"""

import numpy as np

from .. import backend


class Draws:
    """The draws of a run with config ``cfg`` and ``steps_per_epoch``."""

    def __init__(self, cfg, steps_per_epoch):
        self.cfg = cfg
        self.steps_per_epoch = steps_per_epoch

    def noise(self, n, purpose, step=0, k=0):
        tag = {"fixed": 0, "train": 1, "refresh": 6}[purpose]
        # critic step k > 0 gets its own stream; k = 0 keeps the classic GAN's keys
        key = [self.cfg.seed, tag, step] + ([k] if k else [])
        z = np.random.default_rng(key).standard_normal((n, self.cfg.latent_dim))
        return backend.asarray(z.astype(np.float32))

    def interpolation(self, step, k, like):
        """WGAN-GP's eps ~ U(0, 1), one per sample, shaped to broadcast over ``like``."""
        eps = np.random.default_rng([self.cfg.seed, 2, step, k]).random(
            (like.shape[0],) + (1,) * (like.ndim - 1))
        return backend.asarray(eps.astype(like.dtype))

    def targets(self, step, k):
        """D's (real, fake) targets for critic step ``k``, one per D output, or
        None without label noise or flips. With A = label_noise, P =
        label_flip, s = label_smoothing and u, v ~ U(0, 1) per target::

            real: 1 - s - A*u        fake: A*v        (moved towards the other side)
            then each target, with probability P, becomes 1 - target (flipped)
        """
        cfg = self.cfg
        if not (cfg.label_noise or cfg.label_flip):
            return None
        rng = np.random.default_rng([cfg.seed, 4, step, k])
        n = (cfg.batch_size // cfg.pack, 1)
        t_real = (1.0 - cfg.label_smoothing) - cfg.label_noise * rng.random(n)
        t_fake = cfg.label_noise * rng.random(n)
        if cfg.label_flip:
            t_real = np.where(rng.random(n) < cfg.label_flip, 1 - t_real, t_real)
            t_fake = np.where(rng.random(n) < cfg.label_flip, 1 - t_fake, t_fake)
        return (backend.asarray(t_real.astype(np.float32)),
                backend.asarray(t_fake.astype(np.float32)))

    def instance_sigma(self, step):
        """The instance noise's sigma at ``step``: ``instance_noise`` falling
        linearly to 0 at the end of the run's ``epochs``."""
        total = self.cfg.epochs * self.steps_per_epoch
        return self.cfg.instance_noise * max(0.0, 1.0 - step / total)

    def instance_noise(self, step, k, like):
        """(real, fake) Gaussian noise of ``instance_sigma(step)`` for critic
        step ``k``, or None when there is none."""
        sigma = self.instance_sigma(step)
        if not sigma:
            return None
        rng = np.random.default_rng([self.cfg.seed, 5, step, k])
        return tuple(backend.asarray((sigma * rng.standard_normal(like.shape)).astype(like.dtype))
                     for _ in range(2))

    def codes(self, n, step, k):
        """InfoGAN's codes c ~ U{0..K-1} for critic step ``k`` of ``step``."""
        c = np.random.default_rng([self.cfg.seed, 3, step, k]).integers(0, self.cfg.codes, n)
        return backend.asarray(c)
