#!/usr/bin/env bash
# Does time grow linearly with size? Generates months of N and 2N settlements (same
# hospitals, same seed) and prints the median of `runs` yidi runs on each and the ratio.
#
#   scripts/scaling.sh [N] [runs]      (default N = 100000, runs = 3)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
runs=${2:-3}
root=${BENCH_DIR:-/tmp/yidi-bench}/scaling
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/yidi-target}"
cargo build --release --quiet
yidi="$CARGO_TARGET_DIR/release/yidi"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A took
for size in "$n" "$((2 * n))"; do
    dir="$root/$size"
    if [ ! -d "$dir/2026-10" ]; then
        mkdir -p "$dir"
        "$yidi" generate --scale province --settlements "$size" --hospitals 300 --out "$dir" --quiet
    fi
    times=$(for _ in $(seq "$runs"); do
        /usr/bin/time -f "%e" "$yidi" run "$dir/2026-10" --out "$dir/out" --quiet 2>&1 >/dev/null | tail -1
    done | median)
    took[$size]=$times
    echo "$size settlements: median $times s"
done
awk -v a="${took[$n]}" -v b="${took[$((2 * n))]}" 'BEGIN {printf "2x the data: %.2fx the time\n", b / a}'
