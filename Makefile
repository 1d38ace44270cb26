# Pathfinder: `make run` sets everything up and serves the portal; `make test` runs the suite.
SHELL := /bin/bash
# Python 3.12 or newer. 3.11 frees memory twice when the garbage collector runs SQLAlchemy's
# clean-up while an object's attribute dict is being made, and gunicorn workers died of it
# (tests/test_interpreter.py). Under pyenv, .python-version picks 3.12.
NEW_ENOUGH := import sys; sys.exit(sys.version_info < (3, 12))
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do \
	$$p -c '$(NEW_ENOUGH)' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000
HOST ?= 127.0.0.1

.PHONY: run setup venv venv-python npm assets db seed index test test-postgres test-browser ci clean loadtest

# One `flask prepare` (migrations, reference data, demo data when empty, indexes when needed)
# loads the app once; the db, seed and index targets below do the same steps one by one.
run: setup
	mkdir -p instance
	$(FLASK) prepare
	@echo "Serving Pathfinder at http://$(HOST):$(PORT)"
	$(FLASK) run --host $(HOST) --port $(PORT)

setup: venv npm assets

# Reinstall Python packages only when the requirements change.
# A venv made with an older Python is made again.
venv: venv-python $(VENV)/.installed
venv-python:
	@test -n "$(PYTHON)" || { echo "Pathfinder needs Python 3.12 or newer (see README)"; exit 1; }
	@test ! -e $(VENV) || $(BIN)/python -c '$(NEW_ENOUGH)' 2>/dev/null || rm -rf $(VENV)
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

npm: node_modules/.installed
node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# GOV.UK Frontend's JS and images are copied from npm; our Sass is compiled against it.
assets: static/build/app.css static/govuk/.copied
static/govuk/.copied: node_modules/.installed
	rm -rf static/govuk && mkdir -p static/govuk
	cp -r node_modules/govuk-frontend/dist/govuk/assets static/govuk/assets
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js static/govuk/
	touch $@
static/build/app.css: node_modules/.installed $(wildcard static/scss/*.scss)
	mkdir -p static/build
	node_modules/.bin/sass --load-path=node_modules --no-source-map --style=compressed --quiet-deps static/scss/app.scss $@

db: venv
	mkdir -p instance
	$(FLASK) db upgrade

seed: db
	$(FLASK) seed reference
	$(FLASK) seed demo --if-empty

index: seed
	$(FLASK) search rebuild --if-needed

test: setup
	$(BIN)/pytest -q $(PYTEST_ARGS)

test-postgres: setup
	TEST_DATABASE_URL="$(or $(TEST_DATABASE_URL),postgresql+psycopg://postgres@127.0.0.1:5432/test)" $(BIN)/pytest -q $(PYTEST_ARGS)

test-browser: setup
	$(BIN)/pytest -q -m browser tests/browser $(PYTEST_ARGS)

# A bounded load test on this machine (docs/loadtest.md): LOAD_USERS, LOAD_TIME and the
# other LOAD_ variables change it. Only this target installs locust.
loadtest: venv $(VENV)/.load-installed
	BIN=$(BIN) bash benchmarks/load/run.sh
$(VENV)/.load-installed: requirements-load.txt requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-load.txt
	touch $@

clean:
	rm -rf static/build static/govuk instance/search
