# r2k — every set-up step lives here. `make demo` and `make test` bootstrap themselves.
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
R2K_DATA ?= ../shared/data
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# The browser tests drive Debian's Chromium with Playwright (never a downloaded one).
CHROMIUM ?= /usr/bin/chromium
export R2K_CHROMIUM := $(CHROMIUM)

.PHONY: install demo test lint typecheck unit browser bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"

# Bytecode is compiled at install (--compile-bytecode for the dependencies,
# compileall for r2k's own editable sources), so the first run of a command does not
# pay for compiling polars, duckdb or rich, also where PYTHONDONTWRITEBYTECODE is set;
# importing the rolling-variance kernel and the walk's loops fills Numba's cache with
# their compiled code.
# --inexact keeps the bench-only group (TA-Lib) once `make bench` has
# installed it; `make install` and `make test` never install it themselves.
SYNC := $(UV) sync --frozen --python $(PYTHON) --quiet --compile-bytecode --inexact

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(SYNC)
	$(VENV)/bin/python -m compileall -q src >/dev/null
	$(VENV)/bin/python -c "import r2k.analytics._rolling_kernel, r2k.maintenance._kernels, r2k.construction._stats_kernel"
	touch $@

$(VENV)/.synced-bench: $(VENV)/.synced
	$(SYNC) --group bench
	touch $@

install: $(VENV)/.synced

demo: install
	$(VENV)/bin/r2k demo --data $(R2K_DATA)

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: install
	$(VENV)/bin/mypy

unit: install browser
	$(VENV)/bin/pytest

# Chromium for tests/browser: installed with apt-get when missing and we are root.
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the browser tests ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		[ -x "$(CHROMIUM)" ] || { echo "chromium did not install at $(CHROMIUM)"; exit 1; }; \
	else \
		echo "The browser tests need Chromium at $(CHROMIUM), and it is missing."; \
		echo "Install it as root: apt-get update && apt-get install -y chromium"; \
		echo "(or point CHROMIUM=/path/to/chromium at another build; no browser is downloaded)."; \
		exit 1; \
	fi

test: lint typecheck unit

# py-beacon (the calculation peer of `make bench`) pins matplotlib<3.11, so it gets
# its own interpreter, .venv-beacon, synced from a hashed lock; only `make bench`
# builds it (regenerate the lock as bench/peers/py-beacon.in says).
BEACON_VENV := .venv-beacon
BEACON_LOCK := bench/peers/py-beacon.lock.txt

$(BEACON_VENV)/.synced: $(UV) $(BEACON_LOCK)
	$(UV) venv --quiet --clear --python $(PYTHON) $(BEACON_VENV)
	$(UV) pip sync --quiet --compile-bytecode --require-hashes --python $(BEACON_VENV)/bin/python $(BEACON_LOCK)
	touch $@

bench: $(VENV)/.synced-bench $(BEACON_VENV)/.synced
	$(VENV)/bin/python -m bench.run_bench --data $(R2K_DATA)

clean:
	rm -rf $(VENV) $(BEACON_VENV) $(TOOLS) .mypy_cache .pytest_cache .ruff_cache
