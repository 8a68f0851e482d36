#include "server/resp/config.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "server/resp/arguments.h"
#include "service/settings.h"

namespace quiver::resp {

namespace {

// A Redis parameter that is not one of quiverd's settings.
struct RedisParam {
  std::string_view name;
  bool fixed;  // reported, never changed; else stored by CONFIG SET and reported
  std::string_view default_value;
  // A number quiver applies: CONFIG SET takes a whole number of 0 or more
  // (as Redis does) and also stores it here, where commands read it.
  std::atomic<int64_t> Shared::*applied = nullptr;
  int64_t max = 0;  // what is applied of a larger number
  // Another name of the parameter named here (they share one value).
  std::string_view same_as = {};
  std::string_view key() const { return same_as.empty() ? name : same_as; }
};

constexpr RedisParam kRedisParams[] = {
    {"proto-max-bulk-len", true, "536870912"},
    {"client-query-buffer-limit", true, "1073741824"},
    {"cluster-enabled", true, "no"},
    {"daemonize", true, "no"},
    {"appendfilename", true, "appendonly.aof"},
    {"appenddirname", true, "appendonlydir"},
    {"tcp-backlog", true, "511"},
    {"maxmemory-policy", false, "noeviction"},
    {"maxmemory-samples", false, "5"},
    {"maxmemory-eviction-tenacity", false, "10"},
    {"save", false, ""},
    {"appendonly", false, "no"},
    {"appendfsync", false, "everysec"},
    {"dbfilename", false, "dump.rdb"},
    {"hz", false, "10"},
    {"loglevel", false, "notice"},
    {"logfile", false, ""},
    {"slowlog-log-slower-than", false, "10000"},
    {"slowlog-max-len", false, "128"},
    {"latency-monitor-threshold", false, "0"},
    {"lazyfree-lazy-eviction", false, "no"},
    {"lazyfree-lazy-expire", false, "no"},
    {"lazyfree-lazy-server-del", false, "no"},
    {"lazyfree-lazy-user-del", false, "no"},
    {"lazyfree-lazy-user-flush", false, "no"},
    {"hash-max-listpack-entries", false, "128"},
    {"hash-max-listpack-value", false, "64"},
    {"hash-max-ziplist-entries", false, "128"},
    {"hash-max-ziplist-value", false, "64"},
    {"list-max-listpack-size", false, "-2"},
    {"list-max-ziplist-size", false, "-2"},
    {"list-compress-depth", false, "0"},
    {"set-max-intset-entries", false, "512"},
    {"set-max-listpack-entries", false, "128"},
    {"set-max-listpack-value", false, "64"},
    {"zset-max-listpack-entries", false, "128"},
    {"zset-max-listpack-value", false, "64"},
    {"zset-max-ziplist-entries", false, "128"},
    {"zset-max-ziplist-value", false, "64"},
    {"activerehashing", false, "yes"},
    {"activedefrag", false, "no"},
    {"active-expire-effort", false, "1"},
    {"stop-writes-on-bgsave-error", false, "yes"},
    {"rdbcompression", false, "yes"},
    {"rdbchecksum", false, "yes"},
    {"aof-use-rdb-preamble", false, "yes"},
    {"auto-aof-rewrite-percentage", false, "100"},
    {"auto-aof-rewrite-min-size", false, "67108864"},
    {"replica-read-only", false, "yes"},
    // One value under two names (lua-time-limit is the old one).
    {"lua-time-limit", false, "5000", &Shared::busy_reply_threshold_ms, int64_t{1} << 40,
     "busy-reply-threshold"},
    {"busy-reply-threshold", false, "5000", &Shared::busy_reply_threshold_ms, int64_t{1} << 40},
    {"hll-sparse-max-bytes", false, "3000", &Shared::hll_sparse_max_bytes, int64_t{1} << 30},
};

const RedisParam* FindRedisParam(std::string_view name) {
  for (const RedisParam& p : kRedisParams) {
    if (EqualsNoCase(p.name, name)) return &p;
  }
  return nullptr;
}

std::string RedisParamValue(Context& ctx, const RedisParam& p) {
  std::lock_guard<std::mutex> lock(ctx.shared.config_mu);
  auto it = ctx.shared.config_values.find(std::string(p.key()));
  return it != ctx.shared.config_values.end() ? it->second : std::string(p.default_value);
}

// An applied parameter's number: up to max (checked by Check before).
int64_t ParamInt(std::string_view text, int64_t max) {
  int64_t n = 0;
  return ParseInt64(text, &n) ? std::clamp<int64_t>(n, 0, max) : 0;
}

bool Matches(Args patterns, std::string_view name) {
  for (std::string_view pattern : patterns) {
    if (GlobMatch(pattern, name, /*nocase=*/true)) return true;
  }
  return false;
}

// Whether CONFIG SET may give Redis's parameter (not a quiverd setting)
// this value; the error is the part of Redis's message after " - ".
Status Check(std::string_view name, std::string_view value) {
  const RedisParam* p = FindRedisParam(name);
  if (p == nullptr) return Status::NotFound("unknown");
  if (p->fixed) return Status::FailedPrecondition("can't set immutable config");
  int64_t n = 0;
  if (p->applied != nullptr && !ParseInt64(value, &n)) {
    return Status::InvalidArgument("argument couldn't be parsed into an integer");
  }
  if (p->applied != nullptr && n < 0) {
    return Status::InvalidArgument("argument must be between 0 and 9223372036854775807 inclusive");
  }
  return Status::Ok();
}

void Set(Context& ctx, std::string_view name, std::string_view value) {
  const RedisParam* p = FindRedisParam(name);
  std::lock_guard<std::mutex> lock(ctx.shared.config_mu);
  ctx.shared.config_values[std::string(p->key())] = value;
  if (p->applied != nullptr) {
    (ctx.shared.*(p->applied)).store(ParamInt(value, p->max), std::memory_order_relaxed);
  }
}

}  // namespace

void ConfigGet(Context& ctx, Args args) {
  if (args.size() < 3) return ReplyWrongArity(ctx, "config|get");
  const Args patterns = args.subspan(2);
  std::vector<std::pair<std::string, std::string>> found;
  for (const Setting& s : Settings()) {
    const std::string_view key = s.name == s.redis_name ? std::string_view() : s.name;
    for (std::string_view name : {s.redis_name, key}) {
      // Only under a name that means this setting here (FindSetting): "port"
      // is Redis's, the RESP port.
      if (name.empty() || FindSetting(name) != &s || !Matches(patterns, name)) continue;
      found.emplace_back(name, ctx.shared.config.Get(s));
    }
  }
  for (const RedisParam& p : kRedisParams) {
    if (Matches(patterns, p.name)) found.emplace_back(p.name, RedisParamValue(ctx, p));
  }
  ctx.out.Map(found.size());
  for (const auto& [name, value] : found) {
    ctx.out.Bulk(name);
    ctx.out.Bulk(value);
  }
}

void ReplySetFailed(Context& ctx, std::string_view name, const Status& st) {
  if (st.code() == StatusCode::kNotFound) {
    return ctx.out.Error("ERR Unknown option or number of arguments for CONFIG SET - '" +
                         std::string(name) + "'");
  }
  ctx.out.Error("ERR CONFIG SET failed (possibly related to argument '" + std::string(name) +
                "') - " + st.message());
}

// quiverd's settings are checked together (a certificate with its key),
// Redis's applied parameters one by one; all are set or none.
void ConfigSet(Context& ctx, Args args) {
  if (args.size() < 4 || args.size() % 2 != 0) return ReplyWrongArity(ctx, "config|set");
  std::vector<RuntimeConfig::Change> settings;
  std::vector<std::string_view> setting_names;
  for (size_t i = 2; i < args.size(); i += 2) {
    if (const Setting* s = FindSetting(args[i]); s != nullptr) {
      settings.push_back({s, args[i + 1]});
      setting_names.push_back(args[i]);
    } else if (const Status st = Check(args[i], args[i + 1]); !st.ok()) {
      return ReplySetFailed(ctx, args[i], st);
    }
  }
  size_t failed = 0;
  if (const Status st = ctx.shared.config.Check(settings, &failed); !st.ok()) {
    return ReplySetFailed(ctx, setting_names[failed], st);
  }
  (void)ctx.shared.config.Set(settings);  // checked above
  for (size_t i = 2; i < args.size(); i += 2) {
    if (FindSetting(args[i]) == nullptr) Set(ctx, args[i], args[i + 1]);
  }
  ctx.out.Ok();
}

}  // namespace quiver::resp
