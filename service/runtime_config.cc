#include "service/runtime_config.h"

namespace quiver {

void RuntimeConfig::OnChange(std::string_view name, Apply apply) {
  std::lock_guard<std::mutex> lock(mu_);
  on_change_[std::string(name)].push_back(std::move(apply));
}

void RuntimeConfig::OnCheck(std::string_view name, Validate validate) {
  std::lock_guard<std::mutex> lock(mu_);
  on_check_[std::string(name)].push_back(std::move(validate));
}

std::string RuntimeConfig::Get(const Setting& setting) const {
  std::lock_guard<std::mutex> lock(mu_);
  return setting.Format(options_);
}

Status RuntimeConfig::Check(const Setting& setting, std::string_view text) const {
  const Change change{&setting, text};
  size_t failed = 0;
  return Check(std::span(&change, 1), &failed);
}

Status RuntimeConfig::Set(const Setting& setting, std::string_view text) {
  const Change change{&setting, text};
  return Set(std::span(&change, 1));
}

Status RuntimeConfig::Check(std::span<const Change> changes, size_t* failed) const {
  std::lock_guard<std::mutex> lock(mu_);
  ServerOptions changed = options_;
  for (size_t i = 0; i < changes.size(); ++i) {
    *failed = i;
    if (!changes[i].setting->runtime)
      return Status::FailedPrecondition("can't set immutable config");
    QUIVER_RETURN_IF_ERROR(changes[i].setting->Parse(changes[i].text, &changed));
  }
  for (size_t i = 0; i < changes.size(); ++i) {
    *failed = i;
    auto it = on_check_.find(changes[i].setting->name);
    if (it == on_check_.end()) continue;
    for (const Validate& validate : it->second)
      QUIVER_RETURN_IF_ERROR(validate(changed));
  }
  return Status::Ok();
}

Status RuntimeConfig::Set(std::span<const Change> changes) {
  size_t failed = 0;
  QUIVER_RETURN_IF_ERROR(Check(changes, &failed));
  std::lock_guard<std::mutex> lock(mu_);
  for (const Change& c : changes)
    QUIVER_RETURN_IF_ERROR(c.setting->Parse(c.text, &options_));
  for (const Change& c : changes) {
    auto it = on_change_.find(c.setting->name);
    if (it == on_change_.end()) continue;
    for (const Apply& apply : it->second)
      apply(options_);
  }
  return Status::Ok();
}

void RuntimeConfig::Resolve(const std::function<void(ServerOptions&)>& resolve) {
  std::lock_guard<std::mutex> lock(mu_);
  resolve(options_);
}

ServerOptions RuntimeConfig::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return options_;
}

}  // namespace quiver
