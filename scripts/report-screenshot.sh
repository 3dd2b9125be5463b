#!/usr/bin/env bash
# Renders a workspace's report page (data/reports/index.html) in headless Chromium (Debian's `chromium`,
# installed if missing) and saves a screenshot, to look at the page as a user would without a desktop.
# Usage: scripts/report-screenshot.sh [WORKSPACE (default demo-data/data)] [OUT.png (default WORKSPACE/reports/index.png)]
# Environment: WIDTH (1280), HEIGHT (6000: the page is cut there; the screenshot is of the window).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
workspace=$(realpath -m "${1:-$repo/demo-data/data}")   # relative to the folder it is run from
page="$workspace/reports/index.html"
out=$(realpath -m "${2:-$workspace/reports/index.png}")
[ -f "$page" ] || { echo "no report page at $page: run a stage (imgcls fetch, curate, ...) or make demo first" >&2; exit 1; }
command -v chromium >/dev/null || "$repo/scripts/setup.sh" chromium
# --no-sandbox: Chromium's sandbox needs user namespaces, which containers and CI runners often lack.
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="${WIDTH:-1280},${HEIGHT:-6000}" \
  --screenshot="$out" "file://$page" 2>/dev/null
echo "screenshot of $page: $out"
