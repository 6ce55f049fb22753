# The two commands: `make serve` and `make test`. Everything else is detail.
.PHONY: serve test build bench

serve:
	scripts/serve.sh

test:
	scripts/test.sh

build:
	scripts/setup.sh && . scripts/env.sh && trunk build --release
