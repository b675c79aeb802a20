"""benchmarks/paper_tables.py regenerates PacGAN's Table 1 beside the paper's
numbers; --quick runs one tiny trial of two rows, which must go through the
whole path: training, scoring, the table, the samples and the curves."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_quick_run_makes_the_table_and_the_figure(tmp_path):
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "paper_tables.py"), "--quick",
         "--out", str(tmp_path / "runs"), "--json", str(tmp_path / "t.json"), "--figure",
         str(tmp_path / "t.png"), "--curves", str(tmp_path / "c.png")], capture_output=True,
        text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "| GAN | ring |" in out.stdout and "6.3 ± 0.5" in out.stdout   # the paper's cell
    result = json.loads((tmp_path / "t.json").read_text())
    assert [(r["variant"], r["dataset"]) for r in result["rows"]] == [("GAN", "ring"),
                                                                       ("PacGAN2", "ring")]
    assert "--pack 2" in result["rows"][1]["command"]
    assert not any(r["resumed"] for r in result["rows"])
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

    first, _ = quick()
    ckpt = tmp_path / "runs" / "ring-gan-0" / "checkpoint.npz"
    before = (ckpt.read_bytes(), ckpt.stat().st_mtime_ns)
    second, text = quick()
    assert [r["resumed"] for r in second] == [True, True] and "resumed, 1 epochs" in text
    assert (ckpt.read_bytes(), ckpt.stat().st_mtime_ns) == before      # nothing retrained
    for a, b in zip(first, second):
        assert a["modes_captured"] == b["modes_captured"]
        assert a["reverse_kl"] == b["reverse_kl"]
