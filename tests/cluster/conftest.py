"""The three-node Elasticsearch cluster (scripts/es_cluster.py) for tests/cluster, run by
`make test-elasticsearch-cluster`: the target starts the cluster and passes its state directory in ES_CLUSTER_DIR.
Run directly (``pytest -m es_cluster tests/cluster``) the fixture starts a cluster of its own and removes it
afterwards. Other runs deselect these tests (they kill and restart server processes for a few minutes).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "es_cluster.py"


REPORT = []


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("Elasticsearch 三节点集群")
        for line in REPORT:
            terminalreporter.write_line(line)


@pytest.fixture
def report():
    """Lines for the run's summary (shown without -s)."""
    return REPORT.append


def pytest_collection_modifyitems(config, items):
    if "es_cluster" in (config.option.markexpr or ""):
        return  # -m chooses
    kept = [item for item in items if not item.get_closest_marker("es_cluster")]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item.get_closest_marker("es_cluster")])
        items[:] = kept


class Cluster:
    def __init__(self, state_dir):
        self.dir = Path(state_dir)
        self.state = json.loads((self.dir / "cluster.json").read_text())
        self.urls = [f"http://127.0.0.1:{node['http']}" for node in self.state["nodes"]]
        self.names = [node["name"] for node in self.state["nodes"]]

    def run(self, *args, timeout=600):
        proc = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "ES_CLUSTER_DIR": str(self.dir)})
        assert proc.returncode == 0, f"es_cluster.py {' '.join(args)}：\n{proc.stdout}\n{proc.stderr[-3000:]}"
        return proc.stdout

    def client(self):
        from elasticsearch import Elasticsearch

        return Elasticsearch(self.urls, request_timeout=30, max_retries=len(self.urls))

    def health(self, wait=None, timeout=120):
        args = ["health", "--timeout", str(timeout)] + (["--wait", wait] if wait else [])
        proc = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                              timeout=timeout + 60, env={**os.environ, "ES_CLUSTER_DIR": str(self.dir)})
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def kill(self, name):
        self.run("kill", str(self.names.index(name) + 1))

    def restart(self, name):
        self.run("restart", str(self.names.index(name) + 1))

    def shards(self, index):
        """[(prirep, node name, docs)] of an index (its alias name will do)."""
        rows = self.client().cat.shards(index=index, format="json", h="prirep,node,docs,state")
        return [(r["prirep"], r["node"], int(r["docs"] or 0), r["state"]) for r in rows]

    def master(self):
        return self.client().cat.master(format="json")[0]["node"]


@pytest.fixture(scope="session")
def es_cluster():
    state = os.environ.get("ES_CLUSTER_DIR")
    own = not (state and (Path(state) / "cluster.json").exists())
    if own:
        state = tempfile.mkdtemp(prefix="portal-es-cluster-")
        env, proc = {**os.environ, "ES_CLUSTER_DIR": state}, None
        try:
            proc = subprocess.run([sys.executable, str(SCRIPT), "start"], capture_output=True, text=True, timeout=900,
                                  env=env)
        finally:
            if proc is None or proc.returncode != 0:  # a node that started is stopped, its files removed
                subprocess.run([sys.executable, str(SCRIPT), "stop", "--clean"], timeout=120, env=env)
        assert proc.returncode == 0, f"Elasticsearch 集群无法启动：\n{proc.stderr[-3000:]}"
    started = time.monotonic()
    try:
        cluster = Cluster(state)
        assert cluster.health("green", 120)["status"] == "green"
        yield cluster
    finally:
        if own:  # also when a test failed
            subprocess.run([sys.executable, str(SCRIPT), "stop", "--clean"], timeout=120,
                           env={**os.environ, "ES_CLUSTER_DIR": state})
    REPORT.append(f"集群测试用时 {time.monotonic() - started:.0f} 秒（不含集群启动）")
