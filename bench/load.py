"""Load and fault test of the production server on loopback (issue: production readiness).

    make bench-load            # SQLite
    make bench-load DB=postgres

Builds a throw-away site (demo content) in a temp directory, starts gunicorn with the production settings
(2 workers), then measures:
  1. a cached speech page, the same page as a static file, and the uncached page (wrk, 10 s each);
  2. a 60 s mixed load from concurrent clients: page views, searches and enrolment submissions, with
     p50/p95/p99 per route, 5xx count, and enrolments accepted versus rows stored;
  3. a 30 s fault run: one gunicorn worker is killed mid-run (and PostgreSQL restarted mid-run on
     PostgreSQL); accepted enrolments must all be stored and the site must answer again afterwards;
  4. a 45 s Redis outage: the site's own redis-server is stopped for 20 s and started again under the mixed load;
     no 5xx, no lost enrolment, pages served uncached while it is down and from the cache again afterwards.
Every loop is bounded in time and count and only talks to 127.0.0.1.
"""

import argparse
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
REFERENCE = re.compile(r'class="reference">[A-Z]{2}-[0-9A-Z]{6,}<')  # the 受理编号 on the confirmation page
MAX_REQUESTS = 200_000  # hard bound for any one phase


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def id_number(serial):
    """A valid GB 11643 identity number, different for each serial."""
    body = f"110101{1960 + serial % 40:04d}{1 + serial % 12:02d}{1 + serial % 28:02d}{serial % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


class Site:
    def __init__(self, db):
        self.tmp = Path(tempfile.mkdtemp(prefix="portal-load-"))
        self.port = free_port()
        self.db = db
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "LOCAL_HTTP": "1",
            "PORTAL_VAR_DIR": str(self.tmp),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "ENROLMENT_RATE_LIMIT": "1000000/60",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": "2",
            "LOG_LEVEL": "WARNING",
        }
        self.env.pop("DATABASE_URL", None)
        if db == "postgres":
            self.env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/portal_load"
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", "DROP DATABASE IF EXISTS portal_load"],
                           check=True)
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", "CREATE DATABASE portal_load"],
                           check=True)
        # A redis-server of its own (phase 4 stops it), never the shared one.
        self.redis = None
        if shutil.which("redis-server"):
            self.redis_port = free_port()
            self.start_redis()
            self.env["REDIS_URL"] = f"redis://127.0.0.1:{self.redis_port}/0"
        self.server = None

    def start_redis(self):
        import redis

        self.redis = subprocess.Popen(["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                                       "--dir", str(self.tmp), "--save", "", "--appendonly", "no"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis(host="127.0.0.1", port=self.redis_port, socket_connect_timeout=1).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.redis.poll() is not None:
                    raise SystemExit("redis-server 未能启动") from None
                time.sleep(0.05)

    def stop_redis(self):
        if self.redis and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(timeout=20)

    def manage(self, *args):
        return subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=self.env, check=True, capture_output=True,
                              text=True).stdout

    def prepare(self):
        print(f"准备站点：{self.tmp}（数据库 {self.db}，缓存 {'Redis' if 'REDIS_URL' in self.env else '本地内存'}）")
        self.manage("migrate", "--noinput", "-v0")
        self.manage("load_demo")
        self.manage("collectstatic", "--noinput", "-v0")

    def start(self):
        self.server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "portal/gunicorn.conf.py"],
                                       cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=open(
                                           self.tmp / "server.log", "w"), start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url("/"), timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.3)
        raise SystemExit("服务器未能在 60 秒内启动")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def worker_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.server.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def stop(self):
        if self.server:
            os.killpg(self.server.pid, signal.SIGTERM)
            self.server.wait(timeout=30)
        self.stop_redis()

    def enrolment_rows(self):
        code = ("from campaigns.models import Enrolment; print(Enrolment.objects.count())")
        return int(self.manage("shell", "-c", code).strip().splitlines()[-1])

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def wrk(url, seconds=10, connections=16, headers=()):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for header in headers:
        cmd += ["-H", header]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def percentile_ms(pct):
        found = re.search(rf"{pct}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": percentile_ms(50), "p99_ms": percentile_ms(99),
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


class Mixed:
    """Concurrent clients with weighted routes; records latency per route."""

    ROUTES = [("speech", 45), ("archive", 10), ("home", 10), ("search_api", 15), ("search_page", 5), ("enrol", 15)]
    QUERIES = ["服务卡", "职工医疗互助", "工资集体协商", "师德", "疗休养", "送温暖", "劳动竞赛", "农民工", "食堂", "维权"]

    def __init__(self, site, campaign_paths, speech_paths, serial_start):
        self.site = site
        self.campaign_paths = campaign_paths
        self.speech_paths = speech_paths
        self.latency = defaultdict(list)
        self.status = defaultdict(lambda: defaultdict(int))
        self.accepted = 0
        self.enrol_rejected = 0
        self.errors = 0
        self.lock = threading.Lock()
        self.serial = serial_start
        self.count = 0
        self.samples = []  # (time.monotonic(), route, status, X-Cache)

    def next_serial(self):
        with self.lock:
            self.serial += 1
            return self.serial

    def record(self, route, started, status, cache=None):
        with self.lock:
            self.latency[route].append((time.perf_counter() - started) * 1000)
            self.status[route][status] += 1
            self.count += 1
            self.samples.append((time.monotonic(), route, status, cache))

    def enrol(self, session):
        path = random.choice(self.campaign_paths)
        started = time.perf_counter()
        page = session.get(self.site.url(path), timeout=30)
        form = re.search(r'<form([^>]*method="post"[^>]*)>(.*?)</form>', page.text, re.S)
        if page.status_code != 200 or not form:
            self.record("enrol", started, page.status_code)
            return
        attributes, inner = form.group(1), form.group(2)
        fields = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', inner))
        action = re.search(r'action="([^"]*)"', attributes)
        plan = re.search(r'<select[^>]*name="plan"[^>]*>.*?<option value="([^"]+)"', inner, re.S)
        serial = self.next_serial()
        fields.update(name=f"压测{serial}", id_number=id_number(serial), mobile=f"139{serial % 10**8:08d}",
                      employer="压测单位", branch="压测基层工会", consent="on", website="", shares="1",
                      delivery="pickup")
        if plan:
            fields["plan"] = plan.group(1)
        target = self.site.url(action.group(1) if action and action.group(1) else path)
        response = session.post(target, data=fields, headers={"Referer": self.site.url(path)}, timeout=30)
        self.record("enrol", started, response.status_code)
        with self.lock:
            if response.status_code == 200 and REFERENCE.search(response.text):
                self.accepted += 1
            else:
                self.enrol_rejected += 1
                if self.enrol_rejected == 1:
                    errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>\s*([^<]{2,80})', response.text)
                    print(f"  （首个被拒的报名：HTTP {response.status_code} {errors[:4]}）")
                    Path("/tmp/rejected.html").write_text(response.text, encoding="utf-8")

    def one(self, session, route):
        if route == "enrol":
            return self.enrol(session)
        path = {
            "speech": lambda: random.choice(self.speech_paths),
            "archive": lambda: "/speeches/",
            "home": lambda: "/",
            "search_api": lambda: "/api/search/?q=" + random.choice(self.QUERIES),
            "search_page": lambda: "/search/?q=" + random.choice(self.QUERIES),
        }[route]()
        started = time.perf_counter()
        response = session.get(self.site.url(path), timeout=30)
        self.record(route, started, response.status_code, response.headers.get("X-Cache"))

    def client(self, deadline):
        session = requests.Session()
        routes, weights = zip(*self.ROUTES, strict=True)
        while time.monotonic() < deadline and self.count < MAX_REQUESTS:
            route = random.choices(routes, weights)[0]
            try:
                self.one(session, route)
            except requests.RequestException:
                with self.lock:
                    self.errors += 1
                time.sleep(0.2)

    def run(self, seconds, clients=16, during=None):
        deadline = time.monotonic() + seconds
        threads = [threading.Thread(target=self.client, args=(deadline,)) for _ in range(clients)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        if during:
            during(started)
        for thread in threads:
            thread.join()
        return time.monotonic() - started

    def report(self, elapsed):
        print(f"  共 {self.count} 个请求，{self.count / elapsed:.0f} 请求/秒，连接错误 {self.errors}")
        print(f"  {'路由':<12}{'请求数':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'5xx':>6}")
        for route, values in sorted(self.latency.items()):
            values.sort()
            q = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
            fivexx = sum(n for status, n in self.status[route].items() if status >= 500)
            print(f"  {route:<12}{len(values):>8}{q[49]:>10.1f}{q[94]:>10.1f}{q[98]:>10.1f}{fivexx:>6}")


def discover(site):
    home = requests.get(site.url("/"), timeout=10).text
    speeches = sorted(set(re.findall(r'href="(/speeches/speech-[\w-]+/)"', requests.get(
        site.url("/speeches/"), timeout=10).text + home)))
    campaigns_index = requests.get(site.url("/campaigns/"), timeout=10)
    campaigns = sorted(set(re.findall(r'href="(/campaigns/[\w-]+/)"', campaigns_index.text)))
    open_forms = [path for path in campaigns if 'method="post"' in requests.get(site.url(path), timeout=10).text]
    return speeches, open_forms


def redis_outage(site, campaign_forms, speeches, clients):
    print("\n4) Redis 故障：45 秒混合负载中第 10 秒停止 Redis，第 30 秒重新启动")
    load = Mixed(site, campaign_forms, speeches, serial_start=2 * 10**6)
    rows_before = site.enrolment_rows() if campaign_forms else 0
    marks = {}

    def inject(started):
        while time.monotonic() - started < 10:
            time.sleep(0.1)
        site.stop_redis()
        marks["stop"] = time.monotonic()
        print("  已停止 Redis")
        while time.monotonic() - started < 30:
            time.sleep(0.1)
        site.start_redis()
        marks["start"] = time.monotonic()
        print("  已重新启动 Redis")

    elapsed = load.run(45, clients, during=inject)
    load.report(elapsed)
    periods = [("停机前", 0, marks["stop"]), ("停机中", marks["stop"], marks["start"]),
               ("重启后", marks["start"], float("inf"))]
    for label, lo, hi in periods:
        rows = [s for s in load.samples if lo <= s[0] < hi]
        pages = [s for s in rows if s[1] == "speech"]
        hits = sum(s[3] == "HIT" for s in pages)
        fivexx = sum(s[2] >= 500 for s in rows)
        print(f"  {label}：请求 {len(rows)}，5xx {fivexx}；讲话页 {len(pages)}，缓存命中 {hits}"
              f"（{hits / len(pages) * 100 if pages else 0:.0f}%）")
    first_hit = min((s[0] for s in load.samples if s[0] >= marks["start"] and s[3] == "HIT"), default=None)
    print("  重启后首次缓存命中：" + (f"{first_hit - marks['start']:.1f} 秒后" if first_hit else "没有！"))
    if campaign_forms:
        rows = site.enrolment_rows() - rows_before
        verdict = "有丢失！" if rows < load.accepted else "无丢失"
        print(f"  报名：受理 {load.accepted}，入库 {rows}，被拒 {load.enrol_rejected} —— {verdict}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default=os.environ.get("DB", "sqlite"))
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("需要 wrk（apt-get install wrk，或运行 make services）")

    site = Site(args.db)
    try:
        site.prepare()
        site.start()
        speeches, campaign_forms = discover(site)
        print(f"讲话页 {len(speeches)} 个，开放报名的活动页 {len(campaign_forms)} 个；服务器 gunicorn × 2 worker，端口 {site.port}")
        speech_url = site.url(speeches[0])
        css = re.search(r'href="(/static/css/site\.[\w.]+\.css)"', requests.get(speech_url, timeout=10).text).group(1)
        for _ in range(3):
            requests.get(speech_url, timeout=10)

        # Latency at 2 connections (one per worker: the page's own time); throughput at 16, where p50 is mostly
        # time spent queueing for one of the two workers.
        print("\n1) 单页（wrk，各 10 秒）：2 连接测延迟，16 连接测吞吐")
        rows = [("缓存讲话页", speech_url, []), ("静态文件", site.url(css), []),
                ("未缓存讲话页", speech_url, ["Cookie: sessionid=bypass-page-cache"])]
        figures = {}
        for label, url, headers in rows:
            for connections in (2, 16):
                result = wrk(url, connections=connections, headers=headers)
                figures[label, connections] = result
                print(f"  {label} ×{connections:<2} 连接：{result['rps']:7.0f} 请求/秒，p50 {result['p50_ms']:7.2f} ms，"
                      f"p99 {result['p99_ms']:7.2f} ms，非2xx {result['non2xx']}")
        for connections in (2, 16):
            cached, static = figures["缓存讲话页", connections], figures["静态文件", connections]
            print(f"  缓存页/静态文件（{connections} 连接）：吞吐比 {cached['rps'] / static['rps']:.2f}，"
                  f"p50 比 {cached['p50_ms'] / static['p50_ms']:.2f}")

        if not campaign_forms:
            print("（没有开放报名的活动页，混合负载不含报名）")
            Mixed.ROUTES = [r for r in Mixed.ROUTES if r[0] != "enrol"]
        rows_before = site.enrolment_rows() if campaign_forms else 0
        print(f"\n2) 混合负载 {args.seconds} 秒，{args.clients} 个并发客户端")
        mixed = Mixed(site, campaign_forms, speeches, serial_start=0)
        elapsed = mixed.run(args.seconds, args.clients)
        mixed.report(elapsed)
        if campaign_forms:
            rows = site.enrolment_rows() - rows_before
            print(f"  报名：受理 {mixed.accepted}，入库 {rows}，被拒 {mixed.enrol_rejected}"
                  f" —— {'一致' if rows == mixed.accepted else '不一致！'}")

        print("\n3) 故障：30 秒混合负载中第 10 秒杀掉一个 worker" + ("，第 18 秒重启 PostgreSQL" if args.db == "postgres" else ""))
        fault = Mixed(site, campaign_forms, speeches, serial_start=10**6)
        rows_before = site.enrolment_rows() if campaign_forms else 0

        def inject(started):
            while time.monotonic() - started < 10:
                time.sleep(0.2)
            victim = site.worker_pids()[0]
            os.kill(victim, signal.SIGKILL)
            print(f"  已杀掉 worker {victim}")
            if args.db == "postgres":
                while time.monotonic() - started < 18:
                    time.sleep(0.2)
                version = sorted(os.listdir("/etc/postgresql"))[-1]
                subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)
                print("  已重启 PostgreSQL")

        elapsed = fault.run(30, args.clients, during=inject)
        fault.report(elapsed)
        recovered = requests.get(speech_url + "?after-fault", timeout=10).status_code
        print(f"  故障后页面状态 {recovered}（{'已自动恢复' if recovered == 200 else '未恢复'}）")
        if campaign_forms:
            rows = site.enrolment_rows() - rows_before
            extra = rows - fault.accepted
            verdict = "有丢失！" if extra < 0 else "无丢失" + (
                f"（另有 {extra} 条已入库、但确认页因故障未送达客户端，重复提交会被识别为已报名）" if extra else "")
            print(f"  报名：受理 {fault.accepted}，入库 {rows} —— {verdict}")

        if site.redis:
            redis_outage(site, campaign_forms, speeches, args.clients)
    finally:
        site.stop()
        site.cleanup()


if __name__ == "__main__":
    sys.exit(main())
