#!/usr/bin/env bash
# The README's second command (and what CI runs): install what is missing,
# then build and run every test three times: a Release build, an
# AddressSanitizer+UBSan build and a ThreadSanitizer build; then build the
# libFuzzer targets with clang and run each briefly.
#   QUIVER_TEST_SUITES="release asan tsan fuzz"  choose suites (default: all)
#   QUIVER_FUZZ_SECONDS=60                        time per fuzz target
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

suites=${QUIVER_TEST_SUITES:-"release asan tsan fuzz"}
fuzz_seconds=${QUIVER_FUZZ_SECONDS:-60}
jobs=$(nproc)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp"
failed=()

build() {  # build DIR CMAKE_ARGS...
  local dir=$1; shift
  echo "=== building $dir"
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

run_ctest() {  # run_ctest NAME DIR [PREFIX...]
  local name=$1 dir=$2; shift 2
  echo "=== testing: $name"
  # TSan needs a non-randomised address space on newer kernels.
  if ! "$@" ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600; then
    failed+=("$name")
  fi
}

for suite in $suites; do
  case $suite in
    release)
      build build/release -DCMAKE_BUILD_TYPE=Release
      run_ctest release build/release ;;
    asan)
      build build/asan -DCMAKE_BUILD_TYPE=Debug -DQUIVER_SANITIZE=address -DQUIVER_BUILD_BENCH=OFF
      run_ctest asan+ubsan build/asan ;;
    tsan)
      build build/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQUIVER_SANITIZE=thread -DQUIVER_BUILD_BENCH=OFF
      run_ctest tsan build/tsan setarch "$(uname -m)" -R ;;
    fuzz)
      if ! command -v clang++ >/dev/null; then echo "fuzz: clang++ missing, skipped"; continue; fi
      CXX=clang++ build build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQUIVER_SANITIZE=address \
        -DQUIVER_BUILD_FUZZ=ON -DQUIVER_BUILD_TESTS=OFF -DQUIVER_BUILD_BENCH=OFF
      for target in build/fuzz/tests/*_fuzzer; do
        name=$(basename "$target")
        # Inputs that once crashed a target are replayed first, every run.
        regressions=(tests/fuzz/regressions/"${name%_fuzzer}"-*)
        if [ -e "${regressions[0]}" ] && ! "$target" "${regressions[@]}" >"build/fuzz/$name.regressions.log" 2>&1; then
          tail -40 "build/fuzz/$name.regressions.log"
          failed+=("fuzz:$name:regressions")
        fi
        echo "=== fuzzing $name for ${fuzz_seconds}s"
        corpus=$(mktemp -d)
        if [ -d "tests/fuzz/seeds/${name%_fuzzer}" ]; then
          cp tests/fuzz/seeds/"${name%_fuzzer}"/* "$corpus"/
        else
          flatc --python -o build/fuzz/py protocol/quiver.fbs
          /usr/bin/python3 tests/fuzz/make_seeds.py build/fuzz/py "$corpus"
        fi
        # -detect_leaks=0: no per-input leak checks, since the target's store
        # keeps rows across inputs (and LSan cannot see the table's tagged
        # slot pointers); LSan's check at exit, after the target tears its
        # store down, still reports anything not freed.
        if "$target" -max_total_time="$fuzz_seconds" -print_final_stats=1 -detect_leaks=0 "$corpus" \
             >"build/fuzz/$name.log" 2>&1; then
          echo "fuzz: $name passed ($(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "build/fuzz/$name.log"))"
        else
          tail -40 "build/fuzz/$name.log"
          failed+=("fuzz:$name")
        fi
        rm -rf "$corpus"
      done ;;
    *) echo "unknown suite $suite"; exit 2 ;;
  esac
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED suites: ${failed[*]}"
  exit 1
fi
echo "all test suites passed: $suites"
