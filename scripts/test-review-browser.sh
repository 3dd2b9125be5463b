#!/usr/bin/env bash
# The review app in a real browser: Selenium (PyPI, in a venv; Python only in this test) drives Debian's `chromium`
# through `chromium-driver` against `imgcls review` on a workspace made by the demo's site (`imgcls demo`, small):
# it filters by a flag, opens a cluster, relabels an item with the keyboard, excludes a selection of three, excludes
# one more and undoes it, reloads the page and finds the state kept, then checks the catalog's rows and journal with
# sqlite3. A screenshot of each view goes to $REVIEW_SCREENSHOTS (default bench-data/logs/review-browser/).
# Called by `make test`; skips, saying why, when PyPI cannot be reached. Bounded: the server is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${IMGCLS_BIN:-$(swift build --show-bin-path)}
[ -x "$bin/imgcls" ] || swift build --product imgcls >/dev/null
command -v chromedriver >/dev/null && command -v chromium >/dev/null || scripts/setup.sh chromium chromium-driver
venv=bench-data/venv-selenium
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import selenium" 2>/dev/null; then
  python3 -m venv "$venv" >/dev/null 2>&1 || { echo "review-browser: skipped (python3 -m venv failed: scripts/setup.sh installs python3-venv)"; exit 0; }
  if ! timeout 300 "$venv/bin/pip" install -q selenium >/dev/null 2>&1; then
    echo "review-browser: skipped (pip could not install selenium from PyPI)"
    exit 0
  fi
fi
shots=$(realpath -m "${REVIEW_SCREENSHOTS:-bench-data/logs/review-browser}")
mkdir -p "$shots"

work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
"$bin/imgcls" demo --folder "$work/demo" --per-class 20 --epochs 1 --quiet >/dev/null
workspace="$work/demo/data"
port=$("$venv/bin/python" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"$bin/imgcls" review --workspace "$workspace" --port "$port" > "$work/review.log" 2>&1 &
server=$!
SE_OFFLINE=true timeout 300 "$venv/bin/python" scripts/review-browser.py "$port" "$workspace/catalog.sqlite" "$shots"
