# bot1999 — `make help` lists the targets. Everything a fresh machine needs is made here.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)
PY311 ?= $(firstword $(wildcard $(PYENV_ROOT)/versions/3.11.*/bin/python) $(shell command -v python3.11))
PY310 ?= $(firstword $(wildcard $(PYENV_ROOT)/versions/3.10.13/bin/python) $(shell command -v python3.10))
VENV := .venv
RASA_VENV := .venv-rasa
PIP_QUIET ?= -q
export RASA_TELEMETRY_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

RASA_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' -o -name '*.txt' 2>/dev/null | sort)
RASA_MODEL := models/bot1999.tar.gz

CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: help setup run run-cluster serve train test check bench loadtest faulttest lint typecheck format clean browser test-browser screenshots rasa-test audit

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@test -n "$(PY311)" || { echo "Python 3.11 not found: install it or pass PY311=/path/to/python3.11"; exit 1; }
	@test -x $(VENV)/bin/python || $(PY311) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_QUIET) --upgrade pip
	$(VENV)/bin/pip install $(PIP_QUIET) torch==2.13.0
	$(VENV)/bin/pip install $(PIP_QUIET) -e '.[dev]'
	@touch $@

$(RASA_VENV)/.installed: rasa-requirements.txt
	@test -n "$(PY310)" || { echo "Python 3.10 not found (Rasa 3.6 needs it): pass PY310=/path/to/python3.10"; exit 1; }
	@test -x $(RASA_VENV)/bin/python || $(PY310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install $(PIP_QUIET) --upgrade pip
	$(RASA_VENV)/bin/pip install $(PIP_QUIET) -r rasa-requirements.txt
	@touch $@

$(RASA_MODEL): $(RASA_VENV)/.installed $(RASA_INPUTS)
	RASA_TELEMETRY_ENABLED=false $(RASA_VENV)/bin/rasa train --fixed-model-name bot1999 --out models --quiet

train: $(RASA_MODEL) ## Train the Rasa model (only when config, domain or data changed)

# rasa test: the conversation stories against the trained model, failing on any wrong
# prediction; reports in var/rasa-test/ (never committed). NLU cross-validation trains the
# pipeline once per fold: it is a benchmark (bench/rasa_test.py, in make bench, reports in
# docs/rasa-test/). The stamp lives in var/, so a clean clone always runs the stories.
RASA_TEST_STAMP := var/rasa-test.stamp
$(RASA_TEST_STAMP): $(RASA_MODEL) tests/conversations/test_stories.yml
	rm -rf var/rasa-test/core
	$(RASA_VENV)/bin/rasa test core --model $(RASA_MODEL) --stories tests/conversations/test_stories.yml \
	  --out var/rasa-test/core --no-plot --fail-on-prediction-errors --quiet
	@mkdir -p $(@D) && touch $@

rasa-test: $(RASA_TEST_STAMP) ## rasa test of the conversation stories (NLU cross-validation is in make bench)

setup: $(VENV)/.installed $(RASA_MODEL) ## Create the environments, the database, the default knowledge base and the Rasa model
	$(VENV)/bin/bot1999 setup

run: $(VENV)/.installed $(RASA_MODEL) ## Set up and run the bot on http://127.0.0.1:8000 until Ctrl-C
	exec $(VENV)/bin/bot1999 run

run-cluster: $(VENV)/.installed $(RASA_MODEL) ## Run 2 replicas of Rasa and the bot (which serves the actions) behind a balancer on :8000 (PostgreSQL + Redis) until Ctrl-C
	exec $(VENV)/bin/bot1999 run-cluster

serve: $(VENV)/.installed ## Run only the HTTP service (no set-up), for development
	exec $(VENV)/bin/bot1999 serve

lint: $(VENV)/.installed ## ruff (lint and format check) and import-linter (the layers of docs/architecture.md)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache --no-logo

typecheck: $(VENV)/.installed ## mypy (strict)
	$(VENV)/bin/mypy

format: $(VENV)/.installed ## Reformat the code with ruff
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

browser: ## Install Debian's Chromium, chromedriver and CJK fonts for the browser tests (apt; root or sudo)
	@if [ -x "$(CHROMIUM)" ] && fc-list :lang=zh-tw family | grep -q .; then \
	  echo "browser: $(CHROMIUM) and CJK fonts present"; \
	else \
	  $(SUDO) apt-get update -qq; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk; \
	fi

test-browser: $(VENV)/.installed browser ## Only the browser tests; screenshots and axe results in tests/output/
	$(VENV)/bin/pytest -m e2e tests/e2e

# The README's three pictures, taken by the browser tests that reach each page (an ordinary test
# run writes none: the tests write them only with BOT1999_SCREENSHOTS set, tests/e2e/chat_ui.py).
SCREENSHOT_TESTS := tests/e2e/test_conversation.py::test_an_faq_answer_with_typing_indicator_survives_a_reload \
  tests/e2e/test_console_kb.py::test_staff_edit_and_publish_and_the_chat_answers_anew \
  tests/e2e/test_dashboard.py::test_a_supervisor_reads_the_dashboard_and_the_reports

screenshots: $(VENV)/.installed browser ## Take the README's screenshots (chat, console, dashboard; 1280×800) into docs/img/ with the browser tests
	BOT1999_SCREENSHOTS=docs/img $(VENV)/bin/pytest -p no:xdist -q $(SCREENSHOT_TESTS)

# pytest-xdist: two workers (this machine's cores); tests that share an expensive fixture (the
# Rasa stack, Chromium, the cluster, a module's fixture) run on one worker (tests/conftest.py).
PYTEST_WORKERS ?= 2
PYTEST := $(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup
# the tiers of docs/testing.md: what make check leaves to make test
HEAVY := rasa or browser or cluster or encoder

test: lint typecheck browser rasa-test ## ruff, mypy, rasa test and the whole test suite (browser tests included)
	$(PYTEST) || { code=$$?; [ $$code -eq 5 ] && echo "pytest: no tests collected" || exit $$code; }

# make check's tests wait on the database and child processes more than make test's groups do:
# a third worker on two cores takes its pytest from 2 min 39 s to 2 min 22 s (docs/testing.md)
CHECK_WORKERS ?= 3

check: lint typecheck ## The inner loop: ruff, mypy and every test that needs no Rasa, browser, cluster or real encoder
	$(VENV)/bin/pytest -n $(CHECK_WORKERS) --dist loadgroup -m "not ($(HEAVY))" || { code=$$?; [ $$code -eq 5 ] && echo "pytest: no tests collected" || exit $$code; }

# pip-audit needs a vulnerability service (PyPI's per-release JSON API or OSV); where none answers,
# .ci/audit.py exits 3 and says so. AUDIT_UNREACHABLE_OK=1 (CI on a machine without one) lets that pass.
audit: $(VENV)/.installed ## Audit the installed packages for known vulnerabilities (pip-audit; fails loudly if it cannot run)
	@$(VENV)/bin/python .ci/audit.py || { code=$$?; \
	  if [ $$code -eq 3 ] && [ "$(AUDIT_UNREACHABLE_OK)" = 1 ]; then echo "audit: NOT RUN (see above); continuing: AUDIT_UNREACHABLE_OK=1"; \
	  else exit $$code; fi; }

bench: $(VENV)/.installed ## Run the benchmarks and write docs/benchmarks.md (needs ../shared/data for the city figures)
	$(VENV)/bin/python -m bench.report

loadtest: $(VENV)/.installed $(RASA_MODEL) ## Load-test a cluster for 5 minutes (starts one) and write the figures into docs/benchmarks.md; LOADTEST_ARGS="--seconds 60 --rate 30 …" only prints; needs ../shared/data
	@if [ -n "$(LOADTEST_ARGS)" ]; then $(VENV)/bin/python -m bench.loadtest $(LOADTEST_ARGS); \
	else $(VENV)/bin/python -m bench.report --only bench.loadtest; fi

faulttest: $(VENV)/.installed $(RASA_MODEL) ## Kill -9 replicas, restart PostgreSQL, stop Redis under load (private PostgreSQL + Redis) and write the report into docs/benchmarks.md; FAULTTEST_ARGS=… only prints
	@if [ -n "$(FAULTTEST_ARGS)" ]; then $(VENV)/bin/python -m bench.faults $(FAULTTEST_ARGS); \
	else $(VENV)/bin/python -m bench.report --only bench.faults; fi

clean: ## Remove the environments, caches and the local database (keeps nothing under var/)
	rm -rf $(VENV) $(RASA_VENV) var .mypy_cache .pytest_cache .ruff_cache
