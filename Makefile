# Quick start: `make demo` runs the whole pipeline on generated demo exports; `make test` runs the tests.
# Each target creates its own virtualenv and installs the pinned dependencies first.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install ui bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "python3.11 not found: install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/repurchase demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

ui: $(STAMP)
	$(BIN)/repurchase ui

# Benchmarks are run by hand (not in CI): they print figures.
bench: $(STAMP)
	$(BIN)/python scripts/bench_ingest.py
	$(BIN)/python scripts/bench_identity.py

clean:
	rm -rf data dbt/target dbt/logs
