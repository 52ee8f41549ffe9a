#!/usr/bin/env bash
# Make sure this machine has what the tests need: PostgreSQL (trust auth on loopback),
# Redis and Chromium from Debian's packages, started if they are down.
set -euo pipefail
need=()
command -v pg_ctlcluster >/dev/null && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v chromium >/dev/null || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Serif CJK" || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

version=$(ls /etc/postgresql | sort -n | tail -1)
if [ -z "$(ls /etc/postgresql/$version 2>/dev/null)" ]; then
  pg_createcluster "$version" main >/dev/null
fi
hba=/etc/postgresql/$version/main/pg_hba.conf
if ! grep -q "portal-test-trust" "$hba"; then
  # Local test access only: trust on loopback and the Unix socket.
  sed -i '1i # portal-test-trust\nlocal all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null || true
fi
if ! pg_lsclusters -h | awk '{print $4}' | grep -q online; then
  echo "==> 启动 PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  echo "==> 启动 Redis"
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save "" >/dev/null
fi
psql -h 127.0.0.1 -U postgres -Atc "select 'PostgreSQL ' || current_setting('server_version')"
redis-cli -h 127.0.0.1 ping
