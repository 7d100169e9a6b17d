#!/usr/bin/env bash
# Entry point of `npm run bench`: raises the open-file limit (idle scenario holds 10 000 sockets per side),
# pins the driver to the client core, and starts the driver with the given options.
set -euo pipefail
cd "$(dirname "$0")/.."
want=20000
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then want=$hard; fi
ulimit -n "$want" || echo "bench: could not raise ulimit -n (now $(ulimit -n)); idle may fail" >&2
if command -v taskset >/dev/null; then exec taskset -c "${BENCH_CLIENT_CORE:-1}" node bench/run.mjs "$@"; fi
exec node bench/run.mjs "$@"
