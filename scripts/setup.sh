#!/usr/bin/env bash
# Idempotent set-up of a fresh machine: system tools (Java 17+, Maven) when missing, a virtualenv
# with sparsetopo and its dev tools, and the Neo4j jars. Sourced by demo.sh and test.sh
# (SETUP_SERVER=0 skips Java, Maven and the jars: `test.sh --fast` needs no server).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SPARSETOPO_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

apt_install() {
  if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    say "missing: $* (install them with your package manager, then run this again)"
    exit 1
  fi
  say "installing $* with apt-get"
  if [ -z "${_APT_UPDATED:-}" ]; then apt-get update -qq >/dev/null; _APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

java_major() {
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1
}

SETUP_SERVER="${SETUP_SERVER:-1}"
need=()
# A JDK, not only a JRE: `sparsetopo server install` compiles the server plugin from source.
if [ "$SETUP_SERVER" = 1 ]; then
  if ! command -v java >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1 \
     || [ "$(java_major)" -lt 17 ]; then need+=(openjdk-17-jdk-headless); fi
  if ! command -v mvn >/dev/null 2>&1; then need+=(maven); fi
fi
if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi

if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.sparsetopo-installed"
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
  say "installing sparsetopo and its dependencies (first time: PyTorch is a large download)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e "$ROOT[all,dev]"
  touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"

# numba compiles the analysis kernels on first use (minutes); do it here, once per kernel source:
# the machine code is cached outside the clone, so later clones and runs load it in a second.
if ! "$VENV/bin/python" -c 'import sys; from sparsetopo.analysis.warmup import kernels_compiled
sys.exit(0 if kernels_compiled() else 1)' 2>/dev/null; then
  say "compiling the analysis kernels (once per version: about 3 minutes; cached in $("$VENV/bin/python" -c 'from sparsetopo.analysis._jit import cache_root; print(cache_root())'))"
  started=$SECONDS
  "$VENV/bin/python" -m sparsetopo.analysis.warmup
  say "compiled the analysis kernels in $((SECONDS - started)) s"
fi

if [ "$SETUP_SERVER" = 1 ]; then
  say "fetching the Neo4j server jars (cached after the first time)"
  sparsetopo server install >/dev/null
fi
