"""A Redis cache that keeps the site up while Redis is not (CACHES BACKEND "core.cache.FallbackRedisCache").

Django's RedisCache raises on every call while Redis is unreachable, and the page cache, the enrolment rate limit,
Wagtail's site lookup and django-axes all read the cache on every request. This backend catches redis-py's
connection and timeout errors: the process then answers from its fallback for RETRY_SECONDS and tries Redis again
after that, logging once per outage. OPTIONS (the rest go to redis-py's connection pool, as for RedisCache):

    FALLBACK       "locmem": a memory cache per process (rate limits count per worker); "none": nothing is kept,
                   every read misses (the page cache: pages are served uncached)
    RETRY_SECONDS  how long the fallback answers before Redis is tried again (default 5)
    ON_RECOVERY    dotted path of a callable run when Redis answers again after this process saw it down (the page
                   cache purges: a publish during the outage could not reach Redis)
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.utils.module_loading import import_string
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
PROBE_KEY = "core.cache:probe"


class _Health:
    """Whether Redis is usable, shared by every thread of the process for one cache configuration."""

    def __init__(self):
        self.down_until = None  # time.monotonic() until which the fallback answers; None while Redis is up
        self.lock = threading.Lock()

    def use_redis(self):
        down_until = self.down_until
        return down_until is None or time.monotonic() >= down_until

    def failed(self, retry_seconds):
        """True when this starts an outage (the caller logs it)."""
        with self.lock:
            first = self.down_until is None
            self.down_until = time.monotonic() + retry_seconds
            return first

    def succeeded(self):
        """True when this ends an outage."""
        if self.down_until is None:
            return False
        with self.lock:
            ended, self.down_until = self.down_until is not None, None
            return ended


_health = {}
_health_lock = threading.Lock()


class FallbackRedisCache(BaseCache):
    def __init__(self, server, params):
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        fallback = options.pop("FALLBACK", "locmem")
        self.retry_seconds = float(options.pop("RETRY_SECONDS", 5))
        on_recovery = options.pop("ON_RECOVERY", None)
        params["OPTIONS"] = options
        super().__init__(params)
        self.redis = RedisCache(server, params)
        local = {key: value for key, value in params.items() if key != "OPTIONS"}
        name = f"redis-fallback:{server}:{params.get('KEY_PREFIX', '')}:{fallback}"
        if fallback == "locmem":
            self.fallback = LocMemCache(name, local)
        elif fallback == "none":
            self.fallback = DummyCache(name, local)
        else:
            raise ValueError(f"FALLBACK 必须是 locmem 或 none，而不是 {fallback!r}")
        # Resolved now: a wrong path fails at the first cache access, not in the middle of an outage.
        self.on_recovery = import_string(on_recovery) if on_recovery else None
        key = (name, on_recovery, self.retry_seconds)
        with _health_lock:
            self.health = _health.setdefault(key, _Health())

    def _call(self, method, *args, **kwargs):
        health = self.health
        if health.use_redis():
            try:
                if health.down_until is not None:
                    # Retrying after an outage: recover (and purge) before this call reads anything.
                    self.redis.has_key(PROBE_KEY)
                    if health.succeeded():
                        self._recovered()
                return getattr(self.redis, method)(*args, **kwargs)
            except REDIS_DOWN as exc:
                if health.failed(self.retry_seconds):
                    self.fallback.clear()  # nothing left over from an earlier outage
                    logger.warning("Redis 不可用（%s）：本进程改用%s，每 %g 秒重试一次", exc,
                                   "本地内存缓存" if isinstance(self.fallback, LocMemCache) else "无缓存",
                                   self.retry_seconds)
        return getattr(self.fallback, method)(*args, **kwargs)

    def _recovered(self):
        logger.warning("Redis 已恢复：本进程重新使用 Redis 缓存")
        self.fallback.clear()
        if self.on_recovery:
            try:
                self.on_recovery()
            except Exception:  # a failing hook must not fail the request that found Redis back
                logger.exception("Redis 恢复后的处理失败")

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def decr(self, key, delta=1, version=None):
        return self._call("decr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version)

    def clear(self):
        return self._call("clear")

    def close(self, **kwargs):
        self.redis.close(**kwargs)
