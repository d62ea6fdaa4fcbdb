# Two commands for a newcomer: `make run` and `make test`. Both are idempotent.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Kedro telemetry stays off and never prompts (CI has no stdin).
export KEDRO_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1

.PHONY: run test setup setup-dev data browser bench lint viz mlflow-ui

# The total is printed at the end: set-up (first time only), data, training and
# evaluation together.
run:
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory setup data && $(BIN)/kedro run; status=$$?; \
	echo "make run: $$(( $$(date +%s) - start )) s in all"; exit $$status

test: setup-dev data browser
	$(BIN)/pytest --numprocesses=auto --maxprocesses=4 --durations=15

# The virtual environment, rebuilt only when pyproject.toml changes.
$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Not --quiet: pip's lines are the progress of a set-up that takes minutes.
$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/python -m pip install --progress-bar off -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dev,deploy]"
	touch $@

setup: $(VENV)/.installed
setup-dev: $(VENV)/.installed-dev

# Raw data: Debian's offline copy when we can install it (root + apt), then the
# project's fetcher, which takes that copy or downloads and verifies the files.
data: setup
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    [ ! -d /usr/share/datasets/fashion-mnist ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq dataset-fashion-mnist >/dev/null) || \
	  echo "apt could not install dataset-fashion-mnist; the download mirrors will serve"; \
	fi
	$(BIN)/python -m image_vae.fetch_raw_data

# A real browser for tests/test_browser.py: Debian's chromium and its driver, when
# we can install them (root + apt); without them those tests skip and say why.
browser:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    ! { command -v chromium && command -v chromedriver; } >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq chromium chromium-driver >/dev/null) || \
	  echo "apt could not install chromium; the browser tests will skip"; \
	fi

bench: setup-dev data
	$(BIN)/python bench/train_speed.py

lint: setup-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# kedro-viz on http://127.0.0.1:4141 and the MLflow UI on http://127.0.0.1:5000.
# PATH: `kedro mlflow ui` starts the `mlflow` executable it finds there.
viz: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/kedro viz run --host 127.0.0.1

mlflow-ui: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/kedro mlflow ui
