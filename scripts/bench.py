#!/usr/bin/env python3
"""Runs two commands several times each and prints the median wall time and peak RSS of
each, and the ratio (for scripts/bench.sh).

usage: bench.py --runs N --name A -- CMD... --vs B -- CMD...
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
    if code not in (0, 1):
        sys.exit(f"{cmd[0]} exited with {code}")
    return wall, usage.ru_maxrss / 1024 / 1024  # KiB -> GiB


def main():
    args = sys.argv[1:]
    runs = int(args[args.index("--runs") + 1])
    a_name = args[args.index("--name") + 1]
    vs = args.index("--vs")
    a_cmd = args[args.index("--") + 1 : vs]
    b_name = args[vs + 1]
    b_cmd = args[vs + 3 :]
    results = {}
    for name, cmd in [(a_name, a_cmd), (b_name, b_cmd)]:
        walls, rss = [], []
        for i in range(runs):
            w, r = measure(cmd)
            walls.append(w)
            rss.append(r)
            print(f"{name} run {i + 1}: {w:.2f} s, {r:.2f} GiB", file=sys.stderr)
        results[name] = (statistics.median(walls), statistics.median(rss))
    print(f"{'':8} {'median wall':>12} {'peak RSS':>10}")
    for name, (w, r) in results.items():
        print(f"{name:8} {w:10.2f} s {r:7.2f} GiB")
    (aw, ar), (bw, br) = results[a_name], results[b_name]
    print(f"{b_name}/{a_name}: {bw / aw:.2f}x the wall time, {br / ar:.2f}x the memory")


if __name__ == "__main__":
    main()
