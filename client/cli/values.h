// Text to typed values for `quiver put`: field=value arguments parsed by the
// field's type from the view's description.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "quiver/client.h"

namespace quiver {

// Sets `field` in the current row of `batch` from `text`: bool (true,
// false, 1, 0), integers, floats, string and bytes as they are, float32[N]
// as N comma-separated numbers. Fails naming the field and the text.
Status SetFromText(WriteBatch& batch, const FieldInfo& field, std::string_view text);

// "u1,i9" -> {"u1", "i9"}; fails unless there are exactly `count` values.
Result<std::vector<std::string>> SplitKey(std::string_view key, size_t count);

}  // namespace quiver
