#!/usr/bin/env bash
# "Battle tests" from the spec's Playground Examples: the RFC 6455 conformance suite, interop with real
# clients, hostile input and the plugin's integration tests, run against a fresh build.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
npm run --silent compile
node scripts/run-tests.mjs test/conformance test/interop test/hostile test/ws test/deflate
