# The one task runner. `make demo` and `make test` work on a fresh Debian machine with
# only Python: each sets up the virtual environment (and Dovecot, when root) it needs.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench dovecot slapd systemd clean

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv \
	      && $(PYTHON) -m venv $(VENV); \
	  else \
	    echo "inboxwarden: Python's venv module is missing: sudo apt-get install python3-venv" >&2; \
	    exit 1; \
	  fi; }
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e . --group dev
	touch $(STAMP)

dovecot: $(STAMP)
	@$(BIN)/python -m inboxwarden.demo.localserver --ensure-installed

# OpenLDAP's slapd for the LDAP directory tests (they start their own on loopback). The
# preseed keeps the package from creating a system database and starting slapd on 389.
slapd:
	@[ -x /usr/sbin/slapd ] && [ -x /usr/sbin/slapadd ] || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "slapd slapd/no_configuration boolean true" | debconf-set-selections \
	      && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	        --no-install-recommends slapd ldap-utils >/dev/null; \
	  else \
	    echo "inboxwarden: slapd is missing: sudo apt-get install slapd ldap-utils" >&2; \
	    exit 1; \
	  fi; }

# Debian's systemd package gives systemd-analyze, which verifies deploy/'s unit in a test;
# nothing is started (the package does not need systemd as PID 1 to verify).
systemd:
	@command -v systemd-analyze >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends systemd >/dev/null; \
	  else \
	    echo "inboxwarden: systemd-analyze is missing: sudo apt-get install systemd" >&2; \
	    exit 1; \
	  fi; }

demo: $(STAMP) dovecot
	$(BIN)/inboxwarden demo

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) dovecot slapd systemd
	$(BIN)/pytest

bench: $(STAMP) dovecot
	$(BIN)/python benchmarks/bench_enforce.py
	$(BIN)/python benchmarks/bench_detectors.py
	$(BIN)/python benchmarks/bench_fanout.py
	$(BIN)/python benchmarks/bench_service.py

clean:
	rm -rf $(VENV) demo-output bench-output .mypy_cache .ruff_cache .pytest_cache
