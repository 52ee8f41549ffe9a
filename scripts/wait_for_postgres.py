"""Exit 0 when the PostgreSQL server in the URL accepts connections (waits up to 20 s)."""

import sys
import time

import psycopg

url = sys.argv[1]
admin_url = url.rsplit("/", 1)[0] + "/postgres"
deadline = time.monotonic() + float(sys.argv[2] if len(sys.argv) > 2 else 20)
while True:
    try:
        psycopg.connect(admin_url, connect_timeout=3).close()
        sys.exit(0)
    except psycopg.OperationalError:
        if time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(1)
