// BaselineStore: the captured drift baseline of each view version, kept in
// the history's meta column under "baseline/<view id>" (so a restart keeps
// them) and served from memory.
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "quiver/status.h"
#include "storage/history/meta_keys.h"
#include "storage/registry/registry.h"
#include "storage/stats/baseline.h"

namespace quiver {

class BaselineStore {
 public:
  // history may be null: baselines then last until the process exits.
  explicit BaselineStore(HistoryStore* history) : keys_(history, "baseline/") {}

  // Reads the stored baselines of the catalog's views. Call once, at start.
  Status Load(const Catalog& catalog);
  // Stores `baseline` in the history (committed with the server's
  // durability mode before this returns), then serves it as the view's;
  // an empty `fields` clears it.
  Status Put(uint32_t view_id, ViewBaseline baseline);
  // The captured baseline of a view, or null.
  std::shared_ptr<const ViewBaseline> Get(uint32_t view_id) const;

 private:
  MetaKeys keys_;
  mutable std::mutex mu_;
  std::unordered_map<uint32_t, std::shared_ptr<const ViewBaseline>> baselines_;  // guarded by mu_
};

}  // namespace quiver
