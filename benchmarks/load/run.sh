#!/usr/bin/env bash
# `make loadtest`: build the national-scale data once, serve it with gunicorn as production
# does, run locust headless against it on loopback, stop everything. docs/loadtest.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${BIN:-.venv/bin}
USERS=${LOAD_USERS:-50}
RUN_TIME=${LOAD_TIME:-3m}
SPAWN_RATE=${LOAD_SPAWN_RATE:-5}
ORGANISATIONS=${LOAD_ORGANISATIONS:-100000}
ENTRIES=${LOAD_ENTRIES:-10000}
PORT=${LOAD_PORT:-8765}
DATABASE=${LOAD_DATABASE:-loadtest}
PG=${LOAD_PG:-postgresql://postgres@127.0.0.1:5432}
DIR=${LOAD_DIR:-instance/loadtest}

case "$DATABASE" in test|postgres|template*) echo "Choose another LOAD_DATABASE"; exit 2;; esac
mkdir -p "$DIR"
export DATABASE_URL="${PG/postgresql:/postgresql+psycopg:}/$DATABASE"
export SEARCH_INDEX_DIR="$DIR/search" PIPELINE_UPLOAD_DIR="$DIR/uploads" EVIDENCE_DIR="$DIR/evidence"
FLASK="$BIN/flask --app wsgi"
SIZE=(--organisations "$ORGANISATIONS" --entries "$ENTRIES" --marker "$DIR/DATA_VERSION")

if ! $FLASK bench loaddata "${SIZE[@]}" --check 2>/dev/null; then
    echo "Building the load-test data in database $DATABASE (a few minutes)"
    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS \"$DATABASE\"" \
        -c "CREATE DATABASE \"$DATABASE\""
    rm -rf "$DIR/search" "$DIR/search-opportunities" "$DIR/DATA_VERSION"
    $FLASK db upgrade
    $FLASK seed reference
    $FLASK bench loaddata "${SIZE[@]}"
else
    echo "Load-test data are in place: $(cat "$DIR/DATA_VERSION")"
    $FLASK db upgrade  # a new migration (an index, say) applies to the kept data too
fi

# The production configuration, with what a loopback run needs: plain http (so the session
# cookie cannot be marked secure) and every simulated person coming from 127.0.0.1 (so the
# sign-in limit per address is raised; the limit per account stays).
export PORTAL_ENV=production LOG_FORMAT=json BIND_HOST=127.0.0.1 PORT="$PORT"
export SECRET_KEY="$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(48))')"
export SESSION_COOKIE_SECURE=0 LOGIN_LIMIT_PER_IP="100000 per minute"
$BIN/gunicorn -c gunicorn.conf.py wsgi:app > "$DIR/gunicorn.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 60); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/forward-plan" && break
    sleep 1
done
echo "gunicorn: ${WEB_CONCURRENCY:-2} workers x ${GUNICORN_THREADS:-4} threads on port $PORT;" \
     "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
$BIN/locust -f benchmarks/load/locustfile.py --headless --only-summary \
    --users "$USERS" --spawn-rate "$SPAWN_RATE" --run-time "$RUN_TIME" \
    --host "http://127.0.0.1:$PORT" --csv "$DIR/result" --loglevel WARNING || status=$?
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
