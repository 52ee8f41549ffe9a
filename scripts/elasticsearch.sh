#!/usr/bin/env bash
# Fetch (once, into a cache outside the repository), start and stop a single-node Elasticsearch test server.
#   scripts/elasticsearch.sh start   -> prints the URL on stdout's last line; state in $ES_STATE_DIR
#   scripts/elasticsearch.sh stop
# The integ-test-zip from Maven Central has no bundled JDK: Elasticsearch 9 runs on the Temurin JDK (Java 21+).
set -euo pipefail
ES_VERSION=${ES_VERSION:-9.5.4}
CACHE=${ES_CACHE:-$HOME/.cache/portal-es}
ES_STATE_DIR=${ES_STATE_DIR:-/tmp/portal-es-$ES_VERSION}
ES_USER=portal-es   # Elasticsearch refuses to run as root
artifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip

java_home() {
  local major=${ES_VERSION%%.*}
  if [ "$major" -ge 9 ]; then
    ls -d /usr/lib/jvm/temurin-*-jdk* 2>/dev/null | sort -V | tail -1
  else
    ls -d /usr/lib/jvm/java-17-openjdk* 2>/dev/null | head -1
  fi
}

fetch() {
  local zip=$CACHE/elasticsearch-$ES_VERSION.zip
  if [ ! -s "$zip" ]; then
    mkdir -p "$CACHE"
    echo "==> 下载 Elasticsearch $ES_VERSION（Maven Central）" >&2
    mvn -q dependency:copy -Dartifact="$artifact" -DoutputDirectory="$CACHE" >&2
  fi
  if [ ! -d "$CACHE/elasticsearch-$ES_VERSION" ]; then
    unzip -q -o "$zip" -d "$CACHE/unpack-$ES_VERSION" >&2
    mv "$CACHE/unpack-$ES_VERSION/elasticsearch-$ES_VERSION" "$CACHE/elasticsearch-$ES_VERSION"
    rm -rf "$CACHE/unpack-$ES_VERSION"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  if [ -f "$ES_STATE_DIR/url" ] && curl -sf "$(cat "$ES_STATE_DIR/url")/_cluster/health" >/dev/null 2>&1; then
    cat "$ES_STATE_DIR/url"; return
  fi
  fetch
  id "$ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER"
  rm -rf "$ES_STATE_DIR" && mkdir -p "$ES_STATE_DIR"
  cp -r "$CACHE/elasticsearch-$ES_VERSION" "$ES_STATE_DIR/home"
  mkdir -p "$ES_STATE_DIR/data" "$ES_STATE_DIR/logs"
  chown -R "$ES_USER" "$ES_STATE_DIR"
  local port; port=$(free_port)
  local jh; jh=$(java_home)
  echo "==> 启动 Elasticsearch $ES_VERSION（127.0.0.1:$port，JDK $jh）" >&2
  local started; started=$(date +%s)
  # Launched through Python so the server inherits no file descriptor but its log (callers may capture stdout).
  python3 - "$ES_STATE_DIR" "$ES_USER" "$jh" "$port" <<'PY'
import subprocess, sys
state, user, java_home, port = sys.argv[1:]
cmd = ["runuser", "-u", user, "--", "env", f"ES_JAVA_HOME={java_home}", "ES_JAVA_OPTS=-Xms512m -Xmx512m",
       "./bin/elasticsearch", "-E", "discovery.type=single-node", "-E", "xpack.security.enabled=false",
       "-E", "network.host=127.0.0.1", "-E", f"http.port={port}", "-E", f"path.data={state}/data",
       "-E", f"path.logs={state}/logs", "-E", "cluster.routing.allocation.disk.threshold_enabled=false"]
log = open(f"{state}/stdout.log", "wb")
proc = subprocess.Popen(cmd, cwd=f"{state}/home", stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                        close_fds=True, start_new_session=True)
open(f"{state}/pid", "w").write(str(proc.pid))
PY
  local url=http://127.0.0.1:$port
  for _ in $(seq 1 180); do
    if curl -sf "$url/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; then
      echo "$url" > "$ES_STATE_DIR/url"
      echo "==> Elasticsearch 已就绪：$url（用时 $(( $(date +%s) - started )) 秒）" >&2
      echo "$url"; return
    fi
    if ! kill -0 "$(cat "$ES_STATE_DIR/pid")" 2>/dev/null && ! pgrep -u "$ES_USER" -f "$ES_STATE_DIR" >/dev/null; then
      tail -20 "$ES_STATE_DIR/stdout.log" >&2; echo "Elasticsearch 启动失败" >&2; exit 1
    fi
    sleep 1
  done
  tail -20 "$ES_STATE_DIR/stdout.log" >&2; echo "Elasticsearch 在 180 秒内未就绪" >&2; exit 1
}

stop() {
  pkill -u "$ES_USER" -f "$ES_STATE_DIR" 2>/dev/null || true
  for _ in $(seq 1 30); do pgrep -u "$ES_USER" -f "$ES_STATE_DIR" >/dev/null || break; sleep 1; done
  rm -f "$ES_STATE_DIR/url"
}

case "${1:-start}" in
  start) exec 9>"$ES_STATE_DIR.lock"; flock 9; start ;;  # one start at a time (parallel test runs share it)
  stop) stop ;;
  fetch) fetch ;;
  *) echo "usage: $0 start|stop|fetch" >&2; exit 2 ;;
esac
