# The two commands a newcomer needs; both install what they need into .venv first.
#   make run    the daemon, with a local Temporal dev server, on the example tree
#   make test   lint, types and the whole test suite against a real Temporal dev server
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
YAML_LS := .tools/node_modules/yaml-language-server/bin/yaml-language-server

.PHONY: install tools run test lint bench

$(BIN)/scheduled: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/scheduled

install: $(BIN)/scheduled

# Programs the tests run that PyPI does not carry: systemd-analyze (the unit), jq (the GitHub
# Actions comment step) and a headless chromium (tests/test_status_page_temporal.py loads the
# status page in it). Those missing are installed from Debian when run as root (only those: an
# installed one is never upgraded); otherwise the tests that need them skip and say why.
tools:
	@missing=""; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	command -v jq >/dev/null || missing="$$missing jq"; \
	command -v chromium >/dev/null || missing="$$missing chromium fonts-dejavu-core"; \
	[ -z "$$missing" ] || [ "$$(id -u)" != 0 ] || { apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; }
	@# The editors' reading of the schema (tests/test_editor_schema.py): yaml-language-server,
	@# from npm into .tools/ when npm is there; without it that test skips and says why.
	@[ -x $(YAML_LS) ] || ! command -v npm >/dev/null \
		|| npm install --silent --no-audit --no-fund --prefix .tools yaml-language-server@2.0.0 \
		|| echo "yaml-language-server not installed: tests/test_editor_schema.py will skip"

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
