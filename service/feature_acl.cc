#include "service/feature_acl.h"

#include <vector>

#include "util/clock.h"

namespace quiver {

namespace {

using acl::Bit;
constexpr acl::Categories kRead = Bit(acl::kRead), kWrite = Bit(acl::kWrite),
                          kFast = Bit(acl::kFast), kSlow = Bit(acl::kSlow),
                          kAdmin = Bit(acl::kAdmin) | Bit(acl::kDangerous);

constexpr FeatureRequest kRequests[] = {
    {"get", kRead | kFast, acl::kReadAccess},
    {"getasof", kRead | kSlow, acl::kReadAccess},
    {"history", kRead | kSlow, acl::kReadAccess},
    {"training", kRead | kSlow, acl::kReadAccess},
    {"put", kWrite | kFast, acl::kWriteAccess},
    {"delete", kWrite | kFast, acl::kWriteAccess},
    {"backfill", kWrite | kSlow, acl::kWriteAccess},
    {"monitor", kSlow | Bit(acl::kDangerous), 0},
    {"apply", kAdmin | kSlow, 0},
    {"baseline", kAdmin | kSlow, 0},
    {"compact", kAdmin | kSlow, 0},
    {"checkpoint", kAdmin | kSlow, 0},
};

constexpr std::string_view kContainer = "quiver";

// A feature request: its id and the keys of the views it names.
class ViewRequest : public acl::Request {
 public:
  ViewRequest(int id, uint8_t access, std::span<const std::string_view> views)
      : id_(id), access_(access) {
    for (std::string_view v : views)
      keys_.push_back("quiver:" + std::string(v.substr(0, v.find('@'))) + ":*");
  }
  int command() const override { return id_; }
  std::string_view first_arg() const override { return {}; }
  void ForEachKey(FunctionRef<bool(size_t, std::string_view, uint8_t)> fn) const override {
    if (access_ == 0) return;
    for (size_t i = 0; i < keys_.size(); ++i)
      if (!fn(i, keys_[i], access_)) return;
  }
  void ForEachChannel(FunctionRef<bool(size_t, std::string_view, bool)>) const override {}

 private:
  int id_;
  uint8_t access_;
  std::vector<std::string> keys_;
};

void Log(acl::AclLog& log, const Requester& who, std::string_view reason, std::string_view object,
         std::string_view username) {
  log.Add({.reason = std::string(reason),
           .context = std::string(who.context),
           .object = std::string(object),
           .username = std::string(username),
           .client_info = std::string(who.client_info)},
          SystemNowMs());
}

}  // namespace

std::string FeatureClientInfo(std::string_view addr, std::string_view laddr,
                              std::string_view port) {
  return "id=0 addr=" + std::string(addr) + " laddr=" + std::string(laddr) +
         " fd=-1 name= age=0 idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 "
         "qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r "
         "cmd=" +
         std::string(port) + " redir=-1 resp=0";
}

std::span<const FeatureRequest> FeatureRequests() {
  return kRequests;
}

void AddFeatureRequests(acl::Catalog& catalog) {
  const int container = catalog.Add(kContainer, 0);
  for (const FeatureRequest& r : kRequests)
    catalog.AddSubcommand(container, r.name, r.categories);
}

Status CheckFeatureRequest(const Requester& who, acl::AclLog& log, std::string_view name,
                           std::span<const std::string_view> views) {
  const acl::User& user = *who.user;
  if (user.unrestricted()) return Status::Ok();
  const std::string full = std::string(kContainer) + "|" + std::string(name);
  const int id = user.root().catalog().Find(full);
  uint8_t access = 0;
  for (const FeatureRequest& r : kRequests) {
    if (r.name == name) access = r.view_access;
  }
  const acl::Verdict v = user.Check(ViewRequest(id, access, views));
  if (v.denial == acl::Denial::kNone) return Status::Ok();
  if (v.denial == acl::Denial::kCommand) {
    Log(log, who, "command", full, user.name());
    return Status::NoPermission("this user has no permissions to run the '" + full + "' request");
  }
  const std::string_view view = views[v.position];
  Log(log, who, "key", "quiver:" + std::string(view.substr(0, view.find('@'))) + ":*", user.name());
  return Status::NoPermission(std::string("this user has no permissions to ") +
                              (access == acl::kWriteAccess ? "write" : "read") + " the view '" +
                              std::string(view) + "'");
}

std::shared_ptr<const acl::User> AuthenticateRequester(const acl::Users& users, acl::AclLog& log,
                                                       std::string_view name,
                                                       std::string_view password,
                                                       const Requester& who) {
  const std::string_view user = name.empty() ? acl::kDefaultUser : name;
  std::shared_ptr<const acl::User> found = users.Authenticate(user, password);
  if (found == nullptr)
    Log(log, who, "auth", who.context == "http" ? "authorization" : "hello", user);
  return found;
}

}  // namespace quiver
