# Balai: `make run` serves the demo on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEMO_ENV := BALAI_DEBUG=1 BALAI_DEMO=1

.PHONY: run test install lint format bench-quick messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

run: install
	$(DEMO_ENV) $(BIN)/balai migrate --noinput
	$(DEMO_ENV) $(BIN)/balai demo
	@echo "Balai berjalan di http://127.0.0.1:$(PORT)/"
	$(DEMO_ENV) $(BIN)/balai runserver 127.0.0.1:$(PORT)

test: install
	$(BIN)/python scripts/test_tools.py
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: install
	cd balai && $(DEMO_ENV) ../$(BIN)/balai makemessages -l en --no-obsolete
	cd balai && $(DEMO_ENV) ../$(BIN)/balai compilemessages

clean:
	rm -rf $(VENV) var
