"""`make run` on a fresh copy of the repository serves the home page and a speech page."""

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.fresh_clone


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def repository_files(root):
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root, check=True, capture_output=True,
    ).stdout.decode().split("\0")
    return [name for name in listed if name and (root / name).is_file()]


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def test_make_run_on_fresh_copy(tmp_path):
    root = Path(settings.BASE_DIR)
    clone = tmp_path / "clone"
    for name in repository_files(root):
        target = clone / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)
    # Reuse the installed virtualenv so the test measures set-up, not PyPI.
    (clone / ".venv").symlink_to(root / ".venv")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PORTAL_VAR_DIR"}}
    env["PORT"] = str(port)
    log = open(tmp_path / "run.log", "w")
    proc = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                status, home = fetch(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "run.log").read_text()
                assert time.monotonic() < deadline, "make run did not serve within 300 s"
                time.sleep(1)
        assert status == 200 and "最新讲话" in home
        status, speech = fetch(f"http://127.0.0.1:{port}/speeches/speech-10/")
        assert status == 200 and "全省工会为职工办实事工作座谈会" in speech
        output = (tmp_path / "run.log").read_text()
        assert "用户名：admin" in output and "密码：" in output
        assert "新建 19 篇" in output
        assert (clone / "var" / "db.sqlite3").exists()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()
