#!/usr/bin/python3
"""The `rank` read from Python: one user's 3 user_profile fields and 100
random items' 2 item_stats fields, with quiver's get_online_features (two
pipelined Gets, one round trip) and with redis-py's MGET of the same 203
keys in today's layout (../shared/WORKLOAD.md), from the same interpreter,
one request at a time. Needs both data sets loaded (quiver-bench --load).

  PYTHONPATH=build/release/python bench/python_bench.py --quiver-port 7090 --redis-port 6390
"""
import argparse
import random
import time

import numpy as np
import redis

import quiver

FEATURES = ["user_profile:watch_count_7d", "user_profile:genre_preferences",
            "user_profile:preferred_hour", "item_stats:popularity_score", "item_stats:genre"]


def run(name, request, seconds):
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        request()
        latencies.append(time.perf_counter() - start)
    lat = np.array(latencies) * 1e3
    print(f"{name:<28} {len(lat) / seconds:10.0f} req/s   p50 {np.percentile(lat, 50):6.2f} ms"
          f"   p99 {np.percentile(lat, 99):6.2f} ms")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quiver-port", type=int, default=7070)
    p.add_argument("--redis-port", type=int, default=6379)
    p.add_argument("--users", type=int, default=2_000_000)
    p.add_argument("--items", type=int, default=500_000)
    p.add_argument("--seconds", type=float, default=10)
    a = p.parse_args()
    rng = random.Random(1)
    q = quiver.Client(port=a.quiver_port)
    r = redis.Redis(port=a.redis_port)

    def quiver_rank():
        keys = {"user_id": [f"u{rng.randrange(a.users)}"],
                "item_id": [f"i{rng.randrange(a.items)}" for _ in range(100)]}
        f = q.get_online_features(FEATURES, keys)
        assert f["item_stats:popularity_score"].shape == (100,)

    def redis_rank():
        user = f"fs:user:u{rng.randrange(a.users)}:"
        keys = [user + "watch_count_7d:latest", user + "genre_preferences:latest",
                user + "preferred_hour:latest"]
        for _ in range(100):
            item = f"fs:item:i{rng.randrange(a.items)}:"
            keys += [item + "popularity_score:latest", item + "genre:latest"]
        assert len(r.mget(keys)) == 203

    for _ in range(2):  # warm-up, then measured
        run("quiver get_online_features", quiver_rank, a.seconds / 5)
        run("redis-py MGET (203 keys)", redis_rank, a.seconds / 5)
    print("measured:")
    run("quiver get_online_features", quiver_rank, a.seconds)
    run("redis-py MGET (203 keys)", redis_rank, a.seconds)


if __name__ == "__main__":
    main()
