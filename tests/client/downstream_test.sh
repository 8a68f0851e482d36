#!/usr/bin/env bash
# Installs quiver's client into a temporary prefix, builds client/example as a
# separate CMake project with find_package(quiver), and runs it against a
# real quiverd. Usage: downstream_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/client/example" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
"$build/server/quiverd" --port 0 --resp-port 0 --http-port 0 --port-file "$work/port" --data-dir "$work/data" \
  --features "$src/examples/features.yaml" --log-level warn &
pid=$!
for _ in $(seq 1 300); do [ -s "$work/port" ] && break; sleep 0.1; done
out=$("$work/build/rank_features" "$(cat "$work/port")")
echo "$out"
grep -q "watch_count_7d=17 genre_preferences\[3\]=0.90" <<<"$out"
grep -q "item 0: found popularity=0.80 genre=drama" <<<"$out"
grep -q "item 2: missing popularity=0.00 genre=unknown" <<<"$out"
echo "downstream example: OK"
