"""Production without REDIS_URL: every worker process sees the same cache, so a purge reaches them all."""

import uuid

from core.tests.test_security import run_manage


def test_a_purge_in_one_process_is_seen_by_another(tmp_path):
    env = dict(DJANGO_SETTINGS_MODULE="portal.settings.production", SECRET_KEY="k" * 20 + "-Zq9!x" * 10,
               LOCAL_HTTP="1", PORTAL_VAR_DIR=str(tmp_path), REDIS_URL="")
    marker = uuid.uuid4().hex
    first = run_manage("shell", "-c", "from core import pagecache; from django.core.cache import cache; "
                       f"g = pagecache.generation(); pagecache.purge(); cache.set('probe', '{marker}'); "
                       "print('before', g, 'after', pagecache.generation())", **env)
    assert first.returncode == 0, first.stderr
    words = first.stdout.strip().splitlines()[-1].split()
    before, after = int(words[1]), int(words[3])
    assert after == before + 1
    second = run_manage("shell", "-c", "from core import pagecache; from django.core.cache import cache; "
                        "print(pagecache.generation(), cache.get('probe'))", **env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip().splitlines()[-1].split() == [str(after), marker]
