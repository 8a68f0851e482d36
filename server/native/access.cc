// Who a native connection is and what it may do: the user its Hello
// authenticates (the default user until then), and each request checked
// against that user's permissions (service/feature_acl.h).
#include <string>
#include <vector>

#include "quiver_generated.h"
#include "server/native/handler.h"
#include "service/feature_acl.h"

namespace quiver {

namespace {

std::string_view View(const flatbuffers::String* s) {
  return s != nullptr ? std::string_view(s->c_str(), s->size()) : std::string_view();
}

// The views of a training set's features ("view:field", "view@vN:field").
std::vector<std::string_view> FeatureViews(const fb::TrainingBatch& t) {
  std::vector<std::string_view> views;
  if (t.features() == nullptr) return views;
  for (const flatbuffers::String* f : *t.features()) {
    const std::string_view feature = View(f);
    views.push_back(feature.substr(0, feature.find(':')));
  }
  return views;
}

// The request's kind as ACL rules name it ("get" of quiver|get) and the
// view it names; an empty kind for those every user may make (Hello, Ping,
// the views' descriptions). Training sets name several views (FeatureViews).
std::pair<std::string_view, std::string_view> KindAndView(const fb::Request& r) {
  using B = fb::RequestBody;
  switch (r.body_type()) {
    case B::Get:
      return {"get", View(r.body_as_Get()->view())};
    case B::GetAsOf:
      return {"getasof", View(r.body_as_GetAsOf()->view())};
    case B::History:
      return {"history", View(r.body_as_History()->view())};
    case B::Put:
      return {"put", View(r.body_as_Put()->view())};
    case B::Delete:
      return {"delete", View(r.body_as_Delete()->view())};
    case B::Backfill:
      return {"backfill", View(r.body_as_Backfill()->view())};
    case B::GetStatus:
      return {"monitor", {}};
    case B::GetMonitoring: {
      const fb::MonitoringKind kind = r.body_as_GetMonitoring()->kind();
      const bool baseline =
          kind == fb::MonitoringKind::CaptureBaseline || kind == fb::MonitoringKind::ClearBaseline;
      return {baseline ? "baseline" : "monitor", {}};
    }
    case B::ApplyDefinitions:
      return {"apply", {}};
    case B::Compact:
      return {"compact", {}};
    case B::Checkpoint:
      return {"checkpoint", {}};
    default:
      return {{}, {}};
  }
}

}  // namespace

NativeHandler::NativeHandler(FeatureStore& store, const NativeHandlerOptions& options)
    : store_(store), options_(options) {
  if (options_.users == nullptr) return;
  const uint64_t generation = options_.users->generation();
  std::shared_ptr<const acl::User> user = options_.users->Default();
  authenticated_ = user->enabled() && user->nopass();
  if (authenticated_) UseUser(std::move(user), generation);
}

void NativeHandler::CertificateNames(std::string_view name) {
  if (options_.users == nullptr || options_.user_from_certificate == nullptr ||
      !options_.user_from_certificate->load(std::memory_order_relaxed) || name.empty()) {
    return;
  }
  const uint64_t generation = options_.users->generation();
  std::shared_ptr<const acl::User> user = options_.users->Find(name);
  if (user == nullptr || !user->enabled()) return;
  authenticated_ = true;
  UseUser(std::move(user), generation);
}

void NativeHandler::UseUser(std::shared_ptr<const acl::User> user, uint64_t generation) {
  user_ = std::move(user);
  user_generation_ = generation;
}

Status NativeHandler::Authenticate(const fb::Hello& hello) {
  if (options_.users == nullptr) return Status::Ok();
  const std::string_view name = View(hello.user()), password = View(hello.password());
  if (name.empty() && password.empty()) {  // the default user, if it needs no password
    if (authenticated_) return Status::Ok();
    return Status::NoAuth(
        "this server requires a password: send it in Hello (quiver --password, "
        "ClientOptions::password, quiver.Client(password=...)), with a user's name if it is "
        "not the default user's");
  }
  const uint64_t generation = options_.users->generation();
  const Requester who{nullptr, "native", client_info_};
  std::shared_ptr<const acl::User> user =
      AuthenticateRequester(*options_.users, *options_.acl_log, name, password, who);
  if (user == nullptr)
    return Status::WrongPass("invalid username-password pair or user is disabled");
  authenticated_ = true;
  UseUser(std::move(user), generation);
  return Status::Ok();
}

Status NativeHandler::Permitted(const fb::Request& request) {
  if (options_.users == nullptr || user_ == nullptr) return Status::Ok();
  if (const uint64_t generation = options_.users->generation(); generation != user_generation_) {
    std::shared_ptr<const acl::User> again = options_.users->Find(user_->name());
    if (again == nullptr) {
      authenticated_ = false;
      user_ = nullptr;
      return Status::NoAuth("the user this connection authenticated as was deleted: send Hello");
    }
    UseUser(std::move(again), generation);
  }
  if (user_->unrestricted()) return Status::Ok();
  const Requester who{user_, "native", client_info_};
  if (request.body_type() == fb::RequestBody::TrainingBatch) {
    const std::vector<std::string_view> views = FeatureViews(*request.body_as_TrainingBatch());
    return CheckFeatureRequest(who, *options_.acl_log, "training", views);
  }
  const auto [kind, view] = KindAndView(request);
  if (kind.empty()) return Status::Ok();
  const std::string_view views[] = {view};
  return CheckFeatureRequest(who, *options_.acl_log, kind,
                             view.empty() ? std::span<const std::string_view>() : views);
}

}  // namespace quiver
