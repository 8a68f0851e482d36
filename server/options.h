// quiverd's command line: the settings of service/settings.h as flags and
// as keys of a YAML config file (flags override the file), parsed once into
// the ServerOptions that main passes down. docs/configuration.md documents
// each one.
#pragma once

#include <optional>

#include "quiver/status.h"
#include "service/settings.h"
#include "util/units.h"  // ParseByteSize, the one size parser

namespace quiver {

// Parses argv (and the file named by --config). Returns nullopt after
// printing --help or --version (exit 0); an error names the bad flag or key.
Result<std::optional<ServerOptions>> ParseServerOptions(int argc, const char* const* argv);

}  // namespace quiver
