"""The benchmark tools: benchmarks/threads.py times every Numba kernel on one
thread and on all threads (--quick must time both versions of each and name
the crossover); benchmarks/profile_step.py splits a step's time by kernel."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_quick_run_times_both_versions_of_every_kernel(tmp_path):
    pytest.importorskip("numba", reason="the script times the Numba kernels")
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "threads.py"), "--quick",
         "--json", str(tmp_path / "t.json")], capture_output=True, text=True, cwd=ROOT,
        timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads((tmp_path / "t.json").read_text())["kernels"]
    assert {"Adam", "dropout", "leaky ReLU backward"} <= set(result)
    from minigan.kernels import numba_cpu
    for row in result.values():
        assert row["threshold"] == getattr(numba_cpu, row["kernel"]).one_thread_below
        assert len(row["sizes"]) == 2
        for s in row["sizes"]:
            assert s["one_thread_us"] > 0 and s["parallel_us"] > 0
    assert "parallel wins from" in out.stdout


def test_the_step_profile_accounts_for_the_kernels_of_a_step():
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    try:
        import profile_step
    finally:
        sys.path.pop(0)
    from minigan import backend
    from minigan.kernels import reference
    before = {name: getattr(reference, name) for name in reference.KERNELS}
    with backend.use_backend("numpy"):
        step_ms, per_kernel = profile_step.profile("dcgan", 4, 1, "numpy")
    assert {"matmul", "im2col", "col2im", "adam_update", "dropout"} <= set(per_kernel)
    assert 0 < sum(per_kernel.values()) < step_ms
    assert {name: getattr(reference, name) for name in reference.KERNELS} == before  # unwrapped


def test_a_child_s_peak_memory_is_its_own():
    """bench.py's fresh-process probe reports the child's peak resident
    memory, not the benchmark process's (which Linux's ru_maxrss would carry
    over exec into a child)."""
    import numpy as np
    held = np.ones(300 * 2**20 // 4, np.float32)          # the parent holds 300 MB
    code = ("import sys; sys.path.insert(0, 'benchmarks'); import bench; "
            "print(bench.peak_rss_kb() / 1024)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert float(out.stdout) < 200, out.stdout                 # MB
    assert held.sum() > 0


def test_plot_curves_draws_a_2d_runs_pacgan_metrics(tmp_path):
    """--points plots modes, high quality and reverse KL of a 2D run's
    metrics.csv (the paper's cells dashed); a digit run's columns are not
    read, and a file without rows in range is one clear line."""
    import matplotlib.pyplot as plt
    csv_path = tmp_path / "m.csv"
    csv_path.write_text("epoch,step,modes_captured,high_quality_share,reverse_kl\n"
                        "2,2000,20,0.5,0.9\n4,4000,22,0.7,0.6\n6,6000,21,0.8,0.5\n")
    script = os.path.join(ROOT, "benchmarks", "plot_curves.py")
    out = subprocess.run([sys.executable, script, "--points", "--epochs", "400", "--paper",
                          "17.3,94.8,0.70", "--out", str(tmp_path / "c.png"),
                          f"GAN={csv_path}"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    picture = plt.imread(tmp_path / "c.png")
    assert picture.shape[1] > 3 * picture.shape[0] * 0.9 and picture.std() > 0.01
    empty = subprocess.run([sys.executable, script, "--points", "--epochs", "1", "--out",
                            str(tmp_path / "d.png"), f"GAN={csv_path}"], capture_output=True,
                           text=True, timeout=300)
    assert empty.returncode != 0 and "no rows up to epoch 1" in empty.stderr
    # one row of the paper per run, each dashed in its run's colour: more of
    # the first run's blue and the second's orange than the curves alone draw
    import numpy as np

    def colour_counts(name, *paper):
        two = subprocess.run([sys.executable, script, "--points", "--epochs", "400", *paper,
                              "--out", str(tmp_path / name), f"GAN={csv_path}",
                              f"PacGAN2={csv_path}"], capture_output=True, text=True,
                             timeout=300)
        assert two.returncode == 0, two.stderr[-2000:]
        colours = plt.imread(tmp_path / name)[..., :3].reshape(-1, 3)
        return [(np.abs(colours - rgb).max(1) < 0.05).sum()
                for rgb in ((0.12, 0.47, 0.71), (1.0, 0.5, 0.05))]

    bare = colour_counts("e.png")
    dashed = colour_counts("f.png", "--paper", "17.3,94.8,0.70", "--paper", "23.8,91.3,0.13")
    assert all(d > b + 100 for d, b in zip(dashed, bare)), (bare, dashed)
    wrong = subprocess.run([sys.executable, script, "--points", "--paper", "1,2,3", "--paper",
                            "1,2,3", "--paper", "1,2,3", "--out", str(tmp_path / "g.png"),
                            f"GAN={csv_path}", f"PacGAN2={csv_path}"], capture_output=True,
                           text=True, timeout=300)
    assert wrong.returncode != 0 and "once per run (2)" in wrong.stderr


def test_the_pytorch_twin_of_the_simultaneous_step_takes_minigans_gradients():
    """bench.py times pacgan-mlp's simultaneous step against a PyTorch twin:
    after one step from the same weights and batch, every gradient the twin
    took (D's of its loss, G's through the same D(fake)) is minigan's."""
    torch = pytest.importorskip("torch", reason="the twin is PyTorch")
    import numpy as np
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import bench
    import common

    from minigan import backend, gan

    class NoStep:
        def step(self):
            pass

    with backend.use_backend("numpy"):
        G, D, _, _, real, z, extra = bench.build_step("pacgan-mlp-simultaneous", 16)
        tG, tD = common.torch_twin(G, (2,)), common.torch_twin(D, (2,))
        gan.gan_step(G, D, NoStep(), NoStep(), real, z, **extra)
    common.torch_step(tG, tD, torch.from_numpy(real), torch.from_numpy(z), simultaneous=True)()
    for net, twin in ((G, tG), (D, tD)):
        pairs = list(zip(net.parameters(), twin.parameters()))
        assert len(pairs) == len(net.parameters()) == len(list(twin.parameters()))
        for (name, _, grad), p in pairs:
            theirs = p.grad.numpy()
            assert np.abs(theirs).max() > 0, name
            np.testing.assert_allclose(np.asarray(grad), theirs, rtol=0,
                                       atol=1e-4 * np.abs(theirs).max(), err_msg=name)


def _scorings(tmp_path, name, score):
    """A 2D trial's metrics.csv scored every 10 epochs to 400, each score
    ``score(epoch)`` as (modes, high-quality share, reverse KL)."""
    path = tmp_path / name
    rows = ["epoch,step,modes_captured,high_quality_share,reverse_kl"]
    rows += [f"{e},{e * 1000},{','.join(map(str, score(e)))}" for e in range(10, 401, 10)]
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def test_flatness_finds_where_the_trials_scores_stop_moving(tmp_path):
    """flatness.py: a length has flattened when, from it on, every score's
    mean change to epoch 400 over the trials is within one standard error;
    a rise that ends at epoch 230 is flat from 250 (the first window of
    three scorings after it), a change every trial shares is caught however
    small, one the trials disagree on is not, and a late drop leaves no
    length flat."""
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    try:
        import flatness
    finally:
        sys.path.pop(0)
    ramp = [_scorings(tmp_path, f"ramp{i}.csv",
                      lambda e, i=i: (20 + i, 0.5 + 0.4 * min(e, 230) / 230 + 0.01 * i, 0.3))
            for i in range(3)]
    script = os.path.join(ROOT, "benchmarks", "flatness.py")
    out = subprocess.run([sys.executable, script, *ramp], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("shortest flattened length: 250"), out.stdout
    lines = {ln.split("|")[1].strip(): ln for ln in out.stdout.splitlines() if "|" in ln}
    assert lines["200"].rstrip().endswith("| no |") and "+0.00 ± 0.00" in lines["250"]
    # a tiny change all trials share is a change; a larger one they split on is noise
    step = lambda size: lambda e, i: (20, 0.9, 0.3 + (size if e > 380 else 0.0))  # noqa: E731
    split = lambda e, i: (20, 0.9, 0.3 + (0.2 * (-1) ** i if e > 380 else 0.0))  # noqa: E731
    trials = lambda score: [(f"t{i}", flatness.read(_scorings(  # noqa: E731
        tmp_path, f"t{i}.csv", lambda e, i=i: score(e, i)))) for i in range(2)]
    shared = flatness.changes(trials(step(0.001)), [300, 350], 400, 30)
    assert flatness.shortest_flat(shared) is None
    assert abs(shared[350]["reverse_kl"][0] - 2 * 0.001 / 3) < 1e-9   # 390 and 400 of 3
    assert flatness.shortest_flat(flatness.changes(trials(split), [300, 350], 400, 30)) == 300
    late = [_scorings(tmp_path, f"late{i}.csv", lambda e, i=i: (25 - (e == 400) * (2 + i), 0.9,
                                                                0.1)) for i in range(2)]
    late = subprocess.run([sys.executable, script, *late, "--lengths", "200", "300"],
                          capture_output=True, text=True, timeout=300)
    assert late.returncode == 0 and "no candidate length up to 300" in late.stdout, late.stdout


def test_flatness_names_what_it_cannot_use(tmp_path):
    """One trial, one full trial beside a trial scored short of --full, a
    file that is not a 2D run's metrics.csv or has a blank score, a length
    past --full: one line naming it, status 2; a shortened trial beside two
    full ones is left out, named on stderr."""
    script = os.path.join(ROOT, "benchmarks", "flatness.py")
    full = _scorings(tmp_path, "full.csv", lambda e: (20, 0.9, 0.3))
    short = tmp_path / "short.csv"
    short.write_text("epoch,step,modes_captured,high_quality_share,reverse_kl\n"
                     "10,10000,20,0.5,0.4\n300,300000,21,0.9,0.3\n")
    digits = tmp_path / "digits.csv"
    digits.write_text("epoch,step,fid,confident_share\n1,100,30.0,0.8\n")
    broken = tmp_path / "broken.csv"
    broken.write_text(open(full).read().replace("20,0.9,0.3", "20,,0.3", 1))
    for args, says in (([full], "at least two trials"),
                       ([full, str(short)], "at least two trials scored to the full 400"),
                       ([full, str(digits)], "digits.csv is not a 2D run's metrics.csv"),
                       ([full, str(broken)], "broken.csv: a row that is not numbers"),
                       ([full, full, "--lengths", "400"], "--lengths between 1 and")):
        out = subprocess.run([sys.executable, script, *args], capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 2, (args, out.stderr)
        assert says in out.stderr.strip().splitlines()[-1], (args, out.stderr)  # the last line
    # a shortened trial beside two full ones is left out, by name; the table is the two's
    both = subprocess.run([sys.executable, script, full, str(short), full], capture_output=True,
                          text=True, timeout=300)
    alone = subprocess.run([sys.executable, script, full, full], capture_output=True,
                           text=True, timeout=300)
    assert both.returncode == 0 and both.stdout == alone.stdout, both.stderr
    assert both.stderr.strip() == ("flatness.py: leaving out " + str(short)
                                   + ": scored to epoch 300, short of the full 400")


def _mode_shares():
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    try:
        import mode_shares
    finally:
        sys.path.pop(0)
    return mode_shares


def test_mode_shares_counts_each_modes_high_quality_samples():
    """A sample is high quality at its nearest mode within 3 std (2.9 std
    in, 3.1 out, a far one nowhere) and near its nearest mode however far;
    shares are of all the samples."""
    import numpy as np
    from minigan.data.datasets import TOYS
    means, std = TOYS["ring"][0](), TOYS["ring"][1]
    unit = np.array([0.6, 0.8])
    pts = np.array([means[0], means[0], means[0], means[2] + 2.9 * std * unit,
                    means[2] + 3.1 * std * unit, 0.5 * means[4]])
    good, near = np.zeros(8), np.zeros(8)
    good[0], good[2] = 3 / 6, 1 / 6
    near[0], near[2], near[4] = 3 / 6, 2 / 6, 1 / 6
    got = _mode_shares().shares(pts, means, std)
    assert np.array_equal(got[0], good) and np.array_equal(got[1], near)


def test_mode_shares_piece_norms_are_each_maxout_pieces_largest_singular_value():
    """Each piece of a Dense layer that feeds a Maxout is the rows of its
    units' k-th outputs (units lay their pieces side by side): here piece 0
    is 3 rows of (2, 0) and piece 1 three of (0, 5), largest singular values
    2 sqrt(3) and 5 sqrt(3); a Dense layer that feeds no Maxout has none."""
    import numpy as np
    from minigan.layers import Dense, Maxout, Sequential
    first, last = Dense(2, 6, dtype=np.float64), Dense(3, 1, dtype=np.float64)
    first.params["W"][...] = np.tile([[2.0, 0.0], [0.0, 5.0]], (3, 1))
    got = _mode_shares().piece_norms(Sequential(first, Maxout(2), last))
    assert len(got) == 1 and np.allclose(got[0], [2 * np.sqrt(3), 5 * np.sqrt(3)])


def test_mode_shares_says_where_a_clustered_g_puts_each_clusters_samples(tmp_path):
    """A run on k-means clusters: each cluster's mode is the one most of its
    training points are nearest; a G that draws its cluster's mode centre
    has all its samples at home, one that draws the next mode's all at
    another, one that draws between modes none anywhere; the script prints
    a line per cluster and refuses --between, which needs D's view of a
    point alone, in one line."""
    import numpy as np
    from minigan import data
    from minigan.cli import main
    from minigan.data.datasets import TOYS
    from minigan.data.training import load_training_data
    from minigan.gan import Trainer
    from minigan.metrics.scores import mode_counts
    run = tmp_path / "run"
    assert main(["train", "--model", "pacgan-mlp", "--dataset", "ring", "--clusters", "6",
                 "--limit", "1000", "--epochs", "1", "--eval-every", "0", "--out", str(run),
                 "--no-progress"]) == 0
    ms = _mode_shares()
    t = Trainer.from_checkpoint(str(run / "checkpoint.npz"), log=lambda *a: None,
                                sampling_only=True)
    means, std = TOYS["ring"][0](), TOYS["ring"][1]
    home, purity = ms.cluster_modes(t, means)
    x, _ = load_training_data(t.cfg)
    labels, _ = data.kmeans(x, 6, seed=t.cfg.seed)
    for k in range(6):
        _, near = mode_counts(x[labels == k], means, std)
        assert home[k] == near.argmax() and purity[k] == near.max() / near.sum()

    class Drawing:                       # a G that draws one fixed point per cluster
        def __init__(self, points):
            self.points = points

        def sample(self, z, labels):
            return self.points[np.asarray(labels)]

    z = np.zeros((10, 2), np.float32)
    for points, want in ((means[home], (1, 0)), (means[(home + 1) % 8], (0, 1)),
                         (0.5 * means[home], (0, 0))):
        at_home, elsewhere = ms.cluster_shares(Drawing(points), means, std, home, z)
        assert np.array_equal(at_home, np.full(6, want[0]))
        assert np.array_equal(elsewhere, np.full(6, want[1]))
    script = os.path.join(ROOT, "benchmarks", "mode_shares.py")
    out = subprocess.run([sys.executable, script, str(run / "checkpoint.npz"), "--n", "300",
                          "--figure", str(tmp_path / "c.png")], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert [line.split()[:2] for line in lines if line.startswith("  c")] == [
        [f"c{k}", f"m{home[k]}"] for k in range(6)]
    summary = lines[-2].split("|")             # the epoch's clusters followed, modes, ...
    assert summary[0].split()[0] == "1" and len(summary) == 4, lines[-2]
    assert lines[-1] == f"wrote {tmp_path / 'c.png'}"
    assert (tmp_path / "c.png").stat().st_size > 0
    refused = subprocess.run([sys.executable, script, str(run / "checkpoint.npz"),
                              "--between", "0", "1"], capture_output=True, text=True,
                             timeout=300)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (f"mode_shares.py: {run / 'checkpoint.npz'} is "
                                      f"conditioned on 6 clusters: its D rates a point under "
                                      f"a cluster, so --between and --slope do not apply")


def test_mode_shares_reads_a_runs_per_epoch_checkpoints(tmp_path):
    """A packed run kept every epoch: one row per checkpoint, and one of the
    segment's probe values, which ends at the two modes' own; a checkpoint
    named is the row of its epoch; every sample is near one mode, sampled as
    the table scores or as G trains (--batch-stats); the probe packs
    are laid out as the trainer packs samples for D (Inputs.d_input); --slope
    is the norm of D's gradient, checked against central differences; a mode
    the mixture lacks, a folder without per-epoch checkpoints or a file that is
    not a checkpoint is one line and status 2."""
    import numpy as np
    from minigan import backend
    from minigan.cli import main
    from minigan.data.datasets import TOYS
    from minigan.gan import Trainer
    run = tmp_path / "run"
    assert main(["train", "--model", "pacgan-mlp", "--dataset", "ring", "--pack", "3",
                 "--limit", "600", "--epochs", "2", "--checkpoint-every", "1",
                 "--eval-every", "0", "--out", str(run), "--no-progress"]) == 0
    script = os.path.join(ROOT, "benchmarks", "mode_shares.py")
    out = subprocess.run([sys.executable, script, str(run), "--probes", "50", "--between",
                          "2", "5", "--figure", str(tmp_path / "s.png")], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [line.split() for line in out.stdout.splitlines() if line[:5].strip().isdigit()]
    table, segment = rows[:2], rows[2:]
    assert [r[0] for r in rows] == ["1", "2", "1", "2"]
    assert all(len(r) == 1 + 3 * 8 + 2 for r in table) and all(len(r) == 12 for r in segment)
    for r, s in zip(table, segment):       # the segment's ends are modes 2 and 5
        assert (s[1], s[-1]) == (r[1 + 2 * 9 + 2], r[1 + 2 * 9 + 5])
    assert (tmp_path / "s.png").stat().st_size > 0
    ms = _mode_shares()
    t = Trainer.from_checkpoint(str(run / "checkpoint_epoch_002.npz"), log=lambda *a: None,
                                sampling_only=True)
    means = TOYS["ring"][0]()
    fills = np.random.default_rng(1).standard_normal((4, 2, 2))
    probed = ms.probe_values(t, means[:2], fills)
    for k in range(2):
        x = np.concatenate([np.broadcast_to(means[k], (4, 1, 2)), fills], axis=1)
        t.D.eval()
        direct = t.D.forward(t.io.d_input(backend.asarray(x.reshape(12, 2)
                                                          .astype(np.float32))))
        assert abs(float(backend.to_numpy(direct).mean()) - probed[k]) < 1e-5
    # a checkpoint named is one row, its epoch from the checkpoint; --slope adds
    # one row of D's steepness: 3 quantiles in order, one range per maxout layer
    one = subprocess.run([sys.executable, script, str(run / "checkpoint.npz"), "--probes",
                          "50", "--between", "2", "5", "--slope"], capture_output=True,
                         text=True, timeout=300)
    assert one.returncode == 0, one.stderr[-2000:]
    got = [line.split() for line in one.stdout.splitlines() if line[:5].strip().isdigit()]
    assert got[:2] == [rows[1], rows[3]] and len(got) == 3
    steep = got[2]
    assert steep[0] == "2" and steep[4] == "|" and len(steep) == 5 + 3, steep
    q = [float(x) for x in steep[1:4]]
    assert 0 <= q[0] <= q[1] <= q[2] and q[2] > 0, q
    # the slope is the norm of D's gradient in the first slot's point: central
    # differences agree with it wherever D (piecewise linear: maxout) is linear
    # across the stencil, seen by its forward and backward differences agreeing
    # (D's last weight scaled up: two short epochs leave D all but flat)
    t.D.layers[-1].params["W"] *= 1000
    lo, hi, norms = ms.slope(t, means, fills[0], n=7)
    side = np.linspace(lo, hi, 7)
    pts = np.stack(np.meshgrid(side, side), axis=-1).reshape(-1, 2)

    def logit(p):
        x = np.concatenate([p[:, None, :], np.broadcast_to(fills[0], (len(p), 2, 2))], 1)
        t.D.eval()
        return backend.to_numpy(t.D.forward(backend.asarray(
            x.reshape(len(p), 6).astype(np.float32))))[:, 0].astype(np.float64)

    h, base, fd = 1e-3, logit(pts), []
    # float32 rounding of the logits, over h
    tol = 1e-3 + 4 * np.finfo(np.float32).eps * (1 + np.abs(base)) / h
    linear = np.ones(len(pts), bool)
    for e in np.eye(2) * h:
        fwd, bwd = (logit(pts + e) - base) / h, (base - logit(pts - e)) / h
        linear &= np.abs(fwd - bwd) <= tol
        fd.append((fwd + bwd) / 2)
    assert linear.sum() >= len(pts) // 2, linear.sum()
    err = np.abs(norms - np.hypot(*fd))[linear]
    assert np.all(err <= 2 * tol[linear] + 2e-3 * norms[linear]), err.max()
    # each sample has a nearest mode, sampled as the table scores or as G trains
    for flags in ([], ["--batch-stats", "--n", "700"]):
        both = subprocess.run([sys.executable, script, str(run / "checkpoint.npz"),
                               "--probes", "20", *flags], capture_output=True, text=True,
                              timeout=300)
        assert both.returncode == 0, both.stderr[-2000:]
        row = next(line.split() for line in both.stdout.splitlines()
                   if line[:5].strip().isdigit())
        assert abs(sum(float(x.rstrip("%")) for x in row[10:18]) - 100) < 0.5, row
    few = subprocess.run([sys.executable, script, str(run), "--batch-stats", "--n", "200"],
                         capture_output=True, text=True, timeout=300)
    assert few.returncode == 2
    assert few.stderr.strip() == ("mode_shares.py: --batch-stats samples whole batches of "
                                  "300, got --n 200")
    wrong = subprocess.run([sys.executable, script, str(run), "--between", "2", "8"],
                           capture_output=True, text=True, timeout=300)
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == "mode_shares.py: --between: the ring's modes are 0 to 7, got 2 8"
    empty = subprocess.run([sys.executable, script, str(tmp_path)], capture_output=True,
                           text=True, timeout=300)
    assert empty.returncode == 2
    assert empty.stderr.strip() == (f"mode_shares.py: no checkpoint_epoch_NNN.npz in "
                                    f"{tmp_path} (train with --checkpoint-every K)")
    (tmp_path / "notes.txt").write_text("not a checkpoint")
    text = subprocess.run([sys.executable, script, str(tmp_path / "notes.txt")],
                          capture_output=True, text=True, timeout=300)
    assert text.returncode == 2
    assert text.stderr.strip() == (f"mode_shares.py: {tmp_path / 'notes.txt'}: not a minigan "
                                   f"checkpoint (not an .npz file)")
