// Whole small files: read, and replaced atomically and durably (a crash
// leaves the old contents or the new, never a part).
#pragma once

#include <string>
#include <string_view>

#include "quiver/status.h"

namespace quiver {

Result<std::string> ReadWholeFile(const std::string& path);
// Writes a temporary file beside `path`, syncs it, renames it over `path`
// and syncs the directory.
Status ReplaceFile(const std::string& path, std::string_view contents);

}  // namespace quiver
