# proctorhub: the targets the README and CI call.
#   make serve   set up .venv, install proctorhub and its plugins, migrate the SQLite database, serve
#   make test    set up .venv, run the whole suite on SQLite and then on PostgreSQL
#   make lint    ruff
#   make bench   throughput and latency through waitress, beside a floor measured in the same run

PYTHON ?= python3
VENV ?= .venv
INI ?= development.ini
BIN = $(VENV)/bin
PLUGINS = backends/softwaresecure backends/rest backends/sandbox
PYTEST_ARGS ?=

.PHONY: install serve initdb test test-sqlite test-postgresql postgresql chromium lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel

$(VENV)/.installed: $(BIN)/python setup.cfg $(addsuffix /setup.cfg,$(PLUGINS))
	$(BIN)/pip install --quiet -e '.[testing]' $(addprefix -e ,$(PLUGINS))
	touch $@

install: $(VENV)/.installed

initdb: install
	$(BIN)/proctorhub initdb $(INI)

serve: initdb
	PYTHONWARNINGS="ignore:pkg_resources is deprecated:UserWarning" $(BIN)/pserve $(INI)

# PostgreSQL on 127.0.0.1:5432 (trust auth): start the machine's cluster if it is down.
postgresql:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done; \
	  echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1

# Headless Chromium and its driver for the browser tests (pytest -m browser), from Debian's packages,
# installed only when missing; Selenium is pointed at /usr/bin/chromedriver and downloads nothing.
chromium:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver)

test-sqlite: install chromium
	$(BIN)/pytest -q --db=sqlite $(PYTEST_ARGS)

test-postgresql: install postgresql chromium
	$(BIN)/pytest -q --db=postgresql $(PYTEST_ARGS)

test: test-sqlite test-postgresql

lint: install
	$(BIN)/ruff check proctorhub backends tests bench

bench: install postgresql
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) *.egg-info proctorhub.sqlite* artifacts
