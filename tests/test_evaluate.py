"""The shipped evaluator and the scores of whole generators."""

import numpy as np
import pytest

from minigan import data
from minigan.cli import main
from minigan.metrics import classifier
from minigan.metrics.evaluate import Evaluator


def test_shipped_evaluator_is_checked_and_classifies_digits():
    net = classifier.load()                      # raises if the sha256 does not match
    images, labels = data.load_mnist("test")
    feats, probs = classifier.features_and_probs(net, data.to_unit_range(images[:1000]))
    assert feats.shape == (1000, 64) and probs.shape == (1000, 10)
    # includes the digits it was trained on, so this is a sanity floor, not the
    # held-out figure (98.7%, printed by train_classifier)
    assert (probs.argmax(1) == labels[:1000]).mean() > 0.97


def test_tampered_weights_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(classifier, "WEIGHTS_SHA256", "0" * 64)
    with pytest.raises(ValueError, match="sha256 does not match"):
        classifier.load()


def test_real_digits_score_like_real_digits():
    ev = Evaluator("images", n=1000)
    ref = ev.reference()
    assert ref["classes_covered"] == 10 and ref["kl_uniform"] < 0.05 and ref["is_mean"] > 8


def test_a_collapsed_generator_scores_badly():
    ev = Evaluator("images", n=600)
    one_digit = ev.real_a[:1]

    def generate(z):
        return np.repeat(one_digit, len(z), axis=0)

    s = ev.score(generate, latent_dim=4)
    assert s["classes_covered"] == 1 and s["is_mean"] < 1.1
    assert s["fid"] > 10 * ev.reference()["fid"]


def test_toy_evaluator_counts_modes():
    ev = Evaluator("ring", n=2000)
    assert ev.reference()["modes_captured"] == 8
    means = data.ring_means()

    def two_modes(z):
        return means[(np.asarray(z)[:, 0] > 0).astype(int)] + 0.001 * np.asarray(z)

    s = ev.score(two_modes, latent_dim=2)
    assert s["modes_captured"] == 2 and s["reverse_kl"] == pytest.approx(np.log(4), abs=0.01)


def test_evaluate_refuses_what_it_cannot_score(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["train", "--model", "mlp", "--image-size", "32", "--limit", "32",
                 "--batch-size", "16", "--epochs", "1", "--out", out, "--no-progress",
                 "--backend", "numpy"]) == 0
    capsys.readouterr()
    assert main(["evaluate", f"{out}/checkpoint.npz"]) == 2
    assert "the evaluator scores 28x28 grayscale digits" in capsys.readouterr().err


def _digit_oracle(shift=0, pool=None):
    """A conditional generator that returns real test digits of class
    ``(asked + shift) % 10`` (``pool``: only these classes, by asked code)."""
    images, labels = data.load_mnist("test")
    images = data.to_unit_range(images[:3000])
    by_class = [images[labels[:3000] == c] for c in range(10)]

    def generate(z, asked):
        asked = np.asarray(asked)
        classes = (asked + shift) % 10 if pool is None else np.asarray(pool)[asked]
        return np.stack([by_class[c][i % len(by_class[c])] for i, c in enumerate(classes)])
    return generate


def test_class_accuracy_reads_the_class_asked_for():
    ev = Evaluator("images", n=500)
    right = ev.class_accuracy(_digit_oracle(0), latent_dim=4)["class_accuracy"]
    wrong = ev.class_accuracy(_digit_oracle(1), latent_dim=4)["class_accuracy"]
    assert right > 0.95 and wrong < 0.05


def test_code_purity_finds_each_codes_digit():
    ev = Evaluator("images", n=400)
    clean = ev.code_purity(_digit_oracle(pool=[3, 7, 3, 1]), latent_dim=4, codes=4)
    assert clean["code_purity"] > 0.95 and clean["code_classes"] == 3      # 3, 7, 1
    assert [c for c, _ in clean["per_code"]] == [3, 7, 3, 1]

    def half_and_half(z, asked):                      # every code: 3s and 7s alternately
        return _digit_oracle(pool=[3, 7])(z, np.arange(len(asked)) % 2)
    mixed = ev.code_purity(half_and_half, latent_dim=4, codes=4)
    assert mixed["code_purity"] == pytest.approx(0.5, abs=0.05)
