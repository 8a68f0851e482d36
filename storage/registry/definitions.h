// Parsing of feature definitions: the YAML file of entities and feature
// views that `quiver apply` and `quiverd --features` take (docs/features.md).
// Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "quiver/status.h"
#include "storage/registry/schema.h"
#include "util/units.h"  // ParseDuration, which definitions use for TTLs

namespace quiver {

struct Definitions {
  std::vector<Source> sources;
  std::vector<Entity> entities;
  std::vector<ViewSchema> views;  // id and layout not yet assigned
};

// Parses and validates one definitions document. Every error names the item
// and key at fault ("view user_profile@v2, field genre: unknown field type
// 'strng'"); unknown keys are errors, so a typo never passes silently.
Result<Definitions> ParseDefinitions(std::string_view yaml_text);

// True for names quiver accepts for entities, views, keys and fields:
// 1-128 characters of [A-Za-z0-9_-], not starting with '-'.
bool IsValidName(std::string_view name);

}  // namespace quiver
