# mailnook: the two commands a user needs are `make run` and `make test`.
CARGO ?= cargo

.PHONY: run test build release lint fmt bench clean

## Build (release) and start the server with embedded defaults: data in ./mailnook-data,
## HTTPS on 127.0.0.1:8443, SMTP on 127.0.0.1:2525.
run:
	$(CARGO) run --release --locked -- serve

## Run the whole test suite (unit + integration tests against the real binary).
test:
	$(CARGO) test --locked

build:
	$(CARGO) build --locked

release:
	$(CARGO) build --release --locked

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

fmt:
	$(CARGO) fmt

clean:
	rm -rf target

## Build release and print the performance figures (issue #8). Quick run: BENCH_MESSAGES=5000 BENCH_TOTAL=10000 make bench
bench:
	$(CARGO) build --release --locked --bins
	./target/release/mailnook-bench
