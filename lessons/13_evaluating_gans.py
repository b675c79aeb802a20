# %% [markdown]
# # Lesson 13 — how good are my samples? Classifier FID, IS and coverage
#
# **Goal.** Put numbers on sample quality, offline, with a classifier built
# from minigan's own layers instead of an Inception network, and learn what
# each number can and cannot see.
#
# ## The scores
#
# A small MNIST classifier (`minigan/metrics/classifier.py`, 98.7% on
# held-out digits, weights shipped and sha256-checked) maps an image to 64
# features (its penultimate layer) and 10 class probabilities $p(y|x)$.
#
# * **FID** (Heusel et al. 2017): fit Gaussians $(\mu_r, \Sigma_r)$ and
#   $(\mu_g, \Sigma_g)$ to the features of real and generated images;
#   $\text{FID} = \|\mu_r - \mu_g\|^2 + \operatorname{Tr}\big(\Sigma_r + \Sigma_g - 2(\Sigma_r\Sigma_g)^{1/2}\big)$.
#   Lower is better; it sees both quality and diversity.
# * **IS** (Salimans et al. 2016): $\exp E_x\, KL(p(y|x)\,\|\,p(y))$, high
#   when each image is confidently one class and all classes appear; at most
#   10 here.
# * **Coverage**: how many classes get at least 1% of the samples, the KL
#   of the class histogram to uniform, and the share of confident samples.

# %%
import numpy as np

from _common import savefig, size

from minigan import data, metrics
from minigan.metrics import classifier


def fid_by_hand(a, b):
    mu_a, mu_b = a.mean(0), b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # (Sa Sb)^(1/2) has the same trace as (R Sb R)^(1/2) with R = Sa^(1/2)
    w, v = np.linalg.eigh(sa)
    r = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    tr = np.sqrt(np.clip(np.linalg.eigvalsh(r @ sb @ r), 0, None)).sum()
    return ((mu_a - mu_b) ** 2).sum() + np.trace(sa) + np.trace(sb) - 2 * tr


net = classifier.load()
n = size(2000, 300)
images, labels = data.load_mnist("test")
x = data.to_unit_range(images)
real_a, real_b = x[:n], x[n:2 * n]
feat_b, _ = classifier.features_and_probs(net, real_b)


def scores(imgs):
    f, p = classifier.features_and_probs(net, imgs)
    return {"fid": metrics.frechet_distance(f, feat_b), "is": metrics.inception_score(p)[0],
            **metrics.class_coverage(p)}


feat_a, _ = classifier.features_and_probs(net, real_a)
print(f"FID real vs real: ours {fid_by_hand(feat_a, feat_b):.3f}, "
      f"minigan {metrics.frechet_distance(feat_a, feat_b):.3f}")
ours, lib = fid_by_hand(feat_a, feat_b), metrics.frechet_distance(feat_a, feat_b)
assert abs(ours - lib) < 1e-6 * abs(lib)          # equal up to rounding

# %% [markdown]
# ## What each score sees
#
# Fake "generators" with known faults: noise added to real digits (quality
# falls), only the digits 0-4 (half the classes missing), and a single digit
# repeated (total mode collapse).

# %%
rng = np.random.default_rng(0)
cases = {"real digits": real_a}
levels = [0.0, 0.25, 0.5, 1.0]
for s in levels[1:]:
    cases[f"noise {s}"] = np.clip(real_a + s * rng.standard_normal(real_a.shape), -1, 1)
cases["only 0-4"] = x[2 * n:][labels[2 * n:] < 5][:n]
cases["one digit"] = np.repeat(real_a[:1], n, axis=0)
table = {k: scores(v.astype(np.float32)) for k, v in cases.items()}
print(f"{'':<12}{'FID':>9}{'IS':>7}{'classes':>9}{'KL(h||U)':>10}{'confident':>11}")
for k, s in table.items():
    print(f"{k:<12}{s['fid']:>9.1f}{s['is']:>7.2f}{s['classes_covered']:>9}"
          f"{s['kl_uniform']:>10.3f}{s['confident_share']:>11.2f}")

import matplotlib.pyplot as plt  # noqa: E402

fids = [table["real digits"]["fid"]] + [table[f"noise {s}"]["fid"] for s in levels[1:]]
plt.figure(figsize=(4.5, 3))
plt.plot(levels, fids, "o-")
plt.xlabel("std of added noise")
plt.ylabel("classifier FID")
plt.title("FID grows as quality falls")
savefig(plt, "13_fid_noise.png")

# %% [markdown]
# IS and coverage notice the missing classes and the collapse but barely
# notice moderate noise (the classifier still recognises the digits); FID
# notices everything, and needs equal sample counts to be comparable
# (it is biased upward for small samples: compare the real-vs-real row for
# different `n`). `minigan evaluate CHECKPOINT` prints all of them for a
# trained generator next to the real digits' own figures.
#
# ## Try next
#
# * Run `minigan evaluate runs/dcgan-mnist/checkpoint.npz` after
#   `minigan train`, and look at `runs/dcgan-mnist/metrics.png`.
# * Recompute the real-vs-real FID with 200, 1000 and 5000 samples.
