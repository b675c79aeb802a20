"""WGAN, WGAN-GP, hinge + spectral norm, PacGAN and the conditional GAN:
their wiring in the step and the trainer."""

import numpy as np
import pytest

import minigan as mg
from minigan import backend, gan, gradcheck, optim
from minigan.gan import Config, Inputs, Trainer, objectives
from minigan.layers import Dropout

from .conftest import arr, host
from .helpers import all_state, assert_same_state, run, tiny, train_and_sample_one


def _off_the_kinks(x):
    return arr(np.where(np.abs(np.abs(host(x)) - 1) < 0.05, 1.5, host(x)))   # off the hinge


@pytest.mark.parametrize("name", objectives.OBJECTIVES)
def test_every_objective_joint_form_gradient_check(name, rng):
    """d_loss(real, fake) against central differences in both arguments, and
    g_loss(fake, real) in the fakes; batches of different sizes, so that a
    mean taken over the wrong batch is caught."""
    obj = objectives.get(name)
    real = _off_the_kinks(arr(rng.standard_normal((6, 1)) * 2))
    fake = _off_the_kinks(arr(rng.standard_normal((4, 1)) * 2))
    t_real = 0.9 if name in ("non-saturating", "least-squares", "relativistic") else 1.0
    _, d_real, d_fake = obj.d_loss(real, fake, t_real, 0.0)
    by_real = gradcheck.numerical_gradient(lambda: obj.d_loss(real, fake, t_real, 0.0)[0], real)
    by_fake = gradcheck.numerical_gradient(lambda: obj.d_loss(real, fake, t_real, 0.0)[0], fake)
    assert gradcheck.rel_error(d_real, by_real) < 1e-8
    assert gradcheck.rel_error(d_fake, by_fake) < 1e-8
    assert gradcheck.check_loss(lambda f: obj.g_loss(f, real), fake)["x"] < 1e-8
    if not obj.coupled:       # separable: the joint form is the sum of the two terms
        loss, _, _ = obj.d_loss(real, fake, t_real, 0.0)
        assert loss == pytest.approx(obj.d_real(real, t_real)[0] + obj.d_fake(fake)[0],
                                     rel=1e-12)


def test_relativistic_loss_by_its_definition(rng):
    """RaSGAN (Jolicoeur-Martineau 2018): D's loss is -mean log sigmoid(r - mean f)
    - mean log(1 - sigmoid(f - mean r)); G's swaps the roles."""
    real, fake = rng.standard_normal((5, 1)), rng.standard_normal((3, 1))
    sig = lambda v: 1 / (1 + np.exp(-v))                         # noqa: E731
    a, b = real - fake.mean(), fake - real.mean()
    d = -np.log(sig(a)).mean() - np.log(1 - sig(b)).mean()
    g = -np.log(sig(b)).mean() - np.log(1 - sig(a)).mean()
    obj = objectives.get("relativistic")
    assert obj.coupled
    assert obj.d_loss(arr(real), arr(fake))[0] == pytest.approx(d, rel=1e-12)
    assert obj.g_loss(arr(fake), arr(real))[0] == pytest.approx(g, rel=1e-12)


class _NoStep:
    def step(self):
        pass


@pytest.mark.parametrize("name", ["relativistic", "non-saturating"])
def test_step_gradients_are_the_objectives_derivatives(name, rng):
    """The step's D and G gradients (a coupled loss judging both batches as
    one, a separable one batch by batch) against central differences of the
    objective's losses in every weight."""
    from minigan.gan.step import Game, critic_step, generator_step
    f64 = np.float64
    G = mg.Sequential(mg.Dense(2, 4, rng=1, dtype=f64), mg.Tanh(), mg.Dense(4, 2, rng=2, dtype=f64))
    D = mg.Sequential(mg.Dense(2, 5, rng=3, dtype=f64), mg.Tanh(), mg.Dense(5, 1, rng=4, dtype=f64))
    real, z = arr(rng.standard_normal((6, 2))), arr(rng.standard_normal((4, 2)))
    game, obj = Game(loss=name), objectives.get(name)

    def close(grad, numeric, what):
        # the relativistic loss does not change when every score shifts by
        # the same amount, so its gradient in D's output bias is 0: compare
        # with an absolute floor of the rounding of central differences
        np.testing.assert_allclose(host(grad), host(numeric), rtol=1e-6, atol=1e-9, err_msg=what)

    fake, _, _ = critic_step(G, D, _NoStep(), real, z, game, Inputs(spatial=False))
    for pname, p, grad in D.parameters():
        numeric = gradcheck.numerical_gradient(
            lambda: obj.d_loss(D.forward(real), D.forward(G.forward(z)))[0], p)
        close(grad, numeric, pname)
    generator_step(G, D, _NoStep(), fake, game, Inputs(spatial=False), real=real)
    for pname, p, grad in G.parameters():
        numeric = gradcheck.numerical_gradient(
            lambda: obj.g_loss(D.forward(G.forward(z)), D.forward(real))[0], p)
        close(grad, numeric, pname)


@pytest.mark.parametrize("simultaneous", [True, False])
def test_simultaneous_updates_take_both_gradients_at_the_same_weights(simultaneous, rng):
    """With SGD at learning rate 1 a weight moves by minus its gradient.
    Simultaneous: G's gradient is that of its loss at D's *old* weights;
    alternating: at D's new ones. Both checked by central differences."""
    from minigan.gan.step import Game
    f64 = np.float64
    G = mg.Sequential(mg.Dense(2, 4, rng=1, dtype=f64), mg.Tanh(), mg.Dense(4, 2, rng=2, dtype=f64))
    D = mg.Sequential(mg.Dense(2, 5, rng=3, dtype=f64), mg.Tanh(), mg.Dense(5, 1, rng=4, dtype=f64))
    real, z = arr(rng.standard_normal((6, 2))), arr(rng.standard_normal((6, 2)))
    obj = objectives.get("non-saturating")
    G0 = {k: host(v).copy() for k, v in G.state_dict().items()}
    D0 = {k: host(v).copy() for k, v in D.state_dict().items()}

    def d_loss():
        return obj.d_loss(D.forward(real), D.forward(G.forward(z)))[0]

    def g_loss():
        return obj.g_loss(D.forward(G.forward(z)))[0]

    d_grads = {k: host(gradcheck.numerical_gradient(d_loss, p)) for k, p, _ in D.parameters()}
    D_new = {k: D0[k] - g for k, g in d_grads.items()}
    if not simultaneous:                      # G's gradient after D's update
        D.load_state_dict({k: arr(v) for k, v in D_new.items()})
    g_grads = {k: host(gradcheck.numerical_gradient(g_loss, p)) for k, p, _ in G.parameters()}
    G.load_state_dict({k: arr(v) for k, v in G0.items()})
    D.load_state_dict({k: arr(v) for k, v in D0.items()})
    gan.gan_step(G, D, optim.SGD(G.parameters(), lr=1.0), optim.SGD(D.parameters(), lr=1.0),
                 real, z, game=Game(simultaneous=simultaneous), io=Inputs(spatial=False))
    for k, g in g_grads.items():
        np.testing.assert_allclose(host(G.state_dict()[k]), G0[k] - g, rtol=1e-6, atol=1e-9)
    for k, d in D_new.items():
        np.testing.assert_allclose(host(D.state_dict()[k]), d, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dropout", [False, True])
def test_simultaneous_step_judges_the_fakes_once_when_the_critic_allows(dropout, rng):
    """Simultaneous updates: a critic whose forward pass changes no state
    runs forward twice a step (the reals, the fakes), G's gradient going back
    through the fakes' pass, and the step ends bit for bit where the step
    with a third forward pass ends; a critic with Dropout (a new mask each
    pass) runs three times, as before."""
    from minigan.gan.step import Game
    f64 = np.float64

    def nets():
        G = mg.Sequential(mg.Dense(2, 8, rng=1, dtype=f64), mg.BatchNorm(8, dtype=f64),
                          mg.ReLU(), mg.Dense(8, 2, rng=2, dtype=f64))
        D = mg.Sequential(mg.Dense(4, 6, rng=3, dtype=f64), mg.Maxout(3),
                          *([Dropout(0.3, rng=5)] if dropout else []),
                          mg.Dense(2, 1, rng=4, dtype=f64))
        return G, D

    real, z = arr(rng.standard_normal((6, 2))), arr(rng.standard_normal((6, 2)))
    ends = []
    for rerun in (False, True):
        G, D = nets()
        calls = []
        forward = D.forward
        D.forward = lambda x: calls.append(1) or forward(x)
        if rerun:
            D.forward_changes_state = lambda: True
        opts = optim.Adam(G.parameters(), lr=0.1), optim.Adam(D.parameters(), lr=0.1)
        for _ in range(3):
            gan.gan_step(G, D, *opts, real, z, game=Game(simultaneous=True),
                         io=Inputs(pack=2, spatial=False))
        assert len(calls) == 3 * (3 if rerun or dropout else 2)
        ends.append({f"{net}.{k}": host(v).copy() for net, n in (("G", G), ("D", D))
                     for k, v in n.state_dict().items()})
    assert_same_state(*ends)


def test_pacgan_mlp_trains_with_the_authors_update_rule():
    assert Config(model="pacgan-mlp").validate().updates == "simultaneous"
    assert Config(model="pacgan-mlp", loss="wgan-gp").validate().updates == "alternating"
    assert Config(model="toy").validate().updates == "alternating"
    with pytest.raises(ValueError, match="one critic step per generator step"):
        Config(updates="simultaneous", loss="wgan").validate()


def test_objective_values_by_definition():
    x = arr(np.array([[-2.0], [0.5], [3.0]]))
    assert objectives.d_real_loss("wgan", x)[0] == pytest.approx(-0.5)
    assert objectives.d_fake_loss("wgan-gp", x)[0] == pytest.approx(0.5)
    assert objectives.d_real_loss("hinge", x)[0] == pytest.approx((3 + 0.5 + 0) / 3)
    assert objectives.d_fake_loss("hinge", x)[0] == pytest.approx((0 + 1.5 + 4) / 3)
    assert objectives.g_loss("hinge", x)[0] == pytest.approx(-0.5)


def test_objective_defaults_follow_the_papers():
    wgan = Config(loss="wgan").validate()
    assert (wgan.optimizer, wgan.lr, wgan.n_critic, wgan.clip) == ("rmsprop", 5e-5, 5, 0.01)
    gp = Config(loss="wgan-gp").validate()
    assert (gp.optimizer, gp.lr, gp.beta1, gp.beta2, gp.n_critic, gp.gp_weight) == \
        ("adam", 1e-4, 0.5, 0.9, 5, 10.0)
    classic = Config(loss="hinge", lr=1e-3).validate()
    assert (classic.lr, classic.beta2, classic.n_critic, classic.clip) == (1e-3, 0.999, 1, 0)


@pytest.mark.parametrize("bad,message", [
    (dict(pack=3), "must be a multiple of the pack size"),
    (dict(conditional=True, model="toy", dataset="ring"), "--conditional needs a labelled"),
    (dict(loss="wgan", n_critic=0), "expected --n-critic >= 1"),
    (dict(sn_per_piece=True, model="pacgan-mlp", dataset="ring"), "needs --spectral-norm"),
    (dict(sn_per_piece=True, spectral_norm=True), "needs --spectral-norm and --model pacgan"),
])
def test_bad_settings_are_clear_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        Config(batch_size=32, **bad).validate()


def test_inputs_gradient_is_the_adjoint_and_packs_consecutive_samples(rng):
    for spatial, shape in ((True, (4, 2, 3, 3)), (False, (4, 2, 3, 3)), (True, (4, 2))):
        io = Inputs(n_classes=0 if len(shape) == 2 else 3, pack=2, spatial=spatial)
        x = arr(rng.standard_normal(shape))
        labels = arr(np.array([0, 2, 1, 2]))
        X = io.d_input(x, labels)
        R = arr(rng.standard_normal(X.shape))
        base = io.d_input(arr(np.zeros(shape)), labels)
        lhs = float(((X - base) * R).sum())          # d_input is affine in x
        rhs = float((x * io.d_input_grad(R, shape)).sum())
        assert lhs == pytest.approx(rhs, rel=1e-12)
        assert X.shape[0] == 2
    io = Inputs(pack=2)
    x = arr(np.arange(8.0).reshape(4, 2))
    np.testing.assert_array_equal(host(io.d_input(x)), [[0, 1, 2, 3], [4, 5, 6, 7]])


def test_conditional_input_carries_the_label(rng):
    io = Inputs(n_classes=3, spatial=True)
    X = host(io.d_input(arr(np.zeros((2, 1, 2, 2))), arr(np.array([2, 0]))))
    assert X.shape == (2, 4, 2, 2)
    np.testing.assert_array_equal(X[0, 1:, 0, 0], [0, 0, 1])
    np.testing.assert_array_equal(X[1, 1:, 1, 1], [1, 0, 0])
    z = host(io.g_input(arr(np.ones((2, 2))), arr(np.array([1, 2]))))
    np.testing.assert_array_equal(z, [[1, 1, 0, 1, 0], [1, 1, 0, 0, 1]])
    mask = host(io.penalty_mask(arr(np.zeros((2, 1, 2, 2)))))
    assert mask.shape == X.shape
    assert mask[:, 0].all() and not mask[:, 1:].any()
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        io.g_input(arr(np.ones((1, 2))), arr(np.array([3])))


def test_wgan_clips_the_critic_and_takes_n_critic_batches(tmp_path):
    t = Trainer(tiny(tmp_path, "numpy", model="mlp", loss="wgan", limit=160))
    assert isinstance(t.opt_D, mg.optim.RMSprop)
    assert t.steps_per_epoch == 2                       # 10 batches / 5 critic steps
    t.train_step()
    for name, p, _ in t.D.parameters():
        assert np.abs(host(p)).max() <= 0.01 + 1e-9, name


def test_wgan_gp_critic_has_no_dropout_and_trains(tmp_path):
    t = Trainer(tiny(tmp_path, "numpy", loss="wgan-gp", limit=160))
    assert not any(isinstance(l, Dropout) for l in t.D) and t.D.supports_tangent()
    for _ in range(2):
        m = t.train_step()
    assert all(np.isfinite(v) for v in m.values())


def test_spectral_norm_keeps_every_critic_layer_near_one(tmp_path):
    t = Trainer(tiny(tmp_path, "numpy", loss="hinge", spectral_norm=True))
    for _ in range(6):
        t.train_step()
    normalized = [l for l in t.D if hasattr(l, "sn_iterations") and l.sn_iterations]
    assert len(normalized) == 3                         # two convolutions and the Dense
    for layer in normalized:
        W = host(layer.weight()).reshape(layer.params["W"].shape[0], -1)
        assert np.linalg.svd(W, compute_uv=False)[0] == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("kw", [
    dict(model="mlp", loss="wgan-gp", conditional=True, pack=2, limit=160),
    dict(loss="hinge", spectral_norm=True, pack=2, conditional=True),
    dict(model="pacgan-mlp", dataset="ring", loss="hinge", spectral_norm=True,
         sn_per_piece=True, pack=2, limit=96),
], ids=["mlp-wgan-gp-conditional-pack2", "dcgan-hinge-sn-conditional-pack2",
        "pacgan-mlp-hinge-sn-per-piece-pack2"])
def test_variants_resume_bit_for_bit(tmp_path, kw):
    cfg = lambda: tiny(tmp_path, backend.get_backend(), ema=0.9, **kw)  # noqa: E731
    straight = Trainer(cfg())
    for _ in range(3):
        straight.train_step()
    first = Trainer(cfg())
    first.train_step()
    first.save_checkpoint(tmp_path / "k.npz")
    resumed = Trainer(cfg())
    resumed.load_checkpoint(tmp_path / "k.npz")
    for _ in range(2):
        resumed.train_step()
    assert_same_state(all_state(straight), all_state(resumed))


def test_conditional_sampling_and_scores(tmp_path):
    t = Trainer(tiny(tmp_path, "numpy", conditional=True, samples=20, eval_samples=100))
    t.train_step()
    assert list(t.fixed_labels) == [d for d in range(10) for _ in range(2)]
    z = arr(np.zeros((3, 8), np.float32))
    a, b = host(t.sample(z, np.array([1, 1, 1]))), host(t.sample(z, np.array([1, 1, 7])))
    np.testing.assert_array_equal(a[:2], b[:2])
    assert not np.array_equal(a[2], b[2])             # same noise, another digit
    scores = t.evaluate()              # the evaluator's class accuracy of this generator
    again = t.evaluator.class_accuracy(t.sample, t.cfg.latent_dim)["class_accuracy"]
    assert scores["class_accuracy"] == again


def test_cli_samples_a_chosen_digit(tmp_path, capsys):
    ckpt = train_and_sample_one(capsys, tmp_path, ["--conditional"], "--digit", 7, "digit")
    code, _, err = run(capsys, "sample", ckpt, "--digit", "12")
    assert code == 2 and "--digit must be a class from 0 to 9, got 12" in err
    run(capsys, "train", "--model", "mlp", "--limit", "64", "--batch-size", "32", "--epochs",
        "1", "--out", str(tmp_path / "plain"), "--no-progress", "--eval-every", "0")
    code, _, err = run(capsys, "sample", str(tmp_path / "plain" / "checkpoint.npz"),
                       "--digit", "3")
    assert code == 2 and "is not a conditional model" in err
