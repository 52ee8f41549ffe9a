#!/usr/bin/env python3
"""A three-node Elasticsearch test cluster on loopback, from the integ-test zip scripts/elasticsearch.sh fetches.

    scripts/es_cluster.py start [--nodes 3]   -> waits for green; prints the comma-separated URLs last
    scripts/es_cluster.py stop [--clean]      -> stops every node (--clean also removes the state directory)
    scripts/es_cluster.py kill N              -> SIGKILL node N (1-based): a crash, not a shutdown
    scripts/es_cluster.py restart N           -> starts node N again on its ports and data; waits until it joined
    scripts/es_cluster.py health [--wait green|yellow] [--timeout S]
    scripts/es_cluster.py urls

State (ports, process groups, data, logs) lives in $ES_CLUSTER_DIR (default /tmp/portal-es-cluster-<version>);
every run that needs its own cluster gives its own directory. Ports are free loopback ports picked at the first
start (never the single-node server's), kept for restarts. Standard library only.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ES_VERSION = os.environ.get("ES_VERSION", "9.5.4")
CACHE = Path(os.environ.get("ES_CACHE", Path.home() / ".cache" / "portal-es"))
STATE = Path(os.environ.get("ES_CLUSTER_DIR", f"/tmp/portal-es-cluster-{ES_VERSION}"))
HEAP = os.environ.get("ES_CLUSTER_HEAP", "256m")
ES_USER = "portal-es"  # Elasticsearch refuses to run as root


def say(message):
    print(f"==> {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port):
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def java_home():
    pattern = "temurin-*-jdk*" if int(ES_VERSION.split(".")[0]) >= 9 else "java-17-openjdk*"
    found = sorted(Path("/usr/lib/jvm").glob(pattern))
    if not found:
        raise SystemExit(f"找不到 Elasticsearch {ES_VERSION} 需要的 JDK（/usr/lib/jvm/{pattern}）")
    return str(found[-1])


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def load_state():
    path = STATE / "cluster.json"
    if not path.exists():
        raise SystemExit(f"没有集群状态：{path}（先运行 start）")
    return json.loads(path.read_text())


def save_state(state):
    (STATE / "cluster.json").write_text(json.dumps(state, indent=1))


def urls(state):
    return [f"http://127.0.0.1:{node['http']}" for node in state["nodes"]]


def alive_url(state):
    for node in state["nodes"]:
        if port_open(node["http"]):
            return f"http://127.0.0.1:{node['http']}"
    return None


def health(state, wait=None, timeout=60, nodes=None):
    """The cluster health as seen by any live node; waits for a status (and node count) up to timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        url = alive_url(state)
        if url:
            query = "?timeout=2s"
            if wait:
                query += f"&wait_for_status={wait}"
            if wait == "green":  # and every shard copy settled where it stays
                query += "&wait_for_no_relocating_shards=true&wait_for_no_initializing_shards=true"
            if nodes:
                query += f"&wait_for_nodes={nodes}"
            try:
                last = get(f"{url}/_cluster/health{query}", timeout=10)
                if not last.get("timed_out"):
                    return last
            except (OSError, urllib.error.URLError, ValueError):
                pass
        if time.monotonic() > deadline:
            return last or {"status": "unreachable", "timed_out": True}
        time.sleep(0.5)


def fetch():
    home = CACHE / f"elasticsearch-{ES_VERSION}"
    if not home.is_dir():
        subprocess.run(["bash", str(ROOT / "scripts" / "elasticsearch.sh"), "fetch"], check=True,
                       env={**os.environ, "ES_VERSION": ES_VERSION, "ES_CACHE": str(CACHE)})
    return home


def launch(state, index, bootstrap):
    node = state["nodes"][index]
    nodedir = STATE / node["name"]
    seeds = ",".join(f"127.0.0.1:{n['transport']}" for n in state["nodes"])
    settings = {
        "cluster.name": state["cluster"], "node.name": node["name"], "network.host": "127.0.0.1",
        "http.port": node["http"], "transport.port": node["transport"], "discovery.seed_hosts": seeds,
        "path.data": nodedir / "data", "path.logs": nodedir / "logs", "xpack.security.enabled": "false",
        "cluster.routing.allocation.disk.threshold_enabled": "false",
    }
    if bootstrap:  # only when the cluster forms for the first time
        settings["cluster.initial_master_nodes"] = ",".join(n["name"] for n in state["nodes"])
    cmd = ["runuser", "-u", ES_USER, "--", "env", f"ES_JAVA_HOME={state['java_home']}",
           f"ES_PATH_CONF={nodedir / 'config'}", f"ES_TMPDIR={nodedir / 'tmp'}",
           f"ES_JAVA_OPTS=-Xms{HEAP} -Xmx{HEAP}", f"{STATE / 'home'}/bin/elasticsearch"]
    for key, value in settings.items():
        cmd += ["-E", f"{key}={value}"]
    log = open(nodedir / "stdout.log", "ab")
    # Its own session: kill N ends the whole process group (launcher and server) by its id.
    proc = subprocess.Popen(cmd, cwd=nodedir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            close_fds=True, start_new_session=True)
    node["pgid"] = proc.pid
    save_state(state)


def wait_http(state, index, timeout=240):
    node = state["nodes"][index]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not group_alive(node):
            tail = (STATE / node["name"] / "stdout.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"{node['name']} 启动失败：\n{tail}")
        try:
            get(f"http://127.0.0.1:{node['http']}/_cluster/health?local=true", timeout=2)
            return
        except (OSError, urllib.error.URLError, ValueError):
            time.sleep(0.5)
    raise SystemExit(f"{node['name']} 在 {timeout} 秒内未就绪")


def group_alive(node):
    try:
        os.killpg(node["pgid"], 0)
        return True
    except (ProcessLookupError, KeyError, TypeError):
        return False


def start(count):
    if (STATE / "cluster.json").exists():
        state = load_state()
        if all(group_alive(n) for n in state["nodes"]) and health(state, "green", 5)["status"] == "green":
            print(",".join(urls(state)))
            return
        stop(state, clean=True)
    cache_home = fetch()
    if subprocess.run(["id", ES_USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ES_USER], check=True)
    STATE.mkdir(parents=True, exist_ok=True)
    shutil.copytree(cache_home, STATE / "home", symlinks=True)
    state = {"version": ES_VERSION, "cluster": f"portal-{os.getpid()}-{int(time.time())}", "java_home": java_home(),
             "nodes": []}
    ports = set()
    for i in range(1, count + 1):
        http, transport = free_port(), free_port()
        while http in ports or transport in ports or http == transport:
            http, transport = free_port(), free_port()
        ports |= {http, transport}
        name = f"node{i}"
        nodedir = STATE / name
        for sub in ("data", "logs", "tmp"):
            (nodedir / sub).mkdir(parents=True, exist_ok=True)
        shutil.copytree(cache_home / "config", nodedir / "config")
        state["nodes"].append({"name": name, "http": http, "transport": transport})
    save_state(state)
    subprocess.run(["chown", "-R", ES_USER, str(STATE)], check=True)
    started = time.monotonic()
    say(f"启动 {count} 节点 Elasticsearch {ES_VERSION} 集群（{STATE}，堆 {HEAP}）：" + "，".join(
        f"{n['name']} http {n['http']} / transport {n['transport']}" for n in state["nodes"]))
    for i in range(count):
        launch(state, i, bootstrap=True)
    for i in range(count):
        wait_http(state, i)
    result = health(state, "green", 120, nodes=count)
    if result.get("status") != "green" or result.get("number_of_nodes") != count:
        raise SystemExit(f"集群未变绿：{result}")
    say(f"集群已就绪（green，{count} 个节点，用时 {time.monotonic() - started:.0f} 秒）")
    print(",".join(urls(state)))


def kill(state, number):
    node = state["nodes"][number - 1]
    if group_alive(node):
        os.killpg(node["pgid"], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while (group_alive(node) or port_open(node["http"])) and time.monotonic() < deadline:
        time.sleep(0.1)
    say(f"已 SIGKILL {node['name']}（进程组 {node.get('pgid')}）")


def restart(state, number, timeout=240):
    index = number - 1
    node = state["nodes"][index]
    if group_alive(node):
        raise SystemExit(f"{node['name']} 仍在运行")
    started = time.monotonic()
    launch(state, index, bootstrap=False)
    wait_http(state, index, timeout)
    result = health(state, None, timeout, nodes=len(state["nodes"]))
    if result.get("number_of_nodes") != len(state["nodes"]):
        raise SystemExit(f"{node['name']} 未重新加入集群：{result}")
    say(f"{node['name']} 已重启并加入集群（用时 {time.monotonic() - started:.0f} 秒）")


def stop(state, clean=False):
    for node in state["nodes"]:
        if group_alive(node):
            os.killpg(node["pgid"], signal.SIGTERM)
    deadline = time.monotonic() + 30
    while any(group_alive(n) for n in state["nodes"]) and time.monotonic() < deadline:
        time.sleep(0.3)
    for node in state["nodes"]:
        if group_alive(node):
            os.killpg(node["pgid"], signal.SIGKILL)
    if clean:
        shutil.rmtree(STATE, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("start").add_argument("--nodes", type=int, default=3)
    sub.add_parser("stop").add_argument("--clean", action="store_true")
    sub.add_parser("kill").add_argument("node", type=int)
    sub.add_parser("restart").add_argument("node", type=int)
    h = sub.add_parser("health")
    h.add_argument("--wait", choices=["green", "yellow"])
    h.add_argument("--timeout", type=float, default=60)
    sub.add_parser("urls")
    args = parser.parse_args()
    if args.command == "start":
        return start(args.nodes)
    if args.command == "stop":
        if (STATE / "cluster.json").exists():
            stop(load_state(), args.clean)
        elif args.clean:
            shutil.rmtree(STATE, ignore_errors=True)
        return
    state = load_state()
    if args.command in ("kill", "restart") and not 1 <= args.node <= len(state["nodes"]):
        raise SystemExit(f"节点编号必须在 1 到 {len(state['nodes'])} 之间")
    if args.command == "kill":
        kill(state, args.node)
    elif args.command == "restart":
        restart(state, args.node)
    elif args.command == "health":
        result = health(state, args.wait, args.timeout)
        print(json.dumps(result, ensure_ascii=False))
        if args.wait and result.get("status") != args.wait:
            return 1
    elif args.command == "urls":
        print(",".join(urls(state)))


if __name__ == "__main__":
    sys.exit(main())
