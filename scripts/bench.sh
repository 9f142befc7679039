#!/usr/bin/env bash
# Measures `yidi run` on a generated month against the same rules as plain DuckDB SQL.
#
#   scripts/bench.sh [tiny|city|province|national] [runs] [seed]
#
# Generates the month once into $BENCH_DIR/<scale>/ (default /tmp/yidi-bench; reused when it
# is there: delete it to regenerate), installs the duckdb Python package if it is missing,
# runs each side `runs` times (default 3) and prints the median wall time and peak RSS of
# each, and their ratio. `scripts/scaling.sh` checks that time grows linearly with size.
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
if [ ! -d "$root/2026-10" ]; then
    mkdir -p "$root"
    echo "generating a $scale month into $root ..." >&2
    /usr/bin/time -f "generate: %e s wall, %M KiB peak RSS" \
        "$yidi" generate --scale "$scale" --seed "$seed" --month 2026-10 --out "$root" --quiet
fi
du -sh "$root/2026-10" >&2
python3 scripts/bench.py --runs "$runs" \
    --name yidi -- "$yidi" run "$root/2026-10" --out "$root/out" --quiet \
    --vs duckdb -- python3 scripts/duckdb_rules.py "$root/2026-10" "$root/duckdb-out" --threads 2
