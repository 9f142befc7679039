#!/usr/bin/env bash
# A month in steps on this machine (SPEC §14): N `yidi split` processes side by side, N
# `yidi check` processes over the provinces dealt into N groups, one `yidi merge`; each
# step's wall time, and with --compare, `yidi run` of the same month and a byte-for-byte
# comparison of every table (the typed inputs/ files are left out: their row groups follow
# how the month was read).
#
#   scripts/steps.sh MONTH_DIR N [--out DIR] [--stage DIR] [--compare] [-- SPLIT_ARGS...]
#
# YIDI names the binary (default: target/release/yidi, else `yidi` on PATH). Extra
# arguments after `--` go to every `yidi split` (e.g. --no-previous, --config FILE).
set -euo pipefail
usage() { echo "usage: $0 MONTH_DIR N [--out DIR] [--stage DIR] [--compare] [-- SPLIT_ARGS...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
month=$1 n=$2; shift 2
[[ $n =~ ^[1-9][0-9]*$ ]] || usage
out=out stage="" compare=0 split_args=()
while [ $# -gt 0 ]; do
    case $1 in
        --out) out=$2; shift 2 ;;
        --stage) stage=$2; shift 2 ;;
        --compare) compare=1; shift ;;
        --) shift; split_args=("$@"); break ;;
        *) usage ;;
    esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
yidi=${YIDI:-}
if [ -z "$yidi" ]; then
    for candidate in "${CARGO_TARGET_DIR:-$root/target}/release/yidi" "$root/target/release/yidi"; do
        [ -x "$candidate" ] && { yidi=$candidate; break; }
    done
    yidi=${yidi:-yidi}
fi
name=$(basename "$month")
stage=${stage:-$out/.stage-$name}
rm -rf "$stage"
now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

t0=$(now)
pids=()
for ((i = 0; i < n; i++)); do
    "$yidi" --quiet split "$month" --stage "$stage" --slice "$i/$n" --out "$out" "${split_args[@]}" &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
t1=$(now)
pids=()
while IFS= read -r group; do
    "$yidi" --quiet check "$stage" --provinces "$group" &
    pids+=($!)
done < <("$yidi" check "$stage" --plan "$n")
for pid in "${pids[@]}"; do wait "$pid"; done
t2=$(now)
status=0
"$yidi" --quiet merge "$stage" --out "$out" || status=$?
t3=$(now)
[ "$status" -le 1 ] || [ "$status" -eq 6 ] || exit "$status"
echo "steps of $name with $n processes: split $(seconds "$t0" "$t1") s, check $(seconds "$t1" "$t2") s, merge $(seconds "$t2" "$t3") s, in all $(seconds "$t0" "$t3") s; results in $out/$name (exit $status)"

if [ "$compare" = 1 ]; then
    t4=$(now)
    run_status=0
    "$yidi" --quiet run "$month" --out "$out/.run" "${split_args[@]}" || run_status=$?
    t5=$(now)
    echo "yidi run of $name: $(seconds "$t4" "$t5") s (exit $run_status)"
    differ=0
    while IFS= read -r file; do
        cmp -s "$out/.run/$name/$file" "$out/$name/$file" || { echo "differs: $file"; differ=1; }
    done < <(cd "$out/.run/$name" && find . -path ./inputs -prune -o \( -name '*.csv' -o -name '*.parquet' \) -print | sort)
    [ "$differ" = 0 ] && echo "every CSV and Parquet table is byte-identical to yidi run's"
    exit "$differ"
fi
exit "$status"
