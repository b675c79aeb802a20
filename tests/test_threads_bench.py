"""benchmarks/threads.py times every Numba kernel on one thread and on all
threads; --quick must time both versions of each and name the crossover."""

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
