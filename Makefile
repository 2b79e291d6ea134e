# The two commands a fresh Debian / Raspberry Pi OS machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint docs bench fuzz screenshots pa11y clean

$(BIN)/kiosk: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

# The installer test builds /opt/kiosk's venv offline: it needs the build backend as wheels.
$(VENV)/.test-extras: $(BIN)/kiosk
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip download --quiet --only-binary=:all: --dest $(VENV)/wheels 'setuptools>=68' wheel
	touch $@

# Optional, needs npm once: HTML_CodeSniffer through pa11y-ci, for tests/e2e/test_browser_pa11y.py (CI installs it).
# It drives Debian's Chromium, so Puppeteer's own download is skipped; the tests then run offline.
pa11y: $(VENV)/pa11y/node_modules/.bin/pa11y-ci

$(VENV)/pa11y/node_modules/.bin/pa11y-ci: $(BIN)/kiosk
	PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix $(VENV)/pa11y --no-audit --no-fund --no-save --loglevel=error pa11y-ci@4.1.1
	touch $@

run: $(BIN)/kiosk
	$(BIN)/kiosk run

# Three workers on two cores: most of the suite waits on browsers, servers and clocks, not on the CPU. A module's
# tests stay on one worker, with the servers and the database they share; the tests marked `alone` (they restart
# what the others use) run afterwards, by themselves. `pytest` with no options runs everything in one process.
TEST_WORKERS ?= 3

test: $(VENV)/.test-extras
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m 'not alone'
	$(BIN)/python -m pytest -m alone

lint: $(VENV)/.test-extras
	$(BIN)/ruff check .

# The settings and commands tables (docs/settings.md) and the module map (docs/architecture.md), from the code;
# tests/unit/test_docs.py fails when they are out of date.
docs: $(BIN)/kiosk
	$(BIN)/python -m kiosk.reference

bench: $(VENV)/.test-extras
	$(BIN)/python -m bench

# Schemathesis against a live hub for 10 minutes (`make test` gives it 20 s); needs PostgreSQL.
fuzz: $(VENV)/.test-extras
	KIOSK_FUZZ_SECONDS=600 KIOSK_REQUIRE_POSTGRES=1 $(BIN)/python -m pytest tests/hub/test_fuzz.py

screenshots: $(VENV)/.test-extras
	KIOSK_UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/e2e -k screenshot

clean:
	rm -rf $(VENV) .pytest_cache
