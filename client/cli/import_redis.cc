// quiver import-redis HOST:PORT: copies every key of a running Redis into
// quiverd through its RESP port. Each database is walked with SCAN; each
// batch of keys is read with one pipelined round trip (PEXPIRETIME, or
// PTTL before Redis 7, and DUMP) and written with another (RESTORE …
// ABSTTL), so a key keeps its exact expiry. Keys that cannot be copied
// (a stream, a key already in quiverd without --replace) are counted by
// reason; the others go on.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "client/cli/commands.h"
#include "client/cli/import_redis.h"
#include "client/cli/progress.h"

namespace quiver::cli {

namespace {

using redis::Reply;
using redis::RespClient;

Result<Reply> Expect(RespClient& c, std::initializer_list<std::string_view> args) {
  QUIVER_ASSIGN_OR_RETURN(Reply r, c.Call(args));
  if (r.is_error()) {
    return Status::FailedPrecondition(std::string(*args.begin()) + " failed: " + r.text);
  }
  return r;
}

// "field:value" lines of an INFO section.
std::map<std::string, std::string> InfoFields(const std::string& text) {
  std::map<std::string, std::string> fields;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find("\r\n", at);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(at, end - at);
    if (const size_t colon = line.find(':'); colon != std::string::npos && line[0] != '#') {
      fields[line.substr(0, colon)] = line.substr(colon + 1);
    }
    at = end + 2;
  }
  return fields;
}

// The number at the front of text ("7" of "7.0.15", "12" of "12,expires=0"),
// or -1: what a server's INFO says is not trusted to be well formed.
int64_t LeadingNumber(std::string_view text) {
  int64_t n = -1;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

// The source's databases with keys ("db3" -> its key count).
Result<std::vector<std::pair<int, int64_t>>> Databases(RespClient& src, int only) {
  QUIVER_ASSIGN_OR_RETURN(Reply info, Expect(src, {"INFO", "keyspace"}));
  std::vector<std::pair<int, int64_t>> dbs;
  for (const auto& [name, value] : InfoFields(info.text)) {
    if (name.rfind("db", 0) != 0 || value.rfind("keys=", 0) != 0) continue;
    const int64_t db = LeadingNumber(std::string_view(name).substr(2));
    if (db < 0 || db > INT32_MAX) continue;
    const int64_t keys = std::max<int64_t>(LeadingNumber(std::string_view(value).substr(5)), 0);
    if (only < 0 || db == only) dbs.emplace_back(static_cast<int>(db), keys);
  }
  return dbs;
}

// Whether the source has PEXPIRETIME (Redis 7), for exact expiries.
Result<bool> HasExpireTime(RespClient& src) {
  QUIVER_ASSIGN_OR_RETURN(Reply info, Expect(src, {"INFO", "server"}));
  const std::string version = InfoFields(info.text)["redis_version"];
  return LeadingNumber(version) >= 7;
}

struct Batch {
  int db;
  bool absolute;  // expiries read with PEXPIRETIME
  bool replace;
  MappedImport* mapped;  // --map's, or null
  Client* client;        // quiverd's native port, with --map
};

// Copies one batch of keys: one round trip to read them, one to write.
Status CopyKeys(RespClient& src, RespClient& dst, std::vector<Reply> all, const Batch& b,
                Tally* t) {
  std::vector<Reply> keys;  // those no --map takes
  for (Reply& k : all) {
    if (b.mapped != nullptr && b.mapped->Take(b.db, k.text, t)) {
      ++t->seen;
    } else {
      keys.push_back(std::move(k));
    }
  }
  if (b.mapped != nullptr) QUIVER_RETURN_IF_ERROR(b.mapped->Flush(src, *b.client, t));
  for (const Reply& k : keys) {
    src.Append({b.absolute ? "PEXPIRETIME" : "PTTL", k.text});
    src.Append({"DUMP", k.text});
  }
  QUIVER_RETURN_IF_ERROR(src.Flush());
  std::vector<const Reply*> sent;
  std::vector<Reply> payloads(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    QUIVER_ASSIGN_OR_RETURN(Reply ttl, src.Read());
    QUIVER_ASSIGN_OR_RETURN(payloads[i], src.Read());
    ++t->seen;
    if (ttl.kind != Reply::Kind::kInteger || ttl.integer == -2 ||
        payloads[i].kind != Reply::Kind::kBulk) {
      ++t->vanished;  // deleted or expired since SCAN found it
      continue;
    }
    const std::string expiry = ttl.integer < 0 ? "0" : std::to_string(ttl.integer);
    std::vector<std::string_view> args = {"RESTORE", keys[i].text, expiry, payloads[i].text};
    if (b.replace) args.push_back("REPLACE");
    if (b.absolute && ttl.integer >= 0) args.push_back("ABSTTL");
    dst.Append(args);
    sent.push_back(&keys[i]);
    t->bytes += static_cast<int64_t>(payloads[i].text.size());
  }
  QUIVER_RETURN_IF_ERROR(dst.Flush());
  for (const Reply* k : sent) {
    QUIVER_ASSIGN_OR_RETURN(Reply r, dst.Read());
    if (r.is_error()) {
      t->Skip(r.text.rfind("BUSYKEY", 0) == 0 ? r.text + " (use --replace)" : r.text, b.db,
              k->text);
    } else {
      ++t->copied;
    }
  }
  return Status::Ok();
}

Status CopyDatabase(RespClient& src, RespClient& dst, const Batch& b, size_t count,
                    const std::function<void()>& progress, Tally* t) {
  const std::string db = std::to_string(b.db);
  QUIVER_RETURN_IF_ERROR(Expect(src, {"SELECT", db}).status());
  if (Result<Reply> r = Expect(dst, {"SELECT", db}); !r.ok()) {
    return Status::FailedPrecondition("quiverd has no database " + db +
                                      " (start it with "
                                      "--databases): " +
                                      r.status().message());
  }
  std::string cursor = "0";
  const std::string batch = std::to_string(count);
  do {
    QUIVER_ASSIGN_OR_RETURN(Reply scan, Expect(src, {"SCAN", cursor, "COUNT", batch}));
    if (scan.kind != Reply::Kind::kArray || scan.elements.size() != 2) {
      return Status::InvalidArgument("SCAN answered something that is not a cursor and keys");
    }
    cursor = scan.elements[0].text;
    QUIVER_RETURN_IF_ERROR(CopyKeys(src, dst, std::move(scan.elements[1].elements), b, t));
    progress();
  } while (cursor != "0");
  return Status::Ok();
}

Result<RespClient::Options> SourceOptions(const ImportRedisArgs& args) {
  RespClient::Options o;
  const size_t colon = args.source.rfind(':');
  o.host = args.source.substr(0, colon);
  const int64_t port = colon == std::string::npos
                           ? 6379
                           : LeadingNumber(std::string_view(args.source).substr(colon + 1));
  if (port <= 0 || port > 65535) {
    return Status::InvalidArgument("the source is HOST:PORT, not '" + args.source + "'");
  }
  o.port = static_cast<int>(port);
  o.user = args.source_user;
  o.password = args.source_password;
  o.tls = args.source_tls;
  return o;
}

void PrintSummary(const ImportRedisArgs& args, const Tally& t, size_t databases, double seconds) {
  std::printf("copied %lld keys (%.1f MB of DUMP payloads) from %zu database%s of %s in %.1f s\n",
              static_cast<long long>(t.copied), static_cast<double>(t.bytes) / 1e6, databases,
              databases == 1 ? "" : "s", args.source.c_str(), seconds);
  if (t.feature_keys > 0) {
    std::printf("read %lld feature keys into %lld rows (--map)\n",
                static_cast<long long>(t.feature_keys), static_cast<long long>(t.rows));
  }
  if (t.vanished > 0) {
    std::printf("%lld keys were deleted or expired on the source while copying\n",
                static_cast<long long>(t.vanished));
  }
  for (const auto& [reason, seen] : t.skipped) {
    std::printf("skipped %lld keys: %s (e.g. %s)\n", static_cast<long long>(seen.first),
                reason.c_str(), seen.second.c_str());
  }
}

}  // namespace

namespace {

struct Endpoints {
  std::unique_ptr<RespClient> src, dst;
  std::unique_ptr<Client> native;        // quiverd's native port, with --map
  std::unique_ptr<MappedImport> mapped;  // with --map
};

// The maps of --map, with the views quiverd has (on its native port).
Status OpenMapping(const ClientOptions& options, const ImportRedisArgs& args, Endpoints* e) {
  std::vector<FeatureMap> maps;
  for (const std::string& text : args.maps) {
    QUIVER_ASSIGN_OR_RETURN(FeatureMap m, ParseFeatureMap(text));
    maps.push_back(std::move(m));
  }
  QUIVER_ASSIGN_OR_RETURN(e->native, Client::Connect(options));
  QUIVER_ASSIGN_OR_RETURN(std::vector<ViewInfo> views, e->native->ListViews());
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  QUIVER_ASSIGN_OR_RETURN(e->mapped, MappedImport::Make(std::move(maps), std::move(views), now));
  return Status::Ok();
}

Result<Endpoints> Open(const ClientOptions& options, const ImportRedisArgs& args) {
  Endpoints e;
  // The maps first: a mistake in them is told before anything is read.
  if (!args.maps.empty()) QUIVER_RETURN_IF_ERROR(OpenMapping(options, args, &e));
  QUIVER_ASSIGN_OR_RETURN(RespClient::Options source, SourceOptions(args));
  QUIVER_ASSIGN_OR_RETURN(e.src, RespClient::Connect(source));
  RespClient::Options target;
  target.host = options.servers.empty() ? options.host : options.servers[0];
  target.port = args.resp_port;
  target.user = options.user;
  target.password = options.password;
  target.tls = options.tls;  // --tls: quiverd's RESP port over TLS too (its --tls-port)
  QUIVER_ASSIGN_OR_RETURN(e.dst, RespClient::Connect(target));
  return e;
}

}  // namespace

int ImportRedis(const ClientOptions& options, const ImportRedisArgs& args) {
  Result<Endpoints> e = Open(options, args);
  if (!e.ok()) return Fail(e.status());
  Result<bool> absolute = HasExpireTime(*e->src);
  if (!absolute.ok()) return Fail(absolute.status());
  Result<std::vector<std::pair<int, int64_t>>> dbs = Databases(*e->src, args.db);
  if (!dbs.ok()) return Fail(dbs.status());
  int64_t total = 0;
  for (const auto& [db, keys] : *dbs)
    total += keys;
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  Progress bar(args.progress, static_cast<uint64_t>(total), "keys");
  Tally tally;
  const auto progress = [&] {
    bar.Update(static_cast<uint64_t>(tally.seen), static_cast<uint64_t>(tally.seen), elapsed());
  };
  Status st;
  for (size_t i = 0; i < dbs->size() && st.ok(); ++i) {
    const Batch b{(*dbs)[i].first, *absolute, args.replace, e->mapped.get(), e->native.get()};
    st = CopyDatabase(*e->src, *e->dst, b, args.batch, progress, &tally);
  }
  bar.Done();
  PrintSummary(args, tally, dbs->size(), elapsed());
  if (!st.ok()) return Fail(st);
  return tally.skipped.empty() ? 0 : 1;
}

}  // namespace quiver::cli
