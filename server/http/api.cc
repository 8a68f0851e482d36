#include "server/http/api.h"
#include "server/http/api_internal.h"

#include <optional>

#include <cstring>
#include <new>

#include <simdjson.h>

#include "protocol/json_text.h"
#include "protocol/text_list.h"
#include "protocol/timestamp.h"
#include "protocol/view_json.h"
#include "service/answer_limit.h"
#include "service/drift_report.h"
#include "service/feature_report.h"
#include "service/value_text.h"
#include "service/view_description.h"
#include "storage/online/entity_key.h"
#include "storage/online/row.h"
#include "util/rcu.h"

namespace quiver {

namespace {

// Feature reads name at most this many entities per request.
constexpr size_t kMaxEntities = 100'000;

// The HTTP front end's one table from a failed status to an HTTP status:
// by its kind where it has one, else by its code.
unsigned HttpStatusOf(const Status& s) {
  switch (s.kind()) {
    case ErrorKind::kNoAuth:
    case ErrorKind::kWrongPass:
      return 401;
    case ErrorKind::kNoPermission:
    case ErrorKind::kReadOnly:
      return 403;
    case ErrorKind::kWrongType:
      return 400;
    case ErrorKind::kOutOfMemory:
    case ErrorKind::kBusy:
    case ErrorKind::kMisconf:
    case ErrorKind::kClusterDown:
    case ErrorKind::kLoading:
      return 503;
    case ErrorKind::kNone:
      break;
  }
  switch (s.code()) {
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kResourceExhausted:
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    default:
      return 500;
  }
}

}  // namespace

HttpReply StatusError(const Status& s) {
  return HttpError(HttpStatusOf(s), s.KindAndMessage());
}

HttpReply JsonDocument(Result<std::string> doc) {
  if (!doc.ok()) return StatusError(doc.status());
  return {.status = 200, .content_type = "application/json", .body = std::move(*doc)};
}

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool UrlDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i] == '+' ? ' ' : in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = HexDigit(in[i + 1]), lo = HexDigit(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

std::string_view QueryValue(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

namespace {

std::string_view StateName(RowState s) {
  switch (s) {
    case RowState::kFound:
      return "found";
    case RowState::kExpired:
      return "expired";
    default:
      return "missing";
  }
}

}  // namespace

void AppendRowJson(const ReadResult& r, size_t i, std::string_view key, std::string* out) {
  out->append("{\"key\":");
  AppendJsonString(key, out);
  out->append(",\"state\":\"").append(StateName(r.states[i])).append("\"");
  const bool found = r.states[i] == RowState::kFound;
  if (found) {
    out->append(",\"event_time\":\"").append(FormatTimestampMs(r.event_time_ms[i])).append("\"");
    out->append(",\"age_ms\":").append(std::to_string(r.now_ms - r.event_time_ms[i]));
  }
  std::optional<RowReader> row;
  if (found) row.emplace(r.view->layout, r.rows[i]);
  std::string defaulted;
  out->append(",\"features\":{");
  for (size_t j = 0; j < r.fields.size(); ++j) {
    const auto fi = static_cast<size_t>(r.fields[j]);
    const Field& f = r.view->fields[fi];
    if (j > 0) out->push_back(',');
    AppendJsonString(f.name, out);
    out->push_back(':');
    AppendFieldValue(f, row ? &*row : nullptr, fi, ValueFormat::kJson, out);
    if (!row || !row->present(fi)) {
      if (!defaulted.empty()) defaulted.push_back(',');
      AppendJsonString(f.name, &defaulted);
    }
  }
  out->append("},\"defaulted\":[").append(defaulted).append("]}");
}

uint64_t RowsJsonBound(const ReadResult& r, std::span<const std::string> keys) {
  uint64_t bytes = 256;
  for (const std::string& key : keys)
    bytes += JsonStringSize(key) + 128;  // state, event time, age, brackets
  for (int fi : r.fields) {
    // The name in "features" and perhaps in "defaulted", with its colon and commas.
    const uint64_t name = 2 * (JsonStringSize(r.view->fields[fi].name) + 2);
    bytes += JsonValuesBound(r, fi) + name * r.rows.size();
  }
  return bytes;
}

namespace {

// Reads entities (join-key values, per_key each) of a view and renders
// {"view": ..., "server_time": ..., "rows": [...]}.
HttpReply ReadRows(FeatureStore& store, uint64_t max_answer, std::string_view view,
                   std::span<const std::string_view> fields,
                   std::span<const std::string_view> parts, std::span<const std::string> keys) {
  rcu::ReadLock lock;
  ReadResult result;
  Status s = store.Read({.view = view, .fields = fields, .key_parts = parts}, &result);
  if (!s.ok()) return StatusError(s);
  // Too large an answer is the request's fault and will not pass on a retry.
  s = CheckAnswerSize(RowsJsonBound(result, keys), max_answer, keys.size(), "--max-frame");
  if (!s.ok()) return HttpError(400, s.message());
  HttpReply reply;
  reply.body = "{\"view\":";
  AppendJsonString(result.view->QualifiedName(), &reply.body);
  reply.body += ",\"server_time\":\"" + FormatTimestampMs(result.now_ms) + "\",\"rows\":[";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) reply.body.push_back(',');
    AppendRowJson(result, i, keys[i], &reply.body);
  }
  reply.body += "]}\n";
  return reply;
}

}  // namespace

Result<size_t> JoinKeyCount(FeatureStore& store, std::string_view view) {
  rcu::ReadLock lock;
  const Catalog& catalog = store.registry().current();
  QUIVER_ASSIGN_OR_RETURN(const ViewSchema* resolved, catalog.ResolveName(view));
  return catalog.JoinKeyCount(*resolved);
}

HttpReply HttpError(unsigned status, std::string_view message) {
  HttpReply reply{.status = status};
  reply.body = "{\"error\":";
  AppendJsonString(message, &reply.body);
  reply.body += "}\n";
  return reply;
}

std::string_view HttpKindName(HttpKind kind) {
  static constexpr std::string_view kNames[] = {
      "health", "metrics", "views",   "features", "freshness", "stats",        "drift",  "latency",
      "other",  "page",    "session", "status",   "series",    "distribution", "history"};
  static_assert(std::size(kNames) == kHttpKinds);
  return kNames[static_cast<size_t>(kind)];
}

namespace {

constexpr std::string_view kViewsPrefix = "/v1/views/", kStatsSuffix = "/stats";
constexpr std::string_view kDistributionSuffix = "/distribution";
constexpr std::string_view kFeaturesPrefix = "/v1/features/";
constexpr std::string_view kHistoryPrefix = "/v1/history/";

// The view of /v1/views/{view}<suffix>, still encoded; empty if the path
// is not one.
std::string_view ViewOfPath(std::string_view path, std::string_view suffix) {
  if (!path.starts_with(kViewsPrefix) || !path.ends_with(suffix) ||
      path.size() <= kViewsPrefix.size() + suffix.size()) {
    return {};
  }
  return path.substr(kViewsPrefix.size(), path.size() - kViewsPrefix.size() - suffix.size());
}

// What a path asks for, before the password is checked, so that refused
// requests are counted under their kind too.
HttpKind KindOfPath(std::string_view path) {
  static constexpr std::pair<std::string_view, HttpKind> kExact[] = {
      {"/health", HttpKind::kHealth},
      {"/metrics", HttpKind::kMetrics},
      {"/v1/views", HttpKind::kViews},
      {"/v1/freshness", HttpKind::kFreshness},
      {"/v1/latency", HttpKind::kLatency},
      {"/v1/drift", HttpKind::kDrift},
      {"/v1/features", HttpKind::kFeatures},
      {"/v1/status", HttpKind::kStatus},
      {"/v1/series", HttpKind::kSeries},
      {"/v1/session", HttpKind::kSession},
      {"/v1/login", HttpKind::kSession},
      {"/v1/logout", HttpKind::kSession},
      {"/", HttpKind::kPage},
      {"/index.html", HttpKind::kPage}};
  for (const auto& [exact, kind] : kExact) {
    if (path == exact) return kind;
  }
  if (!ViewOfPath(path, kStatsSuffix).empty()) return HttpKind::kStats;
  if (!ViewOfPath(path, kDistributionSuffix).empty()) return HttpKind::kDistribution;
  if (path.starts_with("/assets/")) return HttpKind::kPage;
  if (path.starts_with(kHistoryPrefix)) return HttpKind::kHistory;
  return path.starts_with(kFeaturesPrefix) ? HttpKind::kFeatures : HttpKind::kOther;
}

// The method a kind's path takes.
std::string_view MethodOf(HttpKind kind, std::string_view path) {
  if (kind == HttpKind::kSession) return path == "/v1/session" ? "GET" : "POST";
  return kind == HttpKind::kFeatures && path == "/v1/features" ? "POST" : "GET";
}

}  // namespace

HttpApi::HttpApi(Deps deps)
    : d_(std::move(deps)),
      sessions_(d_.users == nullptr
                    ? nullptr
                    : std::make_unique<dashboard::Sessions>(
                          *d_.users, dashboard::Sessions::Options{.idle_ms = d_.session_idle_ms})) {
}

std::shared_ptr<const acl::User> HttpApi::UserOf(const HttpRequest& request,
                                                 std::string* tried) const {
  if (request.authorization.empty() && request.from_page) {
    const std::string_view token =
        dashboard::CookieValue(request.cookie, dashboard::kSessionCookie);
    if (!token.empty()) {
      if (std::shared_ptr<const acl::User> user = sessions_->Resolve(token)) return user;
    }
  }
  if (request.authorization.empty() && !request.certificate_name.empty() &&
      d_.user_from_certificate != nullptr &&
      d_.user_from_certificate->load(std::memory_order_relaxed)) {
    std::shared_ptr<const acl::User> user = d_.users->Find(request.certificate_name);
    if (user != nullptr && user->enabled()) return user;
  }
  return HttpUser(*d_.users, request.authorization, tried);
}

HttpReply HttpApi::Handle(const HttpRequest& request, HttpKind* kind) const {
  const std::string_view target = request.target;
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  *kind = KindOfPath(path);
  if (*kind != HttpKind::kOther && request.method != MethodOf(*kind, path)) {
    return HttpError(
        405, "method " + std::string(request.method) + " not allowed on " + std::string(path));
  }
  Requester who{nullptr, "http", request.client_info};
  std::string tried;
  try {
    // The page is every browser's; /health everyone's (no user looked up:
    // neither a password hash nor a session lookup per file or probe).
    if (*kind == HttpKind::kPage) return Page(path, request);
    if (d_.users != nullptr && *kind != HttpKind::kHealth) who.user = UserOf(request, &tried);
    if (*kind == HttpKind::kSession) return Session(path, request, who);
    if (*kind != HttpKind::kHealth && d_.users != nullptr && who.user == nullptr) {
      if (!request.authorization.empty()) {
        (void)AuthenticateRequester(*d_.users, *d_.acl_log, tried, {}, who);  // logs the failure
      }
      HttpReply reply =
          HttpError(401, request.authorization.empty()
                             ? "this server requires a user's password: Authorization: Basic "
                               "base64(user:password), or Bearer <the default user's password>"
                             : "invalid username-password pair or user is disabled");
      // A browser's own password prompt, unless the dashboard's script asked.
      reply.challenge = !request.from_page;
      return reply;
    }
    return Route(*kind, path, query, request.body, request.method == "POST", who);
  } catch (const std::bad_alloc&) {  // the request fails alone
    return HttpError(503, "OOM request not served: the server could not allocate its memory");
  }
}

Status HttpApi::Allowed(const Requester& who, std::string_view name, std::string_view view) const {
  if (who.user == nullptr) return Status::Ok();  // no users to check
  const std::string_view views[] = {view};
  return CheckFeatureRequest(who, *d_.acl_log, name,
                             view.empty() ? std::span<const std::string_view>() : views);
}

HttpReply HttpApi::Route(HttpKind kind, std::string_view path, std::string_view query,
                         std::string_view body, bool post, const Requester& who) const {
  // Reports and metrics are the monitor request; the views' list, as
  // their descriptions, is every user's.
  const bool monitor = kind == HttpKind::kMetrics || kind == HttpKind::kFreshness ||
                       kind == HttpKind::kLatency || kind == HttpKind::kDrift ||
                       kind == HttpKind::kStats || kind == HttpKind::kStatus ||
                       kind == HttpKind::kSeries || kind == HttpKind::kDistribution;
  if (monitor) {
    if (Status s = Allowed(who, "monitor"); !s.ok()) return StatusError(s);
  }
  switch (kind) {
    case HttpKind::kHealth:
      return Health();
    case HttpKind::kMetrics:
      return Metrics();
    case HttpKind::kViews:
      return Views();
    case HttpKind::kFreshness:
      return FreshnessReport();
    case HttpKind::kLatency:
      return Latency();
    case HttpKind::kDrift:
      return Drift(query);
    case HttpKind::kStats:
      return ViewStats(ViewOfPath(path, kStatsSuffix));
    case HttpKind::kStatus:
      return StatusDocument();
    case HttpKind::kSeries:
      return SeriesDocument(query);
    case HttpKind::kDistribution:
      return Distribution(ViewOfPath(path, kDistributionSuffix), query);
    case HttpKind::kHistory:
    case HttpKind::kFeatures:
      if (changelog_ != nullptr) {  // a cluster member catching up serves no rows
        if (Status stale = changelog_->ReadsAllowed(); !stale.ok()) return StatusError(stale);
      }
      if (kind == HttpKind::kHistory)
        return History(path.substr(kHistoryPrefix.size()), query, who);
      return post ? FeatureBatch(body, who) : FeatureRead(path, query, who);
    case HttpKind::kPage:
    case HttpKind::kSession:  // answered before authentication (Handle)
    case HttpKind::kOther:
      break;
  }
  return HttpError(
      404, "no such path: " + std::string(path) + " (see docs/monitoring.md for the HTTP API)");
}

// GET /v1/features/{view}/{key}.
HttpReply HttpApi::FeatureRead(std::string_view path, std::string_view query,
                               const Requester& who) const {
  const std::string_view rest = path.substr(kFeaturesPrefix.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) {
    return HttpError(404, "feature reads are /v1/features/{view}/{key}");
  }
  return FeatureRow(rest.substr(0, slash), rest.substr(slash + 1), QueryValue(query, "fields"),
                    who);
}

void AppendClusterJson(const cluster::ChangelogStatus& c, std::string* out) {
  *out += ",\"cluster\":{\"topic\":";
  AppendJsonString(c.topic, out);
  *out += ",\"replica_id\":";
  AppendJsonString(c.replica_id, out);
  *out += std::string(",\"caught_up\":") + (c.caught_up ? "true" : "false") +
          ",\"lag\":" + std::to_string(c.lag()) + "}";
}

HttpReply HttpApi::Health() const {
  HttpReply reply;
  HistoryStore* history = d_.store.history();
  const Status health = history != nullptr ? history->health() : Status::Ok();
  // A cluster member catching up serves old data: not ready yet.
  std::optional<cluster::ChangelogStatus> cluster;
  if (changelog_ != nullptr) cluster = changelog_->status();
  const bool behind = cluster && !cluster->caught_up;
  reply.status = health.ok() && !behind ? 200 : 503;
  reply.body = std::string("{\"status\":\"") +
               (!health.ok() ? "failing"
                : behind     ? "catching_up"
                             : "ok") +
               "\"";
  if (!health.ok()) {
    reply.body += ",\"reason\":";
    AppendJsonString(health.message(), &reply.body);
  }
  if (cluster) AppendClusterJson(*cluster, &reply.body);
  reply.body += ",\"version\":";
  AppendJsonString(d_.version, &reply.body);
  reply.body += ",\"durability\":\"" + d_.durability +
                "\",\"uptime_seconds\":" + std::to_string((d_.store.NowMs() - d_.start_ms) / 1000) +
                "}\n";
  return reply;
}

HttpReply HttpApi::Views() const {
  rcu::ReadLock lock;
  const Catalog& catalog = d_.store.registry().current();
  HttpReply reply;
  reply.body = "{\"views\":[";
  for (const auto& v : catalog.views()) {
    if (reply.body.back() != '[') reply.body.push_back(',');
    reply.body += ViewJson(DescribeView(*v, catalog));
  }
  reply.body += "]}\n";
  return reply;
}

HttpReply HttpApi::FeatureRow(std::string_view view, std::string_view key, std::string_view fields,
                              const Requester& who) const {
  std::string view_text, key_text, fields_text;
  if (!UrlDecode(view, &view_text) || !UrlDecode(key, &key_text) ||
      !UrlDecode(fields, &fields_text)) {
    return HttpError(400, "malformed percent-encoding in the path or query");
  }
  if (Status s = Allowed(who, "get", view_text); !s.ok()) return StatusError(s);
  Result<size_t> per_key = JoinKeyCount(d_.store, view_text);
  if (!per_key.ok()) return StatusError(per_key.status());
  Result<std::vector<std::string_view>> parts = SplitJoinedKey(key_text, *per_key);
  if (!parts.ok()) return HttpError(400, parts.status().message());
  const std::vector<std::string_view> field_list = SplitCommaList(fields_text);
  const std::string keys[] = {key_text};
  return ReadRows(d_.store, d_.max_answer_bytes, view_text, field_list, *parts, keys);
}

HttpReply HttpApi::ViewStats(std::string_view view) const {
  std::string name;
  if (!UrlDecode(view, &name)) return HttpError(400, "malformed percent-encoding in the path");
  return JsonDocument(ViewStatsDocument(d_.store, name));
}

HttpReply HttpApi::Drift(std::string_view query) const {
  std::string view, window;
  if (!UrlDecode(QueryValue(query, "view"), &view) ||
      !UrlDecode(QueryValue(query, "window"), &window)) {
    return HttpError(400, "malformed percent-encoding in the query");
  }
  return JsonDocument(DriftDocument(d_.store, view, window.empty() ? "recent" : window));
}

HttpReply HttpApi::FeatureBatch(std::string_view body, const Requester& who) const {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto error = parser.parse(body.data(), body.size()).get(doc)) {
    return HttpError(400, std::string("the body is not JSON: ") + simdjson::error_message(error));
  }
  std::string_view view;
  simdjson::dom::array keys;
  if (doc["view"].get_string().get(view) || doc["keys"].get_array().get(keys)) {
    return HttpError(400, R"(the body must be {"view": "...", "keys": [...], "fields": [...]})");
  }
  if (Status s = Allowed(who, "get", view); !s.ok()) return StatusError(s);
  std::vector<std::string_view> fields;
  simdjson::dom::array field_array;
  if (!doc["fields"].get_array().get(field_array)) {
    for (auto f : field_array) {
      std::string_view name;
      if (f.get_string().get(name)) return HttpError(400, "fields must be strings");
      fields.push_back(name);
    }
  }
  Result<size_t> per_key = JoinKeyCount(d_.store, view);
  if (!per_key.ok()) return StatusError(per_key.status());
  if (keys.size() > kMaxEntities) {
    return HttpError(413, "at most " + std::to_string(kMaxEntities) + " keys per request");
  }
  std::vector<std::string_view> parts;
  std::vector<std::string> key_texts;
  for (auto k : keys) {
    std::string_view one;
    simdjson::dom::array many;
    if (!k.get_string().get(one)) {
      Result<std::vector<std::string_view>> split = SplitJoinedKey(one, *per_key);
      if (!split.ok()) return HttpError(400, split.status().message());
      parts.insert(parts.end(), split->begin(), split->end());
      key_texts.emplace_back(one);
    } else if (!k.get_array().get(many) && many.size() == *per_key) {
      std::string joined;
      for (auto part : many) {
        if (part.get_string().get(one)) return HttpError(400, "join-key values must be strings");
        parts.push_back(one);
        joined += (joined.empty() ? "" : ",") + std::string(one);
      }
      key_texts.push_back(std::move(joined));
    } else {
      return HttpError(400, "each key is a string or an array of " + std::to_string(*per_key) +
                                " join-key values");
    }
  }
  return ReadRows(d_.store, d_.max_answer_bytes, view, fields, parts, key_texts);
}

std::vector<ViewFreshness> HttpApi::Freshness() const {
  return d_.freshness != nullptr ? d_.freshness->Get() : MeasureFreshness(d_.store);
}

HttpReply HttpApi::FreshnessReport() const {
  return {.status = 200,
          .content_type = "application/json",
          .body = FreshnessJson(Freshness(), d_.store.NowMs())};
}

}  // namespace quiver
