#!/usr/bin/env bash
# Entry point of `npm run bench:100k`: raises the open-file limit (server and clients each hold 100 000
# sockets; raising the hard limit needs root) and runs the driver. Stops by itself (45 min at most).
set -euo pipefail
cd "$(dirname "$0")/.."
want=1048576
ulimit -Hn "$want" 2>/dev/null || want=$(ulimit -Hn)
ulimit -n "$want" || { echo "bench:100k: cannot raise ulimit -n (now $(ulimit -n)); need root" >&2; exit 1; }
BENCH_NOFILE=$(ulimit -n) exec node bench/100k.mjs "$@"
