#include "server/cluster/write_ids.h"

#include <algorithm>

#include "storage/history/history_key.h"

namespace quiver::cluster {

// Keys: "<topic>/" · 8-byte big-endian partition · id. Values: 8-byte
// big-endian time · reply.

WriteIds::WriteIds(HistoryStore* history, std::string_view topic, int partitions)
    : history_(history),
      prefix_(std::string(topic) + "/"),
      partitions_(static_cast<size_t>(partitions)) {}

Result<std::unique_ptr<WriteIds>> WriteIds::Open(HistoryStore* history, std::string_view topic,
                                                 int partitions) {
  std::unique_ptr<WriteIds> ids(new WriteIds(history, topic, partitions));
  if (history != nullptr) {
    QUIVER_ASSIGN_OR_RETURN(ids->column_, history->OpenColumn(kColumn));
    QUIVER_RETURN_IF_ERROR(ids->Load());
  }
  return ids;
}

Status WriteIds::Load() {
  const Status scanned =
      history_->Scan(column_, prefix_, [&](std::string_view key, std::string_view value) {
        if (key.size() < prefix_.size() + 8 || value.size() < 8) {
          return Status::IoError("corrupt stored write id");
        }
        const uint64_t p = history::ReadBig64(key.data() + prefix_.size());
        if (p >= partitions_.size()) return Status::Ok();  // the topic had more partitions
        const auto time = static_cast<int64_t>(history::ReadBig64(value.data()));
        std::string id(key.substr(prefix_.size() + 8));
        Partition& part = partitions_[p];
        part.order.emplace_back(time, id);
        part.replies.emplace(std::move(id), Entry{time, std::string(value.substr(8))});
        return Status::Ok();
      });
  QUIVER_RETURN_IF_ERROR(scanned);
  int64_t total = 0;
  for (Partition& part : partitions_) {
    // Stored in key order; forgotten oldest first. Equal times keep key
    // order on every member alike.
    std::stable_sort(part.order.begin(), part.order.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    total += static_cast<int64_t>(part.order.size());
  }
  size_ = total;
  return Status::Ok();
}

const std::string* WriteIds::Find(int32_t partition, std::string_view id) const {
  const Partition& part = partitions_[static_cast<size_t>(partition)];
  auto it = part.replies.find(std::string(id));
  return it == part.replies.end() ? nullptr : &it->second.reply;
}

void WriteIds::Remember(int32_t partition, std::string_view id, int64_t time,
                        std::string_view reply, HistoryBatch* batch) {
  if (id.empty()) return;
  Partition& part = partitions_[static_cast<size_t>(partition)];
  auto [it, added] = part.replies.try_emplace(std::string(id), Entry{time, std::string(reply)});
  if (!added) return;
  part.order.emplace_back(time, it->first);
  size_.fetch_add(1, std::memory_order_relaxed);
  if (batch != nullptr) {
    std::string value;
    history::AppendBig64(static_cast<uint64_t>(time), &value);
    value.append(reply);
    batch->Put(column_, Key(partition, id), value);
  }
  Expire(partition, time, batch);  // past kMaxPerPartition
}

void WriteIds::Expire(int32_t partition, int64_t time, HistoryBatch* batch) {
  Partition& part = partitions_[static_cast<size_t>(partition)];
  while (!part.order.empty() &&
         (part.order.front().first <= time - kWindowMs || part.order.size() > kMaxPerPartition)) {
    const std::string& id = part.order.front().second;
    if (batch != nullptr) batch->Delete(column_, Key(partition, id));
    part.replies.erase(id);
    part.order.pop_front();
    size_.fetch_sub(1, std::memory_order_relaxed);
  }
}

std::string WriteIds::Key(int32_t partition, std::string_view id) const {
  std::string key = prefix_;
  history::AppendBig64(static_cast<uint64_t>(partition), &key);
  key.append(id);
  return key;
}

}  // namespace quiver::cluster
