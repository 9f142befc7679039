#!/usr/bin/env bash
# Measures `yidi run` on a generated month against the analyst's DuckDB script
# (../shared/bench/peer_duckdb.py, the speed peer of issue 16), in paired rounds.
#
#   scripts/bench.sh [tiny|city|province|province-short|national|ledger] [runs] [seed]
#
# `province-short` is a province month of shorter bills (`--inpatient-lines 30-144`: about 9
# fee lines a settlement instead of 21, 1.8 GB instead of 3.0): the shape of the other
# province-sized month issue 16 names (0.9 M settlements, 8.4 M fee lines, 1.7 GB).
#
# `ledger` measures a province month that continues a ledger (issue 20): November
# (`--scale province --seed <seed+1> --month 2026-11`), with the decisions that
# `yidi generate --after` plants on the ledger of October (`--seed <seed>`, run once), run
# with `--previous` October's run; the peer reads the same November.
#
# Generates the month once into $BENCH_DIR/<scale>/ (default /tmp/yidi-bench; reused when it
# is there: delete it to regenerate), installs the duckdb Python package if it is missing,
# runs every side once a round, `runs` rounds (default 3), and prints the best and median
# wall time and peak RSS of each and yidi's ratios to the others. YIDI_OLD=/path/to/yidi adds
# another build of yidi as a side (an A/B of a change); RULES=1 adds scripts/duckdb_rules.py.
# `scripts/scaling.sh` checks that time grows linearly with size.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-province}
runs=${2:-3}
seed=${3:-1}
root=${BENCH_DIR:-/tmp/yidi-bench}/$scale
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/yidi-target}"
cargo build --release --quiet
yidi="$CARGO_TARGET_DIR/release/yidi"
python3 -c 'import duckdb' 2>/dev/null || python3 -m pip install --quiet duckdb
generated() { # scale seed month [generate options]
    if [ ! -d "$root/$3" ]; then
        mkdir -p "$root"
        echo "generating a $1 month $3 into $root ..." >&2
        /usr/bin/time -f "generate: %e s wall, %M KiB peak RSS" \
            "$yidi" generate --scale "$1" --seed "$2" --month "$3" --out "$root" --quiet "${@:4}"
    fi
}
if [ "$scale" = ledger ]; then
    month=2026-11
    previous=(--previous "$root/october/2026-10")
    generated province "$seed" 2026-10
    if [ ! -f "$root/$month/decisions.csv" ]; then
        rm -rf "$root/october" "$root/after" "$root/$month"
        "$yidi" run "$root/2026-10" --out "$root/october" --quiet --no-previous
        "$yidi" generate --after "$root/october/2026-10" --out "$root/after" --quiet
        generated province "$((seed + 1))" "$month"
        cp "$root/after/$month/decisions.csv" "$root/$month/"
    fi
elif [ "$scale" = province-short ]; then
    month=2026-10
    previous=(--no-previous)
    generated province "$seed" "$month" --inpatient-lines 30-144
else
    month=2026-10
    previous=(--no-previous)
    generated "$scale" "$seed" "$month"
fi
du -sh "$root/$month" >&2
peer=${PEER:-../shared/bench/peer_duckdb.py}
sides=(--name yidi -- "$yidi" run "$root/$month" --out "$root/out" --quiet "${previous[@]}")
if [ -n "${YIDI_OLD:-}" ]; then
    sides+=(--vs old -- "$YIDI_OLD" run "$root/$month" --out "$root/out-old" --quiet "${previous[@]}")
fi
# The peer leaves a temporary directory of its own behind each run (40 MB on a province
# month): give it one under $root, emptied when the rounds end.
mkdir -p "$root/peer-tmp"
trap 'rm -rf "$root/peer-tmp"' EXIT
sides+=(--vs peer -- env TMPDIR="$root/peer-tmp" python3 "$peer" "$root/$month" "$root/peer-out" --threads 2)
if [ -n "${RULES:-}" ]; then
    sides+=(--vs rules -- python3 scripts/duckdb_rules.py "$root/$month" "$root/duckdb-out" --threads 2)
fi
python3 scripts/bench.py --runs "$runs" "${sides[@]}"
