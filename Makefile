# Single entry point. `make run` serves the demo site; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/portal
export DJANGO_SETTINGS_MODULE ?= portal.settings.dev
export BASE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: install setup run test test-sqlite test-postgres check lint services serve-prod clean

$(VENV)/.installed: requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "需要 Python 3.11（$(PYTHON)）"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> 安装依赖到 $(VENV)"
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -r requirements.lock
	@touch $@

install: $(VENV)/.installed

setup: install
	@echo "==> 迁移数据库"
	@$(PY) manage.py migrate --noinput -v0
	@$(PY) manage.py collectstatic --noinput -v0
	@echo "==> 载入演示内容"
	@$(PY) manage.py load_demo

run: setup
	@echo "==> 网站地址：http://127.0.0.1:$(PORT)/   （Ctrl+C 停止）"
	@$(PY) manage.py runserver 127.0.0.1:$(PORT)

check: install
	@$(PY) -m ruff check .
	@DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) manage.py check --fail-level WARNING
	@DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) manage.py makemigrations --check --dry-run >/dev/null || { echo "有未生成的迁移：运行 manage.py makemigrations"; exit 1; }

lint: check

test: check test-sqlite test-postgres test-elasticsearch

test-sqlite: install
	@echo "==> 测试（SQLite）"
	@env -u DATABASE_URL $(PY) -m pytest -q $(PYTEST_ARGS)

# PostgreSQL is required in CI; on a developer machine without it the run says so and stops here.
test-postgres: install
	@if $(PY) scripts/wait_for_postgres.py "$(PG_TEST_URL)"; then \
		echo "==> 测试（PostgreSQL）"; \
		DATABASE_URL="$(PG_TEST_URL)" $(PY) -m pytest -q -m "not fresh_clone" $(PYTEST_ARGS); \
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
	@echo "==> 生产模式：http://127.0.0.1:$(PORT)/"
	@DJANGO_SETTINGS_MODULE=portal.settings.production PORT=$(PORT) $(VENV)/bin/gunicorn -c portal/gunicorn.conf.py

# The shared search tests on a real Elasticsearch 9 server (scripts/elasticsearch.sh fetches it once from Maven
# Central into ~/.cache/portal-es and starts it, or reuses a running one). A server that cannot be fetched or
# started fails the run. search/tests/es (Elasticsearch-only tests) also run in test-sqlite/test-postgres.
.PHONY: test-elasticsearch
test-elasticsearch: install
	@echo "==> 测试（Elasticsearch）"
	@url=$$(bash scripts/elasticsearch.sh start | tail -1) && [ -n "$$url" ] || { echo "Elasticsearch 无法获取或启动"; exit 1; }; \
	ELASTICSEARCH_URL="$$url" $(PY) -m pytest -q -p search.tests.es.plugin search/tests --ignore=search/tests/es \
		--deselect search/tests/test_backend.py::test_backend_matches_database $(PYTEST_ARGS)

# Elasticsearch: bulk indexing MB/s and query p50/p95 on 10,000 generated speeches, beside SQLite FTS5.
.PHONY: bench-search-es
bench-search-es: install
	@$(PY) bench/bench_search_es.py
