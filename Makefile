# qa_app: `make run` sets everything up and serves the demo session; `make test` runs every test.
VENV   ?= .venv
PYTHON ?= python3
HOST   ?= 127.0.0.1
PORT   ?= 5000
BIN    := $(VENV)/bin
VENDOR := static/vendor/socket.io.esm.min.js

.PHONY: run test setup setup-test chromium nginx lint clean

run: setup ## Set up on first use, create the reference session, print its links and serve it.
	$(BIN)/qa-app demo --host $(HOST) --port $(PORT)

test: setup-test ## Set up on first use (with Chromium for the browser tests), then run every test.
	$(BIN)/python -m pytest

setup: $(VENV)/.installed $(VENDOR)

setup-test: $(VENV)/.installed-test $(VENDOR) chromium nginx

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The socket.io browser client (and axe-core for the accessibility tests) come from npm.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

$(VENDOR): node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/socket.io-client/dist/socket.io.esm.min.js $(VENDOR)

# Debian's Chromium drives the browser tests (Playwright's own download does not work offline).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "Install Chromium (e.g. sudo apt-get install chromium) for the browser tests." >&2; exit 1; fi; }

# Debian's nginx runs the shipped site (deploy/nginx/qa-app.conf) in tests/test_nginx.py.
nginx:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nginx openssl >/dev/null; \
	  else echo "Install nginx (e.g. sudo apt-get install nginx) for the deployment test." >&2; exit 1; fi; }

lint: setup-test
	$(BIN)/ruff check qa_app tests

clean:
	rm -rf $(VENV) node_modules static/vendor
