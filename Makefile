# The two set-up commands of the README: `make demo` and `make test`.
# Each creates the virtualenv, installs the project, provisions and starts the services.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo table3-full test test-fast install provision services lint down

# The whole pipeline on the bundled demo data: ingest, embed, keywords, HDGI personas and
# the paper's Table 3 grid per domain, each with its HTML report (under .kgstore/runs/<run id>/).
demo: services
	$(BIN)/kgctl schema apply
	$(BIN)/kgctl schema show
	$(BIN)/kgctl ingest demo
	$(BIN)/kgctl ingest demo --domain books
	$(BIN)/kgctl embed items
	$(BIN)/kgctl embed entities
	$(BIN)/kgctl stats
	$(BIN)/kgctl generate keywords --domain movies
	$(BIN)/kgctl generate keywords --domain books
	$(BIN)/kgctl train hdgi --domain movies
	$(BIN)/kgctl train hdgi --domain books
	$(BIN)/kgctl evaluate --grid table3 --domain movies --config configs/table3-demo.toml
	$(BIN)/kgctl report latest
	$(BIN)/kgctl evaluate --grid table3 --domain books --config configs/table3-demo.toml
	$(BIN)/kgctl report latest
	$(BIN)/kgctl services status

# The full Table 3 grid on the graph `make demo` built (full softmax, 3 seeds: about 10 min
# here, against the quick grid's 4), each domain with its report.
table3-full: services
	$(BIN)/kgctl evaluate --grid table3 --domain movies --config configs/table3.toml
	$(BIN)/kgctl report latest
	$(BIN)/kgctl evaluate --grid table3 --domain books --config configs/table3.toml
	$(BIN)/kgctl report latest

# CI sets CI=true: then every service must be there (no skipping) — REQUIRE_SERVICES=1.
test: services
	$(BIN)/ruff check .
	REQUIRE_SERVICES=$(if $(CI),1,$${REQUIRE_SERVICES:-0}) $(BIN)/pytest -ra

# The quick loop while working: every test not marked `slow` (see pyproject.toml), under
# 5 minutes here. CI and `make test` still run everything.
test-fast: services
	$(BIN)/ruff check .
	$(BIN)/pytest -ra -m "not slow"

# The session page's graph library, pinned by its package-lock.json, is vendored by npm
# (docker/native/provision.sh installs npm); the browser never fetches it from a CDN.
WEB    := kgstore/serve/web

# npm vendors the page's library while pip installs (its exit status is waited for).
$(STAMP): pyproject.toml $(WEB)/package-lock.json | provision
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	npm ci --prefix $(WEB) --no-audit --no-fund --loglevel=error & npm=$$!; \
	$(BIN)/pip install -q --upgrade pip && $(BIN)/pip install -q -e '.[dev]'; pip=$$?; \
	wait $$npm && exit $$pip
	touch $(STAMP)

install: $(STAMP)

provision:
	bash docker/native/provision.sh

services: install provision
	$(BIN)/kgctl services up

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

down:
	$(BIN)/kgctl services down
