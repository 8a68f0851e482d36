// ColumnFamily: a handle on one column family of the history store, as written
// in a HistoryBatch. The store owns three (HistoryStore::kMeta, kHistory,
// kLatest); any other subsystem opens its own by name
// (HistoryStore::OpenColumn) and owns the encoding of the keys it writes
// there, so adding a subsystem does not change the store.
#pragma once

#include <cstdint>

namespace quiver {

struct ColumnFamily {
  uint8_t id = 0;
  friend bool operator==(ColumnFamily, ColumnFamily) = default;
};

}  // namespace quiver
