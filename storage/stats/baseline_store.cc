#include "storage/stats/baseline_store.h"

#include <string>

namespace quiver {

Status BaselineStore::Load(const Catalog& catalog) {
  if (keys_.store() == nullptr) return Status::Ok();
  for (const auto& view : catalog.views()) {
    std::string bytes;
    QUIVER_ASSIGN_OR_RETURN(bool found, keys_.Get(std::to_string(view->id), &bytes));
    if (!found || bytes.empty()) continue;  // empty: cleared
    Result<ViewBaseline> b = DecodeBaseline(bytes);
    if (!b.ok()) {
      return Status::Internal("the drift baseline of " + view->QualifiedName() + ": " +
                              b.status().message());
    }
    std::lock_guard lock(mu_);
    baselines_[view->id] = std::make_shared<const ViewBaseline>(std::move(*b));
  }
  return Status::Ok();
}

Status BaselineStore::Put(uint32_t view_id, ViewBaseline baseline) {
  const bool clear = baseline.fields.empty();
  if (HistoryStore* history = keys_.store()) {
    QUIVER_RETURN_IF_ERROR(history->health());
    HistoryBatch batch;
    keys_.Put(&batch, std::to_string(view_id), clear ? std::string() : EncodeBaseline(baseline));
    history->Submit(std::move(batch), nullptr);
    history->Drain();
    QUIVER_RETURN_IF_ERROR(history->health());
  }
  std::lock_guard lock(mu_);
  if (clear) {
    baselines_.erase(view_id);
  } else {
    baselines_[view_id] = std::make_shared<const ViewBaseline>(std::move(baseline));
  }
  return Status::Ok();
}

std::shared_ptr<const ViewBaseline> BaselineStore::Get(uint32_t view_id) const {
  std::lock_guard lock(mu_);
  auto it = baselines_.find(view_id);
  return it == baselines_.end() ? nullptr : it->second;
}

}  // namespace quiver
