# Two commands on a fresh machine: `make run` and `make test` (shared/CONTRACT.md section 1).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: install install-dev run test test-scaleout lint format bench bench-auto bench-analysis bench-full bench-full-kpi bench-real services stop-services clean

# `make run` installs the runtime only (requirements.txt); tests and lint add requirements-dev.txt.
install: $(STAMP)

install-dev: $(DEV_STAMP)

# Re-installs only when requirements.txt changes; otherwise a no-op.
$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(DEV_STAMP)

# The logins come last, once the site answers; Ctrl-C stops the server and the embedded PostgreSQL and Redis
# this run started (config/embedded.py records which: those running before are left running).
run: install
	@$(PY) -m config.embedded forget-started
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py setup_schedules
	$(PY) manage.py seed_demo --no-logins
	$(PY) manage.py serve --welcome --stop-embedded

test: install-dev
	$(BIN)/pytest

# Primary + streaming standby + PgBouncer + S3 server + two routed workers on loopback, the scale-out tests
# against them, everything stopped after (tests/scaleout/run.py). Needs Debian's postgresql-15 and pgbouncer.
test-scaleout: install-dev
	$(PY) -m tests.scaleout.run

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(PY) -m bench.run --scale 1000000

# What a user waits for on `ingest FILE --auto --json` (a process, start to JSON) beside psql \copy.
bench-auto: install
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(PY) -m bench.ingest_auto --orders 1000000 --runs 3

# What reading a big file costs before anything is written: propose_mapping on 100 MB and 1 GB, time and RSS.
bench-analysis: install
	$(PY) -m bench.analysis_memory --sizes 100,1024 --runs 3

# A heavy phase estimated (from this run's \copy time) to exceed this many minutes is skipped, and the
# table says so with its estimate, rather than the run hanging for hours.
BENCH_PHASE_BUDGET_MIN ?= 30

bench-full: install
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(PY) -m bench.run --scale 10000000 --phase-budget-min $(BENCH_PHASE_BUDGET_MIN) --results bench/RESULTS-full.md

# The 10M KPI and dashboard rows on a prepared database of their own: prepared (files, bench_ref, canonical_*)
# by the first run, reused by the next ones while its stamp matches (bench/README.md, "Reusing a prepared database").
BENCH_FULL_DATABASE ?= $(or $(BENCH_DATABASE),ll_bench_full)

bench-full-kpi: install
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(PY) -m bench.run --scale 10000000 --reuse-data --database $(BENCH_FULL_DATABASE) \
		--only kpi_read,refresh,data_api,page_load --results bench/RESULTS-full-kpi-dashboard.md

# The product scored on the real-file corpus (tests/data/real/), dev and held-out apart; needs DATABASE_URL.
bench-real: install
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(PY) -m bench.real_corpus --results bench/RESULTS-real-corpus.md

services: install
	$(PY) -m config.embedded

stop-services: install
	$(PY) -m config.embedded stop

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
