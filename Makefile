# PolicyHub. `make run` serves the demo; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint bench venv migrate seed web worker beat serve build-check clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

migrate: venv
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

# Web server, Celery worker and Celery beat together; Ctrl-C stops all three.
run: seed
	PORT=$(PORT) BIN=$(BIN) scripts/run.sh

# The processes, one per target. docker-compose.yml runs the same commands (tests/test_compose.py).
# The worker's pool follows the settings: solo on SQLite or the filesystem broker, else prefork.
web: venv
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT) --noreload
worker: venv
	$(BIN)/celery -A policyhub worker --loglevel=INFO
beat: venv
	$(BIN)/celery -A policyhub beat --loglevel=INFO
# Production web server (docker compose's web service runs this after migrating).
serve: venv
	$(BIN)/gunicorn policyhub.wsgi --bind 0.0.0.0:8000 --workers 3

# Starts throwaway PostgreSQL and Redis (and finds Chromium) where installed, then pytest.
# POLICYHUB_REQUIRE_SERVICES=1 (set by .ci/run) turns a missing service into a failure.
test: venv
	BIN=$(BIN) scripts/test.sh $(PYTEST_ARGS)

# The Dockerfile's build steps in production mode, then its CMD serving a page (no Docker needed).
build-check: venv
	$(BIN)/python scripts/build_check.py

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	POLICYHUB_ENV=production SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))') \
		ALLOWED_HOSTS=policyhub.example.org $(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/bandit -q -r accounts incidents policyhub dataprotection approvals obligations reporting -ll

# Timings, not tests: each benchmark on a throwaway PostgreSQL cluster (pg_virtualenv).
bench: venv
	@for b in bench/*.py; do \
		echo "== $$b"; \
		pg_virtualenv -t bash -c 'DATABASE_URL=postgres://$$PGUSER:$$PGPASSWORD@$$PGHOST:$$PGPORT/postgres $(BIN)/python '"$$b"; \
	done

clean:
	rm -rf $(VENV) var
