# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Two stamps: the demo needs only the runtime dependencies (`pip install -e .`); the test
# extras (pytest, hypothesis, ruff, mypy, Playwright) come with `make install`/`make test`.
RUNTIME_STAMP := $(VENV)/.installed-runtime
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench install clean

$(RUNTIME_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(RUNTIME_STAMP)

$(STAMP): $(RUNTIME_STAMP)
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

## Install the runtime dependencies only, create a demo organisation, start the server and
## replay live traffic.
demo: $(RUNTIME_STAMP)
	$(BIN)/seva demo

## Install and run the whole suite: lint, types, tests on SQLite and (when reachable) PostgreSQL.
## The tests run in one process per core (pytest-xdist): each has its own SQLite files and
## PostgreSQL schemas, so they share nothing.
test: $(STAMP) lint
	$(BIN)/pytest -n auto

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy

bench: $(RUNTIME_STAMP)
	$(BIN)/seva bench ingest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache seva.db seva-demo.db
