#!/usr/bin/env bash
# Installs every Debian package quiver's build, tests and benchmarks use.
# Idempotent and quick when everything is present. Debian 12 (bookworm).
set -euo pipefail

packages=(
  # toolchain
  g++ clang libclang-rt-14-dev cmake ninja-build pkg-config clang-format
  # libraries
  libboost1.81-dev librocksdb-dev libflatbuffers-dev flatbuffers-compiler librdkafka-dev
  libxxhash-dev liburcu-dev libsimdjson-dev libyaml-cpp-dev libspdlog-dev libcli11-dev
  libbenchmark-dev libgtest-dev libgmock-dev libjemalloc-dev
  liblua5.1-0-dev lua-cjson-dev lua-bitop-dev libssl-dev
  liburing-dev  # bench: quiver-net-floor (the network path's floor over io_uring)
  # comparison servers, protocol peers and Python clients for tests and benchmarks
  redis-server redis-tools kcat curl iproute2 util-linux openssl
  python3 python3-redis python3-flatbuffers python3-numpy python3-pandas python3-pytest
  python3-prometheus-client
  # the dashboard: Chart.js (built into quiverd), and a real browser for its tests
  libjs-chart.js chromium chromium-driver python3-selenium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
