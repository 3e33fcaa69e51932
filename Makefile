# The README's quick start: `make run`, `make test`, `make test-fast` and `make lock`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Exact versions of everything the test install pulls in (pyproject.toml keeps ranges).
CONSTRAINTS := requirements/constraints.txt
export MPLBACKEND ?= Agg

.PHONY: run playground test test-fast lock clean i18n

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when the project's metadata or the pinned versions change.
$(VENV)/.run-installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[test]"
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/neurona train

# The playground's extra (Starlette, uvicorn) comes with the test install.
playground: $(VENV)/.test-installed
	$(BIN)/neurona playground

# The browser test needs Debian's Chromium: tools/ensure-chromium installs it when it
# is missing (as root), or says how and fails.
test: $(VENV)/.test-installed
	tools/ensure-chromium
	$(BIN)/python -m pytest

# The suite less its slow lanes (pytest markers registered in pyproject.toml): no browser,
# no notebooks, no Dask cluster, no training animation.
test-fast: $(VENV)/.test-installed
	$(BIN)/python -m pytest -m "not browser and not notebook and not dask and not animation"

# The message catalogues (src/neurona/show/locale): extract the English from show/i18n.py
# into the template, merge it into every language's .po, compile each .mo (tools/i18n.py).
i18n: $(VENV)/.run-installed
	$(BIN)/python tools/i18n.py all

define LOCK_HEADER
# Exact versions of every package that `pip install -e ".[test]"` installs (neurona
# itself excepted). `make run` and `make test` install with `-c` this file, so every
# machine tests against the same releases; pyproject.toml keeps the version ranges that
# users of the package get.
#
# Refresh it with `make lock`: it installs the test extra unpinned into a throwaway
# virtual environment and writes that environment's `pip freeze` here. Commit the result
# once `make test` passes with it.
endef
export LOCK_HEADER

lock:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet --upgrade pip; \
	"$$tmp/venv/bin/python" -m pip install --quiet -e ".[test]"; \
	mkdir -p $(dir $(CONSTRAINTS)); \
	{ printf '%s\n\n' "$$LOCK_HEADER"; \
	  "$$tmp/venv/bin/python" -m pip freeze --exclude-editable | LC_ALL=C sort -f -t= -k1,1; \
	} > "$$tmp/constraints.txt"; \
	mv "$$tmp/constraints.txt" $(CONSTRAINTS); \
	echo "Wrote $(CONSTRAINTS)"

clean:
	rm -rf $(VENV) runs build src/*.egg-info
