# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench browser stop shell

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

## Serve the whole system (daphne, Celery worker, beat) on the embedded services.
run: $(VENV)/.runtime
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

## The whole test suite, browser tests included.
test: $(VENV)/.dev browser
	$(PY) -m pytest

## Benchmarks (never part of `make test`); one line per figure.
bench: $(VENV)/.dev
	$(PY) -m pytest -q -s bench

## Debian's Chromium for the browser tests, installed when missing and possible.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; browser tests will be skipped"; \
	  else echo "warning: chromium is missing and cannot be installed here; browser tests will be skipped"; fi; }

## Stop the embedded PostgreSQL and Redis (data under var/ is kept).
stop: $(VENV)/.runtime
	$(PY) -c "from contactcenter import embedded; embedded.stop()"

shell: $(VENV)/.runtime
	$(PY) manage.py shell
