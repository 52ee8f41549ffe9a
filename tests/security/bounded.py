"""Run a function in a forked child under a memory cap and a time limit, and report what it cost.

The child starts as a copy of the test process (Django, the libraries and the database already loaded,
like a preloaded gunicorn worker), so the cap is on the address space the function may add: RLIMIT_AS is
set to the child's size at the start plus ``memory``. A PostgreSQL child opens its own connection (the
parent's socket is left alone); an in-memory SQLite test database is used through the forked copy.
"""

import multiprocessing
import os
import resource
import time
from dataclasses import dataclass

from django.db import connections

MB = 1024 * 1024
_kept = []  # connections inherited from the parent: never closed by the child


@dataclass
class Run:
    kind: str  # "ok", an exception's class name, "timeout" or "crashed"
    value: object
    seconds: float
    rss_start_mb: float = 0.0
    rss_peak_mb: float = 0.0
    vm_added_mb: float = 0.0
    cap_mb: float = 0.0

    @property
    def rss_added_mb(self):
        return self.rss_peak_mb - self.rss_start_mb

    def figures(self, label):
        return (f"[bounded] {label}: {self.kind} in {self.seconds:.2f} s, peak RSS {self.rss_peak_mb:.0f} MB "
                f"(+{self.rss_added_mb:.0f} MB over the {self.rss_start_mb:.0f} MB at the start), "
                f"address space +{self.vm_added_mb:.0f} MB of the +{self.cap_mb:.0f} MB allowed")


def _status():
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if rest.strip().endswith("kB"):
                values[key] = int(rest.split()[0]) * 1024
    return values


def _child(send, func, args, memory):
    start = _status()
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (start["VmSize"] + memory, hard))
    for connection in connections.all():
        if connection.vendor != "sqlite" and connection.connection is not None:
            _kept.append(connection.connection)
            connection.connection = None
    began = time.perf_counter()
    try:
        kind, value = "ok", func(*args)
    except MemoryError:
        kind, value = "MemoryError", ""
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as it is
        kind, value = type(exc).__name__, str(exc)
    seconds = time.perf_counter() - began
    end = _status()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    send.send(Run(kind, value, seconds, start["VmRSS"] / MB, peak / MB,
                  (end["VmPeak"] - start["VmSize"]) / MB, memory / MB))
    send.close()
    os._exit(0)


def run_bounded(func, *args, memory=512 * MB, seconds=20):
    """``func(*args)`` in a forked child limited to ``memory`` more address space and ``seconds``."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send, func, args, memory))
    began = time.perf_counter()
    process.start()
    send.close()
    result = None
    if receive.poll(seconds):
        try:
            result = receive.recv()
        except EOFError:
            result = None
    process.join(1)
    if process.is_alive():
        process.kill()
        process.join()
        if result is None:
            return Run("timeout", None, time.perf_counter() - began, cap_mb=memory / MB)
    if result is None:
        return Run("crashed", process.exitcode, time.perf_counter() - began, cap_mb=memory / MB)
    return result
