# Quick start: `make demo` runs the whole pipeline on generated demo exports; `make test` runs the tests.
# Each target creates its own virtualenv and installs the locked dependencies first: requirements.lock
# pins every package (direct and transitive, with hashes). After editing the dependencies in
# pyproject.toml, run `make lock` to refresh it (other packages keep their locked versions;
# `make lock LOCK_FLAGS=--upgrade` moves every package to its newest allowed version) and commit both.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
UV_VERSION := 0.13.9
LOCK_FLAGS ?=

.PHONY: demo test install lock ui bench spark-check spark-check-tests clean

$(STAMP): $(LOCK) pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "python3.11 not found: install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@$(BIN)/python -m pip check >/dev/null || { $(BIN)/python -m pip check; echo "$(LOCK) does not satisfy pyproject.toml: run make lock"; exit 1; }
	touch $(STAMP)

install: $(STAMP)

# Resolve pyproject.toml's dependencies (with the dev extra) for Python 3.11 on every platform.
lock:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "python3.11 not found: install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --generate-hashes --no-strip-extras \
		--custom-compile-command "make lock" --quiet $(LOCK_FLAGS) -o $(LOCK)

demo: $(STAMP)
	$(BIN)/repurchase demo

# Two workers (pytest-xdist), each test module on one worker so its module fixtures are built once: most of
# a test's time is one dbt process parsing or building, which uses one core. Modules are handed out in the
# order tests/conftest.py puts them (slowest first), not by their number of tests.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadscope --no-loadscope-reorder

ui: $(STAMP)
	$(BIN)/repurchase ui

# Benchmarks are run by hand (not in CI): they print figures.
bench: $(STAMP)
	$(BIN)/python scripts/bench_ingest.py
	$(BIN)/python scripts/bench_identity.py

# The demo built on a local Spark session and on DuckDB from the same raw tables, marts compared row for row
# (README "Scaling out"; needs a Java 17 runtime). PEOPLE=5000 for the default demo's size.
PEOPLE ?= 200
spark-check: $(STAMP)
	$(BIN)/python scripts/spark_check.py --people $(PEOPLE)

# The Spark-equals-DuckDB tests (marker `spark`): a local Spark build takes minutes on two cores, so
# `make test` leaves them out (pyproject.toml addopts); CI runs them as a second step (.ci/run). Without a
# Java runtime they skip and say why; with REPURCHASE_REQUIRE_SPARK=1 (as in CI) they fail instead.
spark-check-tests: $(STAMP)
	$(BIN)/python -m pytest -q -m spark tests/dbt/test_portable_sql.py tests/dbt/test_spark_equals_duckdb.py

clean:
	rm -rf data dbt/target dbt/logs
