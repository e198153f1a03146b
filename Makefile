# The one list of commands. Fresh machine: `make run` and `make test` create .venv themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEPS := $(VENV)/.deps-installed
BUILT := $(VENV)/.ferroquant-built
RUST_SRC := $(shell find rust -name '*.rs') Cargo.toml Cargo.lock pyproject.toml

.PHONY: build run test test-python test-rust lint fmt bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(DEPS): requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Release build of the extension, installed in editable mode; rebuilt only when Rust changes.
$(BUILT): $(DEPS) $(RUST_SRC)
	$(VENV)/bin/maturin develop --release --quiet
	touch $@

build: $(BUILT)

run: $(BUILT)
	$(PY) -m ferroquant run

test: test-python test-rust

test-python: $(BUILT)
	$(PY) -m pytest -q tests --doctest-modules python/ferroquant -p no:cacheprovider

test-rust:
	cargo test --quiet

lint: $(BUILT)
	$(VENV)/bin/ruff format --check python tests benches
	$(VENV)/bin/ruff check python tests benches
	$(VENV)/bin/mypy
	$(PY) -m mypy.stubtest ferroquant._core --allowlist stubtest-allowlist.txt
	cargo fmt --check
	cargo clippy --quiet --all-targets -- -D warnings
	cargo clippy --quiet --all-targets --features python -- -D warnings

fmt: $(DEPS)
	$(VENV)/bin/ruff format python tests benches
	$(VENV)/bin/ruff check --fix python tests benches
	cargo fmt

bench: $(BUILT)
	$(PY) -m pip install --quiet polars psutil talipp pyportfolioopt
	$(PY) benches/bench_indicators.py

clean:
	rm -rf target $(VENV) python/ferroquant/*.so
