"""benchmarks/gpu_check.py, the script for a GPU machine, works before a GPU
ever sees it: here it runs through the stand-in for CuPy, where its kernel
and trajectory checks are real checks (only its times mean nothing)."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_gpu_check_passes_on_the_stand_in(tmp_path):
    out = tmp_path / "gpu.json"
    run = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "gpu_check.py"),
                          "--fake-gpu", "--quick", "--json", str(out)],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1].startswith("PASS")
    result = json.loads(out.read_text())
    names = [c["name"] for c in result["checks"]]
    assert all(c["ok"] for c in result["checks"])
    assert sum(n.startswith("kernel ") for n in names) >= 14
    assert any(n.startswith("cupy tests") for n in names)
    for model in ("dcgan", "pacgan-mlp (pack 2)", "pacgan-mlp WGAN-GP (pack 2)",
                  "pacgan-mlp hinge + SN (pack 2)", "pacgan-mlp hinge + SN per piece (pack 2)"):
        assert f"{model}: first step's gradients on cupy equal numpy's" in names
        assert any(n.startswith(f"{model}: after 5 steps every counter equal") for n in names)
    assert result["timings"] and all(t["fake_gpu"] for t in result["timings"])


def test_rounding_sized_changes_stay_inside_the_gradient_tolerance():
    """The trajectory check judges each first-step gradient's difference
    against the array's norm (1e-2). On numpy alone, weights scaled by
    1 + 1e-7 noise (rounding's size) before the step, the critic whose maxout
    pieces are each normalized (where ties within rounding are likeliest)
    must stay inside it: a tie decided the other way may move single entries
    far more, never the norm."""
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    try:
        import gpu_check
    finally:
        sys.path.pop(0)
    import numpy as np

    from minigan.gan import Config, Trainer
    for seed in (0, 1, 2):
        grads = []
        for eps in (0.0, 1e-7):
            t = Trainer(Config(backend="numpy", eval_every=0, samples=4, out=os.devnull,
                               model="pacgan-mlp", limit=1000, pack=2, seed=seed, loss="hinge",
                               spectral_norm=True, sn_per_piece=True), log=lambda *a: None)
            noise = np.random.default_rng(seed + 100)
            for net in (t.G, t.D):
                for _, p, _ in net.parameters():
                    p *= (1 + eps * noise.standard_normal(p.shape)).astype(p.dtype)
            t.train_step()
            grads.append({f"{n}.{k}": np.array(g) for n, net in (("G", t.G), ("D", t.D))
                          for k, _, g in net.parameters()})
        worst, where = gpu_check._norm_spread(grads[0], grads[1], grads[0])
        assert 0 < worst <= 1e-2, (seed, worst, where)
