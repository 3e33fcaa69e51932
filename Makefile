# The README's quick start: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export MPLBACKEND ?= Agg

.PHONY: run test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when the project's metadata changes.
$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/neurona train

# The browser test needs Debian's Chromium: tools/ensure-chromium installs it when it
# is missing (as root), or says how and fails.
test: $(VENV)/.test-installed
	tools/ensure-chromium
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) runs build src/*.egg-info
