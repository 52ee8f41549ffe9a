"""`make audit-pages`: Lighthouse 12 (mobile and desktop) over every public page type, served by gunicorn with
portal.settings.production on a separate SQLite database (var/audit/). Prints accessibility, best practices, SEO
and performance, and exits non-zero when a page misses 100/100/100/95."""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
AUDIT_DIR = ROOT / "var" / "audit"
REPORTS = AUDIT_DIR / "reports"
CATEGORIES = ["accessibility", "best-practices", "seo", "performance"]
TARGET = {"accessibility": 100, "best-practices": 100, "seo": 100, "performance": 95}
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu"

DISCOVER = r"""
import json
from wagtail.models import Page
from home.models import HomePage
from speeches.models import SpeechIndexPage, SpeechPage
found = [("首页", "/")]
index = SpeechIndexPage.objects.live().public().first()
if index:
    found.append(("讲话稿库", index.url))
speech = SpeechPage.objects.live().public().order_by("-date_delivered", "pk").first()
if speech:
    found.append(("讲话稿", speech.url))
found.append(("搜索结果", "/search/?q=%E5%B7%A5%E4%BC%9A"))
seen = {HomePage, SpeechIndexPage, SpeechPage}
for page in Page.objects.live().public().filter(depth__gt=1).specific().order_by("path"):
    model = type(page)
    if model in seen or model._meta.app_label not in {"campaigns", "merchants"}:
        continue
    seen.add(model)
    found.append((str(model._meta.verbose_name), page.url))
from merchants.models import Merchant, MerchantDirectoryPage
directory = MerchantDirectoryPage.objects.live().public().first()
merchant = Merchant.objects.visible().order_by("pk").first()
if directory and merchant:
    found.append(("特惠商户详情", f"{directory.url}{merchant.pk}/"))
unique = []
for label, url in found:
    if url and url not in [u for _, u in unique]:
        unique.append((label, url))
print("URLS=" + json.dumps(unique, ensure_ascii=False))
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment():
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        SECRET_KEY=env.get("SECRET_KEY") or secrets.token_urlsafe(40),
        PORTAL_VAR_DIR=str(AUDIT_DIR),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOCAL_HTTP="1",  # plain HTTP on loopback (no HTTPS redirect, cookies not Secure)
        LOG_LEVEL="WARNING",
    )
    return env


def manage(env, *args, capture=False):
    result = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True, text=True,
                            capture_output=capture)
    return result.stdout if capture else ""


def wait_for(url, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("gunicorn 启动失败")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"服务未在 {timeout} 秒内就绪：{url}")


def lighthouse(url, form_factor, out):
    command = [str(LIGHTHOUSE), url, "--output=json", f"--output-path={out}", "--quiet",
               f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={CHROME_FLAGS}", "--locale=zh"]
    if form_factor == "desktop":
        command.append("--preset=desktop")
    env = dict(os.environ, CHROME_PATH="/usr/bin/chromium")
    for attempt in range(1, 5):
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        report = json.loads(out.read_text()) if out.exists() and done.returncode == 0 else None
        error = (report or {}).get("runtimeError", {}).get("code") if report else done.stderr[-300:]
        if report and not error and all(report["categories"][c]["score"] is not None for c in CATEGORIES):
            return report
        print(f"  重试 {form_factor} {url}（第 {attempt} 次失败：{error or '分数缺失'}）", flush=True)
        time.sleep(2)
    sys.exit(f"Lighthouse 多次失败：{url}")


def weak_audits(report):
    lines = []
    for category in CATEGORIES:
        for ref in report["categories"][category]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
                lines.append(f"{category}: {ref['id']} ({audit['score']})")
    return lines


def main():
    if not LIGHTHOUSE.exists():
        sys.exit("缺少 node_modules/.bin/lighthouse：运行 npm ci")
    env = environment()
    AUDIT_DIR.mkdir(parents=True, exist_ok=True)
    REPORTS.mkdir(parents=True, exist_ok=True)
    print("==> 准备生产配置的站点（var/audit）", flush=True)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    manage(env, "load_demo", capture=True)
    output = manage(env, "shell", "-c", DISCOVER, capture=True)
    pages = json.loads(output.split("URLS=", 1)[1])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # gunicorn must look for the wsgi module in scripts/
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--pythonpath", str(ROOT / "scripts"), "audit_wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "2", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    rows, misses = [], []
    try:
        wait_for(base + "/", server)
        print(f"==> Lighthouse {len(pages)} 个页面 × 手机/桌面：{base}", flush=True)
        for label, path in pages:
            for form_factor in ["mobile", "desktop"]:
                slug = "".join(ch if ch.isalnum() else "_" for ch in path).strip("_") or "home"
                report = lighthouse(base + path, form_factor, REPORTS / f"{slug}-{form_factor}.json")
                scores = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
                rows.append((label, path, form_factor, scores))
                print(f"  {label} {form_factor}: {scores}", flush=True)
                if any(scores[c] < TARGET[c] for c in CATEGORIES):
                    misses.append((label, form_factor, weak_audits(report)))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    print()
    print("| 页面 | 地址 | 形态 | 无障碍 | 最佳做法 | SEO | 性能 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label, path, form_factor, s in rows:
        print(f"| {label} | {path} | {'手机' if form_factor == 'mobile' else '桌面'} | {s['accessibility']} | "
              f"{s['best-practices']} | {s['seo']} | {s['performance']} |")
    if misses:
        print("\n未达标（目标 100/100/100/≥95）：")
        for label, form_factor, weak in misses:
            print(f"- {label} {form_factor}: " + "; ".join(weak))
        sys.exit(1)
    print("\n全部达标：无障碍、最佳做法、SEO 100，性能 ≥ 95。报告：var/audit/reports/")


if __name__ == "__main__":
    main()
