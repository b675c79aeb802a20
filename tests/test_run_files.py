"""The run folder's pictures stay cheap however long the run: the animation
shows 50 epochs at most, redrawn about 50 times; the loss picture draws at
most 5,000 points a curve from columns kept in memory, not from log.csv."""

import csv

import numpy as np

from minigan import viz
from minigan.gan import run_files


def test_the_animation_shows_every_epoch_of_a_short_run():
    done = []
    for epoch in range(1, 13):                 # the default run: 12 epochs
        done.append(epoch)
        assert run_files.gif_frames(done, epoch, 12) == done


def test_a_long_runs_animation_shows_every_sth_epoch_and_is_redrawn_50_times():
    done, redrawn = [], []
    for epoch in range(1, 401):
        done.append(epoch)
        shown = run_files.gif_frames(done, epoch, 400)
        if shown is not None:
            redrawn.append(epoch)
            assert shown == list(range(8, epoch + 1, 8))         # s = 400 / 50 = 8
    assert redrawn == list(range(8, 401, 8))
    assert len(run_files.gif_frames(done, 400, 400)) == 50
    # the last epoch is drawn, on the stride (s = 3 here) or not; epochs in numeric order
    assert run_files.gif_frames([99, 100, 101], 101, 101) == [99, 101]
    assert run_files.gif_frames([99, 100, 101], 100, 101) is None
    assert run_files.gif_frames([1000, 980, 999, 960], 1000, 1000) == [960, 980, 1000]


def test_the_drawn_loss_curve_is_every_kth_moving_average_ending_at_the_last_step():
    rng = np.random.default_rng(0)
    for n in (7, 25, 4000, 5024, 5025, 400_000):
        steps, v = np.arange(n) + 10, rng.standard_normal(n)
        x, y = viz.loss_curve(steps, v, smooth=25, points=5000)
        assert len(x) == len(y) <= 5000 and x[-1] == steps[-1]
        if n < 25:                               # too short to average: as logged
            np.testing.assert_array_equal(y, v)
            continue
        c = np.concatenate([[0.0], np.cumsum(v)])
        ends = x - steps[0]                      # each point's window ends at its step
        np.testing.assert_allclose(y, (c[ends + 1] - c[ends - 24]) / 25, atol=1e-9)
        gaps = np.diff(x)
        assert (gaps == gaps[0]).all() if len(gaps) else True
        assert len(x) > 2500 or n <= 5024        # thinned no further than needed


def test_the_loss_log_keeps_in_memory_what_it_writes_and_what_it_resumed(tmp_path):
    path = str(tmp_path / "log.csv")
    fields = ("step", "epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds")

    def row(k):
        return {"step": k, "epoch": k // 4, "d_loss": f"{1 + k / 7:.6g}",
                "g_loss": f"{2 - k / 9:.6g}", "d_real": "0.5", "d_fake": f"{k / 100:.6g}",
                "seconds": f"{k / 3:.3f}"}

    log = run_files.LossLog(path, fields, 0)
    for k in range(10):
        log.write(row(k))
    log.close()
    log = run_files.LossLog(path, fields, 6)     # resumed at step 6: rows 6-9 are redone
    for k in range(6, 9):
        log.write(row(k))
    log.close()
    with open(path, newline="") as f:
        on_disk = list(csv.DictReader(f))
    assert [int(r["step"]) for r in on_disk] == list(range(9))
    for name, column in log.columns.items():
        assert list(column) == [float(r[name]) for r in on_disk]
