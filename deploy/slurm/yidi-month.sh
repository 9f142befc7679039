#!/usr/bin/env bash
# A month in steps on Slurm (SPEC §14): submits a job array of N splits, a job array of M
# checks that starts when every split succeeded, and the merge after every check.
#
#   deploy/slurm/yidi-month.sh MONTH_DIR STAGE_DIR OUT_DIR N M [SPLIT_ARGS...]
#
# STAGE_DIR and OUT_DIR must be on a file system every node mounts; `yidi` on every
# node's PATH (or YIDI=/path/to/yidi).
set -euo pipefail
[ $# -ge 5 ] || { echo "usage: $0 MONTH_DIR STAGE_DIR OUT_DIR N M [SPLIT_ARGS...]" >&2; exit 2; }
month=$1 stage=$2 out=$3 n=$4 m=$5; shift 5
yidi=${YIDI:-yidi}
here=$(cd "$(dirname "$0")" && pwd)
export YIDI="$yidi" MONTH_DIR="$month" STAGE="$stage" OUT="$out" SLICES="$n" CHECK_GROUPS="$m"
export SPLIT_ARGS="$*"
split=$(sbatch --parsable --array="0-$((n - 1))" --export=ALL "$here/split.sbatch")
check=$(sbatch --parsable --array="0-$((m - 1))" --dependency="afterok:$split" --export=ALL "$here/check.sbatch")
merge=$(sbatch --parsable --dependency="afterok:$check" --export=ALL "$here/merge.sbatch")
echo "submitted: split $split, check $check, merge $merge"
