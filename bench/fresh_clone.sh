#!/usr/bin/env bash
# Time `make run` on a fresh clone: from `git clone` to the first served home page and speech page.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/portal-fresh.XXXXXX)
port=${PORT:-8765}
start=$(date +%s.%N)
git clone -q "$src" "$dir/clone"
cd "$dir/clone"
env -u DATABASE_URL -u DJANGO_SETTINGS_MODULE PORT=$port setsid make run > "$dir/run.log" 2>&1 &
pid=$!
trap 'kill -- -$pid 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$port/" -o /dev/null; do
  kill -0 $pid 2>/dev/null || { cat "$dir/run.log"; echo "make run exited"; exit 1; }
  sleep 0.5
done
curl -sf "http://127.0.0.1:$port/speeches/speech-10/" -o /dev/null
end=$(date +%s.%N)
grep -E "导入完成|新建|用户名" "$dir/run.log" || true
python3 -c "import sys; print(f\"fresh clone → served home + speech page: {float(sys.argv[2]) - float(sys.argv[1]):.1f} s (clone in {sys.argv[3]})\")" "$start" "$end" "$dir"
