#include "server/options.h"

#include <iostream>
#include <map>

#include <yaml-cpp/yaml.h>
#include <CLI/CLI.hpp>

#include "util/version.h"

namespace quiver {

namespace {

// Values as given, by setting: the file's first, then the flags'.
using Given = std::map<const Setting*, std::string>;

Status LoadConfigFile(const std::string& path, Given* given) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("config file " + path + ": " + e.what());
  }
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap()) return Status::InvalidArgument("config file " + path + ": expected a mapping");
  for (const auto& kv : root) {
    const std::string name = kv.first.as<std::string>();
    const Setting* setting = nullptr;
    for (const Setting& s : Settings())
      setting = name == s.name ? &s : setting;
    if (setting == nullptr) {
      return Status::InvalidArgument("config file " + path + ": unknown key '" + name + "'");
    }
    if (!kv.second.IsScalar()) {
      return Status::InvalidArgument("config file " + path + ": '" + name + "' must be a scalar");
    }
    (*given)[setting] = kv.second.Scalar();
  }
  return Status::Ok();
}

std::string HelpOf(const Setting& s) {
  return std::string(s.help) + " (default " + s.DefaultForPeople() + ")";
}

}  // namespace

Result<std::optional<ServerOptions>> ParseServerOptions(int argc, const char* const* argv) {
  CLI::App app("quiverd: the quiver feature server. Flags override the --config file.", "quiverd");
  app.set_version_flag("--version", std::string(kQuiverVersion));
  std::string config;
  app.add_option("--config", config, "YAML config file; its keys are the flag names with '_'");
  std::map<const Setting*, std::string> flags;
  for (const Setting& s : Settings())
    app.add_option(s.Flag(), flags[&s], HelpOf(s));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    std::cout << app.help();
    return std::optional<ServerOptions>();
  } catch (const CLI::CallForVersion& e) {
    std::cout << kQuiverVersion << "\n";
    return std::optional<ServerOptions>();
  } catch (const CLI::ParseError& e) {
    return Status::InvalidArgument(std::string(e.what()) + " (see quiverd --help)");
  }
  Given given;
  if (!config.empty()) QUIVER_RETURN_IF_ERROR(LoadConfigFile(config, &given));
  for (const Setting& s : Settings()) {
    if (app.count(s.Flag()) > 0) given[&s] = flags[&s];
  }
  ServerOptions options;
  // In the table's order, whichever came from where.
  for (const Setting& s : Settings()) {
    auto it = given.find(&s);
    if (it != given.end()) QUIVER_RETURN_IF_ERROR(s.Parse(it->second, &options));
  }
  ResolveAutomatic(&options);
  return std::optional<ServerOptions>(std::move(options));
}

}  // namespace quiver
