// Registry: the entities and feature views the server knows, as an
// immutable Catalog snapshot. Readers get the current catalog inside an
// rcu::ReadLock without taking any lock; Apply builds a new catalog and
// publishes it atomically, so a reader sees either all of an apply or none.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "quiver/status.h"
#include "storage/registry/definitions.h"
#include "storage/registry/schema.h"

namespace quiver {

class Catalog {
 public:
  const Entity* FindEntity(std::string_view name) const;
  const Source* FindSource(std::string_view name) const;
  // The named version, or the latest one if ref.version == 0.
  Result<const ViewSchema*> Resolve(const ViewRef& ref) const;
  // The view a reference as people write it names ("user_profile",
  // "user_profile@v2"): ParseViewRef, then Resolve. Every front end
  // resolves view names through this.
  Result<const ViewSchema*> ResolveName(std::string_view text) const;
  // How many join keys the view's entity has (1 if it is unknown).
  size_t JoinKeyCount(const ViewSchema& view) const;
  // The view version with this id, or nullptr.
  const ViewSchema* ById(uint32_t id) const;

  // Grows with every catalog the registry publishes.
  uint64_t generation() const { return generation_; }
  const std::vector<Entity>& entities() const { return entities_; }
  const std::vector<Source>& sources() const { return sources_; }
  // Every version of every view, ordered by name then version.
  const std::vector<std::shared_ptr<const ViewSchema>>& views() const { return views_; }

 private:
  friend class Registry;
  uint64_t generation_ = 0;
  std::vector<Source> sources_;
  std::vector<Entity> entities_;
  std::vector<std::shared_ptr<const ViewSchema>> views_;
  std::vector<const ViewSchema*> by_id_;  // index = id; ids start at 1
};

struct ApplyReport {
  std::vector<std::string> created;  // "entity user", "view user_profile@v2"
  std::vector<std::string> updated;  // metadata changes (owner, tags, description, ...)
  std::vector<std::string> unchanged;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // REQUIRES: the caller holds an rcu::ReadLock; the catalog stays valid
  // until it is released.
  const Catalog& current() const;

  // Validates the definitions against themselves and the current catalog,
  // then publishes them all or, on any error, nothing. Refused: a view
  // version whose row schema (entity, ttl, fields, types, defaults) differs
  // from the stored one (AlreadyExists: publish a new version instead), an
  // entity whose keys changed, a view of an unknown entity, depends_on
  // naming an unknown view. Metadata of an existing version may change.
  // Thread-safe; applies are serialised. If the apply changes anything,
  // `persist` (when given) runs after validation and before publishing;
  // its failure publishes nothing.
  Result<ApplyReport> Apply(const Definitions& defs,
                            const std::function<Status()>& persist = nullptr);

 private:
  std::mutex apply_mu_;                  // serialises Apply
  std::atomic<const Catalog*> current_;  // published with release, read with acquire
};

}  // namespace quiver
