# Single entry point. `make run` serves the demo site; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/portal
export DJANGO_SETTINGS_MODULE ?= portal.settings.dev
# The exported variable above would win over pytest.ini: every test run names the test settings.
TEST_ENV := DJANGO_SETTINGS_MODULE=portal.settings.test
export BASE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: install install-dev setup run test test-sqlite test-postgres check lint services serve-prod clean

# Runtime packages only (what production installs); the Elasticsearch client when ELASTICSEARCH_URL is set.
$(VENV)/.installed: requirements.lock requirements-es.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "需要 Python 3.11（$(PYTHON)）"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> 安装依赖到 $(VENV)"
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -r requirements.lock $(if $(ELASTICSEARCH_URL),-r requirements-es.lock)
	@touch $@

# Tests, lint and browser checks on top of the runtime packages.
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.lock
	@echo "==> 安装测试依赖到 $(VENV)"
	@$(PY) -m pip install -q -r requirements-dev.lock
	@touch $@

# Project translations (locale/): the .mo files are built here, in Python, not committed.
LOCALE_MO := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))
$(LOCALE_MO): %.mo: %.po $(VENV)/.installed
	@$(PY) scripts/compile_translations.py

install: $(VENV)/.installed $(LOCALE_MO)
install-dev: install $(VENV)/.installed-dev

setup: install
	@echo "==> 迁移数据库"
	@$(PY) manage.py migrate --noinput -v0
	@$(PY) manage.py collectstatic --noinput -v0
	@echo "==> 载入演示内容"
	@$(PY) manage.py load_demo

# The development server and the task worker (exports, notifications, search indexing), both stopped by Ctrl+C.
run: setup
	@echo "==> 网站地址：http://127.0.0.1:$(PORT)/   （Ctrl+C 停止网站和后台任务进程）"
	@bash scripts/run_with_worker.sh $(PY) $(PY) manage.py runserver 127.0.0.1:$(PORT)

check: install-dev
	@$(PY) -m ruff check .
	@DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) manage.py check --fail-level WARNING
	@DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) manage.py makemigrations --check --dry-run >/dev/null || { echo "有未生成的迁移：运行 manage.py makemigrations"; exit 1; }

lint: check

# The three-node cluster test comes last: it starts its own cluster beside the single-node servers (5-8 minutes).
test: test-services check test-sqlite test-postgres test-elasticsearch test-elasticsearch8 test-elasticsearch-cluster

# As root (CI, these machines) the services the tests use are installed and started; elsewhere the tests that
# need a missing service say so and skip it (in CI they fail).
.PHONY: test-services
test-services:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then bash scripts/services.sh; \
	else echo "非 root：不自动安装 PostgreSQL/Redis/Chromium（需要时运行 sudo make services）"; fi

test-sqlite: install-dev
	@echo "==> 测试（SQLite）"
	@env -u DATABASE_URL $(TEST_ENV) $(PY) -m pytest -q $(PYTEST_ARGS)

# PostgreSQL is required in CI; on a developer machine without it the run says so and stops here.
test-postgres: install-dev
	@if $(PY) scripts/wait_for_postgres.py "$(PG_TEST_URL)"; then \
		echo "==> 测试（PostgreSQL）"; \
		DATABASE_URL="$(PG_TEST_URL)" $(TEST_ENV) $(PY) -m pytest -q -m "not fresh_clone" $(PYTEST_ARGS); \
	elif [ -n "$$CI" ]; then echo "CI 中 PostgreSQL 不可用：$(PG_TEST_URL)"; exit 1; \
	else echo "跳过 PostgreSQL 测试：$(PG_TEST_URL) 不可达（运行 make services 启动）"; fi

services:
	@bash scripts/services.sh

clean:
	rm -rf $(VENV) var

.PHONY: bench-fresh-clone
bench-fresh-clone:
	@bash bench/fresh_clone.sh

# Production server: gunicorn + production settings. Needs SECRET_KEY (and ALLOWED_HOSTS for a real host).
.PHONY: serve-prod
serve-prod: export LOCAL_HTTP ?= 1
serve-prod: install
	@DJANGO_SETTINGS_MODULE=portal.settings.production $(PY) manage.py check --deploy --fail-level WARNING
	@DJANGO_SETTINGS_MODULE=portal.settings.production $(PY) manage.py migrate --noinput -v0
	@DJANGO_SETTINGS_MODULE=portal.settings.production $(PY) manage.py collectstatic --noinput -v0
	@echo "==> 生产模式：http://127.0.0.1:$(PORT)/（gunicorn 与后台任务进程 db_worker）"
	@DJANGO_SETTINGS_MODULE=portal.settings.production PORT=$(PORT) \
		bash scripts/run_with_worker.sh $(PY) $(VENV)/bin/gunicorn -c portal/gunicorn.conf.py

.PHONY: eval-search bench-search

# Search relevance (MRR, recall@10) for the jieba backend and Wagtail's default, on SQLite and PostgreSQL.
eval-search: install-dev
	@$(PY) bench/eval_search.py

# Import, indexing throughput, query latency and web-worker memory on N (default 10,000) generated speeches.
bench-search: export BENCH_SPEECHES = $(or $(N),10000)
bench-search: install-dev
	@if [ "$(ES)" = "1" ]; then $(PY) bench/bench_search_es.py; else $(PY) bench/bench_search.py; fi

.PHONY: bench-merchants
bench-merchants: install-dev
	@$(PY) bench/bench_merchants.py

# Load and fault test of the production server on loopback (needs wrk; DB=postgres for PostgreSQL).
.PHONY: bench-load
bench-load: install-dev
	@command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
	@$(PY) bench/load.py --db $(or $(DB),sqlite)

.PHONY: bench-enrolment
# Concurrent enrolments against gunicorn on SQLite (WAL) and, when reachable, PostgreSQL.
bench-enrolment: install-dev
	@if $(PY) scripts/wait_for_postgres.py "$(PG_TEST_URL)" >/dev/null 2>&1; then \
		PG_BENCH_URL="$(PG_TEST_URL)" $(PY) bench/enrolment_load.py; else $(PY) bench/enrolment_load.py; fi

.PHONY: bench-export
# Export 100,000 and 1,000,000 enrolments to CSV and .xlsx through the export task and the real worker;
# prints rows/s, peak memory (ru_maxrss, tracemalloc) and file sizes. BENCH_ROWS="100000" for a shorter run.
BENCH_ROWS ?= 100000 1000000
bench-export: install-dev
	@$(PY) bench/export_large.py $(BENCH_ROWS)

.PHONY: bench-roster
# Preview and confirm a 5,000-row collective-enrolment roster on SQLite and, when reachable, PostgreSQL.
bench-roster: install
	@if $(PY) scripts/wait_for_postgres.py "$(PG_TEST_URL)" >/dev/null 2>&1; then \
		PG_BENCH_URL="$(PG_TEST_URL)" $(PY) bench/bench_roster.py sqlite postgresql; else $(PY) bench/bench_roster.py sqlite; fi

.PHONY: bench-docx
bench-docx: install-dev
	@$(PY) bench/bench_docx.py

# Front-end checks: axe-core and Lighthouse from npm (package-lock.json), installed by `npm ci`.
.PHONY: node-install audit-pages
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "需要 Node.js 20 与 npm（apt-get install nodejs npm）"; exit 1; }
	@echo "==> 安装前端检查工具（npm ci）"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node-install: node_modules/.installed

test-sqlite test-postgres: node_modules/.installed

# Lighthouse (mobile + desktop) over every public page type, served by gunicorn with the production settings.
audit-pages: install-dev node_modules/.installed
	@$(PY) scripts/audit_pages.py

# The shared search tests on a real Elasticsearch 9 server (scripts/elasticsearch.sh fetches it once from Maven
# Central into ~/.cache/portal-es and starts it, or reuses a running one). A server that cannot be fetched or
# started fails the run. search/tests/es (Elasticsearch-only tests) also run in test-sqlite/test-postgres.
# Deselected on Elasticsearch: three tests that name the database backend's index entries, and the worker-process
# test (its subprocess cannot share the run's private index prefix; it runs on SQLite and PostgreSQL).
ES_PYTEST = -m pytest -q -p search.tests.es.plugin search/tests speeches/tests/search --ignore=search/tests/es \
	--deselect search/tests/test_backend.py::test_backend_matches_database \
	--deselect search/tests/test_backend.py::test_update_index_shares_analysis_between_processes_with_identical_entries \
	--deselect search/tests/test_backend.py::test_update_index_writes_what_indexing_each_page_writes \
	--deselect search/tests/test_worker_indexing.py::test_published_page_is_indexed_by_a_worker_process \
	$(PYTEST_ARGS)
.PHONY: test-elasticsearch
test-elasticsearch: install-dev
	@echo "==> 测试（Elasticsearch）"
	@url=$$(bash scripts/elasticsearch.sh start | tail -1) && [ -n "$$url" ] || { echo "Elasticsearch 无法获取或启动"; exit 1; }; \
	ELASTICSEARCH_URL="$$url" $(TEST_ENV) $(PY) $(ES_PYTEST)

# The same tests on Elasticsearch 8 (newest 8.x integ-test zip on Maven Central that starts here, on Java 17)
# with the 8.x client of requirements-es8.lock: installed into var/es8-client, not the venv, and first on
# PYTHONPATH for this run only. A server this target started is stopped afterwards; a running one is reused.
ES8_VERSION ?= 8.19.21
ES8_STATE_DIR ?= /tmp/portal-es-$(ES8_VERSION)
ES8_CLIENT := var/es8-client

$(ES8_CLIENT)/.installed: requirements-es8.lock
	@echo "==> 安装 Elasticsearch 8 客户端到 $(ES8_CLIENT)"
	@rm -rf $(ES8_CLIENT) && $(PY) -m pip install -q --no-deps --target $(ES8_CLIENT) -r requirements-es8.lock
	@touch $@

.PHONY: test-elasticsearch8
test-elasticsearch8: export ES_VERSION = $(ES8_VERSION)
test-elasticsearch8: export ES_STATE_DIR = $(ES8_STATE_DIR)
test-elasticsearch8: install-dev $(ES8_CLIENT)/.installed
	@echo "==> 测试（Elasticsearch $(ES8_VERSION)）"
	@running=0; [ -f "$$ES_STATE_DIR/url" ] && curl -sf "$$(cat "$$ES_STATE_DIR/url")/_cluster/health" >/dev/null && running=1; \
	url=$$(bash scripts/elasticsearch.sh start | tail -1); \
	if [ -z "$$url" ]; then echo "Elasticsearch $(ES8_VERSION) 无法获取或启动"; bash scripts/elasticsearch.sh stop; exit 1; fi; \
	PYTHONPATH="$(CURDIR)/$(ES8_CLIENT)$${PYTHONPATH:+:$$PYTHONPATH}" ELASTICSEARCH_URL="$$url" $(TEST_ENV) $(PY) $(ES_PYTEST); rc=$$?; \
	[ $$running = 1 ] || bash scripts/elasticsearch.sh stop; exit $$rc

# Scale-out on a three-node Elasticsearch 9 cluster on loopback (scripts/es_cluster.py: free ports and a fresh state
# directory under /tmp for every run, so it never meets the single-node server above): tests/cluster SIGKILLs and
# restarts a node while the portal searches and while it publishes. The cluster is stopped and removed afterwards,
# also when a test fails or the run is interrupted.
.PHONY: test-elasticsearch-cluster
test-elasticsearch-cluster: install-dev
	@echo "==> 测试（Elasticsearch 三节点集群）"
	@export ES_CLUSTER_DIR=$$(mktemp -d /tmp/portal-es-cluster.XXXXXX); \
	trap '$(PY) scripts/es_cluster.py stop --clean' EXIT; trap 'exit 130' INT TERM; \
	$(PY) scripts/es_cluster.py start >/dev/null || { echo "Elasticsearch 集群无法获取或启动"; exit 1; }; \
	$(TEST_ENV) $(PY) -m pytest -q -m es_cluster tests/cluster $(PYTEST_ARGS)

# Elasticsearch: bulk indexing MB/s and query p50/p95 on 10,000 generated speeches, beside SQLite FTS5.
.PHONY: bench-search-es
bench-search-es: install-dev
	@$(PY) bench/bench_search_es.py
