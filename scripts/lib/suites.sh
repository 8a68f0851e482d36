# Sourced by scripts/start.sh, scripts/test.sh, bench/common.sh and the
# test-command check: the one place that says how each build directory is
# configured. Every option a suite depends on is given explicitly, so a
# CMake cache left behind by another command (or by hand) can never change
# what a suite builds or runs.
#
#   suite_dir SUITE          the build directory of SUITE
#   configure_suite SUITE    configures that directory for SUITE
#
# Suites: release (what scripts/start.sh serves from, the Release tests and
# the benchmarks; GCC), asan (ASan+UBSan, and the libFuzzer targets; clang),
# tsan (ThreadSanitizer; GCC), fuzz (the asan suite's libFuzzer targets: the
# same directory and options, so one build serves both).
#
# Why clang for asan: it compiles this code at -O0 with ASan+UBSan in about
# half GCC's time, and the fuzz targets need it; building them in the same
# directory saves the test command a fourth build (issue 30's CI budget).
# GCC still builds the Release and TSan suites. TSan's at -O1 with line
# tables only (-g1): its reports keep their file:line frames, the build
# takes 40% less CPU than at -O2 -g, and its tests ran no slower (issue 30).

suite_dir() {
  case $1 in
    release) echo build/release ;;
    asan) echo build/asan ;;
    tsan) echo build/tsan ;;
    fuzz) echo build/asan ;;
    *) echo "unknown suite $1" >&2; return 2 ;;
  esac
}

# The options of SUITE, one per line (no option is left to a cache).
suite_options() {
  # Full paths: CMake compares them with the cached compiler, and a changed
  # compiler makes it start the cache afresh (what we want, and only then).
  local gxx clangxx common=(-DQUIVER_STATIC_ROCKSDB=ON)
  gxx=$(command -v g++ || echo g++)
  clangxx=$(command -v clang++ || echo clang++)
  case $1 in
    release)
      printf '%s\n' -DCMAKE_CXX_COMPILER="$gxx" -DCMAKE_BUILD_TYPE=Release -DQUIVER_SANITIZE= \
        -DQUIVER_BUILD_TESTS=ON -DQUIVER_BUILD_BENCH=ON -DQUIVER_BUILD_FUZZ=OFF "${common[@]}" ;;
    asan | fuzz)
      printf '%s\n' -DCMAKE_CXX_COMPILER="$clangxx" -DCMAKE_BUILD_TYPE=Debug -DQUIVER_SANITIZE=address \
        -DQUIVER_BUILD_TESTS=ON -DQUIVER_BUILD_BENCH=OFF -DQUIVER_BUILD_FUZZ=ON "${common[@]}" ;;
    tsan)
      printf '%s\n' -DCMAKE_CXX_COMPILER="$gxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" -DQUIVER_SANITIZE=thread \
        -DQUIVER_BUILD_TESTS=ON -DQUIVER_BUILD_BENCH=OFF -DQUIVER_BUILD_FUZZ=OFF "${common[@]}" ;;
    *) echo "unknown suite $1" >&2; return 2 ;;
  esac
}

configure_suite() {  # configure_suite SUITE [DIR]
  local suite=$1 dir=${2:-}
  [ -n "$dir" ] || dir=$(suite_dir "$suite")
  local options
  mapfile -t options < <(suite_options "$suite")
  cmake -S . -B "$dir" -G Ninja "${options[@]}" >/dev/null
}
