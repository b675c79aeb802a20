"""Every lesson runs top to bottom in smoke mode (tiny sizes), so a broken
lesson fails the test suite."""

import glob
import os
import subprocess
import sys

import pytest

LESSONS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "lessons",
                                        "[0-9][0-9]_*.py")))


def test_there_are_lessons():
    assert LESSONS


@pytest.mark.parametrize("path", LESSONS, ids=os.path.basename)
def test_lesson_runs_in_smoke_mode(path):
    env = {**os.environ, "MINIGAN_SMOKE": "1", "MPLBACKEND": "Agg"}
    r = subprocess.run([sys.executable, os.path.basename(path)], cwd=os.path.dirname(path),
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
