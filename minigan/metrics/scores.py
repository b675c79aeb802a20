"""GAN quality scores, computed in float64.

Image scores use an MNIST classifier (``metrics.classifier``) instead of an
Inception network: its penultimate-layer features and class probabilities.

=====================  ========================================================
score                  definition
=====================  ========================================================
classifier FID         ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between
                       Gaussian fits (mean, covariance) of two feature sets
                       (Heusel et al. 2017); lower is better, 0 for identical fits
classifier IS          exp(E_x KL(p(y|x) || p(y))), mean and std over 10 splits
                       (Salimans et al. 2016); at most 10 for 10 classes
classes covered        classes predicted for at least 1% of the samples
KL to uniform          KL(h || U) of the predicted-class histogram h
confident share        share of samples with max class probability >= 0.9
=====================  ========================================================

What each is blind to: FID to anything the classifier's features ignore;
IS to diversity within a class (and it rewards confident classes); classes
covered to how well each class is drawn and to imbalance above 1%; KL to
uniform to quality; the confident share to diversity altogether, so a
generator collapsed onto one clean digit scores 1.0. Read the confident
share only beside classes covered and KL (``minigan evaluate`` says so when
classes are missing).

2D mixtures (PacGAN, Lin et al. 2018): each sample belongs to its nearest
mode and is *high quality* when it lies within 3 standard deviations of it;
a mode is *captured* when at least one high-quality sample belongs to it; the
reverse KL is KL(h || U) of the histogram h of high-quality samples over the
modes (finite even when modes are missing).

Sample counts: FID and coverage are estimated from the samples given (the
CLI uses 5,000 generated images against 5,000 real ones); FID is biased
upward for small counts, so compare figures computed from equal counts.
"""

import numpy as np


def _kl_to_uniform(counts):
    h = np.asarray(counts, np.float64)
    h = h / h.sum()
    nz = h > 0
    return float((h[nz] * np.log(h[nz] * len(h))).sum())


def frechet_distance(feat_a, feat_b):
    """Fréchet distance between Gaussian fits of two (N, D) feature sets.

    The trace of the matrix square root is computed symmetrically: with
    ``R = S_a^(1/2)``, ``Tr((S_a S_b)^(1/2)) = sum sqrt(eig(R S_b R))``."""
    a, b = np.asarray(feat_a, np.float64), np.asarray(feat_b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(s_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = root_a @ s_b @ root_a
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * tr_sqrt)


def inception_score(probs, splits=10):
    """``(mean, std)`` of exp(E KL(p(y|x) || p(y))) over ``splits`` splits."""
    p = np.asarray(probs, np.float64)
    scores = []
    for part in np.array_split(p, splits):
        py = part.mean(0, keepdims=True)
        kl = (part * (np.log(part + 1e-12) - np.log(py + 1e-12))).sum(1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def class_coverage(probs, min_share=0.01, confident=0.9):
    """``{"classes_covered", "kl_uniform", "confident_share"}`` of (N, K) probabilities."""
    p = np.asarray(probs, np.float64)
    counts = np.bincount(p.argmax(1), minlength=p.shape[1])
    return {"classes_covered": int((counts >= min_share * len(p)).sum()),
            "kl_uniform": _kl_to_uniform(counts),
            "confident_share": float((p.max(1) >= confident).mean())}


def mode_counts(points, means, std):
    """Per mode, the points of high quality there (within 3 ``std`` of it,
    their nearest mode) and the points whose nearest mode it is, however
    far: two (K,) integer arrays."""
    x = np.asarray(points, np.float64)
    d = np.linalg.norm(x[:, None, :] - np.asarray(means)[None], axis=2)
    nearest, good = d.argmin(1), d.min(1) <= 3 * std
    return (np.bincount(nearest[good], minlength=len(means)),
            np.bincount(nearest, minlength=len(means)))


def mode_metrics(points, means, std):
    """PacGAN's 2D metrics: ``{"modes_captured", "high_quality_share", "reverse_kl"}``."""
    counts, _ = mode_counts(points, means, std)
    return {"modes_captured": int((counts > 0).sum()),
            "high_quality_share": float(counts.sum() / len(points)),
            "reverse_kl": _kl_to_uniform(counts) if counts.sum() else float("inf")}
