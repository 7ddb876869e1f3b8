# The two commands a new user needs: `make demo` and `make test`. Each creates .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint unit browser-deps db-deps prom-deps bench clean

$(STAMP): pyproject.toml setup.py src/driftwise/stream/_adwin.c src/driftwise/stats/_ks_ties.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,dev,text,service,postgres,otel,redteam,dask]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/driftwise demo

lint: setup
	$(BIN)/ruff check setup.py src tests benchmarks examples
	$(BIN)/mypy

# Debian's Chromium and its driver, for the browser tests (root on these machines).
browser-deps:
	@bash scripts/ensure-chromium.sh

# PostgreSQL's server binaries for the store tests (Debian's postgresql when missing); the
# tests start and stop their own throwaway servers.
db-deps:
	@bash scripts/ensure-postgres.sh > /dev/null

# Prometheus and Alertmanager for the integration tests (Debian's packages when missing);
# the tests start and stop their own servers.
prom-deps:
	@bash scripts/ensure-prometheus.sh

unit: setup
	$(BIN)/python -m pytest -n auto

test: setup lint browser-deps db-deps prom-deps unit

bench: setup
	bash benchmarks/run.sh

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache test-artifacts
	find src -name "*.so" -delete
