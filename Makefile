# `make test` and `make demo` each work on a fresh Debian machine: they install what is missing first.
SWIFT ?= swift

.PHONY: setup build test demo bench clean

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build

test: build
	$(SWIFT) test

demo: build
	@scripts/demo.sh

bench: setup
	@scripts/bench-jpeg-decode.sh

clean:
	rm -rf .build demo-data bench-data
