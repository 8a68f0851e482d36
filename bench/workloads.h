// The reference workload (../shared/WORKLOAD.md) for quiver and for Redis in
// today's layout: the data set loaders and the request generators of the
// `user` and `rank` read paths. Both sides hold the same values.
#pragma once

#include <cstdint>
#include <string>

#include "bench/load_driver.h"
#include "quiver/status.h"

namespace quiver::bench {

struct Scale {
  int64_t users = 2'000'000;
  int64_t items = 500'000;
  // quiver only: versions per entity, version v of entity n at event time
  // history_start_ms + v * version_step_ms + n % 1000 (0 versions: one, now).
  int versions = 0;
  int64_t history_start_ms = 1'793'491'200'000;  // 2026-11-01T00:00:00Z
  int64_t version_step_ms = 3'600'000;
};

// quiver: applies examples/features.yaml's views (given as YAML text) and
// writes every user's user_profile and every item's item_stats.
Status LoadQuiver(const std::string& host, uint16_t port, const std::string& definitions_yaml,
                  const Scale& scale);
// Redis, as today: one JSON string per entity and feature, written twice
// (fs:...:v{N} and fs:...:latest) with SETEX, 18M keys at full scale.
Status LoadRedis(const std::string& host, uint16_t port, const Scale& scale);

// user: one user's 4 user_profile fields. rank: one user's 3 fields and 100
// random items' 2 fields, in one round trip (quiver: two pipelined Gets in
// one write; Redis: one MGET of 203 keys).
RequestSource QuiverUserSource(const Scale& scale, uint64_t seed);
RequestSource QuiverRankSource(const Scale& scale, uint64_t seed);
RequestSource RedisUserSource(const Scale& scale, uint64_t seed);
RequestSource RedisRankSource(const Scale& scale, uint64_t seed);
// put: one user's whole user_profile row (4 fields, 32 floats) written with
// the event time now (quiver: one Put of one row; Redis: one SET of the same
// values as one JSON document, fs:user:uN:profile:latest).
RequestSource QuiverPutSource(const Scale& scale, uint64_t seed);
RequestSource RedisPutSource(const Scale& scale, uint64_t seed);

}  // namespace quiver::bench
