# UnionPortal: `make run` (demo on SQLite, no Redis) and `make test` need only Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Demo and tests use development keys; production sets its own (see README).
export DEBUG ?= 1

.PHONY: run test venv venv-dev migrate seed worker lint format bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

venv: $(VENV)/.installed
venv-dev: $(VENV)/.installed-dev

migrate: venv
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

## run: install, migrate, seed the demo city, start the Celery worker (with beat) and the web server.
run: seed
	@echo ""
	@echo "UnionPortal: http://$(HOST):$(PORT)/    (API docs: http://$(HOST):$(PORT)/api/docs/)"
	@echo "Logins (password unionportal-demo): admin, city, pudong, huangpu, street, worker, aidofficer, mediator, projects"
	@echo ""
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/celery -A unionportal worker --beat --loglevel=INFO --concurrency=1 --pool=solo >var/celery-worker.log 2>&1 & \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

worker: venv
	$(BIN)/celery -A unionportal worker --beat --loglevel=INFO

## test: install test dependencies and run the whole suite (SQLite by default; DATABASE_URL/REDIS_URL for PostgreSQL/Redis).
test: venv-dev
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: venv-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: venv-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: build the synthetic city if missing and run the benchmarks against the local PostgreSQL
## (BENCH_MEMBERS=200000 by default, or BENCH_SCALES=100000,1000000; BENCH_DATABASE_URL for another server),
## then the same reads on a private primary and streaming replica (BENCH_REPLICA_MEMBERS; BENCH_ARGS=--no-replica skips).
BENCH_MEMBERS ?= 200000
bench: venv-dev
	$(BIN)/python bench/run.py --members $(BENCH_MEMBERS) $(if $(BENCH_SCALES),--scales $(BENCH_SCALES)) $(BENCH_ARGS)

## screenshots: run only the browser journeys (Debian's chromium) and save PNGs of the key pages,
## desktop and phone, under screenshots/ (page weights and axe-core results: screenshots/report-*.json).
screenshots: venv-dev
	rm -rf screenshots
	$(BIN)/python -m pytest -n 2 -m browser tests/browser $(PYTEST_ARGS)
	@echo "Screenshots and reports: screenshots/"

clean:
	rm -rf var staticfiles

.PHONY: backup restore
## backup: dump the PostgreSQL database (DATABASE_URL), MEDIA_ROOT and PRIVATE_FILES_ROOT into var/backups/<timestamp> (BACKUP_DIR, BACKUP_KEEP).
backup:
	scripts/backup.sh

## restore: make restore BACKUP=var/backups/unionportal-… DB=new_database_name (see scripts/restore.sh).
restore:
	@test -n "$(BACKUP)" -a -n "$(DB)" || { echo "usage: make restore BACKUP=<backup folder> DB=<new database name>"; exit 2; }
	scripts/restore.sh "$(BACKUP)" "$(DB)"
