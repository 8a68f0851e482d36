// HttpApi's answers for the dashboard (docs/dashboard.md): its files, the
// logins of its browsers, and the documents it draws that no other path
// serves (status, time series, distributions, an entity's history).
#include <charconv>
#include <limits>

#include <simdjson.h>

#include "protocol/json_text.h"
#include "protocol/text_list.h"
#include "protocol/timestamp.h"
#include "server/dashboard/assets.h"
#include "server/dashboard/distribution.h"
#include "server/http/api.h"
#include "server/http/api_internal.h"
#include "service/answer_limit.h"
#include "service/event_mapper.h"
#include "service/ingest_status.h"
#include "storage/online/entity_key.h"
#include "storage/streaming/ingestor.h"
#include "util/rcu.h"

namespace quiver {

namespace {

constexpr uint32_t kDefaultHistoryVersions = 200;
constexpr uint32_t kMaxHistoryVersions = 10'000;

// An integer query value in [lo, hi]; `fallback` if absent.
Result<int64_t> QueryInt(std::string_view query, std::string_view name, int64_t fallback,
                         int64_t lo, int64_t hi) {
  const std::string_view text = QueryValue(query, name);
  if (text.empty()) return fallback;
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) {
    return Status::InvalidArgument(std::string(name) + " must be an integer from " +
                                   std::to_string(lo) + " to " + std::to_string(hi));
  }
  return v;
}

// A query value, percent-decoded.
Result<std::string> QueryText(std::string_view query, std::string_view name) {
  std::string out;
  if (!UrlDecode(QueryValue(query, name), &out)) {
    return Status::InvalidArgument("malformed percent-encoding in the query");
  }
  return out;
}

std::string SessionCookie(std::string_view token, bool tls) {
  std::string cookie = std::string(dashboard::kSessionCookie) + "=" + std::string(token) +
                       "; Path=/; HttpOnly; SameSite=Strict";
  if (token.empty()) cookie += "; Max-Age=0";  // forget it
  if (tls) cookie += "; Secure";
  return cookie;
}

}  // namespace

// login_required: this browser must log in; password_required: the server
// asks for passwords (so a browser may log out).
HttpReply HttpApi::SessionReply(const acl::User* user, bool login_required) const {
  const bool password_required = d_.users != nullptr && Password(*d_.users).required();
  std::string body;
  JsonWriter w(&body);
  w.Open('{').Key("user");
  if (user != nullptr) {
    w.String(user->name());
  } else {
    w.Null();
  }
  w.Key("login_required").Bool(login_required);
  w.Key("password_required").Bool(password_required);
  w.Key("statistics").Bool(d_.store.stats() != nullptr);
  w.Key("history").Bool(d_.store.history() != nullptr);
  w.Key("series_interval_ms").Int(d_.series != nullptr ? d_.series->options().interval_ms : 0);
  w.Close();
  body.push_back('\n');
  return {.status = 200, .content_type = "application/json", .body = std::move(body)};
}

namespace {

void WriteLatency(const Histogram::Summary& s, JsonWriter& w) {
  w.Open('{').Key("count").Uint(s.count);
  Histogram::WritePercentiles(s, w);
  w.Close();
}

void WriteKafka(const IngestStatus& s, JsonWriter& w) {
  w.Open('{').Key("running").Bool(s.running).Key("brokers").String(s.brokers);
  w.Key("group").String(s.group).Key("messages").Uint(s.messages).Key("events").Uint(s.events);
  w.Key("versions").Uint(s.versions).Key("too_late").Uint(s.too_late);
  w.Key("batches").Uint(s.batches).Key("dead_lettered").Uint(s.dead_lettered);
  w.Key("pauses").Uint(s.pauses).Key("paused").String(s.paused).Key("malformed").Open('{');
  for (size_t k = 1; k < kEventErrorKinds; ++k)
    w.Key(EventErrorName(static_cast<EventError>(k))).Uint(s.malformed[k]);
  w.Close().Key("windows_through_ms").Int(s.windows_through_ms);
  w.Key("event_to_visible_us");
  WriteLatency(s.event_to_visible_us, w);
  w.Key("consume_to_visible_us");
  WriteLatency(s.consume_to_visible_us, w);
  w.Key("partitions").Open('[');
  for (const PartitionStatus& p : s.partitions) {
    w.Open('{').Key("topic").String(p.topic).Key("partition").Int(p.partition);
    w.Key("next_offset").Int(p.next_offset).Key("high_watermark").Int(p.high_watermark);
    w.Key("lag").Int(p.lag).Key("max_event_time_ms").Int(p.max_event_time_ms).Close();
  }
  w.Close().Close();
}

}  // namespace

HttpReply HttpApi::Page(std::string_view path, const HttpRequest& request) const {
  const dashboard::Asset* asset = d_.dashboard ? dashboard::FindAsset(path) : nullptr;
  if (asset == nullptr) {
    return HttpError(404, d_.dashboard ? "no such file: " + std::string(path)
                                       : std::string("the dashboard is off (--dashboard false)"));
  }
  HttpReply reply{.status = 200, .content_type = std::string(asset->content_type)};
  reply.headers = {{"ETag", std::string(asset->etag)},
                   {"Cache-Control", "no-cache"},
                   {"Content-Security-Policy", std::string(dashboard::kContentSecurityPolicy)},
                   {"X-Content-Type-Options", "nosniff"},
                   {"Referrer-Policy", "no-referrer"}};
  if (!request.if_none_match.empty() &&
      request.if_none_match.find(asset->etag) != std::string_view::npos) {
    reply.status = 304;  // the browser's copy is this one
    return reply;
  }
  reply.body = std::string(asset->body);
  return reply;
}

HttpReply HttpApi::Session(std::string_view path, const HttpRequest& request,
                           const Requester& who) const {
  if (path == "/v1/session") return SessionReply(who.user.get(), d_.users != nullptr && !who.user);
  if (d_.users == nullptr) return HttpError(400, "this server has no users to log in as");
  if (!request.from_page) {
    // A form of another site cannot set this header: no login or logout
    // by cross-site request.
    return HttpError(403,
                     "login and logout need the header X-Requested-With (as the dashboard "
                     "sends it)");
  }
  if (path == "/v1/login") return Login(request, who);
  sessions_->Close(dashboard::CookieValue(request.cookie, dashboard::kSessionCookie));
  HttpReply reply = SessionReply(nullptr, Password(*d_.users).required());
  reply.headers = {{"Set-Cookie", SessionCookie({}, request.tls)}};
  return reply;
}

HttpReply HttpApi::Login(const HttpRequest& request, const Requester& who) const {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view name = acl::kDefaultUser, password;
  if (parser.parse(request.body.data(), request.body.size()).get(doc) ||
      doc["password"].get_string().get(password) ||
      (doc["user"].error() != simdjson::NO_SUCH_FIELD && doc["user"].get_string().get(name))) {
    return HttpError(400, R"(the body must be {"user": "...", "password": "..."})");
  }
  if (name.empty()) name = acl::kDefaultUser;
  const Requester anonymous{nullptr, who.context, who.client_info};
  std::shared_ptr<const acl::User> user =
      AuthenticateRequester(*d_.users, *d_.acl_log, name, password, anonymous);
  if (user == nullptr) return HttpError(401, "invalid username-password pair or user is disabled");
  const std::string token = sessions_->Open(*user, password);
  if (token.empty()) return HttpError(503, "no session: the system's random generator failed");
  HttpReply reply = SessionReply(user.get(), false);
  reply.headers = {{"Set-Cookie", SessionCookie(token, request.tls)}};
  return reply;
}

HttpReply HttpApi::StatusDocument() const {
  std::string body;
  JsonWriter w(&body);
  const OnlineTable& table = d_.store.table();
  const int64_t now = d_.store.NowMs();
  w.Open('{').Key("version").String(d_.version).Key("durability").String(d_.durability);
  w.Key("server_time").String(FormatTimestampMs(now));
  w.Key("started_at").String(FormatTimestampMs(d_.start_ms));
  w.Key("uptime_seconds").Int((now - d_.start_ms) / 1000);
  w.Key("rows").Uint(table.size()).Key("rows_memory_bytes").Uint(table.memory_bytes());
  {
    rcu::ReadLock lock;
    w.Key("views").Uint(d_.store.registry().current().views().size());
  }
  w.Key("statistics").Bool(d_.store.stats() != nullptr);
  if (d_.ingestor != nullptr) {
    w.Key("window_entities").Uint(d_.ingestor->entities());
    w.Key("window_memory_bytes").Uint(d_.ingestor->memory_bytes());
  }
  const MemoryBudget& budget = table.budget();
  w.Key("memory").Open('{').Key("max_memory").Int(budget.limit()).Key("parts").Open('{');
  int64_t total = 0;
  for (size_t i = 0; i < kMemoryParts; ++i) {
    const int64_t bytes = budget.bytes(static_cast<MemoryPart>(i));
    total += bytes;
    w.Key(MemoryPartName(static_cast<MemoryPart>(i))).Int(bytes);
  }
  w.Close().Key("total").Int(total).Close();
  if (const HistoryStore* history = d_.store.history()) {
    const HistoryStore::CompactionState c = history->compaction();
    w.Key("compaction").Open('{').Key("running").Bool(c.running);
    w.Key("finished").Uint(c.finished).Key("last_seconds").Number(c.last_seconds);
    w.Key("last_error").String(c.last_error).Close();
  }
  w.Key("series");
  if (d_.series != nullptr) {
    w.Open('{').Key("interval_ms").Int(d_.series->options().interval_ms);
    w.Key("span_ms").Int(d_.series->options().span_ms);
    w.Key("drift_interval_ms").Int(d_.series->options().drift_interval_ms).Close();
  } else {
    w.Null();
  }
  w.Key("kafka");
  if (d_.kafka != nullptr) {
    WriteKafka(d_.kafka->status(), w);
  } else {
    w.Null();
  }
  if (changelog_ != nullptr) AppendClusterJson(changelog_->status(), &body);
  w.Close();
  body.push_back('\n');
  return {.status = 200, .content_type = "application/json", .body = std::move(body)};
}

HttpReply HttpApi::SeriesDocument(std::string_view query) const {
  if (d_.series == nullptr) return HttpError(404, "this server keeps no time series");
  Result<std::string> part = QueryText(query, "part");
  Result<std::string> view = QueryText(query, "view");
  if (!part.ok() || !view.ok()) return StatusError(part.ok() ? view.status() : part.status());
  Result<int64_t> since = QueryInt(query, "since", 0, 0, std::numeric_limits<int64_t>::max());
  if (!since.ok()) return StatusError(since.status());
  return JsonDocument(d_.series->Json(part->empty() ? "requests" : *part, *view, *since));
}

HttpReply HttpApi::Distribution(std::string_view view, std::string_view query) const {
  std::string name;
  if (!UrlDecode(view, &name)) return HttpError(400, "malformed percent-encoding in the path");
  Result<std::string> field = QueryText(query, "field");
  if (!field.ok()) return StatusError(field.status());
  if (field->empty()) return HttpError(400, "name the field: ?field=NAME");
  Result<int64_t> bins = QueryInt(query, "bins", dashboard::kDefaultBins, 1, dashboard::kMaxBins);
  if (!bins.ok()) return StatusError(bins.status());
  return JsonDocument(
      dashboard::DistributionDocument(d_.store, name, *field, static_cast<int>(*bins)));
}

HttpReply HttpApi::History(std::string_view rest, std::string_view query,
                           const Requester& who) const {
  const size_t slash = rest.find('/');
  std::string view, key, fields;
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) {
    return HttpError(404, "history reads are /v1/history/{view}/{key}");
  }
  if (!UrlDecode(rest.substr(0, slash), &view) || !UrlDecode(rest.substr(slash + 1), &key) ||
      !UrlDecode(QueryValue(query, "fields"), &fields)) {
    return HttpError(400, "malformed percent-encoding in the path or query");
  }
  if (Status s = Allowed(who, "history", view); !s.ok()) return StatusError(s);
  Result<int64_t> limit = QueryInt(query, "limit", kDefaultHistoryVersions, 1, kMaxHistoryVersions);
  if (!limit.ok()) return StatusError(limit.status());
  Result<size_t> per_key = JoinKeyCount(d_.store, view);
  if (!per_key.ok()) return StatusError(per_key.status());
  Result<std::vector<std::string_view>> parts = SplitJoinedKey(key, *per_key);
  if (!parts.ok()) return HttpError(400, parts.status().message());
  const std::vector<std::string_view> field_list = SplitCommaList(fields);
  rcu::ReadLock lock;  // the schemas the answer refers to stay alive
  HistoryResult result;
  const HistoryRequest request{.view = view,
                               .fields = field_list,
                               .key_parts = *parts,
                               .from_ms = 0,
                               .to_ms = std::numeric_limits<int64_t>::max(),
                               .limit = static_cast<uint32_t>(*limit)};
  if (Status s = d_.store.History(request, &result); !s.ok()) return StatusError(s);
  const ReadResult& r = result.read;
  const std::vector<std::string> keys(r.rows.size(), key);
  if (Status s =
          CheckAnswerSize(RowsJsonBound(r, keys), d_.max_answer_bytes, keys.size(), "--max-frame");
      !s.ok()) {
    return HttpError(400, s.message());
  }
  HttpReply reply;
  reply.body = "{\"view\":";
  AppendJsonString(r.view->QualifiedName(), &reply.body);
  reply.body += ",\"key\":";
  AppendJsonString(key, &reply.body);
  reply.body += ",\"server_time\":\"" + FormatTimestampMs(r.now_ms) + "\",\"versions\":[";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) reply.body.push_back(',');
    AppendRowJson(r, i, key, &reply.body);
  }
  reply.body += "]}\n";
  return reply;
}

}  // namespace quiver
