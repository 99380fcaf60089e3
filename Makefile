# The README's two commands: `make run` and `make test`. Each sets up what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The Debian packages each target uses: groups of scripts/debian-packages.txt (the one list).
RUN_DEBS := base qt window
TEST_DEBS := base qt window packaging
PACKAGE_DEBS := base qt packaging

.PHONY: install run test lint bench bench-server sysdeps clean package

# Installs the groups' packages when root on Debian; otherwise names what is missing
# and the apt-get command, and stops (scripts/sysdeps.sh).
sysdeps:
	@bash scripts/sysdeps.sh $(SYSDEPS)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	@touch $(STAMP)

# The program with a local reference server on http://127.0.0.1:8741 (devtools/run.py);
# `make run PORT=N` for another port.
run: SYSDEPS = $(RUN_DEBS)
run: sysdeps $(STAMP)
	$(BIN)/python -m devtools.run --data run-data/campo $(if $(PORT),--port $(PORT))

# The server tests also run on PostgreSQL: scripts/ensure_postgres.sh installs (the list's
# postgres group) and starts it when run as root on Debian (prints nothing elsewhere).
test: SYSDEPS = $(TEST_DEBS)
test: sysdeps $(STAMP)
	@export SIEE_TEST_PG_URL="$${SIEE_TEST_PG_URL:-$$(bash scripts/ensure_postgres.sh)}"; \
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check app server devtools tests bench sim packaging

bench: $(STAMP)
	@for b in store forms entry review sync startup field_week; do \
		echo "== bench/$$b.py"; QT_QPA_PLATFORM=offscreen $(BIN)/python bench/$$b.py || exit 1; \
	done

# The centre's benchmarks: ingest CPU and validation share (bench/server.py), the ingest
# path without validation per record, now against main before issue 20 session 4
# (bench/server_ingest.py), then the load bench (bench/server_load.py: SQLite, and
# PostgreSQL when SIEE_BENCH_PG_URL or SIEE_TEST_PG_URL is set; 1 and 2 processes; 1, 8,
# 32 devices; a national day). Only 127.0.0.1; takes 10-30 minutes on a shared machine (SIEE_BENCH_QUICK=1: 32 devices,
# 1 process).
bench-server: $(STAMP)
	@for b in server server_ingest server_load; do \
		echo "== bench/$$b.py"; $(BIN)/python bench/$$b.py || exit 1; \
	done

# One-folder executable in dist/siee-campo/ (packaging/siee-campo.spec), then its self-test.
package: SYSDEPS = $(PACKAGE_DEBS)
package: sysdeps $(STAMP)
	@$(BIN)/python -c "import PyInstaller" 2>/dev/null || $(BIN)/python -m pip install -q "pyinstaller>=6"
	$(BIN)/python -m PyInstaller --noconfirm --log-level WARN packaging/siee-campo.spec
	QT_QPA_PLATFORM=offscreen ./dist/siee-campo/siee-campo --selftest

# Linux: install the bundle of `make package` (siee-campo on the PATH, menu launcher).
# PREFIX=/usr/local by default (run as root); DATA=/ruta for a shared data folder.
PREFIX ?= /usr/local
install:
	@test -x dist/siee-campo/siee-campo || { echo "Falta el paquete: ejecute primero «make package»."; exit 1; }
	./dist/siee-campo/siee-campo install-linux --prefix "$(PREFIX)" $(if $(DATA),--data "$(DATA)")

clean:
	rm -rf $(VENV) build dist *.egg-info
