#!/usr/bin/env bash
# The README's first command: install what is missing, build quiver (Release)
# and start quiverd in the foreground with the reference feature definitions.
# Data goes to ./data, the native protocol listens on 127.0.0.1:7070 and
# the Redis protocol on 127.0.0.1:6379 (6380 if a Redis already has 6379),
# HTTP (the dashboard, health, metrics, JSON) on 127.0.0.1:8080 (8081 if
# 8080 is taken).
# Extra arguments are passed to quiverd (see quiverd --help).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/suites.sh
scripts/install-deps.sh
# The same configuration as the test command's Release suite
# (scripts/lib/suites.sh), so that neither misreads the other's directory;
# only the server, the CLI and the Python client are built here.
configure_suite release
cmake --build build/release --target quiverd quiver quiver_python
echo "quiver CLI: build/release/client/quiver (try: build/release/client/quiver views)"
resp=()
http_port=8080
if [[ " $* " != *" --resp-port"* ]] && (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "port 6379 is taken (a Redis?): quiverd's RESP port is 6380 (choose with --resp-port)"
  resp=(--resp-port 6380)
fi
if [[ " $* " != *" --http-port"* ]] && (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
  echo "port 8080 is taken: quiverd's HTTP port is 8081 (choose with --http-port)"
  resp+=(--http-port 8081)
  http_port=8081
fi
if [[ " $* " == *" --http-port"* ]]; then
  echo "dashboard: / on the HTTP port given (docs/dashboard.md)"
else
  echo "dashboard: http://127.0.0.1:${http_port}/ (docs/dashboard.md)"
fi
exec build/release/server/quiverd --data-dir ./data --features examples/features.yaml "${resp[@]}" "$@"
