# The README's two commands: `make run` and `make test`. Each sets up what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEBIAN_QT_LIBS := libglib2.0-0 libgl1 libxkbcommon0 libegl1 libfontconfig1 libdbus-1-3 \
	fontconfig-config fonts-dejavu-core

.PHONY: run test lint bench sysdeps clean package

# Qt's shared libraries on Debian, only when root and only when missing.
sysdeps:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		missing=""; for p in $(DEBIAN_QT_LIBS) $(EXTRA_DEBS); do \
			dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
		done; \
		if [ -n "$$missing" ]; then \
			echo "Installing system libraries:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		fi; \
	fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	@touch $(STAMP)

run: sysdeps $(STAMP)
	$(BIN)/python -m app run --local-server --data run-data/campo

# The server tests also run on PostgreSQL: scripts/ensure_postgres.sh installs and
# starts it when run as root on Debian (prints nothing elsewhere).
test: sysdeps $(STAMP)
	@export SIEE_TEST_PG_URL="$${SIEE_TEST_PG_URL:-$$(bash scripts/ensure_postgres.sh)}"; \
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check app server tests bench sim packaging

bench: $(STAMP)
	@for b in store forms entry sync startup field_week; do \
		echo "== bench/$$b.py"; QT_QPA_PLATFORM=offscreen $(BIN)/python bench/$$b.py || exit 1; \
	done

# One-folder executable in dist/siee-campo/ (packaging/siee-campo.spec), then its self-test.
package: sysdeps $(STAMP)
	@$(BIN)/python -c "import PyInstaller" 2>/dev/null || $(BIN)/python -m pip install -q "pyinstaller>=6"
	$(BIN)/python -m PyInstaller --noconfirm --log-level WARN packaging/siee-campo.spec
	QT_QPA_PLATFORM=offscreen ./dist/siee-campo/siee-campo --selftest

clean:
	rm -rf $(VENV) build dist *.egg-info
