"""Config is the one source of defaults: ``Config(**settings)`` and
``minigan train`` with the same settings as flags train the same model."""

import dataclasses
import json
import os

import pytest

from minigan.gan.config import DIGIT_CLUSTERS, Config
from minigan.gan.trainer import Trainer

from .helpers import run

SHORT = dict(limit=64, epochs=1, eval_every=0, backend="numpy")

CASES = [
    ({}, []),                                                   # the default model
    (dict(model="toy", batch_size=32), ["--model", "toy", "--batch-size", "32"]),
    (dict(model="pacgan-mlp", dataset="grid", pack=2, batch_size=32),
     ["--model", "pacgan-mlp", "--dataset", "grid", "--pack", "2", "--batch-size", "32"]),
    (dict(model="pacgan-mlp", pack=2, batch_size=32, real_packs="fixed"),
     ["--model", "pacgan-mlp", "--pack", "2", "--batch-size", "32", "--real-packs", "fixed"]),
    (dict(conditional=True), ["--conditional"]),
    (dict(codes=4), ["--codes", "4"]),
    (dict(loss="wgan-gp", batch_size=16), ["--loss", "wgan-gp", "--batch-size", "16"]),
    (dict(model="pacgan-mlp", loss="hinge", spectral_norm=True, sn_per_piece=True,
          batch_size=32), ["--model", "pacgan-mlp", "--loss", "hinge", "--spectral-norm",
                           "--sn-per-piece", "--batch-size", "32"]),
    (dict(model="mlp", clusters=3), ["--model", "mlp", "--clusters", "3"]),
]


def flags(settings):
    out = []
    for k, v in settings.items():
        out += [f"--{k.replace('_', '-')}", str(v)]
    return out


@pytest.mark.parametrize("settings, argv", CASES, ids=lambda c: " ".join(c) if
                         isinstance(c, list) else None)
def test_minigan_train_writes_the_config_that_config_defaults_give(tmp_path, capsys, settings,
                                                                    argv):
    out = str(tmp_path / "run")
    code, _, err = run(capsys, "train", *argv, *flags(SHORT), "--no-progress", "--out", out)
    assert code == 0, err
    with open(os.path.join(out, "config.json")) as f:
        written = json.load(f)
    lib = Config(**settings, **SHORT, out=out).validate()
    assert written == lib.to_dict()
    # the same model: the CLI's checkpoint loads into the library's trainer,
    # whose freshly built G has the same layers and initial weights as the CLI's
    fresh = Trainer(Config(**settings, **SHORT, out=str(tmp_path / "lib")).validate())
    resumed = Trainer.from_checkpoint(os.path.join(out, "checkpoint.npz"),
                                      out=str(tmp_path / "lib2"))
    assert fresh.G.state_dict().keys() == resumed.G.state_dict().keys()
    assert fresh.D.state_dict().keys() == resumed.D.state_dict().keys()
    for k, v in fresh.G.state_dict().items():
        assert v.shape == resumed.G.state_dict()[k].shape, k


def test_the_default_model_is_the_self_conditioned_dcgan():
    cfg = Config().validate()
    assert (cfg.model, cfg.dataset, cfg.clusters, cfg.dropout, cfg.epochs, cfg.batch_size) == \
        ("dcgan", "mnist", DIGIT_CLUSTERS, 0.3, 12, 32)
    assert cfg.out == os.path.join("runs", "dcgan-mnist")
    # a class or code from elsewhere, another model or data: no clusters unless asked
    for other in (dict(conditional=True), dict(codes=4), dict(model="mlp"),
                  dict(dataset="fashion")):
        assert Config(**other).validate().clusters == 0, other
    assert Config(conditional=True).validate().samples == 100      # a row per class


@pytest.mark.parametrize("model", ["mlp", "dcgan", "toy", "pacgan-mlp"])
def test_validate_leaves_no_setting_to_chance(model):
    cfg = Config(model=model).validate()
    unset = [f.name for f in dataclasses.fields(cfg) if getattr(cfg, f.name) is None]
    assert set(unset) <= {"data_dir", "limit"}, unset
    assert dataclasses.asdict(Config(**cfg.to_dict()).validate()) == cfg.to_dict()  # a fixed point


def test_model_defaults_give_way_to_settings():
    cfg = Config(model="pacgan-mlp", pack=3, lr=3e-4).validate()
    assert (cfg.batch_size, cfg.lr, cfg.beta1, cfg.ema, cfg.epochs) == (300, 3e-4, 0.8, 0.0, 400)
    assert Config(model="toy", loss="wgan-gp").validate().gp_weight == 0.1


def test_old_checkpoint_configs_keep_their_meaning():
    """A config saved before clusters existed was the plain DCGAN; one saved
    before fixed packs existed packed its data anew every epoch."""
    old = {k: v for k, v in Config(clusters=0).validate().to_dict().items()
           if k not in ("clusters", "real_packs")}
    assert Config.from_dict(old).validate().clusters == 0
    assert Config.from_dict(old).validate().real_packs == "fresh"


def test_fixed_packs_draw_the_papers_100000_points_once():
    """pacgan-mlp's data: 100,000 examples of m points, drawn as 100,000 * m
    fresh points, or (the authors' fixed packs) as m bootstraps of 100,000."""
    from minigan.data.training import load_training_data
    for real_packs, n in (("fresh", 300_000), ("fixed", 100_000)):
        cfg = Config(model="pacgan-mlp", pack=3, real_packs=real_packs).validate()
        assert load_training_data(cfg)[0].shape == (n, 2)
    t = Trainer(Config(model="pacgan-mlp", pack=3, batch_size=30, real_packs="fixed",
                       **SHORT, out="unused").validate())
    assert t.batches.packs.shape == (64, 3) and t.steps_per_epoch == 6
    with pytest.raises(ValueError, match="--real-packs must be one of fresh, fixed, got 'new'"):
        Config(real_packs="new").validate()


def test_batchnorm_settings_are_the_models_and_old_configs_keep_theirs(tmp_path):
    """pacgan-mlp's BatchNorm is the authors' (Blocks': epsilon 1e-4, averaged
    standard deviations, refreshed after each epoch), the DCGAN's PyTorch's;
    a config saved before the settings existed trained with PyTorch's, and a
    run resumed from it keeps them."""
    from minigan.gan.trainer import Trainer
    keys = ("bn_eps", "bn_stats", "bn_refresh")

    def bn(cfg):
        return tuple(getattr(cfg, k) for k in keys)

    assert bn(Config(model="pacgan-mlp").validate()) == (1e-4, "std", 50)
    assert bn(Config().validate()) == (1e-5, "var", 0)
    new = Config(model="pacgan-mlp", dataset="grid", limit=200, epochs=1, eval_every=0,
                 samples=4, out=str(tmp_path / "new"))
    old = {k: v for k, v in new.validate().to_dict().items() if k not in keys}
    assert bn(Config.from_dict(old).validate()) == (1e-5, "var", 0)
    t = Trainer(Config.from_dict(old))
    layers = [layer for layer in t.G if hasattr(layer, "eps")]
    assert {(layer.eps, layer.stats) for layer in layers} == {(1e-5, "var")}
    t.train_step()
    t.save_checkpoint(str(tmp_path / "ckpt.npz"))
    again = Trainer.from_checkpoint(str(tmp_path / "ckpt.npz"), log=lambda *a: None)
    assert bn(again.cfg) == (1e-5, "var", 0)
    assert {(layer.eps, layer.stats) for layer in again.G if hasattr(layer, "eps")} == {
        (1e-5, "var")}
    with pytest.raises(ValueError, match="bn_stats 'var' or 'std'"):
        Config(bn_stats="median").validate()
