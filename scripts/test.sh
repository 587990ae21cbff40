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

if [ "$FAST" = 1 ]; then
  cd "$ROOT"
  say "ruff"
  ruff check sparsetopo tests benchmarks
  say "mypy"
  mypy sparsetopo
  say "pytest (fast: no server, not slow)"
  # The server's tests are not even imported: collecting them would cost seconds of imports.
  exec pytest -m "not integration and not slow" --ignore=tests/integration \
    --ignore=tests/faults "$@"
fi

# The Browser test renders the page in headless Chromium; install it where we can.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  apt_install chromium || say "chromium could not be installed; the Browser screenshot test will be skipped"
fi

trap 'sparsetopo server stop >/dev/null 2>&1 || true' EXIT
say "starting the test server on 127.0.0.1:$SPARSETOPO_BOLT_PORT (home $SPARSETOPO_HOME)"
sparsetopo server start >/dev/null

cd "$ROOT"
say "ruff"
ruff check sparsetopo tests benchmarks
say "mypy"
mypy sparsetopo
say "pytest"
pytest "$@"
