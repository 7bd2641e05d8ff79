# Two commands for a new machine with Python 3.11 and make:
#   make run    install, set up an SQLite database with units, courses and demo accounts, serve on :5000
#   make test   install the test tools and run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py
export PYTHONPATH := $(CURDIR)

.PHONY: run setup install install-dev test lint translations-extract translations-update translations-compile bench clean

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

translations-extract: install
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k N_ --no-location --sort-output \
	  --project="Binh dan hoc vu so" --copyright-holder="Binh dan hoc vu so contributors" \
	  -o translations/messages.pot .

translations-update: translations-extract
	$(BIN)/pybabel -q update --no-fuzzy-matching -i translations/messages.pot -d translations

translations-compile: install
	$(BIN)/pybabel -q compile -d translations

setup: install translations-compile
	$(BIN)/flask db upgrade
	$(BIN)/flask units load
	$(BIN)/flask courses load
	$(BIN)/flask demo load

run: setup
	@echo "Serving on http://$${LMS_BIND:-127.0.0.1:5000}  (Ctrl+C to stop)"
	SESSION_COOKIE_SECURE=0 $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: install-dev translations-compile
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check lms certificates courses tests bench

bench: install-dev translations-compile
	@command -v wrk >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
	  (DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache translations/*/LC_MESSAGES/*.mo
