# Two commands do all the set-up: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: run test test-fast lint schema bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalled only when pyproject.toml changes, so a second run is quick.
$(VENV)/.run-deps: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e '.[emulator]'
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e '.[test]'
	touch $@

run: $(VENV)/.run-deps
	$(PY) -m portal.devstack

test: $(VENV)/.test-deps
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(VENV)/.test-deps
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

lint: $(VENV)/.test-deps
	$(VENV)/bin/ruff check .

# The OpenAPI contract's checked-in copy; tests/integration/test_openapi.py fails when it drifts.
schema: $(VENV)/.test-deps
	$(PY) manage.py spectacular --file docs/openapi.yaml --validate

bench: $(VENV)/.test-deps
	$(PY) bench/create.py $(BENCH_ARGS)

# Debian's Chromium for the admin's browser tests (Playwright drives it; no browser download).
browser-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; \
	  else sudo apt-get install -y -q chromium; fi; }

clean:
	rm -rf $(VENV) .state .pytest_cache
