#!/usr/bin/env bash
# The test suite: set up, start a throw-away Neo4j (own home folder and ports, so a user's own
# store is never touched), run ruff, mypy and pytest, and stop that server again (also on failure).
#
#   bash scripts/test.sh            the whole suite against a real server (what CI runs)
#   bash scripts/test.sh --fast     the inner loop: ruff, mypy and every test that needs no server
#                                   and is not marked slow (no server, no Neo4j jars needed)
#
# Other arguments pass through to pytest, e.g. `bash scripts/test.sh --fast -k census -x`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FAST=0
if [ "${1:-}" = "--fast" ]; then
  FAST=1
  shift
fi
export SPARSETOPO_HOME="${SPARSETOPO_TEST_HOME:-$ROOT/.test-home}"
export SPARSETOPO_BOLT_PORT="${SPARSETOPO_TEST_BOLT_PORT:-17687}"
export SPARSETOPO_HTTP_PORT="${SPARSETOPO_TEST_HTTP_PORT:-17474}"
unset NEO4J_URI NEO4J_USER NEO4J_PASSWORD NEO4J_DATABASE
SETUP_SERVER=$((1 - FAST)) source "$ROOT/scripts/setup.sh"

# pytest-xdist workers (SPARSETOPO_TEST_WORKERS=1: none). Worker K > 0 talks to its own server
# (home $SPARSETOPO_HOME-gwK, ports +K; tests/conftest.py picks them), so no worker sees
# another's runs, leases or schema changes.
WORKERS="${SPARSETOPO_TEST_WORKERS:-2}"
XDIST=()
# --dist loadfile: a module's tests share one worker, so module fixtures (recordings,
# reproductions, the fault campaign's server) are built once.
if [ "$WORKERS" -gt 1 ]; then XDIST=(-n "$WORKERS" --dist loadfile); fi

if [ "$FAST" = 1 ]; then
  cd "$ROOT"
  say "ruff"
  ruff check sparsetopo tests benchmarks
  say "mypy"
  mypy sparsetopo
  say "pytest (fast: no server, not slow)"
  # The server's tests are not even imported: collecting them would cost seconds of imports.
  exec pytest "${XDIST[@]}" -m "not integration and not slow" --ignore=tests/integration \
    --ignore=tests/faults "$@"
fi

# The Browser test renders the page in headless Chromium; install it where we can.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  apt_install chromium || say "chromium could not be installed; the Browser screenshot test will be skipped"
fi

# The test servers (and the throw-away servers tests start) JIT-compile with C1 only: on two
# cores shared by two workers and their servers, C2's compiler threads cost more CPU than its
# faster code saves (whole suite 569-632 s -> 446 s; docs/decisions/0025-test-servers-c1-jit.md).
# The user's own server and the benchmarks keep the JVM's default tiered compilation.
export JDK_JAVA_OPTIONS="${SPARSETOPO_TEST_JAVA_OPTIONS--XX:TieredStopAtLevel=1}"
# ... and plan each query once: the tests grow and empty their stores all the time, so Cypher's
# default (replan a query when the counts it was planned on change by 75%, every 10 s) planned
# the same queries again and again (server CPU 302 s -> 223 s per run;
# docs/decisions/0026-test-servers-plan-once.md). SPARSETOPO_TEST_NEO4J_SETTINGS overrides it.
export SPARSETOPO_NEO4J_SETTINGS="${SPARSETOPO_TEST_NEO4J_SETTINGS-dbms.cypher.min_replan_interval=1h;dbms.cypher.statistics_divergence_threshold=1.0}"

worker_env() {  # the environment of worker K's server
  echo "SPARSETOPO_HOME=$SPARSETOPO_HOME-gw$1 SPARSETOPO_BOLT_PORT=$((SPARSETOPO_BOLT_PORT + $1)) SPARSETOPO_HTTP_PORT=$((SPARSETOPO_HTTP_PORT + $1))"
}
stop_servers() {
  sparsetopo server stop >/dev/null 2>&1 || true
  for ((k = 1; k < WORKERS; k++)); do
    env $(worker_env "$k") sparsetopo server stop >/dev/null 2>&1 || true
  done
}
trap stop_servers EXIT
say "starting $(( WORKERS > 1 ? WORKERS : 1 )) test server(s) on 127.0.0.1:$SPARSETOPO_BOLT_PORT.. (home $SPARSETOPO_HOME)"
sparsetopo server start >/dev/null &
starts=($!)
for ((k = 1; k < WORKERS; k++)); do
  home="$SPARSETOPO_HOME-gw$k"
  mkdir -p "$home"
  for folder in lib plugins; do  # the jars are shared, the store is not
    [ -e "$home/$folder" ] || ln -s "$SPARSETOPO_HOME/$folder" "$home/$folder"
  done
  env $(worker_env "$k") sparsetopo server start >/dev/null &
  starts+=($!)
done

# ruff and mypy run while the servers start
cd "$ROOT"
say "ruff"
ruff check sparsetopo tests benchmarks
say "mypy"
mypy sparsetopo
for pid in "${starts[@]}"; do
  wait "$pid" || { say "a test server did not start; its log is in $SPARSETOPO_HOME*/logs"; exit 1; }
done
say "pytest ($WORKERS workers)"
pytest "${XDIST[@]}" "$@"
