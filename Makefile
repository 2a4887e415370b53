# Two commands on a fresh machine: `make site` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: site serve test bench clean

SAMPLE_TICKETS := tools/sample_data/helpdesk_export_2026.csv
BROWSER_DEPS := /usr/bin/chromium /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
AXE := tests/.npm/node_modules/axe-core/axe.min.js
LIGHTHOUSE := benchmarks/.npm/node_modules/.bin/lighthouse

site: $(VENV)/.site-installed
	$(BIN)/kb check
	$(BIN)/kb link $(SAMPLE_TICKETS) --quiet
	$(BIN)/kb index --quiet
	$(BIN)/kb index --audience internal --quiet
	$(BIN)/kb build
	$(BIN)/kb build --audience internal
	@echo
	@echo "公开站点: $(CURDIR)/site/index.html    内部站点: $(CURDIR)/site-internal/index.html"
	@echo "预览: make serve（http://127.0.0.1:8000/）"

serve: $(VENV)/.site-installed
	$(BIN)/mkdocs serve

test: $(VENV)/.test-installed $(BROWSER_DEPS) $(AXE)
	$(BIN)/pytest

bench: $(VENV)/.bench-installed $(BROWSER_DEPS) $(LIGHTHOUSE)
	$(BIN)/python benchmarks/site_bench.py
	$(BIN)/python benchmarks/tickets_bench.py
	$(BIN)/python benchmarks/search_bench.py
	$(BIN)/python benchmarks/site_search_bench.py
	$(BIN)/python benchmarks/lighthouse_bench.py
	$(BIN)/python benchmarks/serve_bench.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.site-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[bench]'
	touch $@ $(VENV)/.site-installed

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.site-installed

# Browser tests drive Debian's chromium through Playwright (no browser download); a CJK
# font makes the Chinese readable in the screenshots they save (tests/artifacts/screenshots/).
$(BROWSER_DEPS) &:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-wqy-microhei

# tests/test_accessibility.py runs axe-core (from npm) in the built pages: installed into a
# git-ignored folder of the repo (Debian's npm if there is none), at a pinned version so
# that a new axe release with new rules cannot fail an unchanged site.
$(AXE):
	command -v npm >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y npm; }
	npm install --prefix tests/.npm --no-save --no-audit --no-fund axe-core@4.14.1

# benchmarks/lighthouse_bench.py runs the Lighthouse CLI (from npm) against Debian's
# chromium: installed like axe-core, into a git-ignored folder, at a pinned version
# (scores move between Lighthouse releases).
$(LIGHTHOUSE):
	command -v npm >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y npm; }
	npm install --prefix benchmarks/.npm --no-save --no-audit --no-fund lighthouse@12.2.3

clean:
	rm -rf site site-* .site* search_index/public search_index/internal search_index/.lock search_index/pinyin.json docs/_data/ticket_links.json docs/_data/tickets.sqlite* docs/_data/events.sqlite* docs/reports $(VENV) tests/.npm benchmarks/.npm
