"""InfoGAN's categorical code: the step's gradients against numerical
derivatives, the inputs, the trainer's wiring, the CLI."""

import csv

import numpy as np
import pytest

from minigan import backend, gradcheck, optim
from minigan.functional.losses import softmax_cross_entropy
from minigan.gan import Config, Game, Inputs, Trainer, build, gan_step, objectives, run_files

from .conftest import arr, host
from .helpers import run
from .helpers import train_and_sample_one, train_toy_on_the_ring
from .helpers import all_state, assert_same_state, tiny

K = 3


def _info_pair():
    """A small float64 InfoGAN dcgan without Dropout (each forward is then
    one fixed function of the weights, as a numerical derivative needs)."""
    G, D = build("dcgan", latent_dim=4, width=2, dropout=0, codes=K, rng=5, dtype=np.float64)
    for net in (G, D):       # DCGAN's N(0, 0.02) leaves D's pre-activations on the fakes
        for name, p, _ in net.parameters():        # near 1e-5, where a difference step
            if name.endswith("W"):                 # of 1e-6 would cross LeakyReLU's kink
                p *= 25.0
    return G, D


def _loss_of(D, x, loss_fn, codes, weight):
    out = D.forward(x)
    loss, _ = loss_fn(out[:, :1])
    if codes is not None:
        loss += weight * softmax_cross_entropy(out[:, 1:], codes)[0]
    return loss


@pytest.mark.parametrize("weight", [1.0, 0.3])
def test_info_step_gradients_match_numerical_derivatives(weight, rng):
    """The gradients each optimizer is handed are those of the D loss plus
    weight * Q's cross-entropy (D's step) and of the G loss plus the same
    term (G's step), checked by central differences of those losses."""
    G, D = _info_pair()
    io = Inputs(codes=K)
    oG, oD = optim.SGD(G.parameters()), optim.SGD(D.parameters())
    real = arr(rng.uniform(-1, 1, (4, 1, 28, 28)))
    z = arr(rng.standard_normal((4, 4)))
    codes = arr(np.array([0, 2, 1, 2]))
    seen = {}

    def spy(net, name):
        def capture():
            seen[name] = {n: host(g).copy() for n, _, g in net.parameters()}
        return capture

    oD.step, oG.step = spy(D, "D"), spy(G, "G")   # capture, do not step: nothing moves
    gan_step(G, D, oG, oD, real, z, game=Game(info_weight=weight), io=io, codes=codes)
    x_g = io.g_input(z, None, codes)

    def d_loss():
        fake = G.forward(x_g)
        return (_loss_of(D, real, lambda o: objectives.d_real_loss("non-saturating", o), None,
                         weight) +
                _loss_of(D, fake, lambda o: objectives.d_fake_loss("non-saturating", o), codes,
                         weight))

    def g_loss():
        return _loss_of(D, G.forward(x_g), lambda o: objectives.g_loss("non-saturating", o),
                        codes, weight)

    for net, name, f in ((D, "D", d_loss), (G, "G", g_loss)):
        for pname, value, _ in net.parameters():
            numeric = gradcheck.numerical_gradient(f, value)
            err = gradcheck.rel_error(seen[name][pname], numeric)
            assert err < 1e-6, f"{name} {pname}: relative error {err:.2e}"


def test_q_outputs_of_real_digits_get_no_gradient(rng):
    """On the reals only the logit is trained: D's last-layer gradient for
    the code rows comes from the fakes alone."""
    G, D = _info_pair()
    game = Game()
    real = arr(rng.uniform(-1, 1, (4, 1, 28, 28)))
    out = D.forward(real)
    wrapped = objectives.WithCodeLoss(objectives.get("non-saturating"), game.info_weight)
    _, dl = wrapped.d_real(out)
    assert not np.any(host(dl)[:, 1:]) and np.all(host(dl)[:, 0] != 0)
    # the fakes' Q does get one, and the code loss is reported
    _, info, dl = wrapped.d_fake(out, codes=arr(np.arange(len(host(out))) % K))
    assert info is not None and np.all(np.any(host(dl)[:, 1:] != 0, axis=1))


def test_inputs_append_the_code_and_check_it():
    io = Inputs(codes=3)
    z = host(io.g_input(arr(np.ones((2, 2))), None, arr(np.array([2, 0]))))
    np.testing.assert_array_equal(z, [[1, 1, 0, 0, 1], [1, 1, 1, 0, 0]])
    with pytest.raises(ValueError, match=r"codes must be in \[0, 3\), got 0..3"):
        io.g_input(arr(np.ones((2, 2))), None, arr(np.array([0, 3])))
    with pytest.raises(ValueError, match="needs a code in"):
        io.g_input(arr(np.ones((2, 2))))
    both = Inputs(n_classes=2, codes=3)             # the builder accepts both: [z, y, c]
    x = host(both.g_input(arr(np.zeros((1, 1))), arr(np.array([1])), arr(np.array([2]))))
    np.testing.assert_array_equal(x, [[0, 0, 1, 0, 0, 1]])


def test_builders_grow_g_input_and_d_output():
    for name, shape in (("dcgan", (2, 1, 28, 28)), ("mlp", (2, 1, 28, 28)), ("toy", (2, 2))):
        G, D = build(name, latent_dim=4, codes=5, **({"width": 2} if name == "dcgan" else {}))
        x = G.forward(arr(np.zeros((2, 9), np.float32)))
        assert x.shape == shape
        assert D.forward(x).shape == (2, 6)


@pytest.mark.parametrize("bad,message", [
    (dict(codes=-1), "expected --codes >= 0"),
    (dict(codes=10, conditional=True), "--conditional already gives G the class"),
    (dict(codes=10, pack=2), "a packed D"),
    (dict(codes=10, loss="wgan-gp"), "a gradient penalty needs a critic with one output"),
    (dict(codes=10, info_weight=-1.0), "--info-weight >= 0"),
])
def test_bad_info_settings_are_clear_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        Config(batch_size=32, **bad).validate()


@pytest.mark.usefixtures("backend_name")
def test_trainer_draws_codes_logs_and_resumes(tmp_path):
    be = backend.get_backend()
    cfg = lambda **kw: tiny(tmp_path, be, codes=K, samples=6, eval_samples=60, **kw)  # noqa
    t = Trainer(cfg())
    assert list(t.fixed_codes) == [0, 0, 1, 1, 2, 2] and t.grid_columns == 2
    m = t.train_step()
    # Q's logits start near 0 (weights N(0, 0.02)): the code's cross-entropy
    # starts at log K, the entropy of the uniform code
    assert m["info_loss"] == pytest.approx(np.log(K), abs=0.05)
    z = arr(np.zeros((2, 8), np.float32))
    a, b = host(t.sample(z, codes=np.array([1, 1]))), host(t.sample(z, codes=np.array([1, 2])))
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[1], b[1])              # same noise, another code
    scores = t.evaluate()
    direct = run_files.purity(t, t.evaluator, "code")      # the evaluator on t's codes
    assert (scores["code_purity"], scores["code_classes"]) == \
        (direct["code_purity"], direct["code_classes"])

    straight = Trainer(cfg(ema=0.9))
    for _ in range(3):
        straight.train_step()
    first = Trainer(cfg(ema=0.9))
    first.train_step()
    first.save_checkpoint(tmp_path / "k.npz")
    resumed = Trainer(cfg(ema=0.9))
    resumed.load_checkpoint(tmp_path / "k.npz")
    for _ in range(2):
        resumed.train_step()
    assert_same_state(all_state(straight), all_state(resumed))

    plain = Trainer(tiny(tmp_path, be, ema=0.9))
    with pytest.raises(Exception, match="checkpoint has codes=3, this run has codes=0"):
        plain.load_checkpoint(tmp_path / "k.npz")


def test_fit_logs_info_loss_and_cli_samples_a_code(tmp_path, capsys):
    ckpt = train_and_sample_one(capsys, tmp_path, ["--codes", "4"], "--code", 3, "code")
    with open(tmp_path / "run" / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and all(float(r["info_loss"]) > 0 for r in rows)
    code, _, err = run(capsys, "sample", ckpt, "--code", "4")
    assert code == 2 and "--code must be from 0 to 3, got 4" in err
    code, _, err = run(capsys, "train", "--codes", "10", "--conditional", "--out",
                       str(tmp_path / "other"))
    assert code == 2 and "--conditional already gives G the class" in err


def test_toy_gan_takes_a_code_and_is_scored_by_modes(tmp_path, capsys):
    t, _, scored = train_toy_on_the_ring(capsys, tmp_path, ["--codes", "8"])
    assert "InfoGAN code" not in scored
    assert list(t.fixed_codes[:10]) == [0, 1, 2, 3, 4, 5, 6, 7, 0, 1]
