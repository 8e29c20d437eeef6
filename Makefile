# rekey: the two commands are `make run` and `make test`. See README.md.
SHELL := /bin/bash
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true
export CCACHE_DIR ?= $(HOME)/.ccache

REKEY_ADDR_DEV ?= 127.0.0.1:8200
DEV_DIR ?= $(CURDIR)/.rekey-dev

.PHONY: run test build release asan bench fuzz clean format

## make run: install what is missing, build release, start a dev server.
run: 
	@scripts/install-deps build
	@cmake --preset release >/dev/null
	@cmake --build --preset release --target rekey
	@exec build/release/src/app/rekey server --dev --listen $(REKEY_ADDR_DEV) --data-dir $(DEV_DIR)

## make test: install what is missing, build, run every test (unit + integration).
test:
	@scripts/install-deps build test
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug
	@scripts/run-tests build/debug

build:
	@scripts/install-deps build
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug

release:
	@scripts/install-deps build
	@cmake --preset release >/dev/null
	@cmake --build --preset release

asan:
	@scripts/install-deps build test
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan
	@scripts/run-tests build/asan

## make bench: release build, then KV v2 reads/writes (with and without audit) and signed AWS
## GetSecretValue against nginx and raw fsync, transit encrypt/decrypt against nginx and
## `openssl speed`, the storage layer's group commit against raw SQLite, and certificate
## issuing against raw OpenSSL.
bench:
	@scripts/install-deps build bench
	@cmake --preset release >/dev/null
	@cmake --build --preset release --target rekey store_bench pki_bench
	@bench/kv_vs_nginx.sh build/release/src/app/rekey
	@bench/transit_vs_nginx.sh build/release/src/app/rekey
	@build/release/bench/store_bench --benchmark_min_time=2
	@build/release/bench/pki_bench --benchmark_min_time=1

## make zero-downtime: debug build of rekey, then the zero-downtime harness against real
## PostgreSQL, MariaDB and Redis (scripts/services): 100 rotations per rotator and strategy under
## 32 client workers; fails on a failed request in a zero-downtime strategy, a failed rotation or
## a leaked password. ZD_ARGS passes options (e.g. ZD_ARGS="--only redis/single-user").
## See docs/zero-downtime.md.
ZD_ARGS ?=
.PHONY: zero-downtime
zero-downtime:
	@scripts/install-deps build test
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug --target rekey
	@REKEY_BIN=$(CURDIR)/build/debug/src/app/rekey PYTHONDONTWRITEBYTECODE=1 \
	  /usr/bin/python3 tests/zero_downtime/run.py $(ZD_ARGS)

## make fuzz: libFuzzer (clang) on each target for FUZZ_SECONDS (default 30) from the seed corpus.
FUZZ_SECONDS ?= 30
fuzz:
	@scripts/install-deps build fuzz
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz
	@set -o pipefail; for f in vault_handler metadata keyset rotation_config transit_ciphertext; do \
	  mkdir -p build/fuzz/corpus/$$f; \
	  echo "== $$f ($(FUZZ_SECONDS)s)"; \
	  build/fuzz/tests/fuzz/$${f}_fuzzer -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    build/fuzz/corpus/$$f tests/fuzz/corpus/$$f 2>&1 | tail -4 || exit 1; \
	done

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf build
