# Two commands do all the set-up: `make run` (the baseline with its plots) and `make test`.
# `make run` installs only what running needs; `make test` adds the test, sweep, calibration and dashboard
# packages. Both create .venv with Python 3.12 on first use.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
SCENARIO ?= scenarios/baseline.toml
ARGS ?=

# The first Python >= 3.12 found: python3.12 on PATH, then pyenv's, then the system's.
PYTHON312 := $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 \
	/usr/local/bin/python3.12 /usr/bin/python3.12 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: run test test-quick lint bench figures clean

$(VENV)/.venv-made:
	@test -n "$(PYTHON312)" || { echo "error: Python >= 3.12 not found (install python3.12)" >&2; exit 2; }
	$(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.venv-made
	$(PY) -m pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

run: $(VENV)/.installed
	$(PY) run.py $(SCENARIO) $(ARGS)

test: $(VENV)/.installed-test
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest $(ARGS)

test-quick: $(VENV)/.installed-test
	$(PY) -m pytest -m "not slow" $(ARGS)

lint: $(VENV)/.installed-test
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

bench: $(VENV)/.installed-test
	$(PY) -m benchmarks $(ARGS)

# every figure the README shows and its what-if table, from the shipped model (ARGS: e.g. --only whatifs)
figures: $(VENV)/.installed-test
	$(PY) -m model.docs $(ARGS)

clean:
	rm -rf $(VENV)
