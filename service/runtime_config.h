// RuntimeConfig: the settings quiverd runs with (service/settings.h), as
// CONFIG GET reads them and CONFIG SET changes them. A setting declared
// runtime may change while quiverd runs: the owners of what it governs
// register, with OnChange, what a change must do (the online table's limit,
// the password). Thread-safe: any thread may Get, Set or take a Snapshot.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"
#include "service/settings.h"

namespace quiver {

class RuntimeConfig {
 public:
  explicit RuntimeConfig(ServerOptions options) : options_(std::move(options)) {}
  RuntimeConfig(const RuntimeConfig&) = delete;
  RuntimeConfig& operator=(const RuntimeConfig&) = delete;

  using Apply = std::function<void(const ServerOptions&)>;
  // Runs apply(options) after every change of the setting named (its
  // config key), under the config's lock, so changes apply in order.
  // Register before serving.
  void OnChange(std::string_view name, Apply apply);

  using Validate = std::function<Status(const ServerOptions&)>;
  // Runs validate(options as a change would leave them) before every
  // change of the setting named; an error refuses the change.
  void OnCheck(std::string_view name, Validate validate);

  // The setting's value as text (Setting::Format).
  std::string Get(const Setting& setting) const;
  // Whether Set would accept the value: a runtime setting, and text its
  // parser takes, and the setting's OnCheck validators accept. The error is
  // FailedPrecondition "can't set immutable config", the parser's
  // InvalidArgument or a validator's.
  Status Check(const Setting& setting, std::string_view text) const;
  // Changes a runtime setting and runs its OnChange actions. Fails as Check.
  Status Set(const Setting& setting, std::string_view text);

  // Several settings changed together (CONFIG SET a x b y): each is
  // checked, by its validators, with the options as all of them leave
  // them (a certificate with its key), and set only if all are accepted.
  struct Change {
    const Setting* setting;
    std::string_view text;
  };
  // As Check; *failed: the index of the change refused.
  Status Check(std::span<const Change> changes, size_t* failed) const;
  // Makes the changes, then runs the OnChange actions of each. Fails as Check.
  Status Set(std::span<const Change> changes);
  // Records a value worked out at start (the port bound for port 0); no
  // OnChange actions run.
  void Resolve(const std::function<void(ServerOptions&)>& resolve);
  ServerOptions Snapshot() const;

 private:
  mutable std::mutex mu_;
  ServerOptions options_;                                               // guarded by mu_
  std::map<std::string, std::vector<Apply>, std::less<>> on_change_;    // guarded by mu_
  std::map<std::string, std::vector<Validate>, std::less<>> on_check_;  // guarded by mu_
};

}  // namespace quiver
