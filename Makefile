# mailnook: the two commands a user needs are `make run` and `make test`.
CARGO ?= cargo

.PHONY: run dev test test-deps build release install lint deny fmt bench bench-pi clean fixture-db

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

## The same bench inside 256 MB and on one core, as on a Raspberry Pi 3 (issue #20; needs root).
bench-pi: release
	$(CARGO) build --release --locked --bin mailnook-bench
	./tests/setup/bench-pi.sh

## Build release and print the performance figures (issue #8). Quick run: BENCH_MESSAGES=5000 BENCH_TOTAL=10000 make bench
## Junk filter figures only (issue #17): BENCH_JUNK_ONLY=1 make bench
## Import and backup figures only (issue #18; starts Debian's Dovecot): BENCH_IMPORT_ONLY=1 make bench
bench:
	bash tests/setup/spam-corpus.sh
	$(CARGO) build --release --locked --bins
	./target/release/mailnook-bench

## Write the database fixture of the current format to tests/fixtures/db/v<SCHEMA_VERSION>.redb
## (issue #18: every later format change needs a migration that opens it; see
## src/bin/mailnook-fixture.rs and src/store/redb/schema.rs). Keep the older fixtures.
SCHEMA := $(shell sed -n 's/^pub const SCHEMA_VERSION: u64 = \([0-9]*\);/\1/p' src/store/redb/tables.rs)
fixture-db:
	mkdir -p tests/fixtures/db
	$(CARGO) run --locked --bin mailnook-fixture -- tests/fixtures/db/v$(SCHEMA).redb
