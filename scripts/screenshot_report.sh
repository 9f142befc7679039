#!/usr/bin/env bash
# Renders a run's report.html in headless Chromium to a PNG, to look at it as a person would.
#   scripts/screenshot_report.sh out/2026-10/report.html /tmp/report.png
# Needs Debian's chromium and fonts-noto-cjk (apt-get install chromium fonts-noto-cjk).
set -euo pipefail
report=$(realpath "${1:?report.html}")
png=${2:-report.png}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size=1400,6000 --screenshot="$png" "file://$report"
echo "$png"
