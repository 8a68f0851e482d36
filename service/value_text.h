// One feature value as text, the one renderer every front end uses: the
// RESP port's hash values (numbers in decimal, bools as 1 or 0, vectors as
// comma-separated numbers, strings and bytes as they are) and the HTTP
// port's JSON (bools as true/false, vectors as arrays, strings escaped,
// bytes in base64, non-finite numbers as null). Numbers are in their
// shortest exact form either way. Pure functions; any thread.
#pragma once

#include <string>

#include "storage/features/feature_store.h"
#include "storage/online/row.h"
#include "storage/registry/schema.h"

namespace quiver {

enum class ValueFormat : uint8_t { kText, kJson };

// Appends field fi of a row: its value if the row has it, else the field's
// default (also when row is null).
void AppendFieldValue(const Field& field, const RowReader* row, size_t fi, ValueFormat format,
                      std::string* out);

// An upper bound of the JSON text of field fi's values over every entity
// of a read (AppendFieldValue with kJson); exact for strings and bytes.
uint64_t JsonValuesBound(const ReadResult& read, int fi);

}  // namespace quiver
