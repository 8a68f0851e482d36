// HttpApi: what the HTTP front end answers, apart from the socket
// (HttpConnection): health, Prometheus metrics, the views, feature reads
// as JSON (docs/monitoring.md), and the dashboard with its logins and
// documents (docs/dashboard.md). Any thread may call Handle; it takes the
// RCU read lock itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "server/cluster/changelog.h"
#include "server/dashboard/series.h"
#include "server/dashboard/sessions.h"
#include "server/net/work_pool.h"
#include "service/feature_acl.h"
#include "service/freshness.h"
#include "service/password.h"
#include "service/request_metrics.h"
#include "storage/features/feature_store.h"
#include "storage/keyspace/keyspace.h"

namespace quiver {

class Ingestor;
class IngestStatusSource;

struct HttpReply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  bool challenge = false;  // a 401: ask for credentials (WWW-Authenticate)
  // More headers (Set-Cookie, ETag, Cache-Control, Content-Security-Policy).
  std::vector<std::pair<std::string_view, std::string>> headers;
};

// What HttpApi needs of one request.
struct HttpRequest {
  std::string_view method, target, body;
  std::string_view authorization;     // the Authorization header ("" if none)
  std::string_view cookie;            // the Cookie header
  std::string_view if_none_match;     // the If-None-Match header
  bool from_page = false;             // it has X-Requested-With: the dashboard's script
  bool tls = false;                   // it came over HTTPS
  std::string_view client_info;       // the client's address, for ACL LOG
  std::string_view certificate_name;  // an HTTPS client's verified certificate's CN
};

// {"error": message} with an HTTP status.
HttpReply HttpError(unsigned status, std::string_view message);

// Request kinds of the HTTP front end, as RequestMetrics counts them.
enum class HttpKind : uint8_t {
  kHealth,
  kMetrics,
  kViews,
  kFeatures,
  kFreshness,
  kStats,
  kDrift,
  kLatency,
  kOther,  // unknown paths and methods
  kPage,   // the dashboard's files
  kSession,
  kStatus,
  kSeries,
  kDistribution,
  kHistory,
};
inline constexpr size_t kHttpKinds = 15;
std::string_view HttpKindName(HttpKind kind);

class HttpApi {
 public:
  struct Deps {
    FeatureStore& store;
    KeySpace& keyspace;
    const RequestMetrics& metrics;
    const IngestStatusSource* kafka = nullptr;
    const Ingestor* ingestor = nullptr;  // window states, for /metrics
    std::string version;
    std::string durability;
    int64_t start_ms = 0;  // for uptime
    // The users (the RESP port's): every path but /health needs an
    // Authorization header that authenticates one (unless the default user
    // needs no password), and each request is checked against its
    // permissions (service/feature_acl.h); denials go to acl_log. Null:
    // every request is served.
    const acl::Users* users = nullptr;
    acl::AclLog* acl_log = nullptr;
    // tls-auth-clients-user CN: an HTTPS request without Authorization
    // runs as the user its client's verified certificate names. Null: never.
    const std::atomic<bool>* user_from_certificate = nullptr;
    // Shared with the other front ends' reports. Null: measured per request.
    FreshnessCache* freshness = nullptr;
    // Reads whose answer would be larger are refused (--max-frame).
    uint64_t max_answer_bytes = 64u << 20;
    // The pool of requests that may run long, for /metrics; may be null.
    WorkPool* long_requests = nullptr;
    // The time series of GET /v1/series and the dashboard; null: none.
    const dashboard::Series* series = nullptr;
    bool dashboard = true;                     // serve the dashboard at / (--dashboard)
    int64_t session_idle_ms = 12 * 3'600'000;  // a login unused this long ends
  };
  explicit HttpApi(Deps deps);
  // A cluster member's changelog: /health is not ready while it catches
  // up, /metrics shows its partitions. Set before serving starts.
  void SetChangelog(const cluster::Changelog* changelog) { changelog_ = changelog; }
  // Where requests with a body of kLongBody bytes or more are answered
  // (the I/O thread serves other connections meanwhile); may be null.
  WorkPool* long_requests() const { return d_.long_requests; }
  static constexpr size_t kLongBody = 1 << 20;

  // request.target: the request line's path and query ("/v1/views?x=1").
  HttpReply Handle(const HttpRequest& request, HttpKind* kind) const;
  // Whether the request authenticates a user (its Authorization header,
  // its login session, or its client certificate), or none is needed.
  bool Authorized(const HttpRequest& request) const {
    std::string tried;
    return d_.users == nullptr || UserOf(request, &tried) != nullptr;
  }

 private:
  HttpReply Route(HttpKind kind, std::string_view path, std::string_view query,
                  std::string_view body, bool post, const Requester& who) const;
  // The user of a request: its login session's if the dashboard's script
  // sent it with one and no Authorization header; else its certificate's
  // (tls-auth-clients-user CN) if it has no Authorization header; else
  // HttpUser's.
  std::shared_ptr<const acl::User> UserOf(const HttpRequest& request, std::string* tried) const;
  // What is served without authentication: the dashboard's files and
  // its login (server/http/dashboard_routes.cc).
  HttpReply Page(std::string_view path, const HttpRequest& request) const;
  HttpReply Session(std::string_view path, const HttpRequest& request, const Requester& who) const;
  HttpReply Login(const HttpRequest& request, const Requester& who) const;
  // {"user", "login_required", "password_required", "statistics",
  // "history", "series_interval_ms"}: what the page needs first.
  HttpReply SessionReply(const acl::User* user, bool login_required) const;
  // GET /v1/status: the server, its memory by part, Kafka, the cluster.
  HttpReply StatusDocument() const;
  // GET /v1/series?part=P[&view=V][&since=ms]
  HttpReply SeriesDocument(std::string_view query) const;
  // GET /v1/views/{view}/distribution?field=F[&bins=N]
  HttpReply Distribution(std::string_view view, std::string_view query) const;
  // GET /v1/history/{view}/{key}[?fields=a,b&limit=N]
  HttpReply History(std::string_view path, std::string_view query, const Requester& who) const;
  // OK if the requester may make the request `name` (quiver|name) on the
  // view (none if empty); else the denial is logged.
  Status Allowed(const Requester& who, std::string_view name, std::string_view view = {}) const;
  HttpReply Health() const;
  HttpReply Metrics() const;
  // GET /v1/latency: percentiles per front end and request kind.
  HttpReply Latency() const;
  HttpReply Views() const;
  // GET /v1/features/{view}/{key}[?fields=a,b]
  HttpReply FeatureRead(std::string_view path, std::string_view query, const Requester& who) const;
  HttpReply FeatureRow(std::string_view view, std::string_view key, std::string_view fields,
                       const Requester& who) const;
  // POST /v1/features {"view": ..., "keys": [...], "fields": [...]}
  HttpReply FeatureBatch(std::string_view body, const Requester& who) const;
  HttpReply FreshnessReport() const;
  // GET /v1/views/{view}/stats
  HttpReply ViewStats(std::string_view view) const;
  // GET /v1/drift[?view=V&window=recent|since_start]
  HttpReply Drift(std::string_view query) const;
  // Appends the serving-side metrics (requests, rows, keys, Kafka).
  void AppendServing(class PrometheusText& out) const;
  void AppendViews(class PrometheusText& out) const;
  // From the shared FreshnessCache (one pass over the table serves every
  // scrape and report within its interval), or measured if there is none.
  std::vector<ViewFreshness> Freshness() const;

  Deps d_;
  const cluster::Changelog* changelog_ = nullptr;
  std::unique_ptr<dashboard::Sessions> sessions_;
};

}  // namespace quiver
