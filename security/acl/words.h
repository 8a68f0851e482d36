// The words of rules and of the file form's lines.
#pragma once

#include <string_view>
#include <vector>

namespace quiver::acl {

// The words of text between spaces (none empty).
std::vector<std::string_view> SplitWords(std::string_view text);
// Whether text holds white space (which the file form could not keep).
bool HasSpaces(std::string_view text);

}  // namespace quiver::acl
