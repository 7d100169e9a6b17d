#!/usr/bin/env bash
# Entry point of `npm run bench`: raises the open-file limit (idle scenario holds 10 000 sockets per side),
# pins the driver to the client core, starts the driver with the given options, then the HTTP/2 echo scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
want=20000
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then want=$hard; fi
ulimit -n "$want" || echo "bench: could not raise ulimit -n (now $(ulimit -n)); idle may fail" >&2
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c "${BENCH_CLIENT_CORE:-1}"); fi
status=0
"${pin[@]}" node bench/run.mjs "$@" || status=$?
# Then the HTTP/2 echo scenario (bench/http2-echo.ts): WebSockets over HTTP/2 vs HTTP/1.1, both over TLS.
# BENCH_HTTP2=0 skips it; `npm run bench:http2` runs it alone.
case " $* " in *" --help "* | *" --report "*) exit "$status" ;; esac
if [ "${BENCH_HTTP2:-1}" = 1 ]; then "${pin[@]}" node build/bench/http2-echo.js || status=$?; fi
exit "$status"
