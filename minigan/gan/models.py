"""Model builders: the reference GANs, configurable in size.

``mlp``
    G: z(100) -> 256 -> 512 -> 1024 -> C*S*S, LeakyReLU(0.2) between, Tanh out.
    D: C*S*S -> 512 -> 256 -> 1, LeakyReLU(0.2) between, a logit out.
``dcgan``
    The TensorFlow DCGAN tutorial's 28x28 model, generalized to image sizes
    28, 32 and 64 and to 1 or 3 channels. For size S with u upsamplings
    (u = 2 for 28 and 32, 3 for 64) and ``width`` w (64)::

      G: z -> Dense(w*2^u * b*b, no bias) -> BN -> LReLU(0.3) -> reshape (w*2^u, b, b)
           -> ConvT 5x5 s1 p2 to w*2^(u-1) (no bias) -> BN -> LReLU(0.3)
           -> [ConvT 5x5 s2 p2 op1, halving the channels (no bias) -> BN -> LReLU(0.3)] x (u-1)
           -> ConvT 5x5 s2 p2 op1 to C (no bias) -> Tanh            (b = S / 2^u)
      D: [Conv 5x5 s2 p2 (w, 2w, 4w, ...) -> LReLU(0.3) -> Dropout(0.3)] x u
           -> Flatten -> Dense -> 1 logit

    Weights N(0, 0.02), BatchNorm gamma N(1, 0.02), beta 0 (Radford et al. 2016).
``toy``
    For 2D mixtures: G z(2) -> 128 -> 128 -> 2 and D 2 -> 128 -> 128 -> 1 with ReLU.
``pacgan-mlp``
    The 2D mixtures' model of the PacGAN paper (Lin et al. 2018, the authors'
    ``synthetic_data_experiments``): G z(2) -> 4 x [400 (no bias) -> BatchNorm
    (Blocks': momentum 0.05, epsilon 1e-4, population statistics of the
    batches' standard deviations) -> ReLU] -> 2; D 3 maxout layers of 200
    units with 5 pieces each -> 1 logit. Weights N(0, 0.02), biases 0. With
    ``pack`` m, G's BatchNorm normalizes each packed slot (the samples with
    the same index mod m) as its own batch, as the authors' G runs once per
    slot; the model trains with their simultaneous updates by default. How
    it follows their runs, and what still differs, is in docs/pacgan.md.

Options shared by the builders (see :mod:`minigan.gan.inputs`):
``n_classes`` K > 0 makes a conditional pair (G takes latent_dim + K inputs,
D takes the image plus K label channels (dcgan) or features (mlp, toy));
``pack`` m > 1 makes D judge m samples at once (m times the input channels
or features); ``codes`` K > 0 makes an InfoGAN pair (G takes latent_dim + K
inputs, a one-hot categorical code, and D's last layer has 1 + K outputs: the
real/fake logit, then K logits predicting the code). ``dropout=0`` builds
the dcgan D without Dropout layers: a
critic trained with a gradient penalty must be one fixed function, and
``minigan train`` uses it by default (it measured better there; the
builder's own default stays the tutorial's 0.3).
"""

import numpy as np

from .. import init
from ..layers import (BatchNorm, Conv2D, ConvTranspose2D, Dense, Dropout, Flatten, LeakyReLU,
                      Maxout, ReLU, Reshape, Sequential, Tanh, apply_spectral_norm)
from ..init import as_rng

IMAGE_SIZES = {28: 2, 32: 2, 64: 3}       # image size -> number of 2x upsamplings
MODELS = ("mlp", "dcgan", "toy", "pacgan-mlp")
POINT_MODELS = ("toy", "pacgan-mlp")      # the models of the 2D mixtures


def _check_image(image_size, channels):
    if image_size not in IMAGE_SIZES:
        raise ValueError(f"image size {image_size} is not supported: expected one of "
                         f"{sorted(IMAGE_SIZES)}")
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")


def mlp_gan(latent_dim=100, image_size=28, channels=1, hidden=(256, 512, 1024),
            d_hidden=(512, 256), slope=0.2, rng=0, dtype=np.float32, n_classes=0, pack=1,
            codes=0):
    """The fully connected GAN. Returns ``(G, D)``."""
    rng = as_rng(rng)
    n_out = channels * image_size * image_size
    g, sizes = [], (latent_dim + n_classes + codes,) + tuple(hidden)
    for a, b in zip(sizes, sizes[1:]):
        g += [Dense(a, b, rng=rng, dtype=dtype), LeakyReLU(slope)]
    g += [Dense(sizes[-1], n_out, rng=rng, dtype=dtype), Tanh(),
          Reshape(channels, image_size, image_size)]
    d, sizes = [Flatten()], ((n_out + n_classes) * pack,) + tuple(d_hidden)
    for a, b in zip(sizes, sizes[1:]):
        d += [Dense(a, b, rng=rng, dtype=dtype), LeakyReLU(slope)]
    d += [Dense(sizes[-1], 1 + codes, rng=rng, dtype=dtype)]
    return Sequential(*g), Sequential(*d)


def _dcgan_batchnorm(n, rng, dtype, eps, stats):
    bn = BatchNorm(n, eps=eps, dtype=dtype, stats=stats)
    bn.params["gamma"][...] = init.normal((n,), rng, 1.0, 0.02, dtype=dtype)
    return bn


def dcgan(latent_dim=100, image_size=28, channels=1, width=64, slope=0.3, dropout=0.3, rng=0,
          dtype=np.float32, n_classes=0, pack=1, codes=0, bn_eps=1e-5, bn_stats="var"):
    """The DCGAN pair (see the module docstring for the exact layers).
    Returns ``(G, D)``."""
    _check_image(image_size, channels)
    rng = as_rng(rng)
    u = IMAGE_SIZES[image_size]
    base = image_size // 2 ** u
    ch = width * 2 ** u
    kw = dict(rng=rng, init=init.dcgan, dtype=dtype)
    g = [Dense(latent_dim + n_classes + codes, ch * base * base, bias=False, **kw),
         _dcgan_batchnorm(ch * base * base, rng, dtype, bn_eps, bn_stats), LeakyReLU(slope),
         Reshape(ch, base, base),
         ConvTranspose2D(ch, ch // 2, 5, stride=1, padding=2, bias=False, **kw),
         _dcgan_batchnorm(ch // 2, rng, dtype, bn_eps, bn_stats), LeakyReLU(slope)]
    ch //= 2
    for _ in range(u - 1):
        g += [ConvTranspose2D(ch, ch // 2, 5, stride=2, padding=2, output_padding=1, bias=False,
                              **kw), _dcgan_batchnorm(ch // 2, rng, dtype, bn_eps, bn_stats),
              LeakyReLU(slope)]
        ch //= 2
    g += [ConvTranspose2D(ch, channels, 5, stride=2, padding=2, output_padding=1, bias=False,
                          **kw), Tanh()]

    d, ch, size = [], (channels + n_classes) * pack, image_size
    # the label channels come last only when there is no packing (then they
    # interleave with the samples'); constant, they cost a bias map per label
    constant = n_classes if pack == 1 else 0
    for k in range(u):
        d += [Conv2D(ch, width * 2 ** k, 5, stride=2, padding=2, constant_channels=constant, **kw),
              LeakyReLU(slope)]
        constant = 0
        if dropout:
            d += [Dropout(dropout, rng=rng.integers(2**63))]
        ch, size = width * 2 ** k, (size + 1) // 2
    d += [Flatten(), Dense(ch * size * size, 1 + codes, **kw)]
    return Sequential(*g), Sequential(*d)


def toy_gan(latent_dim=2, hidden=128, rng=0, dtype=np.float32, n_classes=0, pack=1, codes=0):
    """A small ReLU MLP pair for 2D point clouds. Returns ``(G, D)``."""
    rng = as_rng(rng)
    G = Sequential(Dense(latent_dim + n_classes + codes, hidden, rng=rng, dtype=dtype), ReLU(),
                   Dense(hidden, hidden, rng=rng, dtype=dtype), ReLU(),
                   Dense(hidden, 2, rng=rng, dtype=dtype))
    D = Sequential(Dense((2 + n_classes) * pack, hidden, rng=rng, dtype=dtype), ReLU(),
                   Dense(hidden, hidden, rng=rng, dtype=dtype), ReLU(),
                   Dense(hidden, 1 + codes, rng=rng, dtype=dtype))
    return G, D


def pacgan_mlp(latent_dim=2, hidden=400, d_hidden=200, pieces=5, rng=0, dtype=np.float32,
               n_classes=0, pack=1, codes=0, bn_eps=1e-4, bn_stats="std"):
    """The PacGAN paper's 2D model (see the module docstring). Returns ``(G, D)``."""
    rng = as_rng(rng)
    kw = dict(rng=rng, init=init.dcgan, dtype=dtype)
    g, width = [], latent_dim + n_classes + codes
    for _ in range(4):
        # one BatchNorm batch per packed slot, as the authors' G runs once per slot
        g += [Dense(width, hidden, bias=False, **kw),
              BatchNorm(hidden, momentum=0.05, eps=bn_eps, dtype=dtype, groups=pack,
                        stats=bn_stats), ReLU()]
        width = hidden
    g += [Dense(hidden, 2, **kw)]
    d, width = [], (2 + n_classes) * pack
    for _ in range(3):
        d += [Dense(width, d_hidden * pieces, **kw), Maxout(pieces)]
        width = d_hidden
    d += [Dense(d_hidden, 1 + codes, **kw)]
    return Sequential(*g), Sequential(*d)


def build(name, **kwargs):
    """``build("dcgan", image_size=32, channels=3)`` -> ``(G, D)``."""
    builders = {"mlp": mlp_gan, "dcgan": dcgan, "toy": toy_gan, "pacgan-mlp": pacgan_mlp}
    if name not in builders:
        raise ValueError(f"unknown model {name!r}: expected one of {', '.join(MODELS)}")
    return builders[name](**kwargs)


def build_for_config(cfg, generator_only=False):
    """``(G, D)`` for the config: the model, conditioned and packed as asked;
    D spectrally normalized if asked, without Dropout under a gradient penalty."""
    if cfg.model in POINT_MODELS:
        kw = (dict(bn_eps=cfg.bn_eps, bn_stats=cfg.bn_stats) if cfg.model == "pacgan-mlp"
              else {})
        G, D = build(cfg.model, rng=cfg.seed, n_classes=cfg.n_classes, pack=cfg.pack,
                     codes=cfg.codes, **kw)
    else:
        kw = dict(latent_dim=cfg.latent_dim, image_size=cfg.image_size, channels=cfg.channels,
                  rng=cfg.seed, n_classes=cfg.n_classes, pack=cfg.pack, codes=cfg.codes)
        if cfg.model == "dcgan":
            kw.update(width=cfg.width, dropout=cfg.dropout, bn_eps=cfg.bn_eps,
                      bn_stats=cfg.bn_stats)
        G, D = build(cfg.model, **kw)
    if cfg.spectral_norm and not generator_only:
        apply_spectral_norm(D, rng=[cfg.seed, 8], per_piece=cfg.sn_per_piece)
    return G, D
