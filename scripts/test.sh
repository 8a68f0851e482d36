#!/usr/bin/env bash
# The README's second command (and what CI runs): install what is missing,
# check the test command itself, then build and run every test three times: a
# Release build (GCC), an AddressSanitizer+UBSan build (clang, which also
# builds the libFuzzer targets) and a ThreadSanitizer build (GCC); then run
# each libFuzzer target briefly.
#   QUIVER_TEST_SUITES="release asan tsan fuzz"  choose suites (default: all)
#   QUIVER_FUZZ_SECONDS=20                        time per fuzz target
# Each suite configures its build directory with every option it depends on
# (scripts/lib/suites.sh), a suite that runs no test fails, and the last
# lines count what ran in each suite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/suites.sh
scripts/install-deps.sh
install_seconds=$SECONDS

suites=${QUIVER_TEST_SUITES:-"release asan tsan fuzz"}
fuzz_seconds=${QUIVER_FUZZ_SECONDS:-20}
jobs=$(nproc)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp"
failed=()
summary=()
total_passed=0
total_failed=0
timings=()  # what each phase took, for the summary (CI has a time budget)
fuzz_dir=$(suite_dir fuzz)

build() {  # build SUITE; adds the seconds it took to `timings`
  local dir start=$SECONDS
  dir=$(suite_dir "$1")
  echo "=== building $dir"
  configure_suite "$1"
  cmake --build "$dir" -j "$jobs"
  timings+=("build $1 $((SECONDS - start)) s")
}

run_ctest() {  # run_ctest NAME DIR JOBS [PREFIX...]
  local name=$1 dir=$2 parallel=$3 log status=0 passed failed_count skipped start=$SECONDS
  shift 3
  log="$dir/ctest.log"
  echo "=== testing: $name"
  # --no-tests=error: a directory configured without tests fails instead of
  # passing with nothing run. TSan needs a non-randomised address space on
  # newer kernels (the prefix).
  "$@" ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$parallel" --timeout 600 \
    2>&1 | tee "$log" || status=$?
  # "100% tests passed, 0 tests failed out of 209"
  read -r passed failed_count < <(sed -nE \
    's/^[0-9]+% tests passed, ([0-9]+) tests? failed out of ([0-9]+)$/\2 \1/p' "$log" |
    awk '{print $1 - $2, $2}') || true
  passed=${passed:-0}
  failed_count=${failed_count:-0}
  # Skipped tests count among ctest's "passed": say how many there were.
  skipped=$(grep -c '(Skipped)$' "$log" || true)
  passed=$((passed - skipped))
  timings+=("test $name $((SECONDS - start)) s")
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed_count))
  if [ "$status" -ne 0 ] || [ "$passed" -eq 0 ]; then
    failed+=("$name")
    summary+=("$name FAILED ($passed passed, $failed_count failed)")
  else
    summary+=("$name $passed passed$([ "$skipped" -eq 0 ] || echo ", $skipped skipped")")
  fi
}

fuzz_target() {  # fuzz_target BINARY; returns non-zero on a failure
  local target=$1 name corpus regressions
  name=$(basename "$target")
  # Inputs that once crashed a target are replayed first, every run,
  # without per-input leak checks, as the fuzzing below (see there).
  regressions=(tests/fuzz/regressions/"${name%_fuzzer}"-*)
  if [ -e "${regressions[0]}" ] && ! "$target" -detect_leaks=0 "${regressions[@]}" \
    >"$fuzz_dir/$name.regressions.log" 2>&1; then
    tail -40 "$fuzz_dir/$name.regressions.log"
    return 1
  fi
  echo "=== fuzzing $name for ${fuzz_seconds}s"
  corpus=$(mktemp -d)
  if [ -d "tests/fuzz/seeds/${name%_fuzzer}" ]; then
    cp tests/fuzz/seeds/"${name%_fuzzer}"/* "$corpus"/
  else
    /usr/bin/python3 tests/fuzz/make_seeds.py "$fuzz_dir/py" "$corpus"
  fi
  # -detect_leaks=0: no per-input leak checks, since the target's store
  # keeps rows across inputs (and LSan cannot see the table's tagged slot
  # pointers); LSan's check at exit, after the target tears its store down,
  # still reports anything not freed.
  local status=0
  "$target" -max_total_time="$fuzz_seconds" -print_final_stats=1 -detect_leaks=0 "$corpus" \
    >"$fuzz_dir/$name.log" 2>&1 || status=$?
  rm -rf "$corpus"
  if [ "$status" -ne 0 ]; then
    tail -40 "$fuzz_dir/$name.log"
    return 1
  fi
  echo "fuzz: $name passed ($(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "$fuzz_dir/$name.log"))"
}

fuzz_wait() {  # fuzz_wait PID:TARGET...; returns how many failed
  local job pid target failures=0
  for job in "$@"; do
    pid=${job%%:*}
    target=${job#*:}
    if ! wait "$pid"; then
      failures=$((failures + 1))
      failed+=("fuzz:$(basename "$target")")
    fi
    cat "$target.out"
  done
  return "$failures"
}

run_fuzz() {
  # install-deps.sh installs clang: without it, fuzzing fails rather than
  # being skipped.
  if ! command -v clang++ >/dev/null; then
    echo "fuzz: clang++ missing after scripts/install-deps.sh"
    failed+=(fuzz)
    summary+=("fuzz FAILED (no clang++)")
    return
  fi
  # The asan suite's directory: built already if that suite ran.
  build fuzz
  local start=$SECONDS
  flatc --python -o "$fuzz_dir/py" protocol/quiver.fbs  # for the seeds
  # One target per core at a time, each for the same time: a batch ends
  # when its last target does. Each target's output is shown once it ends.
  local target ran=0 bad=0 batch=() i
  local targets=("$fuzz_dir"/tests/*_fuzzer)
  for ((i = 0; i < ${#targets[@]}; i++)); do
    target=${targets[$i]}
    [ -x "$target" ] || continue
    ran=$((ran + 1))
    fuzz_target "$target" >"$target.out" 2>&1 &
    batch+=("$!:$target")
    if [ ${#batch[@]} -ge "$jobs" ] || [ $((i + 1)) -eq ${#targets[@]} ]; then
      fuzz_wait "${batch[@]}" || bad=$((bad + $?))
      batch=()
    fi
  done
  timings+=("fuzz $((SECONDS - start)) s")
  total_passed=$((total_passed + ran - bad))
  total_failed=$((total_failed + bad))
  if [ "$ran" -eq 0 ] || [ "$bad" -gt 0 ]; then
    [ "$ran" -eq 0 ] && failed+=("fuzz:no targets")
    summary+=("fuzz FAILED ($((ran - bad)) of $ran targets passed)")
  else
    summary+=("fuzz $ran targets")
  fi
}

# The test command's own trap (issue 23): a build directory configured
# without tests by another command must still run the tests here.
echo "=== checking the test command"
if tests/scripts/test_command_check.sh; then
  summary+=("test-command check passed")
  total_passed=$((total_passed + 1))
else
  failed+=(test-command-check)
  summary+=("test-command check FAILED")
  total_failed=$((total_failed + 1))
fi

for suite in $suites; do
  case $suite in
    release)
      build release
      # Two tests per core: Release tests mostly wait (on Kafka fetches,
      # on servers starting); measured, 150 s instead of 195.
      run_ctest release build/release $((2 * jobs)) ;;
    asan)
      build asan
      run_ctest asan+ubsan build/asan "$jobs" ;;
    tsan)
      build tsan
      run_ctest tsan build/tsan "$jobs" setarch "$(uname -m)" -R ;;
    fuzz) run_fuzz ;;
    *) echo "unknown suite $suite"; exit 2 ;;
  esac
done

not_run=()
for suite in release asan tsan fuzz; do
  [[ " $suites " == *" $suite "* ]] || not_run+=("$suite")
done

echo "=== summary"
echo "timings: install $install_seconds s, $(IFS=,; echo "${timings[*]}" | sed 's/,/, /g'); total $SECONDS s"
printf '%s' "${summary[0]}"
printf ', %s' "${summary[@]:1}"
echo
[ ${#not_run[@]} -eq 0 ] || echo "not selected (QUIVER_TEST_SUITES): ${not_run[*]}"
echo "$total_passed passed, $total_failed failed"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
