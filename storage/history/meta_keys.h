// MetaKeys: the entries one subsystem keeps in the history store's meta
// column (HistoryStore::kMeta), all under a prefix of its own ("baseline/",
// "kafka-offset/"): small values read once at start-up or on an event, and
// written in the same batch as the data they describe. The store's own
// entries ("definitions/", "next_seq") are outside every such prefix.
#pragma once

#include <string>
#include <string_view>

#include "quiver/status.h"
#include "storage/history/commit_queue.h"
#include "storage/history/history_store.h"

namespace quiver {

class MetaKeys {
 public:
  // REQUIRES: prefix ends with '/' and is not "definitions/".
  MetaKeys(HistoryStore* store, std::string prefix) : store_(store), prefix_(std::move(prefix)) {}

  HistoryStore* store() const { return store_; }
  // Reads the entry `name`; false if there is none (or no store).
  Result<bool> Get(std::string_view name, std::string* value) const {
    if (store_ == nullptr) return false;
    return store_->Get(HistoryStore::kMeta, Key(name), value);
  }
  // Adds a write of the entry `name` to the batch.
  void Put(HistoryBatch* batch, std::string_view name, std::string_view value) const {
    batch->Put(HistoryStore::kMeta, Key(name), value);
  }

 private:
  std::string Key(std::string_view name) const { return prefix_ + std::string(name); }

  HistoryStore* store_;
  std::string prefix_;
};

}  // namespace quiver
