# Zhengyun — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test test-deps screenshot bench lint format lock messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs from the lock file, then the project itself without re-resolving.
$(VENV)/.installed: $(BIN)/python requirements/lock.txt pyproject.toml
	$(BIN)/pip install --quiet -r requirements/lock.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

# libvirt-python in the test lock builds against Debian's libvirt-dev, installed first when we
# may (on CI we must). Without it the rest is installed and the libvirt tests say what is missing.
# HAProxy, which the load-balancer driver's tests run, nftables, whose `nft -c` checks the
# network edge's rulesets, and wrk, the gateway benchmark's load, are installed the same way.
$(VENV)/.installed-test: $(VENV)/.installed requirements/test-lock.txt
	@scripts/install-libvirt.sh
	@scripts/install-haproxy.sh
	@scripts/install-nftables.sh
	@scripts/install-wrk.sh
	@if pkg-config --exists libvirt 2>/dev/null; then \
		$(BIN)/pip install --quiet -r requirements/test-lock.txt && touch $@; \
	else \
		grep -v '^libvirt-python==' requirements/test-lock.txt > $(VENV)/test-lock-no-libvirt.txt; \
		$(BIN)/pip install --quiet -r $(VENV)/test-lock-no-libvirt.txt; \
	fi

run: $(VENV)/.installed
	$(BIN)/zhengyun migrate --no-input
	$(BIN)/zhengyun demo
	exec $(BIN)/zhengyun run --port $(PORT)

# Chromium and a CJK font for the browser test; installed when missing and we may.
test-deps: $(VENV)/.installed-test
	@scripts/install-browser.sh

test: test-deps
	$(BIN)/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# Refresh the console screenshot shown in the README.
screenshot: test-deps
	ZHENGYUN_SCREENSHOT=$(CURDIR)/docs/console.png $(BIN)/pytest -p no:xdist -m browser -q

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/gm_crypto.py
	$(BIN)/python benchmarks/audit_chain.py
	$(BIN)/python benchmarks/sign_in.py
	$(BIN)/python benchmarks/oidc_tokens.py
	$(BIN)/python benchmarks/simulator_driver.py
	$(BIN)/zhengyun bench scheduler
	$(BIN)/python benchmarks/placement_claims.py
	$(BIN)/python benchmarks/catalog_search.py
	$(BIN)/python benchmarks/gateway_call_log.py
	$(BIN)/python benchmarks/gateway_throughput.py
	$(BIN)/python benchmarks/console_pages.py $(BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/zhengyun makemigrations --check --dry-run
	@if [ -f ../shared/tools/archcheck.py ]; then $(BIN)/python ../shared/tools/archcheck.py src/zhengyun; fi

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Regenerate the lock files after changing dependencies in pyproject.toml.
lock: $(BIN)/python
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml -o requirements/lock.txt --python-version 3.11 -q
	$(BIN)/uv pip compile pyproject.toml --extra test --extra libvirt -o requirements/test-lock.txt --python-version 3.11 -q

# Update and compile the translation catalogues (English source, Simplified Chinese).
messages: $(VENV)/.installed
	cd src/zhengyun && ../../$(BIN)/zhengyun makemessages -l zh_Hans --no-obsolete
	cd src/zhengyun && ../../$(BIN)/zhengyun compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
