# Two commands on a fresh clone with Python 3.11+: `make run` and `make test`.
# Everything else (virtualenv, packages, Synapse, PostgreSQL for the tests) is set up here.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: run console test test-future lint typecheck bench i18n install install-test docker clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install --quiet -c constraints.txt -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -c constraints.txt -e ".[test]"
	@command -v chromium >/dev/null || { echo "installing chromium (Debian package, for the page tests)"; \
	  apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; }; }
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Start the bot: every configured transport, or the console when no token is set.
run: install
	$(BIN)/buendnisbot run

console: install
	$(BIN)/buendnisbot console

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-test
	$(BIN)/mypy

## Lint, type check and the whole test suite (starts its own Synapse and PostgreSQL).
test: lint typecheck
	$(BIN)/python -m pytest

## The whole suite with the machine's clock moved to FUTURE (libfaketime, for this process and
## the Synapse and PostgreSQL it starts): over a year ahead, with Europe/Berlin's change to
## summer time a few minutes into the run. Proves that no test depends on today's date.
FUTURE ?= 2028-03-26 00:58:00 UTC
test-future: install-test
	@command -v faketime >/dev/null || { echo "installing faketime (Debian package)"; \
	  apt-get install -y -qq faketime >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq faketime; }; }
	faketime -f "+$$(( $$(date -d '$(FUTURE)' +%s) - $$(date +%s) ))" $(BIN)/python -m pytest

bench: install-test
	$(BIN)/python -m benchmarks

## Refresh the message catalogs after changing user-facing text.
i18n: install
	$(BIN)/pybabel extract --no-location --omit-header -k t -k tn:1,2 -k N_ -o bot/locale/buendnisbot.pot bot handlers storage
	$(BIN)/pybabel update --no-fuzzy-matching -w 100 -i bot/locale/buendnisbot.pot -d bot/locale -D buendnisbot

docker:
	docker build -t buendnisbot .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
