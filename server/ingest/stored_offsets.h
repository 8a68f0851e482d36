// StoredOffsets: the next offset to consume of each source partition,
// kept in the history's meta column under
// "kafka-offset/<topic>/<partition>" (8 bytes, big-endian), written in the
// same batch as the data its messages produced. quiverd resumes from these,
// not from the group's offsets in Kafka, so a crash can neither skip nor
// repeat an event.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "quiver/status.h"
#include "storage/history/history_key.h"
#include "storage/history/meta_keys.h"

namespace quiver {

class StoredOffsets {
 public:
  // history may be null: nothing is stored, and every partition starts
  // from its beginning.
  explicit StoredOffsets(HistoryStore* history) : keys_(history, "kafka-offset/") {}

  Result<std::optional<int64_t>> Load(std::string_view topic, int32_t partition) const {
    std::string stored;
    QUIVER_ASSIGN_OR_RETURN(bool found, keys_.Get(Name(topic, partition), &stored));
    if (!found) return std::optional<int64_t>();
    if (stored.size() != 8) {
      return Status::IoError("corrupt stored offset of " + Name(topic, partition) + " (" +
                             std::to_string(stored.size()) + " bytes)");
    }
    return std::optional<int64_t>(static_cast<int64_t>(history::ReadBig64(stored.data())));
  }

  void Save(HistoryBatch* batch, std::string_view topic, int32_t partition, int64_t offset) const {
    std::string bytes;
    history::AppendBig64(static_cast<uint64_t>(offset), &bytes);
    keys_.Put(batch, Name(topic, partition), bytes);
  }

 private:
  static std::string Name(std::string_view topic, int32_t partition) {
    return std::string(topic) + "/" + std::to_string(partition);
  }

  MetaKeys keys_;
};

}  // namespace quiver
