#!/usr/bin/env bash
# scripts/run.sh - what `make run` runs: start the local example target,
# run the daemon in the foreground, stop the target when the daemon exits
# (Ctrl-C included).
set -u
cd "$(dirname "$0")/.."
bin=${1:-build/yardstick}
config=${2:-examples/yardstick.yaml}
mkdir -p var
bash scripts/example-target.sh start || exit 1
trap 'bash scripts/example-target.sh stop' EXIT
trap '' INT  # the daemon handles Ctrl-C itself and exits 0 after flushing
"$bin" run -c "$config"
