# Price Alchemy: `make demo` runs the whole system locally; `make test` runs the checks.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PRICE_ALCHEMY_HOME ?= $(CURDIR)/.price_alchemy
DEMO_ROWS ?= 200000
TRIALS ?= 3
MONITOR_DAYS ?= 7
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install bqemulator demo train monitor serve status mlflow-ui airflow-ui screenshots test test-fast lint hooks lock lock-bqemulator clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-11s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "Python 3.11 is required (found $(PYTHON)); set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --python $(BIN)/python --quiet -r requirements.txt
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed  ## create .venv with the pinned requirements

bqemulator: install  ## create .venv-bqemulator, the BigQuery emulator's own venv (tests use it)
	PYTHON=$(PYTHON) UV=$(BIN)/uv bash scripts/install_bqemulator.sh

demo: install  ## demo data, one training DAG run through Airflow, then serve the API
	$(BIN)/price-alchemy demo-data --rows $(DEMO_ROWS)
	$(MAKE) --no-print-directory train
	@echo
	@echo "MLflow UI:  make mlflow-ui   then open http://127.0.0.1:5000"
	@echo "Airflow UI: make airflow-ui  then open http://127.0.0.1:8080"
	@echo "API docs:   http://$(HOST):$(PORT)/docs   (Ctrl-C stops the API)"
	@echo
	$(BIN)/price-alchemy serve --host $(HOST) --port $(PORT)

train: install  ## run the training DAG once through Airflow (airflow dags test); TRIALS=N searches
	$(BIN)/price-alchemy airflow db migrate > /dev/null
	$(BIN)/price-alchemy airflow dags test price_alchemy_training -c '{"max_evals": $(TRIALS)}'
	$(BIN)/price-alchemy status

monitor: install  ## run the monitoring DAG once on the last MONITOR_DAYS days (report in MLflow)
	$(BIN)/price-alchemy airflow db migrate > /dev/null
	$(BIN)/price-alchemy airflow dags test price_alchemy_monitoring -c '{"window_days": $(MONITOR_DAYS)}'
	@echo "report: $(PRICE_ALCHEMY_HOME)/monitoring/<window>/report.html, or MLflow experiment price-alchemy-monitoring"

serve: install  ## serve the champion model on http://$(HOST):$(PORT)
	$(BIN)/price-alchemy serve --host $(HOST) --port $(PORT)

status: install  ## where state lives and which model is champion
	$(BIN)/price-alchemy status

mlflow-ui: install  ## the MLflow UI on http://127.0.0.1:5000
	$(BIN)/mlflow ui --backend-store-uri "sqlite:///$(PRICE_ALCHEMY_HOME)/mlflow.db" \
		--host 127.0.0.1 --port 5000

airflow-ui: install  ## Airflow's API server, scheduler, DAG processor, triggerer; UI on :8080
	$(BIN)/price-alchemy airflow db migrate > /dev/null
	$(BIN)/price-alchemy airflow-ui --port 8080

screenshots: install chromium  ## docs/seller-page-{desktop,phone}.png from a served champion (make train first)
	$(BIN)/python scripts/screenshots.py --out docs

lint: install  ## ruff on the package, DAGs, tests and benchmarks; mypy on the package
	$(BIN)/ruff check price_alchemy dags tests benchmarks notebooks
	$(BIN)/ruff check --select AIR dags
	$(BIN)/mypy

hooks: install  ## run `make lint`'s checks before every commit (pre-commit, .pre-commit-config.yaml)
	$(BIN)/pre-commit install

test: install bqemulator lint podman postgres chromium  ## lint, then the whole suite (2 workers)
	$(BIN)/python -m pytest -n 2 --dist loadfile

test-fast: install  ## the unit tests alone (no services, servers or pipelines), in about a minute
	$(BIN)/python -m pytest -m "not slow" -n 2 --dist loadfile

lock:  ## recompile requirements.txt from requirements.in
	$(BIN)/uv pip compile requirements.in -o requirements.txt --python-version 3.11

lock-bqemulator:  ## recompile requirements-bqemulator.txt
	printf 'bqemulator==1.4.0\nnumpy\n' | $(BIN)/uv pip compile - -o requirements-bqemulator.txt \
		--python-version 3.11 --custom-compile-command "make lock-bqemulator"

clean:  ## remove the state directory (data, models, runs); keeps .venv
	rm -rf "$(PRICE_ALCHEMY_HOME)"

# ---- containers: the API image (docker/), built with podman on these machines ----
IMAGE ?= localhost/price-alchemy-api:latest
BASE_IMAGE ?= localhost/pa-base:bookworm
export CONTAINERS_CONF ?= $(CURDIR)/scripts/containers.conf
.PHONY: podman postgres chromium base-image wheelhouse image lock-serving

chromium:  ## install headless Chromium from Debian's packages (when missing; browser tests)
	bash scripts/install_chromium.sh

postgres:  ## install PostgreSQL's server from Debian's packages (when missing; tests start one)
	bash scripts/install_postgres.sh

podman:  ## install podman, runc and debootstrap from Debian's packages (when missing)
	bash scripts/install_podman.sh

base-image: podman  ## the local stand-in for python:3.11-slim, $(BASE_IMAGE) (cached)
	BASE_IMAGE=$(BASE_IMAGE) bash scripts/build_base_image.sh

wheelhouse: install  ## wheels for the API image in build/wheelhouse (cached)
	bash scripts/wheelhouse.sh

image: base-image wheelhouse  ## build the API image $(IMAGE); bakes models/champion if exported
	podman build --format docker --network host --build-arg BASE_IMAGE=$(BASE_IMAGE) \
		-f docker/Dockerfile -t $(IMAGE) .

lock-serving:  ## recompile requirements-serving.txt (same pins as requirements.txt)
	$(BIN)/uv pip compile requirements-serving.in -c requirements.txt -o requirements-serving.txt \
		--python-version 3.11 --custom-compile-command "make lock-serving"

# ---- the production stack: docker/compose.yaml with podman-compose (docker/README.md) ----
STACK := $(BIN)/python scripts/stack_ctl.py
.PHONY: stack-tools stack-images stack-up stack-status stack-down stack-test

stack-tools: install podman  ## podman's DNS plugin for the stack's network (when missing)
	bash scripts/stack_install.sh

stack-images: install base-image stack-tools  ## the stack's images (platform, api, postgres, redis), built locally
	BASE_IMAGE=$(BASE_IMAGE) bash scripts/stack_images.sh

stack-up: stack-images  ## the production stack, healthy (secrets in docker/.env, made when missing)
	$(STACK) up

stack-status: install  ## each container of the stack and its health check
	$(STACK) status

stack-down: install  ## stop the stack; remove its containers, network and volumes (data too)
	$(STACK) down

stack-test: stack-images  ## stack-up, the production path end to end on it, then stack-down
	$(BIN)/python scripts/stack_e2e.py
