# MarTech Console. `make run` starts the console on its embedded defaults;
# `make test` runs the whole test suite. Both install what they need first.

UV_VERSION := 0.13.9
TOOLS      := .tools
UV         := $(TOOLS)/bin/uv
PY         := .venv/bin/python
export UV_PROJECT_ENVIRONMENT := .venv

.PHONY: run test deps deps-dev lint format check-deploy vendor bench clean

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

deps: $(UV)  ## runtime dependencies, exactly as locked
	$(UV) sync --frozen --no-dev --inexact

deps-dev: $(UV)  ## runtime and test dependencies, exactly as locked
	$(UV) sync --frozen

run: deps  ## run the console, a Celery worker and beat on SQLite (Ctrl-C stops all)
	DJANGO_SETTINGS_MODULE=martech.settings.local $(PY) manage.py run_embedded

test: deps-dev  ## install what the tests need and run every test
	bash scripts/ensure-chromium.sh
	npm ci --prefix tests/sdk_node --no-audit --no-fund --ignore-scripts --loglevel=error
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -n 2

lint: deps-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: deps-dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

vendor:  ## refresh static/vendor from the npm registry (developers only)
	$(PY) scripts/vendor_assets.py

bench: deps-dev  ## run the benchmarks under bench/
	$(PY) -m bench

clean:
	rm -rf var artifacts .pytest_cache .ruff_cache
