"""When do the 2D trials' scores stop moving? The length the PacGAN table's
shortened trials train for, chosen from full-length trials' ``metrics.csv``.

    python benchmarks/flatness.py benchmarks/results/pacgan-grid-table-*-[0-9]-metrics.csv

For each candidate length L (100, 150, ..., 350 by default) and each score
(modes captured, high-quality share, reverse KL), the change from L to the
full length (``--full``, 400): over the trials, the mean of (the score at the
full length) - (the score at L), with its standard error. A trial's score at
an epoch is the mean of its scorings in the ``--window`` epochs up to it
(30: three scorings 10 epochs apart, which damps one scoring's sampling
noise). A length has flattened when, from it on, no score changes
detectably: every candidate length from it up has each score's mean change
within one standard error of zero. The script prints the changes as a table
and the shortest flattened length, or says that none has. One standard error
is a weak test with few trials; the table shows how large each change is.
Trials scored short of the full length (the table's shortened trials) are
left out, each named on stderr, so one glob can name a mixture's trials.
"""

import argparse
import csv
import statistics
import sys

# each score: its metrics.csv column, its table heading, its scale and format there
KEYS = (("modes_captured", "modes", 1, ".2f"),
        ("high_quality_share", "high quality (points)", 100, ".2f"),
        ("reverse_kl", "reverse KL", 1, ".3f"))


def fail(message):
    """Bad input: one line naming it, exit status 2."""
    print(f"flatness.py: {message}", file=sys.stderr)
    sys.exit(2)


def read(path):
    """A trial's scorings: {epoch: {score: value}} from its trainer's metrics.csv."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")
    missing = [k for k, *_ in KEYS if rows and k not in rows[0]]
    if not rows or missing:
        fail(f"{path} is not a 2D run's metrics.csv (no "
             f"{', '.join(missing) or 'rows'})")
    try:
        return {int(r["epoch"]): {k: float(r[k]) for k, *_ in KEYS} for r in rows}
    except (TypeError, ValueError) as e:
        fail(f"{path}: a row that is not numbers ({e})")


def at(trial, epoch, window, path):
    """The trial's scores at ``epoch``: the mean of its scorings in the
    ``window`` epochs ending there."""
    near = [s for e, s in trial.items() if epoch - window < e <= epoch]
    if not near:
        fail(f"{path} has no scoring in epochs {epoch - window + 1}-{epoch}")
    return {k: statistics.fmean(s[k] for s in near) for k, *_ in KEYS}


def changes(trials, lengths, full, window):
    """{length: {score: (mean change to ``full``, its standard error)}} over
    ``trials``, a list of (path, scorings)."""
    if len(trials) < 2:
        fail("give at least two trials (a standard error needs two)")
    for path, t in trials:
        if max(t) < full:
            fail(f"{path} is scored to epoch {max(t)}, not the full {full}")
    end = [at(t, full, window, p) for p, t in trials]
    table = {}
    for length in lengths:
        start = [at(t, length, window, p) for p, t in trials]
        table[length] = {}
        for k, *_ in KEYS:
            d = [e[k] - s[k] for e, s in zip(end, start)]
            table[length][k] = (statistics.fmean(d), statistics.stdev(d) / len(d) ** 0.5)
    return table


def unchanged(changes):
    """Whether every score's mean change is within one standard error of zero."""
    return all(abs(m) <= se for m, se in changes.values())


def shortest_flat(table):
    """The shortest length from which on every score's mean change is within
    one standard error of zero; None if the longest candidate's is not."""
    found = None
    for length in sorted(table, reverse=True):
        if not unchanged(table[length]):
            break
        found = length
    return found


def markdown(table, full):
    lines = ["| from epoch | " + " | ".join(f"{name}, to {full}" for _, name, *_ in KEYS)
             + " | no change detected |", "| --- " * (len(KEYS) + 2) + "|"]
    for length in sorted(table):
        cells = [f"{scale * m:+{fmt}} ± {scale * se:{fmt}}"
                 for (k, _, scale, fmt) in KEYS for m, se in [table[length][k]]]
        cells.append("yes" if unchanged(table[length]) else "no")
        lines.append(f"| {length} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("metrics", nargs="+",
                   help="trials' metrics.csv files (those short of --full are left out)")
    p.add_argument("--full", type=int, default=400, help="the full length (400)")
    p.add_argument("--lengths", type=int, nargs="+", default=list(range(100, 400, 50)),
                   help="candidate lengths (100 150 ... 350)")
    p.add_argument("--window", type=int, default=30,
                   help="epochs whose scorings make a trial's score at an epoch (30)")
    args = p.parse_args(argv)
    if args.window < 1 or any(not 0 < n < args.full for n in args.lengths):
        p.error(f"--window must be positive and every --lengths between 1 and "
                f"--full - 1 ({args.full - 1})")
    trials = [(m, read(m)) for m in args.metrics]
    for path, t in trials:      # a shortened trial has no change to --full to measure
        if max(t) < args.full:
            print(f"flatness.py: leaving out {path}: scored to epoch {max(t)}, "
                  f"short of the full {args.full}", file=sys.stderr)
    full = [(m, t) for m, t in trials if max(t) >= args.full]
    if len(full) < 2:
        fail(f"give at least two trials scored to the full {args.full} epochs "
             f"({len(full)} given; a standard error needs two)")
    table = changes(full, args.lengths, args.full, args.window)
    print(markdown(table, args.full))
    flat = shortest_flat(table)
    print(f"shortest flattened length: {flat}" if flat else
          f"no candidate length up to {max(args.lengths)} has flattened")
    return flat


if __name__ == "__main__":
    main()
