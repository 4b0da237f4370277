# newsmon: `make run` sets everything up and runs the daemon; `make test` checks the layer
# contracts (lint-imports) and the linter (ruff), then runs every test.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: setup browser run test bench soak backfill kafka-up kafka-down clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

setup: $(VENV)/.installed
	$(VENV)/bin/newsmon kafka jars

run: setup
	$(VENV)/bin/newsmon run

# The dashboard's browser tests drive Debian's chromium (never skipped: no browser, no pass).
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { \
	  command -v apt-get >/dev/null || { echo "make browser: install chromium at $(CHROMIUM)" >&2; exit 1; }; \
	  as_root=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$as_root apt-get update -qq && $$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: setup browser
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check monitor bench
	$(PY) -m pytest

bench: setup
	$(PY) -m bench

# an hour at 20 articles/s with TTLs cut to minutes (bench/cost.py); not in CI. SOAK_MINUTES=3 for a proof run
SOAK_MINUTES ?= 60
soak: setup
	$(PY) -m bench.cost --soak --rates 20 --minutes $(SOAK_MINUTES)

# 100,000 articles waiting on news.raw, drained by one worker then two (bench/backfill.py); not in CI
BACKFILL_ARTICLES ?= 100000
backfill: setup
	$(PY) -m bench.backfill --articles $(BACKFILL_ARTICLES)

kafka-up: setup
	$(VENV)/bin/newsmon kafka up

kafka-down:
	$(VENV)/bin/newsmon kafka down

clean:
	rm -rf $(VENV) .cache .newsmon
