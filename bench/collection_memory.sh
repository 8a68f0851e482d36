#!/usr/bin/env bash
# Memory of sets and sorted sets, quiverd against Redis 7 loaded with the
# same commands (redis-cli --pipe), each server's `INFO memory` used_memory
# before and after:
#   strings   one set of 1M short strings;
#   ints      one set of 1M integers;
#   small     1M sets of 3 strings (a listpack in quiver, a hash table in
#             Redis 7.0, whose sets have no listpack);
#   smallint  1M sets of 3 integers (intsets in both);
#   zset      one sorted set of 1M members (`member:N`, scores N * 1.5);
#   smallzset 1M sorted sets of 10 members (listpacks in both).
#   bench/collection_memory.sh [-n MEMBERS] [-k KIND,...]
set -euo pipefail
cd "$(dirname "$0")/.."
n=1000000
kinds=strings,ints,small,smallint,zset,smallzset
while [ $# -gt 0 ]; do
  case $1 in
    -n) n=$2; shift 2 ;;
    -k) kinds=$2; shift 2 ;;
    *) echo "usage: $0 [-n MEMBERS] [-k KIND,...]" >&2; exit 2 ;;
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
    elif kind == "zset":
        cmd("ZADD", "big:z", *[w for i in range(start, min(n, start + batch))
                               for w in (str(i * 1.5), f"member:{i}")])
    else:
        for i in range(start, min(n, start + batch)):
            if kind == "small":
                cmd("SADD", f"small:{i}", "red", "green", f"c{i % 50}")
            elif kind == "smallzset":
                cmd("ZADD", f"smallz:{i}", *[w for j in range(10) for w in (str(j), f"m{j}")])
            else:
                cmd("SADD", f"smallint:{i}", "1", "2", str(i % 50 + 3))
PY
}

used() {  # used PORT
  redis-cli -p "$1" info memory | tr -d '\r' | sed -n 's/^used_memory://p'
}

bench_banner ", $n members"
printf '%-42s %14s %14s %8s\n' load "quiver B/member" "Redis B/member" ratio
for kind in ${kinds//,/ }; do
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
    zset) what="one sorted set of $n members" ;;
    smallzset) what="$n sorted sets of 10 members (per set)" ;;
  esac
  printf '%-42s %14s %14s %8s\n' "$what" "${line[0]}" "${line[1]}" \
    "$(awk -v q="${line[0]}" -v r="${line[1]}" 'BEGIN { printf "%.2f", q / r }')"
done
