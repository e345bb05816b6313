# Relais — the two commands: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test check lint format bench lock clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate pyproject.toml constraints.txt
	$(PY) -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

## make run: install, prepare the SQLite database with demo data, serve on 127.0.0.1:8000
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "Relais est servi sur http://127.0.0.1:$(PORT) (arrêt : Ctrl+C)"
	$(PY) manage.py runserver --insecure 127.0.0.1:$(PORT)

## make test: install test tools, run the quality gate, then the whole suite
test: $(VENV)/.installed-test
	@scripts/ensure-debian-package.sh chromium /usr/bin/chromium required-in-ci
	$(MAKE) --no-print-directory check
	@$(PY) -m pytest -p no:cacheprovider -n 2 --dist loadfile $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "ERREUR : pytest n'a exécuté aucun test." >&2; exit 1; fi; \
	exit $$status

check: $(VENV)/.installed-test
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/mypy
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.prod RELAIS_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))') \
		RELAIS_ENCRYPTION_KEYS=check:$$(printf '%032d' 0 | base64) DATABASE_URL=sqlite:///:memory: \
		$(PY) manage.py check --deploy --fail-level WARNING

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.installed-test
	@scripts/ensure-debian-package.sh wrk /usr/bin/wrk
	$(PY) bench/run.py $(BENCH_ARGS)

## make lock: refresh constraints.txt from what the direct dependencies resolve to today
lock:
	rm -rf /tmp/relais-lock && $(PYTHON) -m venv /tmp/relais-lock
	/tmp/relais-lock/bin/pip install --quiet -e '.[test]'
	/tmp/relais-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) var db.sqlite3*
