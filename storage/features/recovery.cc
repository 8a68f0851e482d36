// FeatureStore::Recover: the registry and the online table rebuilt from the
// history at start-up.
#include <chrono>

#include <spdlog/spdlog.h>

#include "storage/features/feature_store.h"
#include "util/rcu.h"

namespace quiver {

Status FeatureStore::Recover() {
  if (history_ == nullptr) return Status::Ok();
  QUIVER_RETURN_IF_ERROR(RecoverRegistry());
  {
    rcu::ReadLock lock;
    QUIVER_RETURN_IF_ERROR(baselines_.Load(registry_.current()));
  }
  return RecoverTable();
}

Status FeatureStore::RecoverRegistry() {
  QUIVER_ASSIGN_OR_RETURN(std::vector<std::string> docs, history_->LoadDefinitions());
  for (size_t i = 0; i < docs.size(); ++i) {
    Result<Definitions> defs = ParseDefinitions(docs[i]);
    Result<ApplyReport> applied =
        defs.ok() ? registry_.Apply(*defs) : Result<ApplyReport>(defs.status());
    if (!applied.ok()) {
      return Status::Internal("stored definitions document " + std::to_string(i + 1) +
                              " no longer applies: " + applied.status().message());
    }
  }
  rcu::ReadLock lock;
  for (const auto& view : registry_.current().views())
    history_->SetRetention(view->id, view->retention_ms);
  return Status::Ok();
}

Status FeatureStore::RecoverTable() {
  const auto start = std::chrono::steady_clock::now();
  rcu::ReadLock lock;
  const Catalog& catalog = registry_.current();
  int64_t rows = 0;
  QUIVER_RETURN_IF_ERROR(history_->ScanLatest([&](const history::DecodedKey& key,
                                                  const history::LatestValue& value) -> Status {
    const ViewSchema* view = catalog.ById(key.view_id);
    if (view == nullptr) {
      return Status::Internal("a stored row belongs to view id " + std::to_string(key.view_id) +
                              ", which the registry lacks");
    }
    auto build = [&](const Record*) {
      return CopyRecord(*view, key.entity_key, value.row, value.event_time_ms, value.write_time_ms);
    };
    QUIVER_RETURN_IF_ERROR(
        table_.Upsert(view->id, key.entity_key, value.event_time_ms, build).status());
    ++rows;
    return Status::Ok();
  }));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("recovered {} rows of {} views in {:.2f} s", rows, catalog.views().size(), seconds);
  return Status::Ok();
}

}  // namespace quiver
