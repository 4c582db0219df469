# The two commands of the README: `make demo` and `make test`. Everything else is for CI and
# maintainers. Requires Python >= 3.11, git and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/renewals
REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: demo test install lint test-sqlite test-postgres test-broker test-browser ci bench clean

$(BIN)/renewals: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

install: $(BIN)/renewals

## Run the portal with demo data on the embedded defaults (SQLite, in-process jobs, sandbox).
demo: install
	$(BIN)/renewals demo

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

## What CI runs: lint, SQLite, PostgreSQL, a real Celery worker on Redis, real Chromium.
ci: lint test-sqlite test-postgres test-broker test-browser

bench: install
	$(BIN)/python -m bench.all

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
