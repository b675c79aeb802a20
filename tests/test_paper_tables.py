"""benchmarks/paper_tables.py regenerates PacGAN's Table 1 beside the paper's
numbers; --quick runs one tiny trial of two rows, which must go through the
whole path: training, scoring, the table, the samples and the curves."""

import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def paper_tables(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "paper_tables.py"),
                           *args], capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_quick_run_makes_the_table_and_the_figure(tmp_path):
    out = paper_tables("--quick", "--out", str(tmp_path / "runs"), "--json",
                       str(tmp_path / "t.json"), "--figure", str(tmp_path / "t.png"),
                       "--curves", str(tmp_path / "c.png"))
    assert out.returncode == 0, out.stderr[-3000:]
    assert "| GAN | ring |" in out.stdout and "6.3 ± 0.5" in out.stdout   # the paper's cell
    result = json.loads((tmp_path / "t.json").read_text())
    assert [(r["variant"], r["dataset"]) for r in result["rows"]] == [("GAN", "ring"),
                                                                       ("PacGAN2", "ring")]
    assert "--pack 2" in result["rows"][1]["command"]
    assert result["blas_kernels"] == kept_kernels()
    assert not any(r["resumed"] for r in result["rows"])
    gan = result["rows"][0]                             # one trial: its value, no ± cell
    line = next(t for t in out.stdout.splitlines() if t.startswith("| GAN | ring |"))
    assert (f"| {gan['modes_captured']:.2f} | 6.3 ± 0.5 | {100 * gan['high_quality_share']:.2f}"
            f" % | 98.2 ± 0.2 % | {gan['reverse_kl']:.3f} | 0.45 ± 0.09 | 1 x 1 |") in line
    assert "--out runs/ring-gan-0 " in gan["command"] and gan["train_seconds"] > 0
    for r in result["rows"]:                            # the authors' sample count
        share = r["high_quality_share"] * 2500
        assert r["samples_scored"] == 2500 and abs(share - round(share)) < 1e-9
    import matplotlib.pyplot as plt
    picture = plt.imread(tmp_path / "t.png")            # one row: the real ring, GAN, PacGAN2
    assert picture.shape[1] > 2.5 * picture.shape[0] and picture.std() > 0.01
    curves = plt.imread(tmp_path / "c.png")             # modes, quality, KL over the epochs
    assert curves.shape[1] > 3 * curves.shape[0] and curves.std() > 0.01


def test_a_second_run_goes_on_from_the_trials_checkpoints(tmp_path):
    """Trials are long: running the script again resumes each trial from its
    checkpoint (here already finished, so it is only scored) instead of
    training it again."""
    def quick():
        out = subprocess.run(
            [sys.executable, os.path.join(ROOT, "benchmarks", "paper_tables.py"), "--quick",
             "--out", str(tmp_path / "runs"), "--json", str(tmp_path / "t.json")],
            capture_output=True, text=True, cwd=ROOT, timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads((tmp_path / "t.json").read_text())["rows"], out.stdout

    def where():                          # with the curves of the trials started
        out = subprocess.run(
            [sys.executable, os.path.join(ROOT, "benchmarks", "paper_tables.py"), "--quick",
             "--progress", "--out", str(tmp_path / "runs"), "--curves", str(tmp_path / "c.png")],
            capture_output=True, text=True, cwd=ROOT, timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
        return out.stdout.splitlines()

    assert where() == [f"ring {n} seed 0 ({tmp_path / 'runs' / f'ring-{n.lower()}-0'}): "
                       "not started" for n in ("GAN", "PacGAN2")] + [
                           "0 of 2 epochs trained (2 trials)"]
    assert not (tmp_path / "c.png").exists()                # nothing to draw yet
    first, _ = quick()
    ckpt = tmp_path / "runs" / "ring-gan-0" / "checkpoint.npz"
    lines = where()                       # --progress reads the trainer's last scoring
    last = (tmp_path / "runs" / "ring-gan-0" / "metrics.csv").read_text().splitlines()[-1]
    epoch, _, modes, share, kl = last.split(",")
    assert lines[0].endswith(f"epoch 1 of 1; scored at epoch {epoch}: {modes} modes, "
                             f"{100 * float(share):.1f}% high quality, reverse KL "
                             f"{float(kl):.3f}") and epoch == "1"
    assert lines[-2:] == ["2 of 2 epochs trained (2 trials)", f"wrote {tmp_path / 'c.png'}"]
    import matplotlib.pyplot as plt
    assert plt.imread(tmp_path / "c.png").std() > 0.01
    before = (ckpt.read_bytes(), ckpt.stat().st_mtime_ns)
    second, text = quick()
    assert [r["resumed"] for r in second] == [True, True] and "resumed, 1 epochs" in text
    assert (ckpt.read_bytes(), ckpt.stat().st_mtime_ns) == before      # nothing retrained
    for a, b in zip(first, second):
        assert a["modes_captured"] == b["modes_captured"]
        assert a["reverse_kl"] == b["reverse_kl"]

    # the order trials start in (--progress lists them so): those with a
    # checkpoint, then every row's first trial, then every row's second
    os.rename(tmp_path / "runs" / "ring-pacgan2-0", tmp_path / "runs" / "grid-gan-1")
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "paper_tables.py"), "--progress",
         "--rows", "GAN", "PacGAN2", "--trials", "2", "--out", str(tmp_path / "runs")],
        capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert [line.split(" (")[0] for line in out.stdout.splitlines()[:-1]] == [
        "ring GAN seed 0", "grid GAN seed 1", "ring PacGAN2 seed 0", "grid GAN seed 0",
        "grid PacGAN2 seed 0", "ring GAN seed 1", "ring PacGAN2 seed 1", "grid PacGAN2 seed 1"]


def test_the_json_alone_makes_the_table_the_figure_and_the_curves_again(tmp_path):
    """--from trains nothing: rows kept in earlier runs' JSON files (their
    trial folders gone) give the same table, figure and curves; trials
    trained apart (--seeds) merge into one table."""
    import shutil

    import matplotlib.pyplot as plt
    runs = tmp_path / "runs"
    first = paper_tables("--quick", "--out", str(runs), "--json", str(tmp_path / "a.json"),
                         "--figure", str(tmp_path / "a.png"), "--curves", str(tmp_path / "a-c.png"))
    assert first.returncode == 0, first.stderr[-3000:]
    second = paper_tables("--quick", "--rows", "GAN", "--seeds", "1", "--out", str(runs),
                          "--json", str(tmp_path / "b.json"))
    assert second.returncode == 0, second.stderr[-3000:]
    assert sorted(os.listdir(runs)) == ["ring-gan-0", "ring-gan-1", "ring-pacgan2-0"]
    shutil.rmtree(runs)
    again = paper_tables("--from", str(tmp_path / "a.json"), "--figure", str(tmp_path / "f.png"),
                         "--curves", str(tmp_path / "f-c.png"), "--json", str(tmp_path / "f.json"))
    assert again.returncode == 0, again.stderr[-3000:]
    table = [line for line in first.stdout.splitlines() if line.startswith("|")]
    assert [line for line in again.stdout.splitlines() if line.startswith("|")] == table
    for a, b in (("a.png", "f.png"), ("a-c.png", "f-c.png")):  # drawn from the kept rows
        assert (plt.imread(tmp_path / a) == plt.imread(tmp_path / b)).all()
    kept = json.loads((tmp_path / "f.json").read_text())
    assert [r.pop("source") for r in kept["rows"]] == [str(tmp_path / "a.json")] * 2
    assert kept["rows"] == json.loads((tmp_path / "a.json").read_text())["rows"]
    gan = kept["rows"][0]
    assert gan["config"]["model"] == "pacgan-mlp" and gan["blas_kernels"] == kept_kernels()
    assert [m["epoch"] for m in gan["metrics"]] == [1.0] and len(gan["points"]) > 20000
    for r in kept["rows"]:                  # rows of files older than the kept points
        del r["points"], r["metrics"], r["config"]
    (tmp_path / "old.json").write_text(json.dumps(kept))
    old = paper_tables("--from", str(tmp_path / "old.json"), "--figure", str(tmp_path / "o.png"),
                       "--curves", str(tmp_path / "o-c.png"))
    assert old.returncode == 0, old.stderr[-3000:]
    assert [line for line in old.stdout.splitlines() if line.startswith("|")] == table
    assert "curves: no ring GAN trial keeps its scorings" in old.stdout
    assert plt.imread(tmp_path / "o.png").shape == plt.imread(tmp_path / "a.png").shape
    both = paper_tables("--from", str(tmp_path / "a.json"), str(tmp_path / "b.json"),
                        "--rows", "GAN")
    assert both.returncode == 0, both.stderr[-3000:]
    gans = [r for f in ("a.json", "b.json")
            for r in json.loads((tmp_path / f).read_text())["rows"] if r["variant"] == "GAN"]
    modes = [r["modes_captured"] for r in gans]
    mean = sum(modes) / 2
    se = abs(modes[0] - modes[1]) / 2                # s.d. / sqrt(2) of two values
    assert f"| GAN | ring | {mean:.2f} ± {se:.2f} | 6.3 ± 0.5 |" in both.stdout
    assert next(line for line in both.stdout.splitlines()
                if line.startswith("| GAN | ring |")).endswith("| 2 x 1 |")
    assert both.stdout.rstrip().splitlines()[-1].startswith("| *real samples* | ring |")


@pytest.mark.parametrize("dataset, modes", [("ring", 8), ("grid", 25)])
def test_the_real_samples_line_shows_the_noise_of_a_draw(dataset, modes, monkeypatch):
    """The mixture's own 2,500 samples: every mode, 3 std holding 1 - e^-4.5
    of a 2D Gaussian, and a reverse KL of about (K - 1) / 2n, the bias of a
    K-cell histogram of n draws (chi-square's mean over 2n)."""
    import numpy as np
    monkeypatch.syspath_prepend(os.path.join(ROOT, "benchmarks"))
    from paper_tables import real_row
    cells = [c.strip() for c in real_row(dataset).strip("|").split("|")]
    assert cells[:2] == ["*real samples*", dataset] and cells[-1] == "10 draws"
    assert cells[2] == f"{modes}.00 ± 0.00"
    quality = float(cells[4].split()[0])
    assert abs(quality - 100 * (1 - np.exp(-4.5))) < 0.5
    kl, se = (float(v) for v in cells[6].split(" ± "))
    expected = (modes - 1) / (2 * 2500)
    assert abs(kl - expected) < 4 * se + 0.1 * expected


def test_from_refuses_a_trial_scored_twice_or_of_an_older_model(tmp_path):
    """One trial in two files must score the same; a kept config that the
    same flags no longer give names its setting, a command without its
    row's flags names both; a file that is not the script's JSON is named."""
    made = paper_tables("--quick", "--rows", "GAN", "--out", str(tmp_path / "runs"), "--json",
                        str(tmp_path / "a.json"))
    assert made.returncode == 0, made.stderr[-3000:]
    result = json.loads((tmp_path / "a.json").read_text())
    same = paper_tables("--from", str(tmp_path / "a.json"), str(tmp_path / "a.json"))
    assert same.returncode == 0 and re.search(r"^\| GAN \| ring \|.*\| 1 x 1 \|$", same.stdout,
                                              re.M)
    result["rows"][0]["modes_captured"] += 1
    (tmp_path / "b.json").write_text(json.dumps(result))
    twice = paper_tables("--from", str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    assert twice.returncode != 0
    assert (f"ring GAN seed 0 scores differently in {tmp_path / 'a.json'} and "
            f"{tmp_path / 'b.json'}") in twice.stderr
    result["rows"][0]["config"]["bn_eps"] = 1e-5
    (tmp_path / "c.json").write_text(json.dumps(result))
    older = paper_tables("--from", str(tmp_path / "c.json"))
    assert older.returncode != 0
    assert f"{tmp_path / 'c.json'}: ring GAN seed 0 was trained with bn_eps 1e-05 (now 0.0001)" \
        in older.stderr
    result["rows"][0]["config"]["bn_eps"] = 1e-4
    result["rows"][0]["command"] = result["rows"][0]["command"].replace(" --pack 1", "")
    (tmp_path / "e.json").write_text(json.dumps(result))
    flagless = paper_tables("--from", str(tmp_path / "e.json"))
    assert flagless.returncode != 0
    assert (f"{tmp_path / 'e.json'}: ring GAN seed 0 was trained by "
            f"'{result['rows'][0]['command']}', without the row's flags '--pack 1'"
            ) in flagless.stderr
    (tmp_path / "d.json").write_text("[]")
    wrong = paper_tables("--from", str(tmp_path / "d.json"))
    assert wrong.returncode != 0 and "not a paper_tables.py JSON file" in wrong.stderr
    none = paper_tables("--from", str(tmp_path / "a.json"), "--rows", "PacGAN3")
    assert none.returncode != 0 and "no rows of PacGAN3 on ring, grid" in none.stderr


def test_a_rows_length_cell_counts_each_length(monkeypatch):
    monkeypatch.syspath_prepend(os.path.join(ROOT, "benchmarks"))
    from paper_tables import lengths
    assert lengths([{"epochs_trained": e} for e in (400, 100, 400)]) == "2 x 400, 1 x 100"
    assert lengths([{"epochs_trained": 400}] * 3) == "3 x 400"


def test_a_trial_of_an_older_model_is_not_resumed_into_the_table(tmp_path):
    """A checkpoint trained with a model setting the model no longer has
    (here a BatchNorm epsilon of 1e-5, before the model took the authors'
    1e-4) stops the script with one line naming it instead of mixing two
    models in one row."""
    import numpy as np

    from minigan import checkpoint
    runs = tmp_path / "runs"
    script = os.path.join(ROOT, "benchmarks", "paper_tables.py")
    first = subprocess.run([sys.executable, script, "--quick", "--out", str(runs)],
                           capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    path = runs / "ring-gan-0" / "checkpoint.npz"
    arrays, meta = checkpoint.load(path)
    meta["config"]["bn_eps"] = 1e-5
    checkpoint.save(path, {k: np.asarray(v) for k, v in arrays.items()}, meta)
    again = subprocess.run([sys.executable, script, "--quick", "--out", str(runs)],
                           capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert again.returncode != 0
    assert f"{path} was trained with bn_eps 1e-05 (now 0.0001)" in again.stderr
    restarted = subprocess.run([sys.executable, script, "--quick", "--restart", "--out",
                                str(runs)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    assert checkpoint.load(path)[1]["config"]["bn_eps"] == 1e-4


def test_the_rows_beyond_the_paper_run_on_the_same_model(tmp_path):
    """WGAN-GP, hinge + spectral norm (whole or per maxout piece) and the
    clustered GAN train the paper's model with their own flags and get rows
    without paper cells."""
    out = paper_tables("--quick", "--rows", "WGAN-GP", "hinge+SN", "hinge+SN-piece", "clusters",
                       "--out", str(tmp_path / "runs"), "--json", str(tmp_path / "t.json"))
    assert out.returncode == 0, out.stderr[-3000:]
    rows = json.loads((tmp_path / "t.json").read_text())["rows"]
    assert [r["variant"] for r in rows] == ["WGAN-GP", "hinge+SN", "hinge+SN-piece", "clusters"]
    flags = ("--loss wgan-gp --gp-weight 0.1 --beta1 0.5", "--loss hinge --spectral-norm",
             "--loss hinge --spectral-norm --sn-per-piece", "--clusters 50")
    for flag, row in zip(flags, rows):
        assert "--model pacgan-mlp" in row["command"] and flag in row["command"]
    assert "--sn-per-piece" not in rows[1]["command"]
    configs = [json.loads((tmp_path / "runs" / f"ring-{n}-0" / "config.json").read_text())
               for n in ("wgan-gp", "hinge-sn", "hinge-sn-piece", "clusters")]
    assert [(c["model"], c["loss"], c["spectral_norm"], c["sn_per_piece"], c["clusters"],
             c["beta1"], c["beta2"]) for c in configs] == [
        ("pacgan-mlp", "wgan-gp", False, False, 0, 0.5, 0.9),
        ("pacgan-mlp", "hinge", True, False, 0, 0.8, 0.999),
        ("pacgan-mlp", "hinge", True, True, 0, 0.8, 0.999),
        ("pacgan-mlp", "non-saturating", False, False, 50, 0.8, 0.999)]
    assert "| WGAN-GP | ring |" in out.stdout and "| — |" in out.stdout   # no paper cell


def test_the_table_can_train_on_the_authors_fixed_packs(tmp_path):
    """--real-packs fixed reaches every trial's config and command."""
    out = paper_tables("--quick", "--rows", "PacGAN2", "--real-packs", "fixed", "--out",
                       str(tmp_path / "runs"), "--json", str(tmp_path / "t.json"))
    assert out.returncode == 0, out.stderr[-3000:]
    row, = json.loads((tmp_path / "t.json").read_text())["rows"]
    assert "--pack 2" in row["command"] and "--real-packs fixed" in row["command"]
    config = json.loads((tmp_path / "runs" / "ring-pacgan2-0" / "config.json").read_text())
    assert (config["pack"], config["real_packs"]) == (2, "fixed")


def kept_kernels():
    return os.environ.get("OPENBLAS_CORETYPE", "Haswell" if avx2_and_fma() else "auto")


def avx2_and_fma():
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and {"avx2", "fma"} <= set(line.split())
                       for line in f)
    except OSError:
        return False


def test_the_trials_pin_openblas_kernels_where_the_cpu_has_avx2(monkeypatch):
    """One set of kernels for every trial (their rounding changes the run):
    OpenBLAS's AVX2 ones on a CPU with AVX2 and FMA, unless the environment
    names others."""
    monkeypatch.syspath_prepend(os.path.join(ROOT, "benchmarks"))
    import paper_tables
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    assert paper_tables.pin_blas_kernels() == ("Haswell" if avx2_and_fma() else "auto")
    assert os.environ.get("OPENBLAS_CORETYPE") == ("Haswell" if avx2_and_fma() else None)
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Prescott")
    assert paper_tables.pin_blas_kernels() == "Prescott"


def test_bn_sampling_scores_a_checkpoint_three_ways(tmp_path):
    """benchmarks/bn_sampling.py rescores a pacgan-mlp checkpoint with the
    saved, the refreshed-variance and the refreshed-std statistics."""
    from minigan.gan.config import Config
    from minigan.gan.trainer import Trainer
    Trainer(Config(model="pacgan-mlp", dataset="ring", limit=400, epochs=1, eval_every=0,
                   samples=4, out=str(tmp_path / "r")), log=lambda *a: None).fit(progress=False)
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "bn_sampling.py"),
         str(tmp_path / "r" / "checkpoint.npz"), "--n", "300", "--seeds", "2"],
        capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [line for line in out.stdout.splitlines()
            if line.startswith(("as saved", "refreshed"))]
    assert len(rows) == 3 and all(row.count("%") == 3 for row in rows)


def test_hours_left_follow_the_trials_recent_rate(tmp_path):
    """--progress's estimate: the trainer's clock over the last steps, times
    the steps still to go (an early slow sitting does not count)."""
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    from paper_tables import hours_left
    log = tmp_path / "log.csv"
    rows = ["step,epoch,d_loss,g_loss,d_real,d_fake,seconds"]
    clock = 0.0
    for step in range(30):                  # 10 steps an epoch, counted from 0 as the
        clock += 9.0 if step < 15 else 3.6  # trainer logs them; 9 s a step, then 3.6 s
        rows.append(f"{step},{step // 10},0,0,0,0,{clock:.3f}")
    log.write_text("\n".join(rows) + "\n")
    assert abs(hours_left(log, epochs=100, window=10) - (1000 - 30) * 3.6 / 3600) < 1e-9
    assert hours_left(log, epochs=3, window=10) == 0
    assert hours_left(log, epochs=100, window=30) is None       # too few steps logged


def test_a_figure_panel_says_whether_a_row_ran_on_a_mixture(tmp_path):
    """A row with no trial on a mixture is drawn as such, apart from one whose
    trials kept no points (rows of an older JSON)."""
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import base64

    import numpy as np
    from paper_tables import panel
    rows = [{"variant": "WGAN-GP", "dataset": "ring", "seed": 1, "source": "old.json"},
            {"variant": "WGAN-GP", "dataset": "ring", "seed": 0, "source": "new.json",
             "points": base64.b64encode(np.array([[0, 1], [1, 0]], "<f4").tobytes()).decode()}]
    title, points = panel(rows, "WGAN-GP", "ring")
    assert title == "WGAN-GP, seed 0" and points.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert panel(rows[:1], "WGAN-GP", "ring") == ("WGAN-GP: no trial's samples kept", None)
    assert panel(rows, "WGAN-GP", "grid") == ("WGAN-GP: no trial yet", None)


def test_the_pacgan_page_shows_the_table_its_command_makes():
    """docs/pacgan.md gives the table and the ``--from`` command that makes it
    from the trial files in benchmarks/results; the two must not drift apart
    as trials land."""
    page = open(os.path.join(ROOT, "docs", "pacgan.md"), encoding="utf-8").read()
    command = re.search(r"^python benchmarks/paper_tables\.py --from (.*?) --json ", page,
                        re.S | re.M)
    assert command, "docs/pacgan.md: no `paper_tables.py --from ... --json` command"
    sources = command.group(1).replace("\\", " ").split()
    assert sources and all(os.path.exists(os.path.join(ROOT, s)) for s in sources), sources
    r = paper_tables("--from", *sources)
    assert r.returncode == 0, r.stderr
    made = [line for line in r.stdout.splitlines() if line.startswith("| ")]
    start = page.index(made[0])
    shown = page[start:].split("\n\n")[0].splitlines()
    assert shown == made
