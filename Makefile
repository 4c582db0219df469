# The two commands of the README: `make demo` and `make test`. Everything else is for CI and
# maintainers. Requires Python >= 3.11, git and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/renewals
REDIS_URL ?= redis://127.0.0.1:6379/0
# `make demo PORT=8001` serves the demo on another port (HOST too: HOST=0.0.0.0).
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install lint test-sqlite test-postgres test-broker test-browser test-production ci bench bench-quick clean

$(BIN)/renewals: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

install: $(BIN)/renewals

## Run the portal with demo data on the embedded defaults (SQLite, in-process jobs, sandbox).
demo: install
	$(BIN)/renewals demo --addrport $(HOST):$(PORT)

## Run the test suite (SQLite; PostgreSQL / broker / browser tests skip with their reason).
test: install
	$(BIN)/pytest -n 2 -q

lint: install
	$(BIN)/ruff check renewals tests bench
	$(BIN)/lint-imports
	$(BIN)/renewals makemigrations --check --dry-run

test-sqlite: install
	RENEWALS_REQUIRE_SERVICES=0 $(BIN)/pytest -n 2 -q -m "not postgres and not broker and not browser"

test-postgres: install
	DATABASE_URL=$(PG_URL) RENEWALS_REQUIRE_SERVICES=1 $(BIN)/pytest -n 2 -q -m "not browser and not broker"

test-broker: install
	DATABASE_URL=$(PG_URL) BROKER_TEST_URL=$(REDIS_URL) RENEWALS_REQUIRE_SERVICES=1 $(BIN)/pytest -q -m broker

test-browser: install
	RENEWALS_REQUIRE_SERVICES=1 $(BIN)/pytest -q -m browser

## The production layout of docs/deploy.md (DEBUG=0, PostgreSQL, Redis, serve/worker/scheduler,
## a real SMTP server) and a smoke test through it, restarts and a backup restore included.
test-production: install
	PG_URL=$(PG_URL) REDIS_URL=$(REDIS_URL) $(BIN)/python .ci/production.py

## What CI runs: lint, SQLite, PostgreSQL, a real Celery worker on Redis, real Chromium, then
## the production leg.
ci: lint test-sqlite test-postgres test-broker test-browser test-production

bench: install
	$(BIN)/python -m bench.all

bench-quick: install
	$(BIN)/python -m bench.all --quick

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
