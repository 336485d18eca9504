# mailnook: the two commands a user needs are `make run` and `make test`.
CARGO ?= cargo

.PHONY: run dev test test-deps build release install lint deny fmt bench clean

## Build (release) and start the server with embedded defaults: data in ./mailnook-data,
## HTTPS on 127.0.0.1:8443, SMTP on 127.0.0.1:2525.
run:
	$(CARGO) run --release --locked -- serve

## Build (debug, seconds after a small change) and start the server: the contributor's loop.
dev:
	$(CARGO) run --locked -- serve

## Run the whole test suite (unit + integration tests against the real binary). Installs the
## test peers first (Chromium, node; needs root or sudo the first time). --no-fail-fast: one
## failing target never hides the others.
test: test-deps
	$(CARGO) test --locked --no-fail-fast

test-deps:
	./tests/setup/deps.sh

build:
	$(CARGO) build --locked

release:
	$(CARGO) build --release --locked

## Install the release binary as $(PREFIX)/bin/mailnook (default /usr/local).
PREFIX ?= /usr/local
install: release
	install -D -m 0755 target/release/mailnook $(DESTDIR)$(PREFIX)/bin/mailnook

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

## Supply chain (deny.toml): licences (no copyleft), duplicate crates, sources, advisories.
deny:
	./tests/setup/deny.sh

fmt:
	$(CARGO) fmt

clean:
	rm -rf target

## Build release and print the performance figures (issue #8). Quick run: BENCH_MESSAGES=5000 BENCH_TOTAL=10000 make bench
bench:
	$(CARGO) build --release --locked --bins
	./target/release/mailnook-bench
