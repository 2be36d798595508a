# Two commands: `make run` (the whole stack with demo data) and `make test`.
# Only Python 3.11+ is needed: uv is installed with pip when missing, and
# PostgreSQL and Redis are started from wheels when DATABASE_URL / REDIS_URL are unset.

PYTHON ?= python3
UV ?= $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(PYTHON) -m uv
endif
RUN := $(UV) run --frozen
PYTEST_ARGS ?= -n 2
# mypy's Django plugin imports the settings but never connects.
LINT_ENV := DEBUG=1 DATABASE_URL=postgresql://lint@localhost/lint

.PHONY: help uv install run test test-clocks lint format bench bench-smoke backup restore stop clean

help:
	@echo "make run    - start API, worker, beat and mail sink with demo data (Ctrl-C stops all)"
	@echo "make test   - run the whole test suite on real PostgreSQL and Redis"
	@echo "make test-clocks - the suite (but tests of real processes) at 00:30, 04:59 and 23:30 UTC today"
	@echo "make lint   - ruff (format check + lint) and mypy"
	@echo "make bench  - measure the hot paths against their baselines (docs/performance.md)"
	@echo "make bench SCALE=S|M|L|all - the hot paths on years of generated history"
	@echo "make backup - dump the database to var/backups/ (make restore FILE=... puts one back)"
	@echo "make stop   - stop embedded PostgreSQL/Redis left running"

uv:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv \
	  || $(PYTHON) -m pip install --quiet --user uv \
	  || $(PYTHON) -m pip install --quiet --user --break-system-packages uv

install: uv
	$(UV) sync --frozen

run: install
	$(RUN) python -m backend.devstack

test: install
	@test -x $${CHROMIUM_PATH:-/usr/bin/chromium} || echo "browser tests will not run: no Chromium at $${CHROMIUM_PATH:-/usr/bin/chromium} (apt-get install chromium to enable them)"
	$(RUN) python -m pytest $(PYTEST_ARGS)

# Tests must pass at any hour: the non-integration suite with the clock moved to three awkward UTC times.
test-clocks: install
	for clock in 00:30 04:59 23:30; do $(RUN) python -m pytest $(PYTEST_ARGS) -q -m "not integration and not browser" --utc-clock $$clock || exit 1; done

lint: install
	$(RUN) ruff format --check .
	$(RUN) ruff check .
	$(LINT_ENV) $(RUN) mypy .

format: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

bench: install
	$(RUN) python -m bench $(if $(SCALE),--scale $(SCALE))

bench-smoke: install
	$(RUN) python -m bench --smoke
	$(RUN) python -m bench --smoke --scale S

backup: install
	$(RUN) python -m backend.backup dump

restore: install
	@test -n "$(FILE)" || (echo "usage: make restore FILE=var/backups/clinic-....dump" && exit 2)
	$(RUN) python -m backend.backup restore "$(FILE)"

stop: install
	$(RUN) python -m backend.embedded stop

clean: stop
	rm -rf var
