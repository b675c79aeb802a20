"""Train the evaluator classifier: ``python -m minigan.metrics.train_classifier``.

Default: the bundled 10,000 MNIST digits, split (seeded) into 8,500 for
training and 1,500 held out for validation; ``--full`` trains on the
60,000-image training split (download it first) and validates on the
bundled 10,000. Augmentation: random shifts of up to 2 pixels. Adam 1e-3,
halved for the last third of the epochs. The same seed and backend give the
same weights; the sha256 printed at the end is the one minigan checks.
"""

import argparse
import os

import numpy as np

from .. import backend, data, optim
from .._atomic import atomic_write
from ..functional.losses import softmax_cross_entropy
from . import classifier


def shift(images, rng, max_shift=2):
    """Each image moved by up to ``max_shift`` pixels in x and y (zero fill)."""
    N, C, H, W = images.shape
    pad = np.pad(images, ((0, 0), (0, 0), (max_shift,) * 2, (max_shift,) * 2),
                 constant_values=-1.0)
    dy, dx = rng.integers(0, 2 * max_shift + 1, (2, N))
    return np.stack([pad[n, :, dy[n]:dy[n] + H, dx[n]:dx[n] + W] for n in range(N)])


def accuracy(net, images, labels):
    _, probs = classifier.features_and_probs(net, images)
    return float((probs.argmax(1) == labels).mean())


def train(full=False, epochs=12, batch=64, seed=0, log=print):
    rng = np.random.default_rng(seed)
    if full:
        x_train, y_train = data.load_mnist("train")
        x_val, y_val = data.load_mnist("test")
    else:
        x, y = data.load_mnist("test")
        order = np.random.default_rng([seed, 1]).permutation(len(x))
        tr, va = order[:8500], order[8500:]
        x_train, y_train, x_val, y_val = x[tr], y[tr], x[va], y[va]
    x_train, x_val = data.to_unit_range(x_train), data.to_unit_range(x_val)
    net = classifier.build(rng=seed)
    opt = optim.Adam(net.parameters(), lr=1e-3)
    steps = len(x_train) // batch
    for epoch in range(epochs):
        if epoch == 2 * epochs // 3:
            opt.lr /= 2
        order = np.random.default_rng([seed, 2, epoch]).permutation(len(x_train))
        net.train()
        total = 0.0
        for k in range(steps):
            idx = order[k * batch:(k + 1) * batch]
            xb = backend.asarray(shift(x_train[idx], rng).astype(np.float32))
            net.zero_grad()
            loss, dlogits = softmax_cross_entropy(net.forward(xb), backend.asarray(y_train[idx]))
            net.backward(dlogits, input_grad=False)
            opt.step()
            total += loss
        acc = accuracy(net.eval(), x_val, y_val)
        log(f"epoch {epoch + 1}/{epochs}: train loss {total / steps:.4f}, "
            f"held-out accuracy {acc:.4f}")
    return net, acc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="train on the 60k training split")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), classifier.WEIGHTS))
    args = ap.parse_args(argv)
    net, acc = train(args.full, args.epochs, seed=args.seed)
    state = {k: backend.to_numpy(v) for k, v in net.state_dict().items()}

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **state)

    atomic_write(args.out, write)
    digest = classifier.sha256(args.out)
    print(f"held-out accuracy {acc:.4f}; wrote {args.out}, sha256 {digest}")
    if digest == classifier.WEIGHTS_SHA256:
        print("identical to the weights minigan ships")


if __name__ == "__main__":
    main()
