# The two commands: `make serve` and `make test`. Everything else is detail.
.PHONY: serve test build bench

serve:
	scripts/serve.sh

test:
	scripts/test.sh

# The peer benchmarks and the in-browser timing (see scripts/bench.sh).
bench:
	scripts/bench.sh

build:
	scripts/setup.sh && . scripts/env.sh && trunk build --release
