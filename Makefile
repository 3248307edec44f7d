# MarTech Console. `make run` starts the console on its embedded defaults;
# `make test` runs the whole test suite on PostgreSQL, then the page, API and browser tests again
# on SQLite. Both install what they need first.

UV_VERSION := 0.13.9
TOOLS      := .tools
UV         := $(TOOLS)/bin/uv
PY         := .venv/bin/python
export UV_PROJECT_ENVIRONMENT := .venv

.PHONY: run test deps deps-dev fakesnow lint format check-deploy vendor bench clean

# `make test` runs them a second time on SQLite, the database of `make run`: every page (the
# permission matrix visits each URL as each kind of person), the API, the collection API and the
# browser walk-throughs. Tests marked postgres_only are skipped there.
SQLITE_TESTS := tests/test_permission_matrix.py tests/browser $(sort \
	$(wildcard tests/*/test_*api*.py tests/*/test_*page*.py tests/*/test_*view*.py \
	           tests/*/test_exports.py tests/events/test_collect*.py \
	           tests/events/test_snowplow.py tests/events/test_attribution*.py \
	           tests/events/test_store.py tests/identity/test_store.py \
	           tests/syncs/test_store.py tests/destinations/test_warehouse_load.py))

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

deps: $(UV)  ## runtime dependencies, exactly as locked
	$(UV) sync --frozen --no-dev --inexact

deps-dev: $(UV)  ## runtime and test dependencies, exactly as locked
	$(UV) sync --frozen

# The Snowflake the tests talk to (fakesnow's server mode) pins a sqlglot older than the
# console's, so it has an environment of its own, locked in tests/syncs/warehouses/fakesnow.
fakesnow: $(UV)  ## the test Snowflake's own environment, .tools/fakesnow, exactly as locked
	UV_PROJECT_ENVIRONMENT=$(CURDIR)/$(TOOLS)/fakesnow $(UV) sync --frozen --project tests/syncs/warehouses/fakesnow

run: deps  ## run the console, a Celery worker and beat on SQLite (Ctrl-C stops all)
	DJANGO_SETTINGS_MODULE=martech.settings.local $(PY) manage.py run_embedded

test: deps-dev fakesnow  ## install what the tests need, run every test, then SQLITE_TESTS on SQLite
	bash scripts/ensure-chromium.sh
	npm ci --prefix tests/sdk_node --no-audit --no-fund --ignore-scripts --loglevel=error
	npm ci --prefix tests/oidc_provider --no-audit --no-fund --ignore-scripts --loglevel=error
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	.venv/bin/lint-imports --no-cache
	$(PY) -m pytest -n 2
	rm -rf var/test-sqlite && mkdir -p var/test-sqlite
	DATABASE_URL=sqlite:///$(CURDIR)/var/test-sqlite/martech.sqlite3 $(PY) -m pytest -n 2 $(SQLITE_TESTS)

lint: deps-dev  ## ruff, and the import contracts of pyproject.toml (lint-imports)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	.venv/bin/lint-imports --no-cache

format: deps-dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

vendor:  ## refresh static/vendor from the npm registry (developers only)
	$(PY) scripts/vendor_assets.py

# `make bench BENCH="--quick delivery"`: only those named, or at small sizes (bench/_setup.py).
bench: deps-dev  ## run the benchmarks under bench/
	$(PY) -m bench $(BENCH)

clean:
	rm -rf var artifacts .pytest_cache .ruff_cache
