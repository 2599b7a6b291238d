# tradehook: the two commands of the quick start, plus the benchmark.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest processes (pytest-xdist): the end-to-end tests spend much of their time waiting on
# servers, so two share two cores well; TEST_WORKERS=0 runs them in this one process.
TEST_WORKERS ?= 2

.PHONY: serve test bench lint typecheck system-packages clean vendor-charts

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(BIN)/tradehook serve

# Debian packages the tests need (Mono for the NinjaTrader DLL path, wrk for the benchmark).
# Installed only when run as root on Debian; elsewhere the tests that need them say why they skip.
system-packages:
	@bash deploy/install-system-packages.sh

test: system-packages $(STAMP)
	$(BIN)/ruff check webhook plugins tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/mkdocs build --strict --quiet --site-dir .site
	PYTHONWARNDEFAULTENCODING=1 $(BIN)/pytest -n $(TEST_WORKERS)

bench: system-packages $(STAMP)
	$(BIN)/python -m bench.run

# TradingView's lightweight-charts for the dashboard, again from npm (VERSION=5.2.1 to choose).
vendor-charts:
	bash deploy/fetch-lightweight-charts.sh $(VERSION)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .site
