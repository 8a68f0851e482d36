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

}  // namespace quiver::bench
