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
  if (!setting.runtime) return Status::FailedPrecondition("can't set immutable config");
  std::lock_guard<std::mutex> lock(mu_);
  ServerOptions changed = options_;
  QUIVER_RETURN_IF_ERROR(setting.Parse(text, &changed));
  auto it = on_check_.find(setting.name);
  if (it == on_check_.end()) return Status::Ok();
  for (const Validate& validate : it->second)
    QUIVER_RETURN_IF_ERROR(validate(changed));
  return Status::Ok();
}

Status RuntimeConfig::Set(const Setting& setting, std::string_view text) {
  QUIVER_RETURN_IF_ERROR(Check(setting, text));
  std::lock_guard<std::mutex> lock(mu_);
  QUIVER_RETURN_IF_ERROR(setting.Parse(text, &options_));
  auto it = on_change_.find(setting.name);
  if (it != on_change_.end()) {
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
