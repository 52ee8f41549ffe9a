#!/usr/bin/env bash
# Run a server command in the foreground with the task worker (manage.py db_worker) beside it.
# Ctrl+C (or the server exiting) stops both. Usage: scripts/run_with_worker.sh PYTHON COMMAND...
set -uo pipefail
PY="$1"; shift
# Its own session, so stopping it also stops the autoreloader's child process.
setsid "$PY" manage.py db_worker --queue-name '*' --interval 1 &
worker=$!
stop_worker() {
    kill -TERM -- "-$worker" 2>/dev/null || kill -TERM "$worker" 2>/dev/null
    wait "$worker" 2>/dev/null
}
trap stop_worker EXIT
trap 'exit 130' INT TERM
echo "==> 后台任务进程已启动（db_worker，pid $worker）"
"$@"
