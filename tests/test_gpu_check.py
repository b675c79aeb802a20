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
    for model in ("dcgan", "pacgan-mlp (pack 2)"):
        assert f"{model}: first step's gradients on cupy equal numpy's" in names
        assert any(n.startswith(f"{model}: after 5 steps every counter equal") for n in names)
    assert result["timings"] and all(t["fake_gpu"] for t in result["timings"])
