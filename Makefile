# Two commands do everything on a fresh machine with Python 3.11+ and make:
#   make demo   - set up .venv, then run the whole pipeline locally and show what it does
#   make test   - set up .venv, then lint (ruff), type-check (mypy) and run the tests
# (make storefront: the demo, then live events with the availability API and storefront)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# test processes: the suite mostly waits on subprocesses and brokers, so more than the 2
# cores keep them busy (clean clones in one hour: 587 s wall, pytest 493 s, with four
# against 660 s, pytest 551 s, with three; earlier 483 s with three against 570 s with
# two; worksteal: a long test does not hold up the rest)
WORKERS ?= 4

.PHONY: demo storefront test test-fast lint typecheck pytest tools clean setup lock

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# PYTHONWARNINGS: setuptools' notes on editable installs are not the user's business.
	@# The packages are byte-compiled on every core at once (pip compiles one file at a
	@# time; 94 s -> 71 s from a clean clone): with PYTHONDONTWRITEBYTECODE, as on this
	@# machine, nothing is compiled later
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet --no-compile -e '.[dev,local,forecast]'
	$(BIN)/python -m compileall -q -j 0 $$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') > /dev/null || true
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/inventory demo

storefront: $(STAMP)
	$(BIN)/inventory demo --serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

tools:
	scripts/ensure-tools

pytest: $(STAMP) tools
	$(BIN)/pytest -n $(WORKERS) --dist worksteal --durations=15

test: lint typecheck pytest

# unit + db tiers (no broker): a quick check while working; make test runs every tier
test-fast: $(STAMP)
	$(BIN)/pytest -n $(WORKERS) --dist worksteal tests/unit tests/db

# The container image's pinned, hashed dependencies (no `local` extra), for Python 3.12 on
# Linux; a test checks it agrees with pyproject.toml.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes --universal \
	    --python-version 3.12 --no-header -o requirements/image.lock
	$(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes --universal \
	    --python-version 3.12 --no-header --extra forecast \
	    --constraint requirements/image.lock -o requirements/forecast.lock

clean:
	-$(BIN)/inventory broker stop
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
