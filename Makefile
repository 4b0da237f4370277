# newsmon: `make run` sets everything up and runs the daemon; `make test` checks the layer
# contracts (lint-imports) and the linter (ruff), then runs every test.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: setup run test bench kafka-up kafka-down clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

setup: $(VENV)/.installed
	$(VENV)/bin/newsmon kafka jars

run: setup
	$(VENV)/bin/newsmon run

test: setup
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check monitor
	$(PY) -m pytest

bench: setup
	$(PY) -m bench

kafka-up: setup
	$(VENV)/bin/newsmon kafka up

kafka-down:
	$(VENV)/bin/newsmon kafka down

clean:
	rm -rf $(VENV) .cache .newsmon
