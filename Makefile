# Two commands for a new machine with Python 3.11 and make:
#   make run    install, set up an SQLite database with units, courses and demo accounts, serve on :5000
#   make test   install the test tools and run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py
export PYTHONPATH := $(CURDIR)

.PHONY: run setup install install-dev lock test lint translations-extract translations-update translations-compile bench clean

# Installs only what the hash-locked files name (`--require-hashes`): a package whose
# archive differs from the one locked, or that the lock forgot, stops the install.
$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

# Re-resolve the locks from requirements*.in (after editing a pin there). The machine's
# own pip settings (local wheel folders) are left out, so the hashes are the registry's.
lock: install-dev
	for f in requirements requirements-dev; do \
	  env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock" \
	    $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	      --no-emit-index-url --no-emit-find-links -o $$f.txt $$f.in || exit 1; \
	done

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

translations-extract: install
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k N_ --no-location --sort-output \
	  --project="Binh dan hoc vu so" --copyright-holder="Binh dan hoc vu so contributors" \
	  -o translations/messages.pot .

translations-update: translations-extract
	$(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete -i translations/messages.pot -d translations

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

# ruff over everything; mypy --strict over the modules listed in pyproject.toml
# ([tool.mypy] files), a list that only grows.
lint: install-dev
	$(BIN)/ruff check lms certificates courses tests bench
	$(BIN)/mypy

bench: install-dev translations-compile
	@command -v wrk >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
	  (DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache translations/*/LC_MESSAGES/*.mo
