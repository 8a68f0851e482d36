// FeatureStore: typed reads and writes of feature rows over the registry and
// the online table. Every front end (native, RESP, HTTP, Kafka) calls these
// same functions; only the encoding of requests and answers differs.
//
// Threads: all methods may be called concurrently from threads registered
// with rcu::ThreadRegistration.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"
#include "storage/entity_key.h"
#include "storage/online_table.h"
#include "storage/registry.h"

namespace quiver {

// One field's values for all rows of a write, as little-endian bytes; the
// native protocol's vectors are wrapped without copying.
struct ColumnInput {
  std::string_view field;
  TypeSpec type;
  std::span<const uint8_t> fixed;     // fixed-width: rows * FixedWidth(type) bytes
  std::span<const uint32_t> offsets;  // string/bytes: rows + 1 offsets into data
  std::span<const uint8_t> data;
  std::span<const uint8_t> nulls;  // empty, or one byte per row: nonzero = row does not set it
};

struct WriteRequest {
  std::string_view view;  // "name" or "name@vN"
  // rows x the entity's join keys: row i is key_parts[i*K .. i*K+K-1].
  std::span<const std::string_view> key_parts;
  std::span<const int64_t> event_time_ms;  // rows values, one for all, or empty (now)
  std::span<const ColumnInput> columns;
};

struct WriteResult {
  uint32_t applied = 0;  // rows now served online
  uint32_t stale = 0;    // rows older than the online value (kept for history only)
};

enum class RowState : uint8_t { kFound = 0, kMissing = 1, kExpired = 2 };

struct ReadRequest {
  std::string_view view;
  std::span<const std::string_view> fields;  // empty: every field, in schema order
  std::span<const std::string_view> key_parts;
};

// What a read found. Pointers stay valid while the caller's rcu::ReadLock
// is held. Reusable: Read() clears it first.
struct ReadResult {
  const ViewSchema* view = nullptr;
  std::vector<int> fields;             // indexes into view->fields
  std::vector<const Record*> records;  // per entity; nullptr unless kFound
  std::vector<RowState> states;        // per entity
  EncodedKeys keys;                    // per entity
  int64_t now_ms = 0;
};

class FeatureStore {
 public:
  struct Options {
    size_t max_rows_per_request = 1'000'000;
    std::function<int64_t()> now_ms;  // default: the system clock
  };

  FeatureStore(Registry& registry, OnlineTable& table, Options options);

  // Parses and applies a definitions document (see Registry::Apply).
  Result<ApplyReport> Apply(std::string_view yaml_text);

  // REQUIRES: the caller holds an rcu::ReadLock while it uses *out.
  // Fails, with *out unspecified, on an unknown view or field or bad keys.
  Status Read(const ReadRequest& request, ReadResult* out) const;

  // Validates the whole request first, so bad input changes nothing; then
  // applies each row, merging the fields it sets into the current row
  // (fields it does not set keep their values). Last-writer-wins by event
  // time. Fails with ResourceExhausted if the batch would exceed the
  // memory limit.
  Result<WriteResult> Write(const WriteRequest& request);

  // Removes the online rows of the given entities; returns how many existed.
  Result<uint32_t> Delete(std::string_view view, std::span<const std::string_view> key_parts);

  Registry& registry() { return registry_; }
  OnlineTable& table() { return table_; }
  int64_t NowMs() const { return options_.now_ms(); }

 private:
  struct ResolvedWrite;
  Status Validate(const WriteRequest& request, const Catalog& catalog, ResolvedWrite* out) const;
  // Encodes one key per entity from key_parts (K values each).
  Status ResolveKeys(const ViewSchema& view, const Catalog& catalog,
                     std::span<const std::string_view> key_parts, EncodedKeys* keys) const;

  Registry& registry_;
  OnlineTable& table_;
  Options options_;
};

}  // namespace quiver
