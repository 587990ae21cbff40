#!/usr/bin/env bash
# The main job, end to end on the managed local Neo4j: set up, then `sparsetopo demo`
# (train a pruned RNN, snapshot every checkpoint, analyse, print the history, write plots).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
sparsetopo demo "$@"
