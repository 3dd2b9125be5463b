#!/usr/bin/env bash
# `make demo`: builds imgcls in release mode and runs `imgcls demo` (no internet needed): four classes of generated
# pictures served from 127.0.0.1 with the faults real URL lists have, through fetch, curate, split, train,
# evaluate and predict, then a check that every planted fault was found with its reason. Arguments go to
# `imgcls demo` (for example --per-class 100 --epochs 10 for a quicker run).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product imgcls
bin=$(swift build -c release --show-bin-path)
"$bin/imgcls" demo --folder demo-data "$@"
