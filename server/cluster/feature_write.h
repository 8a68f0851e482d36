// Bodies of the changelog's feature-row records (server/cluster/record.h):
//
//   kPut:    the rows of one partition of a write (FeatureStore::Write):
//            varint-sized view ("name@vN", resolved by the writer) ·
//            varint key count K · varint rows · rows*K varint-sized key
//            parts · u8 times (0: none, the record's time; 1: one for all;
//            2: one per row) and the i64 times · varint columns · per
//            column: varint-sized field · u8 type · u32 dim · u8 nulls
//            present · per row: varint-sized value (a fixed-width value's
//            bytes, a string's or bytes' own) · per row, if nulls present,
//            u8 null
//   kDelete: varint-sized view · varint K · varint rows · rows*K
//            varint-sized key parts
//
// A row's partition is its entity key's: its join-key values joined by
// ':' ("user42", "user42:item7"), so a {hash tag} in the first keeps an
// entity's rows of every view together.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"
#include "storage/features/feature_store.h"

namespace quiver::cluster {

// The rows (indexes) of a write or delete whose entities map to each
// partition; partitions with no row are left out.
struct PartitionRows {
  int partition = 0;
  std::vector<uint32_t> rows;
};
std::vector<PartitionRows> SplitRows(std::span<const std::string_view> key_parts, size_t keys,
                                     int partitions);

// Encodes rows `rows` of a write whose view is `view` and whose rows have
// `keys` key parts each.
void EncodePut(const WriteRequest& w, std::string_view view, size_t keys,
               std::span<const uint32_t> rows, std::string* out);
void EncodeDelete(std::string_view view, std::span<const std::string_view> key_parts, size_t keys,
                  std::span<const uint32_t> rows, std::string* out);

// A decoded kPut: `request` points into the body and into the storage
// here (values copied so that they are aligned), valid while both live.
struct DecodedPut {
  WriteRequest request;
  std::vector<std::string_view> key_parts;
  std::vector<int64_t> times;
  std::vector<ColumnInput> columns;
  std::vector<std::string> fixed;              // per column: its values packed
  std::vector<std::vector<uint32_t>> offsets;  // per column (string, bytes)
  std::vector<std::string> data;               // per column (string, bytes)
  std::vector<std::vector<uint8_t>> nulls;     // per column
};
Status DecodePut(std::string_view body, DecodedPut* out);

struct DecodedDelete {
  std::string_view view;
  std::vector<std::string_view> key_parts;
};
Status DecodeDelete(std::string_view body, DecodedDelete* out);

}  // namespace quiver::cluster
