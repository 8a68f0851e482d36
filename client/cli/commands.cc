#include "client/cli/commands.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "client/cli/csv.h"
#include "client/cli/values.h"
#include "client/json.h"
#include "protocol/text_list.h"
#include "protocol/timestamp.h"
#include "protocol/view_json.h"

namespace quiver::cli {

int Fail(const Status& status) {
  std::cerr << "quiver: " << StatusCodeName(status.code()) << ": " << status.message() << "\n";
  return 1;
}

std::vector<std::string> SplitCommas(const std::string& text) {
  const std::vector<std::string_view> items = SplitCommaList(text);
  return {items.begin(), items.end()};
}

std::string CellText(const Column& column, size_t row) {
  if (column.type().type == FieldType::kString) return std::string(column.string_value(row));
  std::string out;
  AppendJsonValue(column, row, &out);
  return out;
}

void AppendCsvCell(const Column& column, size_t row, std::string* out) {
  switch (column.type().type) {
    case FieldType::kString:
      AppendCsvField(column.string_value(row), out);
      return;
    case FieldType::kBytes:
      AppendCsvField(CellText(column, row), out);
      return;
    case FieldType::kFloat32Vector:
      if (column.type().dim > 1) {  // commas inside: quoted
        out->push_back('"');
        AppendJsonValue(column, row, out);
        out->push_back('"');
        return;
      }
      break;
    default:
      break;
  }
  AppendJsonValue(column, row, out);  // numbers: never quoted
}

Result<std::vector<Position>> ParsePositions(const std::string& text) {
  std::vector<Position> out;
  for (const std::string& item : SplitCommas(text)) {
    Position p;
    const size_t colon = item.find(':');
    char* end = nullptr;
    if (colon != std::string::npos) {
      p.partition = static_cast<int32_t>(std::strtol(item.c_str(), &end, 10));
      if (end == item.c_str() + colon) p.offset = std::strtoll(item.c_str() + colon + 1, &end, 10);
    }
    if (colon == std::string::npos || colon == 0 || colon + 1 == item.size() || *end != '\0' ||
        p.partition < 0 || p.offset < 0) {
      return Status::InvalidArgument("position '" + item +
                                     "': expected PARTITION:OFFSET, as `quiver put` prints it");
    }
    out.push_back(p);
  }
  return out;
}

std::string PositionsText(const std::vector<Position>& positions) {
  std::string text;
  for (const Position& p : positions) {
    if (!text.empty()) text += ",";
    text += std::to_string(p.partition) + ":" + std::to_string(p.offset);
  }
  return text;
}

namespace {

std::string StateName(RowState state) {
  switch (state) {
    case RowState::kFound:
      return "found";
    case RowState::kMissing:
      return "missing";
    case RowState::kExpired:
      return "expired";
  }
  return "unknown";
}

std::string DurationText(int64_t ms) {
  char buf[32];
  if (ms >= 86'400'000 && ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms >= 3'600'000 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms < 1000)
    std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ms));
  else if (ms < 3'600'000)
    std::snprintf(buf, sizeof buf, "%.1fs", ms / 1000.0);
  else
    std::snprintf(buf, sizeof buf, "%.1fh", ms / 3'600'000.0);
  return buf;
}

// Splits every KEY argument into its join-key values, all in one list.
Result<std::vector<std::string>> FlattenKeys(const std::vector<std::string>& keys, size_t per_key) {
  std::vector<std::string> parts;
  for (const std::string& k : keys) {
    QUIVER_ASSIGN_OR_RETURN(std::vector<std::string> p, SplitKey(k, per_key));
    parts.insert(parts.end(), p.begin(), p.end());
  }
  return parts;
}

Result<std::unique_ptr<Client>> Open(const ClientOptions& options) {
  return Client::Connect(options);
}

void PrintRowJson(const GetResult& r, size_t i, const std::string& key) {
  std::string out = "{\"key\":";
  AppendJsonString(key, &out);
  out += ",\"state\":\"" + StateName(r.state(i)) + "\"";
  if (r.found(i)) {
    out += ",\"event_time\":\"" + FormatTimestampMs(r.event_time_ms(i)) + "\"";
    out += ",\"age_ms\":" + std::to_string(r.age_ms(i));
  }
  out += ",\"features\":{";
  for (size_t c = 0; c < r.columns().size(); ++c) {
    const Column& col = r.columns()[c];
    if (c > 0) out.push_back(',');
    AppendJsonString(col.name(), &out);
    out.push_back(':');
    AppendJsonValue(col, i, &out);
  }
  out += "},\"defaulted\":[";
  bool first = true;
  for (const Column& col : r.columns()) {
    if (!col.is_null(i)) continue;
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(col.name(), &out);
  }
  std::cout << out << "]}\n";
}

void PrintRowText(const GetResult& r, size_t i, const std::string& key) {
  std::cout << r.view() << "  " << key << "  " << StateName(r.state(i));
  if (r.found(i)) {
    std::cout << "  event " << FormatTimestampMs(r.event_time_ms(i)) << "  age "
              << DurationText(r.age_ms(i));
  }
  std::cout << "\n";
  size_t width = 0;
  for (const Column& col : r.columns())
    width = std::max(width, col.name().size());
  for (const Column& col : r.columns()) {
    std::string value;
    AppendJsonValue(col, i, &value);
    std::cout << "  " << col.name() << std::string(width + 2 - col.name().size(), ' ') << value
              << (col.is_null(i) ? "  (default)" : "") << "\n";
  }
}

}  // namespace

int Apply(const ClientOptions& options, const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(Status::IoError("cannot read " + path));
  std::stringstream text;
  text << in.rdbuf();
  auto client = Open(options);
  if (!client.ok()) return Fail(client.status());
  Result<ApplyResult> result = (*client)->Apply(text.str());
  if (!result.ok()) return Fail(result.status());
  for (const auto& s : result->created)
    std::cout << "created   " << s << "\n";
  for (const auto& s : result->updated)
    std::cout << "updated   " << s << "\n";
  for (const auto& s : result->unchanged)
    std::cout << "unchanged " << s << "\n";
  return 0;
}

int Put(const ClientOptions& options, const PutArgs& args) {
  auto client = Open(options);
  if (!client.ok()) return Fail(client.status());
  Result<ViewInfo> view = (*client)->Describe(args.view);
  if (!view.ok()) return Fail(view.status());
  int64_t event_time = WriteBatch::kNow;
  if (!args.event_time.empty()) {
    Result<int64_t> t = ParseTimestampMs(args.event_time);
    if (!t.ok()) return Fail(t.status());
    event_time = *t;
  }
  Result<std::vector<std::string>> key = SplitKey(args.key, view->join_keys.size());
  if (!key.ok()) return Fail(key.status());
  WriteBatch batch(args.view);
  batch.Row(*key, event_time);
  for (const std::string& a : args.assignments) {
    const size_t eq = a.find('=');
    if (eq == std::string::npos)
      return Fail(Status::InvalidArgument("expected field=value, got '" + a + "'"));
    const std::string name = a.substr(0, eq);
    const FieldInfo* field = nullptr;
    for (const FieldInfo& f : view->fields)
      field = f.name == name ? &f : field;
    if (field == nullptr) {
      return Fail(Status::NotFound("view " + view->name + "@v" + std::to_string(view->version) +
                                   " has no field '" + name + "'"));
    }
    if (Status s = SetFromText(batch, *field, std::string_view(a).substr(eq + 1)); !s.ok())
      return Fail(s);
  }
  Result<PutResult> result = (*client)->Put(batch);
  if (!result.ok()) return Fail(result.status());
  std::cout << (result->stale > 0 ? "stale: a newer value is already served" : "ok");
  if (!result->positions.empty()) std::cout << "  position " << PositionsText(result->positions);
  std::cout << "\n";
  return 0;
}

int Get(const ClientOptions& options, const GetArgs& args) {
  auto client = Open(options);
  if (!client.ok()) return Fail(client.status());
  Result<ViewInfo> view = (*client)->Describe(args.view);
  if (!view.ok()) return Fail(view.status());
  Result<std::vector<std::string>> parts = FlattenKeys(args.keys, view->join_keys.size());
  if (!parts.ok()) return Fail(parts.status());
  Result<std::vector<Position>> after = ParsePositions(args.after);
  if (!after.ok()) return Fail(after.status());
  Result<GetResult> result = Status::Internal("unset");
  if (args.as_of.empty()) {
    result = (*client)->Get(
        {args.view, std::move(parts).value(), SplitCommas(args.fields), std::move(*after)});
  } else {
    Result<int64_t> t = ParseTimestampMs(args.as_of);
    if (!t.ok()) return Fail(t.status());
    result = (*client)->GetAsOf(
        {args.view, std::move(parts).value(), {*t}, SplitCommas(args.fields), std::move(*after)});
  }
  if (!result.ok()) return Fail(result.status());
  for (size_t i = 0; i < result->size(); ++i) {
    if (args.json)
      PrintRowJson(*result, i, args.keys[i]);
    else
      PrintRowText(*result, i, args.keys[i]);
  }
  return 0;
}

int Views(const ClientOptions& options, bool json) {
  auto client = Open(options);
  if (!client.ok()) return Fail(client.status());
  Result<std::vector<ViewInfo>> views = (*client)->ListViews();
  if (!views.ok()) return Fail(views.status());
  for (const ViewInfo& v : *views) {
    if (json) {
      std::cout << ViewJson(v) << "\n";
      continue;
    }
    std::cout << v.name << "@v" << v.version << "  entity " << v.entity << "  " << v.fields.size()
              << " fields  ttl " << (v.ttl_ms > 0 ? DurationText(v.ttl_ms) : "none")
              << (v.owner.empty() ? "" : "  owner " + v.owner) << "\n";
  }
  return 0;
}

int Describe(const ClientOptions& options, const std::string& view) {
  auto client = Open(options);
  if (!client.ok()) return Fail(client.status());
  Result<ViewInfo> info = (*client)->Describe(view);
  if (!info.ok()) return Fail(info.status());
  std::cout << ViewJson(*info) << "\n";
  return 0;
}

int Delete(const ClientOptions& options, const std::string& view,
           const std::vector<std::string>& keys) {
  auto client = Open(options);
  if (!client.ok()) return Fail(client.status());
  Result<ViewInfo> info = (*client)->Describe(view);
  if (!info.ok()) return Fail(info.status());
  Result<std::vector<std::string>> parts = FlattenKeys(keys, info->join_keys.size());
  if (!parts.ok()) return Fail(parts.status());
  Result<uint32_t> deleted = (*client)->Delete(view, *parts);
  if (!deleted.ok()) return Fail(deleted.status());
  std::cout << "deleted " << *deleted;
  if (!(*client)->written().empty())
    std::cout << "  position " << PositionsText((*client)->written());
  std::cout << "\n";
  return 0;
}

namespace {

Result<HistoryRequest> MakeHistoryRequest(const HistoryArgs& args, size_t join_keys) {
  HistoryRequest r;
  r.view = args.view;
  QUIVER_ASSIGN_OR_RETURN(r.key, SplitKey(args.key, join_keys));
  if (!args.from.empty()) {
    QUIVER_ASSIGN_OR_RETURN(r.from_ms, ParseTimestampMs(args.from));
  }
  if (!args.to.empty()) {
    QUIVER_ASSIGN_OR_RETURN(r.to_ms, ParseTimestampMs(args.to));
  }
  static const std::pair<const char*, HistoryAgg> kAggs[] = {
      {"latest", HistoryAgg::kLatest}, {"avg", HistoryAgg::kAvg}, {"sum", HistoryAgg::kSum},
      {"min", HistoryAgg::kMin},       {"max", HistoryAgg::kMax}, {"count", HistoryAgg::kCount}};
  bool known = args.agg.empty();
  for (const auto& [name, agg] : kAggs) {
    if (args.agg == name) r.agg = agg, known = true;
  }
  if (!known) {
    return Status::InvalidArgument("unknown aggregation '" + args.agg +
                                   "' (expected latest, avg, sum, min, max or count)");
  }
  r.fields = SplitCommas(args.fields);
  r.limit = args.limit;
  QUIVER_ASSIGN_OR_RETURN(r.after, ParsePositions(args.after));
  return r;
}

// Versions as a table: event time, then one column per field.
void PrintVersions(const GetResult& r) {
  std::vector<std::vector<std::string>> cells(r.size() + 1);
  cells[0].push_back("event_time");
  for (const Column& c : r.columns())
    cells[0].emplace_back(c.name());
  for (size_t i = 0; i < r.size(); ++i) {
    cells[i + 1].push_back(FormatTimestampMs(r.event_time_ms(i)));
    for (const Column& c : r.columns())
      cells[i + 1].push_back(c.is_null(i) ? "-" : CellText(c, i));
  }
  std::vector<size_t> width(cells[0].size(), 0);
  for (const auto& row : cells) {
    for (size_t j = 0; j < row.size(); ++j)
      width[j] = std::max(width[j], row[j].size());
  }
  for (const auto& row : cells) {
    for (size_t j = 0; j < row.size(); ++j)
      std::cout << row[j]
                << (j + 1 < row.size() ? std::string(width[j] + 2 - row[j].size(), ' ') : "");
    std::cout << "\n";
  }
}

}  // namespace

int History(const ClientOptions& options, const HistoryArgs& args) {
  auto client = Open(options);
  if (!client.ok()) return Fail(client.status());
  Result<ViewInfo> view = (*client)->Describe(args.view);
  if (!view.ok()) return Fail(view.status());
  Result<HistoryRequest> request = MakeHistoryRequest(args, view->join_keys.size());
  if (!request.ok()) return Fail(request.status());
  Result<GetResult> result = (*client)->History(*request);
  if (!result.ok()) return Fail(result.status());
  if (request->agg != HistoryAgg::kNone && !args.json) {
    PrintRowText(*result, 0, args.key + " (" + args.agg + ")");
  } else if (args.json) {
    for (size_t i = 0; i < result->size(); ++i)
      PrintRowJson(*result, i, args.key);
  } else {
    PrintVersions(*result);
  }
  return 0;
}

int Ping(const ClientOptions& options) {
  auto client = Open(options);
  if (!client.ok()) return Fail(client.status());
  if (Status s = (*client)->Ping(); !s.ok()) return Fail(s);
  std::cout << "PONG quiverd " << (*client)->server_version() << "\n";
  return 0;
}

}  // namespace quiver::cli
