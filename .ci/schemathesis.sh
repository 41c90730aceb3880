#!/usr/bin/env bash
# schemathesis against a demo instance (`coopfund serve --demo`) on each backend, as the admin and as a
# cooperative's user: zero 5xx and zero responses that break the OpenAPI document (issue 13).
#
# Usage: .ci/schemathesis.sh [sqlite|postgres]...   (both when none is given)
# Needs target/debug/coopfund (built by `cargo test`); schemathesis comes pinned from PyPI into a venv
# under target/ci-venv (.ci/python-tools.sh). The time per run is bounded by ST_SECONDS_PER_RUN (default 40 s: four runs, about
# 3 minutes with the demo loads). Reports are written under target/schemathesis/.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN="${ST_SECONDS_PER_RUN:-40}"
VENV=target/ci-venv
BIN=target/debug/coopfund
PG_URL="${COOPFUND_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
REPORTS=target/schemathesis

.ci/python-tools.sh
[ -x "$BIN" ] || cargo build --bin coopfund
mkdir -p "$REPORTS"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

login() { # base user password -> token
  curl -sf -X POST "$1/api/v1/auth/token" -H 'content-type: application/json' \
    -d "{\"username\":\"$2\",\"password\":\"$3\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

SERVER_PID=""
WORK=""
PG_DB=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$PG_DB" ]; then psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true; fi
  if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
  SERVER_PID=""; PG_DB=""; WORK=""
}
trap cleanup EXIT

failures=0
run_backend() {
  local backend=$1 url port base log
  WORK=$(mktemp -d)
  case "$backend" in
    sqlite) url="sqlite://$WORK/demo.db?mode=rwc" ;;
    postgres)
      PG_DB="coopfund_st_$$"
      psql "$PG_URL" -qc "CREATE DATABASE $PG_DB" >/dev/null
      url="${PG_URL%/*}/$PG_DB" ;;
    *) echo "unknown backend $backend"; exit 2 ;;
  esac
  port=$(free_port)
  base="http://127.0.0.1:$port"
  log="$REPORTS/serve-$backend.log"
  COOPFUND__DATABASE__URL="$url" COOPFUND__SERVER__HOST=127.0.0.1 COOPFUND__SERVER__PORT="$port" \
    COOPFUND__LOG__LEVEL=warn COOPFUND_ADMIN_PASSWORD= \
    "$BIN" serve --demo >"$log" 2>&1 </dev/null &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    curl -sf "$base/readyz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "the demo server stopped:"; cat "$log"; exit 1; }
    sleep 0.5
  done
  curl -sf "$base/readyz" >/dev/null || { echo "the demo server never became ready"; cat "$log"; exit 1; }
  # The demo prints its users: take the first cooperative user.
  local coop_user coop_password
  read -r coop_user coop_password < <(awk '$2 == "cooperative" {print $1, $3; exit}' "$log")
  [ -n "$coop_user" ] || { echo "no cooperative user in the demo's table"; cat "$log"; exit 1; }
  local admin_token coop_token
  admin_token=$(login "$base" admin demo-admin-2026)
  coop_token=$(login "$base" "$coop_user" "$coop_password")

  local who token
  for who in admin cooperative; do
    if [ "$who" = admin ]; then token=$admin_token; else token=$coop_token; fi
    echo "== schemathesis: $backend as $who (${SECONDS_PER_RUN} s)"
    # Logging out and editing users would end the run's own token (a disable or reset revokes it): not fuzzed.
    # The coverage phase is left out: schemathesis 4.32.5 itself crashes in it (a KeyError in its own
    # generator, not an answer of ours) on PostgreSQL's demo.
    if ! "$VENV/bin/schemathesis" run "$base/api/v1/openapi.json" \
        --header "Authorization: Bearer $token" \
        --checks not_a_server_error,response_schema_conformance \
        --exclude-operation-id logout --exclude-operation-id change_user \
        --phases examples,fuzzing,stateful \
        --max-time "$SECONDS_PER_RUN" --workers 2 --seed 13 \
        --suppress-health-check all --no-color \
        --report junit --report-junit-path "$REPORTS/$backend-$who.xml" \
        >"$REPORTS/$backend-$who.log" 2>&1; then
      tail -n 80 "$REPORTS/$backend-$who.log"
      echo "schemathesis found failures ($backend as $who): $REPORTS/$backend-$who.log"
      failures=$((failures + 1))
    else
      grep -E "passed|failed|Test cases|API Operations" "$REPORTS/$backend-$who.log" | tail -n 5 || true
    fi
  done
  if grep -qi "panicked" "$log"; then echo "the server panicked:"; cat "$log"; failures=$((failures + 1)); fi
  cleanup
}

backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(sqlite postgres)
for backend in "${backends[@]}"; do run_backend "$backend"; done
[ "$failures" -eq 0 ] || { echo "schemathesis: $failures run(s) failed"; exit 1; }
echo "schemathesis: every run passed"
