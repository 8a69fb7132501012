# wayfinder-tokens: `make help` lists the targets. Everything is installed
# into the project's own folders (.venv, node_modules, .tools), never globally.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

# One target directory for cargo, maturin and napi: napi always passes
# --target, so everyone builds for the host triple explicitly.
export CARGO_BUILD_TARGET ?= $(shell rustc -vV | sed -n 's/^host: //p')
export CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TERM_COLOR ?= never

VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
TOOLS := $(CURDIR)/.tools
ACTIONLINT_VERSION := 1.7.12
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := config_parse jwt_claims error_decode render_roundtrip
PY_SOURCES := bindings-python/python bindings-python/stub_docs.py tests/python tests/notebook tests/readme tests/matrix examples benchmarks .github/scripts
JS_SOURCES := "tests/node/**/*.{mjs,ts,json}" "benchmarks/**/*.mjs" examples/*.mjs bindings-node/index.mjs bindings-node/bin/*.js package.json

.PHONY: help install build build-python build-node fmt lint test test-rust test-python test-node \
        test-matrix test-notebook test-readme test-bench demo dist stubs vectors bench bench-memory fuzz clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(TOOLS)/actionlint:
	GOBIN=$(TOOLS) go install github.com/rhysd/actionlint/cmd/actionlint@v$(ACTIONLINT_VERSION)

install: $(VENV)/.installed node_modules/.installed ## Install the dev tools (.venv, node_modules)

build-python: $(VENV)/.installed
	@echo "==> building the Python extension into .venv"
	VIRTUAL_ENV=$(VENV) $(VENV)/bin/maturin develop --quiet

build-node: node_modules/.installed
	@echo "==> building the Node addon"
	npm run --silent build

build: build-python build-node ## Build the Python extension (into .venv) and the Node addon

fmt: install ## Format Rust, Python and JS
	cargo fmt --all
	rustfmt --edition 2024 fuzz/properties.rs fuzz/fuzz_targets/*.rs
	$(VENV)/bin/ruff format --quiet $(PY_SOURCES)
	$(VENV)/bin/ruff check --fix --quiet $(PY_SOURCES)
	npx --no-install prettier --log-level warn --write $(JS_SOURCES)

lint: install $(TOOLS)/actionlint ## Check formatting, clippy, ruff, prettier, and the CI workflows
	cargo fmt --all --check
	rustfmt --edition 2024 --check fuzz/properties.rs fuzz/fuzz_targets/*.rs
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps -p wayfinder-tokens
	$(PY) .github/scripts/check_shared_build.py --target $(CARGO_BUILD_TARGET)
	$(VENV)/bin/ruff format --check --quiet $(PY_SOURCES)
	$(VENV)/bin/ruff check --quiet $(PY_SOURCES)
	npx --no-install prettier --log-level warn --check $(JS_SOURCES)
	$(TOOLS)/actionlint

test-rust: ## Rust unit and integration tests (against the emulator)
	cargo test --workspace --quiet

# The Node addon too: the suite runs both CLIs (python -m and the npm bin) through the same cases.
test-python: build-python build-node ## The pytest suite, mypy --strict, stubtest and pyright on user code
	$(PY) -m pytest -q
	$(PY) -m mypy
	$(PY) -m mypy.stubtest wayfinder_tokens
	npx --no-install pyright

test-node: build-node ## The node:test suite, the TypeScript check, and the committed loader/types
	git diff --exit-code -- bindings-node/index.js bindings-node/index.d.ts || \
	  { echo "index.js or index.d.ts changed when rebuilt: commit the regenerated files"; exit 1; }
	npm test
	npx --no-install tsc -p tests/node/tsconfig.json

# Portable Linux builds link with zig (from PyPI, in .venv) against glibc 2.17 or musl. zig's C
# compiler builds aws-lc and SQLite differently from the host's, so they get their own target
# directory rather than rebuilding the host's C objects back and forth.
PORTABLE_TARGET_DIR := $(CARGO_TARGET_DIR)/portable
ZIG := PATH="$(VENV)/bin:$$PATH" CARGO_TARGET_DIR=$(PORTABLE_TARGET_DIR) VIRTUAL_ENV=$(VENV)
ARCH := $(shell uname -m)
GLIBC_TARGET := $(ARCH)-unknown-linux-gnu
MUSL_TARGET := $(ARCH)-unknown-linux-musl
NODE_ARCH := $(subst aarch64,arm64,$(subst x86_64,x64,$(ARCH)))
MATRIX_WHEELS := $(CARGO_TARGET_DIR)/wheels-matrix
MATRIX_ADDON := $(MATRIX_WHEELS)/wayfinder-tokens.linux-$(NODE_ARCH)-gnu.node

# The matrix tests what `make dist` ships, in a debug build: the manylinux2014 wheel and the
# glibc 2.17 addon, after checking both against the floor the README promises.
test-matrix: install build-node ## The Python suite under Python 3.9-3.13 and the Node suite under Node 18-24, one portable build each
	rm -rf $(MATRIX_WHEELS)
	$(ZIG) $(VENV)/bin/maturin build --quiet --zig --compatibility manylinux2014 --target $(GLIBC_TARGET) --interpreter $(PY) --out $(MATRIX_WHEELS)
	$(ZIG) $(VENV)/bin/cargo-zigbuild zigbuild --quiet -p wayfinder-tokens-node --target $(GLIBC_TARGET).2.17
	cp $(PORTABLE_TARGET_DIR)/$(GLIBC_TARGET)/debug/libwayfinder_tokens_node.so $(MATRIX_ADDON)
	$(PY) .github/scripts/scrub_sbom.py $(CURDIR) $(MATRIX_WHEELS)/*.whl
	$(PY) .github/scripts/check_portable.py --wheel $(MATRIX_WHEELS)/*.whl --addon $(MATRIX_ADDON)
	$(PY) tests/matrix/run.py $(MATRIX_WHEELS)/*.whl --addon $(MATRIX_ADDON)

DIST := $(CURDIR)/dist
DIST_LIB := $(PORTABLE_TARGET_DIR)/$(GLIBC_TARGET)/dist/libwayfinder_tokens_node.so

# The [profile.dist] build keeps its symbols so the size report can attribute bytes to crates;
# maturin --strip, and binutils' strip for the addons, strip what ships (zig's objcopy answers
# "unimplemented" to --strip-all; binutils come with the C compiler the build needs anyway).
STRIP ?= strip
dist: install ## Release wheels and addons for Linux (manylinux2014 and musllinux_1_2) into dist/, checked, with a size report
	rustup target add $(MUSL_TARGET)
	rm -rf $(DIST) && mkdir -p $(DIST)
	$(ZIG) $(VENV)/bin/maturin build --quiet --zig --profile dist --strip --compatibility manylinux2014 --target $(GLIBC_TARGET) --interpreter $(PY) --out $(DIST)
	$(ZIG) $(VENV)/bin/maturin build --quiet --zig --profile dist --strip --compatibility musllinux_1_2 --target $(MUSL_TARGET) --interpreter $(PY) --out $(DIST)
	$(ZIG) $(VENV)/bin/cargo-zigbuild zigbuild --quiet --profile dist -p wayfinder-tokens-node --target $(GLIBC_TARGET).2.17
	$(ZIG) RUSTFLAGS="-C target-feature=-crt-static" $(VENV)/bin/cargo-zigbuild zigbuild --quiet --profile dist -p wayfinder-tokens-node --target $(MUSL_TARGET)
	$(STRIP) --strip-all -o $(DIST)/wayfinder-tokens.linux-$(NODE_ARCH)-gnu.node $(DIST_LIB)
	$(STRIP) --strip-all -o $(DIST)/wayfinder-tokens.linux-$(NODE_ARCH)-musl.node $(PORTABLE_TARGET_DIR)/$(MUSL_TARGET)/dist/libwayfinder_tokens_node.so
	$(PY) .github/scripts/scrub_sbom.py $(CURDIR) $(DIST)/*.whl
	$(PY) .github/scripts/check_portable.py --wheel $(DIST)/*manylinux*.whl --addon $(DIST)/*-gnu.node
	$(PY) .github/scripts/check_portable.py --musl --wheel $(DIST)/*musllinux*.whl --addon $(DIST)/*-musl.node
	$(PY) .github/scripts/size_report.py --library $(DIST_LIB) $(DIST)/* | tee $(DIST)/size-report.txt

test-notebook: build-python ## Execute examples/notebook.ipynb headless
	$(PY) tests/notebook/run.py examples/notebook.ipynb
	$(PY) tests/notebook/run.py examples/fleet.ipynb

test-readme: build ## Run every code sample in README.md against the emulator
	$(PY) tests/readme/run_samples.py README.md

test-bench: build ## A tiny run of the benchmark harness, so it cannot rot
	$(PY) benchmarks/run.py --smoke
	$(PY) benchmarks/run.py --smoke --memory
	$(PY) benchmarks/deliver.py --smoke
	$(PY) benchmarks/plan.py --smoke

test: lint test-rust test-python test-node test-matrix test-notebook test-readme test-bench demo ## Everything CI checks, from scratch

demo: build ## Start the embedded emulator and run both examples against it
	$(PY) examples/demo.py

stubs: build-python ## Write the Python stub's docstrings from the binding's own (review the diff)
	$(PY) bindings-python/stub_docs.py

vectors: ## Regenerate tests/vectors/templates.json from Go's own text/template (needs Go), then review the diff
	@command -v go >/dev/null || { echo "make vectors needs Go (https://go.dev/dl)"; exit 1; }
	cd tests/vectors/templates && GOTOOLCHAIN=local go run gen.go ../templates.json

bench: install ## Every peer over HTTP and HTTPS, CPU per create, the chart; rotate-and-deliver; plan over 2,000 tokens (release build)
	$(PY) benchmarks/run.py
	$(PY) benchmarks/deliver.py
	$(PY) benchmarks/plan.py

bench-memory: install ## 100,000 creates per library: steady-state memory growth into results.json
	$(PY) benchmarks/run.py --memory

$(TOOLS)/bin/cargo-fuzz:
	cargo install cargo-fuzz --locked --quiet --root $(TOOLS)

# The grown corpus lives outside git: restored from FUZZ_CACHE when there is
# one, else started from the committed seeds and regressions; saved back after.
FUZZ_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/wayfinder-tokens/fuzz-corpus
CARGO_FUZZ := CARGO_TARGET_DIR=$(CURDIR)/fuzz/target PATH="$(TOOLS)/bin:$$PATH" cargo +nightly fuzz

fuzz: $(TOOLS)/bin/cargo-fuzz ## Fuzz each target for FUZZ_SECONDS (600) on nightly; corpus cached in FUZZ_CACHE
	for target in $(FUZZ_TARGETS); do \
	  corpus=fuzz/corpus/$$target; mkdir -p $$corpus; \
	  if [ -z "$$(ls -A $$corpus)" ] && [ -d "$(FUZZ_CACHE)/$$target" ]; then \
	    echo "==> $$target: corpus restored from $(FUZZ_CACHE)"; cp -R "$(FUZZ_CACHE)/$$target/." $$corpus/; \
	  fi; \
	  cp fuzz/seeds/$$target/* fuzz/regressions/$$target/* $$corpus/ 2>/dev/null || true; \
	  echo "==> fuzzing $$target for $(FUZZ_SECONDS)s ($$(ls $$corpus | wc -l) inputs)"; \
	  $(CARGO_FUZZ) run $$target $$corpus -- -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    || { echo "A crash is in fuzz/artifacts/$$target/: fix it, then add the input to fuzz/regressions/$$target/"; exit 1; }; \
	  $(CARGO_FUZZ) cmin $$target $$corpus; \
	  mkdir -p "$(FUZZ_CACHE)/$$target"; cp -R $$corpus/. "$(FUZZ_CACHE)/$$target/"; \
	done

clean: ## Remove build output and installed tools
	cargo clean
	rm -rf $(VENV) node_modules $(TOOLS) bindings-node/*.node dist .pytest_cache .mypy_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
