# Balai: `make run` serves the demo on SQLite; `make test` runs the whole suite.
# A fresh machine needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEMO_ENV := BALAI_DEBUG=1 BALAI_DEMO=1
# Test workers; PYTEST_ARGS="-k name" narrows a run.
WORKERS ?= 2

.PHONY: run test install lint format messages ci clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "Balai memerlukan Python 3.11 atau lebih baru ($(PYTHON) adalah versi lain)." >&2; \
	  echo "Balai needs Python 3.11+; try: make run PYTHON=python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "python3 -m venv gagal: pasang paket python3-venv (Debian/Ubuntu)." >&2; exit 1; }

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

# Migrate, load regions and seed the demo (each step skips what exists, so a
# second run duplicates nothing), print the demo logins, then serve.
run: install
	$(DEMO_ENV) $(BIN)/balai migrate --noinput
	$(DEMO_ENV) $(BIN)/balai demo
	@echo ""
	@echo "Balai berjalan di http://127.0.0.1:$(PORT)/  (Ctrl+C untuk berhenti)"
	$(DEMO_ENV) $(BIN)/balai runserver 127.0.0.1:$(PORT)

# The whole suite. pytest exits 5 when it collects nothing, which fails here too.
# --dist loadfile keeps each test file on one worker, so a module-scoped fixture
# (a served regency, a generated register) is built once, never raced by two.
test: install
	$(BIN)/python scripts/test_tools.py
	$(BIN)/pytest -n $(WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Update the English catalogue from the code, then compile it. Fill every new
# msgstr in balai/locale/en/LC_MESSAGES/django.po and run this again.
messages: install
	cd balai && $(DEMO_ENV) ../$(BIN)/balai makemessages -l en --no-obsolete
	cd balai && $(DEMO_ENV) ../$(BIN)/balai compilemessages

# CI: the suite on SQLite, then on a throwaway PostgreSQL 15.
ci:
	bash .ci/run

clean:
	rm -rf $(VENV) var
