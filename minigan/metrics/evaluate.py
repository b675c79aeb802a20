"""Scores of a generator, next to the real data's own figures.

Images: ``n`` generated digits against ``n`` real ones (the bundled MNIST
digits); the reference row compares two disjoint halves of the real digits
with the same code, which is the best a generator can hope to reach.
2D mixtures: PacGAN's mode metrics of ``n`` generated points, and of ``n``
points drawn from the mixture itself as the reference.
"""

import numpy as np

from .. import backend, data
from . import classifier, scores

IMAGE_KEYS = ("fid", "is_mean", "is_std", "classes_covered", "kl_uniform", "confident_share")
TOY_KEYS = ("modes_captured", "high_quality_share", "reverse_kl")


def image_scores(net, images, real_feats):
    """All image scores of ``images`` (N, 1, 28, 28) in [-1, 1]."""
    feats, probs = classifier.features_and_probs(net, images)
    is_mean, is_std = scores.inception_score(probs)
    return {"fid": scores.frechet_distance(feats, real_feats), "is_mean": is_mean,
            "is_std": is_std, **scores.class_coverage(probs)}


def real_digits(n, seed=0):
    """Two disjoint sets of ``n`` real digits (at most 5,000 each), in [-1, 1]."""
    images, _ = data.load_mnist("test")
    order = np.random.default_rng([seed, 3]).permutation(len(images))
    n = min(n, len(images) // 2)
    x = data.to_unit_range(images[order[:2 * n]])
    return x[:n], x[n:]


class Evaluator:
    """Scores generators of one kind (``"images"`` or a 2D mixture name)."""

    CHUNK = 100          # samples generated at a time (bounds the temporary memory)

    def __init__(self, kind="images", n=5000, seed=0):
        self.kind, self.n, self.seed = kind, n, seed
        if kind == "images":
            self.net = classifier.load()
            self.real_a, self.real_b = real_digits(n, seed)
            self.real_feats, _ = classifier.features_and_probs(self.net, self.real_b)
        else:
            self.means = data.datasets.TOYS[kind][0]()
            self.std = data.datasets.TOYS[kind][1]

    def reference(self):
        """The real data's own scores, by the same code."""
        if self.kind == "images":
            return image_scores(self.net, self.real_a, self.real_feats)
        pts = data.sample_mixture(self.kind, self.n, np.random.default_rng([self.seed, 4]))
        return scores.mode_metrics(pts, self.means, self.std)

    def score(self, generate, latent_dim):
        """Scores of ``generate(z)`` over ``n`` samples of seeded (n, latent_dim) noise."""
        out = []
        rng = np.random.default_rng([self.seed, 5])
        for i in range(0, self.n, self.CHUNK):
            z = rng.standard_normal((min(self.CHUNK, self.n - i), latent_dim))
            out.append(backend.to_numpy(generate(backend.asarray(z.astype(np.float32)))))
        samples = np.concatenate(out)
        if self.kind == "images":
            if samples.shape[1:] != (1, 28, 28):
                raise ValueError(f"the evaluator scores 28x28 grayscale digits, got samples of "
                                 f"shape {samples.shape[1:]}")
            return image_scores(self.net, samples, self.real_feats)
        return scores.mode_metrics(samples, self.means, self.std)

    def _predicted_per_group(self, generate, latent_dim, groups, seed_tag):
        """Generate ``n // groups`` samples for each of ``groups`` conditions
        (``generate(z, g)``) and classify them. Returns (conditions, predicted
        classes), both (groups * (n // groups),)."""
        if self.kind != "images":
            raise ValueError("per-class scores are for image generators")
        per = max(1, self.n // groups)
        rng = np.random.default_rng([self.seed, seed_tag])
        conditions = np.repeat(np.arange(groups), per)
        predicted = []
        for i in range(0, len(conditions), self.CHUNK):
            y = conditions[i:i + self.CHUNK]
            z = rng.standard_normal((len(y), latent_dim)).astype(np.float32)
            images = backend.to_numpy(generate(backend.asarray(z), y))
            _, probs = classifier.features_and_probs(self.net, images)
            predicted.append(probs.argmax(axis=1))
        return conditions, np.concatenate(predicted)

    def class_accuracy(self, generate, latent_dim, n_classes=10):
        """For a conditional generator ``generate(z, labels)``: the share of
        its samples that the evaluator classifies as the class asked for,
        over ``n`` samples (``n // n_classes`` per class). Returns
        ``{"class_accuracy": mean over classes, "per_class": [...]}``."""
        labels, predicted = self._predicted_per_group(generate, latent_dim, n_classes, 6)
        hit = predicted == labels
        per_class = [float(hit[labels == c].mean()) for c in range(n_classes)]
        return {"class_accuracy": float(np.mean(per_class)), "per_class": per_class}

    def code_purity(self, generate, latent_dim, codes):
        """For an InfoGAN generator ``generate(z, codes)``: how well its
        unsupervised code picks the digit, over ``n`` samples (``n // codes``
        per code). For each code, its majority class and that class's share
        of the code's samples. Returns ``{"code_purity": mean share,
        "code_classes": number of distinct majority classes, "per_code":
        [(class, share), ...]}``."""
        c, predicted = self._predicted_per_group(generate, latent_dim, codes, 7)
        per_code = []
        for k in range(codes):
            counts = np.bincount(predicted[c == k], minlength=10)
            per_code.append((int(counts.argmax()), float(counts.max() / counts.sum())))
        return {"code_purity": float(np.mean([s for _, s in per_code])),
                "code_classes": len({cls for cls, _ in per_code}), "per_code": per_code}
