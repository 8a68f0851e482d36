// Answers are bounded before they are built: a front end computes an upper
// bound of an answer's size from the read (the native codec's
// GetReplyBytes, the HTTP port's JSON bound) and refuses a request whose
// answer would not fit its limit, instead of building it first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "quiver/status.h"

namespace quiver {

// OK if an answer of `bytes` fits `limit`; else ResourceExhausted saying
// how big the answer would be and how many of the `entities` would fit.
// limit_name names the setting ("--max-frame").
Status CheckAnswerSize(uint64_t bytes, uint64_t limit, size_t entities,
                       std::string_view limit_name);

}  // namespace quiver
