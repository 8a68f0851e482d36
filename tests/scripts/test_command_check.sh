#!/usr/bin/env bash
# Checks the test command against issue 23's trap: a build directory that
# another command configured without tests (as scripts/start.sh once did)
# must, once the test command's release configuration has run over it, list
# the tests again; and ctest as the test command calls it must fail on a
# directory that has none. Configures only (about 3 s): no build.
#   tests/scripts/test_command_check.sh
# It works in a fresh directory, as build/release is in a fresh clone: a
# directory once configured with tests keeps their CTestTestfile.cmake
# files when reconfigured without them, which would hide the trap.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/suites.sh
mkdir -p build
dir=$(mktemp -d build/test-command-check.XXXXXX)
trap 'rm -rf "$dir"' EXIT

fail() { echo "test-command check: $*" >&2; exit 1; }

# What the start command did before: Release, tests off.
cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER="$(command -v g++)" -DCMAKE_BUILD_TYPE=Release \
  -DQUIVER_BUILD_TESTS=OFF >/dev/null
count=$(ctest --test-dir "$dir" -N | sed -nE 's/^Total Tests: ([0-9]+)$/\1/p')
[ "${count:-0}" -eq 0 ] || fail "a directory configured without tests lists $count tests"
if ctest --test-dir "$dir" --no-tests=error >/dev/null 2>&1; then
  fail "ctest --no-tests=error passed on a directory without tests"
fi

# The test command's release configuration over the same directory.
configure_suite release "$dir"
listed=$(ctest --test-dir "$dir" -N)
count=$(sed -nE 's/^Total Tests: ([0-9]+)$/\1/p' <<<"$listed")
[ "${count:-0}" -gt 0 ] || fail "the release configuration lists no tests in $dir"
grep -q 'resp_clients' <<<"$listed" || fail "the release configuration does not list resp_clients"
echo "test-command check: $dir lists $count tests after the release configuration"
