// Pieces of `quiver import-redis` shared by its plain copy
// (import_redis.cc) and its feature mapping (import_map.cc).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "client/redis/resp_client.h"
#include "quiver/client.h"

namespace quiver::cli {

// What an import did, for its summary.
struct Tally {
  int64_t copied = 0, bytes = 0, seen = 0, vanished = 0;
  int64_t feature_keys = 0, rows = 0;                              // --map: keys read into rows
  std::map<std::string, std::pair<int64_t, std::string>> skipped;  // reason: count, an example

  void Skip(const std::string& reason, int db, std::string_view key) {
    auto& [count, example] = skipped[reason];
    if (count++ == 0) example = "db" + std::to_string(db) + " '" + std::string(key) + "'";
  }
};

// A key pattern with {placeholders}: "fs:user:{user_id}:{feature}:v{version}".
class KeyPattern {
 public:
  using Values = std::map<std::string, std::string, std::less<>>;
  static Result<KeyPattern> Parse(std::string_view text);
  // The placeholders' values (each non-empty) if key matches. A key whose
  // match would take more than kMaxMatchSteps tries (a long key full of
  // the pattern's separators) does not match.
  bool Match(std::string_view key, Values* values) const;
  static constexpr int kMaxMatchSteps = 10'000;
  // The key with every placeholder replaced by its value.
  std::string Format(const Values& values) const;
  bool Has(std::string_view name) const;

 private:
  struct Part {
    bool placeholder;
    std::string text;  // the literal, or the placeholder's name
  };
  bool MatchFrom(size_t part, std::string_view rest, Values* values, int* steps) const;
  std::vector<Part> parts_;
};

// --map PATTERN=VIEW: Redis keys of one feature value each, in JSON, read
// into the typed rows of a view (PATTERN's placeholders: the view's join
// keys, {feature}, and optionally {version}).
struct FeatureMap {
  KeyPattern pattern;
  std::string view;  // its name
};
Result<FeatureMap> ParseFeatureMap(std::string_view text);

// The keys of one database that match a map, read into rows entity by
// entity: the first key met of an entity fetches all of its fields' keys
// at once (GET and PTTL of each, pipelined), so the row is written whole.
class MappedImport {
 public:
  // views: every view version quiverd has. now_ms: the import's time.
  static Result<std::unique_ptr<MappedImport>> Make(std::vector<FeatureMap> maps,
                                                    std::vector<ViewInfo> views, int64_t now_ms);
  // Whether key is a feature key of a map (then it is this importer's:
  // its entity is queued, or was already).
  bool Take(int db, std::string_view key, Tally* t);
  // Reads the queued entities from src and writes their rows to quiverd.
  Status Flush(redis::RespClient& src, Client& client, Tally* t);

 private:
  struct Entity {
    size_t map;
    const ViewInfo* view;
    KeyPattern::Values values;
    int db;
  };
  MappedImport(std::vector<FeatureMap> maps, std::vector<ViewInfo> views, int64_t now_ms)
      : maps_(std::move(maps)), views_(std::move(views)), now_ms_(now_ms) {}
  const ViewInfo* FindView(const std::string& name, const KeyPattern::Values& values) const;

  std::vector<FeatureMap> maps_;
  std::vector<ViewInfo> views_;
  int64_t now_ms_;
  std::set<std::string> done_;  // view@vN and join-key values of entities queued
  std::vector<Entity> queued_;
};

}  // namespace quiver::cli
