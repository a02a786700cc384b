# qa_app: `make run` sets everything up and serves the demo session; `make test` runs every test.
VENV   ?= .venv
PYTHON ?= python3
HOST   ?= 127.0.0.1
PORT   ?= 5000
JOBS   ?= auto
BIN    := $(VENV)/bin
VENDOR := static/vendor/socket.io.esm.min.js

.PHONY: run test setup setup-test chromium nginx lint clean constraints

run: setup ## Set up on first use, create the reference session, print its links and serve it.
	$(BIN)/qa-app demo --host $(HOST) --port $(PORT)

# Every test, in two runs: first those that may share the cores, on every core (pytest-xdist; a
# file's tests stay on one worker, sharing its server or browser), then those that assert a bound
# of time or memory, alone (tests/conftest.py, SERIAL). Both run; either failing fails.
test: setup-test ## Set up on first use (with Chromium for the browser tests), then run every test.
	@status=0; \
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile -m "not serial" || status=$$?; \
	$(BIN)/python -m pytest -m serial || status=$$?; \
	exit $$status

setup: $(VENV)/.installed $(VENDOR)

setup-test: $(VENV)/.installed-test $(VENDOR) chromium nginx

# constraints.txt pins every package to the versions the suite passed with (CI installs exactly
# those); `make constraints` regenerates it (README, "Dependencies").
$(VENV)/.installed: pyproject.toml constraints.txt
	@echo "Setting up: a Python environment in $(VENV) ..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "Setting up: installing qa_app and its Python packages (a minute or two the first time) ..."
	@$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt $(VENV)/.installed
	@echo "Setting up: installing the test tools (pytest, Playwright, ...) ..."
	@$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $@

# Keeps the pins that still fit pyproject.toml; UPGRADE="--upgrade-package NAME" (or --upgrade)
# moves them. Then `make test`, and commit both files.
constraints: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra test --python-version 3.11 --quiet \
	  --custom-compile-command "make constraints" $(UPGRADE) -o constraints.txt

# The socket.io browser client (and axe-core for the accessibility tests) come from npm.
node_modules/.package-lock.json: package.json package-lock.json
	@echo "Setting up: fetching the socket.io browser client with npm ..."
	@npm ci --no-audit --no-fund --loglevel=error

$(VENDOR): node_modules/.package-lock.json
	@mkdir -p static/vendor
	@cp node_modules/socket.io-client/dist/socket.io.esm.min.js $(VENDOR)

# Debian's Chromium drives the browser tests (Playwright's own download does not work offline).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then echo "Setting up: installing Chromium for the browser tests ..."; apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "Install Chromium (e.g. sudo apt-get install chromium) for the browser tests." >&2; exit 1; fi; }

# Debian's nginx runs the shipped site (deploy/nginx/qa-app.conf) in tests/test_nginx.py.
nginx:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  if [ "$$(id -u)" = 0 ]; then echo "Setting up: installing nginx for the deployment test ..."; apt-get update -qq && apt-get install -y -qq nginx openssl >/dev/null; \
	  else echo "Install nginx (e.g. sudo apt-get install nginx) for the deployment test." >&2; exit 1; fi; }

lint: setup-test
	$(BIN)/ruff check qa_app tests

clean:
	rm -rf $(VENV) node_modules static/vendor
