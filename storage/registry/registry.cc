#include "storage/registry/registry.h"

#include <algorithm>
#include <tuple>

#include <urcu/urcu-memb.h>

#include "util/rcu.h"

namespace quiver {

const Entity* Catalog::FindEntity(std::string_view name) const {
  for (const Entity& e : entities_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

const Source* Catalog::FindSource(std::string_view name) const {
  for (const Source& s : sources_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Result<const ViewSchema*> Catalog::Resolve(const ViewRef& ref) const {
  const ViewSchema* best = nullptr;
  bool any = false;
  for (const auto& v : views_) {
    if (v->name != ref.name) continue;
    any = true;
    if (ref.version == 0 ? (best == nullptr || v->version > best->version)
                         : v->version == ref.version) {
      best = v.get();
    }
  }
  if (best != nullptr) return best;
  if (!any) return Status::NotFound("unknown view '" + ref.name + "'");
  return Status::NotFound("view '" + ref.name + "' has no version " + std::to_string(ref.version));
}

Result<const ViewSchema*> Catalog::ResolveName(std::string_view text) const {
  QUIVER_ASSIGN_OR_RETURN(ViewRef ref, ParseViewRef(text));
  return Resolve(ref);
}

size_t Catalog::JoinKeyCount(const ViewSchema& view) const {
  const Entity* entity = FindEntity(view.entity);
  return entity != nullptr ? entity->join_keys.size() : 1;
}

const ViewSchema* Catalog::ById(uint32_t id) const {
  return id < by_id_.size() ? by_id_[id] : nullptr;
}

namespace {

struct RetiredCatalog {
  rcu_head head;
  const Catalog* catalog;
};

void FreeCatalog(rcu_head* head) {
  rcu::BeforeReclaim();
  auto* retired = reinterpret_cast<RetiredCatalog*>(head);
  delete retired->catalog;
  delete retired;
}

bool SameMetadata(const ViewSchema& a, const ViewSchema& b) {
  if (a.freshness_ms != b.freshness_ms || a.retention_ms != b.retention_ms ||
      a.description != b.description || a.owner != b.owner || a.tags != b.tags ||
      a.depends_on != b.depends_on) {
    return false;
  }
  for (size_t i = 0; i < a.fields.size(); ++i) {
    if (a.fields[i].description != b.fields[i].description ||
        !(a.fields[i].expected == b.fields[i].expected) ||
        !(a.fields[i].checks == b.fields[i].checks) || !(a.fields[i].drift == b.fields[i].drift)) {
      return false;
    }
  }
  return true;
}

Status MergeEntities(const Definitions& defs, std::vector<Entity>& entities, ApplyReport& report) {
  for (const Entity& e : defs.entities) {
    auto it = std::find_if(entities.begin(), entities.end(),
                           [&](const Entity& x) { return x.name == e.name; });
    const Entity* existing = it == entities.end() ? nullptr : &*it;
    if (existing == nullptr) {
      entities.push_back(e);
      report.created.push_back("entity " + e.name);
    } else if (existing->join_keys != e.join_keys) {
      return Status::AlreadyExists("entity " + e.name +
                                   " already exists with different keys; entities cannot change "
                                   "their keys (define a new entity)");
    } else {
      report.unchanged.push_back("entity " + e.name);
    }
  }
  return Status::Ok();
}

// A source may change (its topic, say) in place: views name it, and Kafka
// offsets are kept per topic and partition.
void MergeSources(const Definitions& defs, std::vector<Source>& sources, ApplyReport& report) {
  for (const Source& s : defs.sources) {
    auto it = std::find_if(sources.begin(), sources.end(),
                           [&](const Source& x) { return x.name == s.name; });
    if (it == sources.end()) {
      sources.push_back(s);
      report.created.push_back("source " + s.name);
    } else if (*it == s) {
      report.unchanged.push_back("source " + s.name);
    } else {
      *it = s;
      report.updated.push_back("source " + s.name);
    }
  }
}

// Checks a sourced view's source and key mapping, and puts its key paths in
// the entity's key order.
Status ResolveSourceKeys(ViewSchema& v, const Catalog& next) {
  if (v.source.empty()) return Status::Ok();
  const std::string where = "view " + v.QualifiedName();
  if (next.FindSource(v.source) == nullptr) {
    return Status::NotFound(where + ": unknown source '" + v.source + "'");
  }
  const Entity* entity = next.FindEntity(v.entity);
  if (entity == nullptr) return Status::NotFound(where + ": unknown entity '" + v.entity + "'");
  std::vector<std::pair<std::string, std::string>> ordered;
  for (const std::string& key : entity->join_keys) {
    auto it = std::find_if(v.key_paths.begin(), v.key_paths.end(),
                           [&](const auto& kp) { return kp.first == key; });
    if (it == v.key_paths.end()) {
      return Status::InvalidArgument(where + ", keys: no path for join key '" + key + "'");
    }
    ordered.push_back(*it);
  }
  if (ordered.size() != v.key_paths.size()) {
    return Status::InvalidArgument(where + ", keys: entity " + v.entity +
                                   " has no such join key (its keys are the only ones to map)");
  }
  v.key_paths = std::move(ordered);
  return Status::Ok();
}

Status CheckViewAgainst(const ViewSchema& v, const Catalog& next) {
  const std::string where = "view " + v.QualifiedName();
  if (next.FindEntity(v.entity) == nullptr) {
    return Status::NotFound(where + ": unknown entity '" + v.entity + "'");
  }
  for (const std::string& dep : v.depends_on) {
    Result<ViewRef> ref = ParseViewRef(dep);
    if (!ref.ok())
      return Status::InvalidArgument(where + ", depends_on: " + ref.status().message());
    if (!next.Resolve(*ref).ok()) {
      return Status::NotFound(where + ", depends_on: unknown view '" + dep + "'");
    }
  }
  return Status::Ok();
}

}  // namespace

Registry::Registry() : current_(new Catalog) {}

Registry::~Registry() {
  rcu::Barrier();  // frees of earlier catalogs finish before we go
  delete current_.load(std::memory_order_acquire);
}

const Catalog& Registry::current() const {
  return *current_.load(std::memory_order_acquire);
}

Result<ApplyReport> Registry::Apply(const Definitions& defs,
                                    const std::function<Status()>& persist) {
  std::lock_guard<std::mutex> lock(apply_mu_);
  const Catalog* old = current_.load(std::memory_order_acquire);
  auto next = std::make_unique<Catalog>(*old);
  ++next->generation_;
  ApplyReport report;
  MergeSources(defs, next->sources_, report);
  QUIVER_RETURN_IF_ERROR(MergeEntities(defs, next->entities_, report));

  // Add all views first so depends_on may name views of the same document.
  std::vector<const ViewSchema*> to_check;
  for (const ViewSchema& v : defs.views) {
    auto existing = std::find_if(next->views_.begin(), next->views_.end(), [&](const auto& p) {
      return p->name == v.name && p->version == v.version;
    });
    auto fresh = std::make_shared<ViewSchema>(v);
    QUIVER_RETURN_IF_ERROR(ResolveSourceKeys(*fresh, *next));
    FinalizeView(*fresh);
    if (existing == next->views_.end()) {
      fresh->id = static_cast<uint32_t>(std::max<size_t>(next->by_id_.size(), 1));
      next->by_id_.resize(fresh->id + 1, nullptr);
      report.created.push_back("view " + v.QualifiedName());
    } else if (!(*existing)->SameRowSchema(*fresh)) {
      return Status::AlreadyExists("view " + v.QualifiedName() +
                                   " already exists with a different schema; publish the change "
                                   "as version " +
                                   std::to_string(v.version + 1) + " instead");
    } else if (SameMetadata(**existing, *fresh)) {
      report.unchanged.push_back("view " + v.QualifiedName());
      continue;
    } else {
      fresh->id = (*existing)->id;
      next->views_.erase(existing);
      report.updated.push_back("view " + v.QualifiedName());
    }
    next->by_id_[fresh->id] = fresh.get();
    to_check.push_back(fresh.get());
    next->views_.push_back(std::move(fresh));
  }
  for (const ViewSchema* v : to_check)
    QUIVER_RETURN_IF_ERROR(CheckViewAgainst(*v, *next));
  std::sort(next->views_.begin(), next->views_.end(), [](const auto& a, const auto& b) {
    return std::tie(a->name, a->version) < std::tie(b->name, b->version);
  });
  const bool changed = !report.created.empty() || !report.updated.empty();
  if (changed && persist) QUIVER_RETURN_IF_ERROR(persist());

  current_.store(next.release(), std::memory_order_release);
  rcu::ThreadRegistration registration;
  rcu::Retire(&(new RetiredCatalog{{}, old})->head, FreeCatalog);
  return report;
}

}  // namespace quiver
