// What the files of HttpApi share (server/http/api.cc and
// dashboard_routes.cc): replies of statuses and documents, URL decoding,
// rows as JSON. Not for other libraries.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "server/http/api.h"

namespace quiver {

// The error reply of a failed status: its HTTP status, and its kind's name
// before the message ("OOM write refused …").
HttpReply StatusError(const Status& s);
// A JSON document, or the error that stopped it.
HttpReply JsonDocument(Result<std::string> doc);
// Percent-decodes a path segment or query value; false if malformed.
bool UrlDecode(std::string_view in, std::string* out);
// The value of `name` in a query string ("a=1&fields=x,y"), still encoded.
std::string_view QueryValue(std::string_view query, std::string_view name);
// One entity of a read as the CLI's `get --json` prints it.
void AppendRowJson(const ReadResult& r, size_t i, std::string_view key, std::string* out);
// An upper bound of the JSON of a read's rows, from the read before
// rendering it (keys: one per row).
uint64_t RowsJsonBound(const ReadResult& r, std::span<const std::string> keys);
// Appends ,"cluster":{...}: a cluster member's changelog.
void AppendClusterJson(const cluster::ChangelogStatus& c, std::string* out);
// The number of join keys of a view's entity.
Result<size_t> JoinKeyCount(FeatureStore& store, std::string_view view);

}  // namespace quiver
