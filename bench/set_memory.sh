#!/usr/bin/env bash
# Memory of sets, quiverd against Redis 7 loaded with the same commands
# (redis-cli --pipe), each server's `INFO memory` used_memory before and
# after: one set of 1M short strings, one set of 1M integers, and 1M small
# sets (3 members each: a listpack in quiver, a hash table in Redis 7.0,
# whose sets have no listpack; and 1M small integer sets, intsets in both).
#   bench/set_memory.sh [-n MEMBERS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=1000000
while [ $# -gt 0 ]; do
  case $1 in
    -n) n=$2; shift 2 ;;
    *) echo "usage: $0 [-n MEMBERS]" >&2; exit 2 ;;
  esac
done
redis_port=6393
quiver_port=6394
. bench/common.sh
bench_need server/quiverd

redis_persistence=(--appendonly no)
quiver_durability=memory
bench_start_resp_servers

# The commands of one load, as RESP, into a file both servers read.
commands() {  # commands KIND
  /usr/bin/python3 - "$1" "$n" >"$work/$1.resp" <<'PY'
import sys
kind, n = sys.argv[1], int(sys.argv[2])
out = sys.stdout.buffer
def cmd(*words):
    out.write(b"*%d\r\n" % len(words))
    for w in words:
        w = w.encode()
        out.write(b"$%d\r\n%s\r\n" % (len(w), w))
batch = 100
for start in range(0, n, batch):
    if kind == "strings":
        cmd("SADD", "big:s", *[f"member:{i}" for i in range(start, min(n, start + batch))])
    elif kind == "ints":
        cmd("SADD", "big:i", *[str(i) for i in range(start, min(n, start + batch))])
    else:
        for i in range(start, min(n, start + batch)):
            if kind == "small":
                cmd("SADD", f"small:{i}", "red", "green", f"c{i % 50}")
            else:
                cmd("SADD", f"smallint:{i}", "1", "2", str(i % 50 + 3))
PY
}

used() {  # used PORT
  redis-cli -p "$1" info memory | tr -d '\r' | sed -n 's/^used_memory://p'
}

bench_banner ", $n members"
printf '%-42s %14s %14s %8s\n' load "quiver B/member" "Redis B/member" ratio
for kind in strings ints small smallint; do
  commands "$kind"
  line=()
  for port in "$quiver_port" "$redis_port"; do
    before=$(used "$port")
    redis-cli -p "$port" --pipe <"$work/$kind.resp" >/dev/null
    after=$(used "$port")
    line+=("$(( (after - before) / n ))")
  done
  case $kind in
    strings) what="one set of $n strings" ;;
    ints) what="one set of $n integers" ;;
    small) what="$n sets of 3 strings (per set)" ;;
    smallint) what="$n sets of 3 integers (per set)" ;;
  esac
  printf '%-42s %14s %14s %8s\n' "$what" "${line[0]}" "${line[1]}" \
    "$(awk -v q="${line[0]}" -v r="${line[1]}" 'BEGIN { printf "%.2f", q / r }')"
done
