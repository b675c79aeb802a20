"""The evaluator: a small MNIST classifier built from minigan's own layers.

    Conv 1->16 3x3 p1 -> ReLU -> Conv 16->32 3x3 s2 p1 -> ReLU      (14x14)
    -> Conv 32->64 3x3 s2 p1 -> ReLU -> Flatten                    (7x7x64)
    -> Dense 3136->64 -> ReLU   [the 64 features]  -> Dropout 0.3 -> Dense 64->10

Its trained weights ship with minigan (``evaluator.npz``, checked against the
sha256 below before use) so that scores need no download; the script
``python -m minigan.metrics.train_classifier`` reproduces them.
"""

import hashlib
from importlib import resources

import numpy as np

from .. import backend
from ..layers import Conv2D, Dense, Dropout, Flatten, ReLU, Sequential

WEIGHTS = "evaluator.npz"
WEIGHTS_SHA256 = "aaef4b944a9b2d99688138102fdcf52bda9de6c819430cef83e0f6a7547dad19"
FEATURES = 8               # index of the ReLU after Dense(3136 -> 64): the features


def build(rng=0):
    return Sequential(
        Conv2D(1, 16, 3, padding=1, rng=rng), ReLU(),
        Conv2D(16, 32, 3, stride=2, padding=1, rng=rng), ReLU(),
        Conv2D(32, 64, 3, stride=2, padding=1, rng=rng), ReLU(), Flatten(),
        Dense(3136, 64, rng=rng), ReLU(), Dropout(0.3, rng=rng), Dense(64, 10, rng=rng))


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def load(path=None):
    """The trained evaluator in eval mode: the shipped weights (sha256-checked)
    or those in ``path``."""
    if path is None:
        with resources.as_file(resources.files("minigan.metrics") / WEIGHTS) as shipped:
            if sha256(shipped) != WEIGHTS_SHA256:
                raise ValueError(f"{shipped}: sha256 does not match the evaluator weights this "
                                 f"minigan was released with")
            return load(shipped)
    net = build()
    with np.load(path, allow_pickle=False) as z:
        net.load_state_dict({k: backend.asarray(z[k]) if z[k].dtype.kind == "f" else z[k]
                             for k in z.files})
    return net.eval()


def features_and_probs(net, images, batch=100):
    """Penultimate features (N, 64) and class probabilities (N, 10), float64,
    of images in [-1, 1], shape (N, 1, 28, 28)."""
    feats, probs = [], []
    for i in range(0, len(images), batch):
        x = backend.asarray(np.asarray(images[i:i + batch], np.float32))
        for k, layer in enumerate(net):
            x = layer.forward(x)
            if k == FEATURES:
                feats.append(backend.to_numpy(x).astype(np.float64))
        logits = backend.to_numpy(x).astype(np.float64)
        e = np.exp(logits - logits.max(1, keepdims=True))
        probs.append(e / e.sum(1, keepdims=True))
    return np.concatenate(feats), np.concatenate(probs)
