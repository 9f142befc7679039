#!/usr/bin/env python3
"""Runs commands in paired rounds (every command once a round, the order rotated a place
each round, since the run after the DuckDB script was measured slower) and prints the best
and median wall time and the peak RSS of each, and each one's ratio to the first (for
scripts/bench.sh). This machine's absolute times drift within an hour; ratios of runs
taken side by side do not.

usage: bench.py --runs N --name A -- CMD... [--vs B -- CMD...]...
"""

import os
import statistics
import subprocess
import sys
import time


def measure(cmd):
    start = time.monotonic()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1, 6):
        sys.exit(f"{cmd[0]} exited with {code}")
    return wall, usage.ru_maxrss / 1024 / 1024  # KiB -> GiB


def sides(args):
    """[(name, cmd)] from `--name A -- CMD... --vs B -- CMD...`."""
    out, i = [], 0
    while i < len(args):
        if args[i] in ("--name", "--vs"):
            name = args[i + 1]
            assert args[i + 2] == "--", "expected -- after the name"
            j = i + 3
            while j < len(args) and args[j] != "--vs":
                j += 1
            out.append((name, args[i + 3 : j]))
            i = j
        else:
            i += 1
    return out


def main():
    args = sys.argv[1:]
    runs = int(args[args.index("--runs") + 1])
    commands = sides(args[args.index("--runs") + 2 :])
    walls = {name: [] for name, _ in commands}
    rss = {name: [] for name, _ in commands}
    for round_ in range(runs):
        k = round_ % len(commands)
        for name, cmd in commands[k:] + commands[:k]:
            w, r = measure(cmd)
            walls[name].append(w)
            rss[name].append(r)
            print(f"round {round_ + 1}, {name}: {w:.2f} s, {r:.2f} GiB", file=sys.stderr)
    print(f"{'':10} {'best':>9} {'median':>9} {'peak RSS':>9}")
    for name, _ in commands:
        print(
            f"{name:10} {min(walls[name]):7.2f} s {statistics.median(walls[name]):7.2f} s"
            f" {max(rss[name]):6.2f} GiB"
        )
    first = commands[0][0]
    for name, _ in commands[1:]:
        print(
            f"{first}/{name}: {min(walls[first]) / min(walls[name]):.2f}x best over best,"
            f" {statistics.median(walls[first]) / statistics.median(walls[name]):.2f}x median"
            f" over median, {max(rss[first]) / max(rss[name]):.2f}x the peak RSS"
        )


if __name__ == "__main__":
    main()
