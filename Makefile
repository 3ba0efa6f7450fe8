# The two commands a newcomer needs; both install what they need into .venv first.
#   make run    the daemon, with a local Temporal dev server, on the example tree
#   make test   lint, types and the whole test suite against a real Temporal dev server
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install tools run test lint bench

$(BIN)/scheduled: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/scheduled

install: $(BIN)/scheduled

# Programs the tests run that PyPI does not carry: systemd-analyze (the unit), jq (the GitHub
# Actions comment step) and a headless chromium (the status page, tests/test_status_page_browser.py).
# Installed from Debian when missing and run as root; otherwise the tests that need them skip
# and say why.
tools:
	@command -v systemd-analyze >/dev/null && command -v jq >/dev/null \
		&& command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends systemd jq chromium fonts-dejavu-core; }

run: install
	$(BIN)/scheduled run --dev config/examples/workflows

lint: install
	$(BIN)/ruff check scheduled tests bench
	$(BIN)/ruff format --check scheduled tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint tools
	$(BIN)/pytest --cov=scheduled --cov-report=term-missing:skip-covered --cov-fail-under=90

bench: install
	$(BIN)/python bench/bench_load.py
	$(BIN)/python bench/bench_reconcile.py
	$(BIN)/python bench/bench_daemon.py
