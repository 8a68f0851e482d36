# Sourced by the benchmark scripts (after `cd` to the repository): the
# build to measure, a work directory, and a cleanup at exit that stops the
# servers a script started (quiverd as $qpid, Redis on $redis_port) and
# removes the work directory. A script may define bench_cleanup_extra for
# more (it runs first).
build=${BUILD:-build/release}
. scripts/lib/suites.sh
work=$(mktemp -d "${WORK:-/tmp}/quiver-bench.XXXXXX")
bench_cleanup() {
  if declare -F bench_cleanup_extra >/dev/null; then bench_cleanup_extra; fi
  if [ -n "${redis_port:-}" ]; then
    redis-cli "${tls_client[@]}" -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  fi
  if [ -n "${qpid:-}" ]; then kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null; fi
  rm -rf "$work"
}
trap bench_cleanup EXIT

# The first line of every report: versions, cores, time.
bench_banner() {
  local redis=""
  [ -n "${redis_port:-}" ] && redis="redis $(redis-server --version | grep -o 'v=[0-9.]*'), "
  echo "${redis}quiverd $("$build/server/quiverd" --version), $(nproc) cores," \
    "$(date -u +%Y-%m-%dT%H:%MZ)$*"
}

# bench_need PATH... (relative to the build, e.g. server/quiverd): with the
# default build, configures it as the test command's Release suite does
# (scripts/lib/suites.sh: every option explicit, so a directory another
# command configured cannot lack a benchmark's targets) and builds the
# targets the paths name; with BUILD set, only checks that they exist.
bench_need() {
  local path targets=()
  for path in "$@"; do targets+=("$(basename "$path")"); done
  if [ -z "${BUILD:-}" ]; then
    echo "bench: building ${targets[*]} in $build" >&2
    configure_suite release "$build"
    cmake --build "$build" --target "${targets[@]}" >/dev/null
  fi
  for path in "$@"; do
    [ -x "$build/$path" ] || { echo "$build/$path is missing (build it, or unset BUILD)" >&2; exit 2; }
  done
}

# bench_labels FILE N SCALE START_MS SPAN_MS: N label rows of the
# reference data set (a user, an item, a time in [START, START + SPAN),
# a 0/1 label) as CSV, the same for the same arguments.
bench_labels() {
  /usr/bin/python3 - "$@" <<'PY'
import random, sys
path, n, scale, start, span = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
users, items = max(1, int(2_000_000 * scale)), max(1, int(500_000 * scale))
rng = random.Random(1)
with open(path, "w") as f:
    f.write("user_id,item_id,event_timestamp,clicked\n")
    for _ in range(n):
        f.write(f"u{rng.randrange(users)},i{rng.randrange(items)},{start + rng.randrange(span)},{rng.randrange(2)}\n")
PY
}

# With TLS=1, both servers speak TLS on those ports (mutual TLS, with
# certificates made here by openssl), and every redis-cli and
# redis-benchmark takes "${tls_client[@]}".
tls_client=()
redis_listen=()
quiver_listen=()
bench_tls() {
  local d=$work/certs
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
      -subj "/CN=bench CA" 2>/dev/null
    for name in server client; do
      openssl req -newkey rsa:2048 -nodes -keyout $name.key -out $name.csr -subj "/CN=$name" \
        2>/dev/null
      echo "subjectAltName=IP:127.0.0.1,DNS:localhost" >$name.ext
      openssl x509 -req -in $name.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
        -extfile $name.ext -out $name.crt 2>/dev/null
    done
  )
  local files=(--tls-cert-file "$d/server.crt" --tls-key-file "$d/server.key"
    --tls-ca-cert-file "$d/ca.crt")
  tls_client=(--tls --cacert "$d/ca.crt" --cert "$d/client.crt" --key "$d/client.key")
  redis_listen=(--port 0 --tls-port "${redis_port:-0}" "${files[@]}")
  quiver_listen=(--resp-port off --tls-port "${quiver_port:-0}" "${files[@]}")
}

# bench_start_resp_servers PIN_PREFIX... (empty: unpinned): Redis on
# $redis_port (with ${redis_persistence[@]}) and quiverd's RESP port on
# $quiver_port (--durability $quiver_durability; one I/O thread when
# pinned), fresh in $work, over TLS after bench_tls; returns once both
# answer PING.
bench_start_resp_servers() {
  rm -rf "$work/quiver" "$work/appendonlydir"
  [ ${#redis_listen[@]} -gt 0 ] || redis_listen=(--port "$redis_port")
  [ ${#quiver_listen[@]} -gt 0 ] || quiver_listen=(--resp-port "$quiver_port")
  "$@" redis-server "${redis_listen[@]}" --save "" "${redis_persistence[@]}" --daemonize yes \
    --logfile "$work/redis.log" --dir "$work"
  local threads=()
  [ $# -gt 0 ] && threads=(--threads 1)
  "$@" "$build/server/quiverd" --port 0 "${quiver_listen[@]}" --http-port off \
    --durability "$quiver_durability" \
    --data-dir "$work/quiver" --log-level warn "${threads[@]}" &
  qpid=$!
  for _ in $(seq 1 100); do
    redis-cli "${tls_client[@]}" -p "$redis_port" ping >/dev/null 2>&1 &&
      redis-cli "${tls_client[@]}" -p "$quiver_port" ping >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "servers did not start" >&2
  exit 1
}
