#include "server/resp/blocking.h"

#include <algorithm>
#include <new>

#include "server/resp/arguments.h"
#include "server/resp/command.h"

namespace quiver::resp {

namespace {

bool IsError(std::string_view reply) {
  return !reply.empty() && (reply[0] == '-' || reply[0] == '!');
}

enum class Outcome { kServed, kEmpty, kSkipped };

// Runs w's command again on its behalf (its database and protocol, not
// blocking): served if it took something, kEmpty if it found nothing,
// kSkipped if its wait already ended or the command failed (a key now of
// another type: it waits on, as in Redis). Writes the command made to
// keys others wait on go to ctx's session's ready list.
Outcome Attempt(Context& ctx, const std::shared_ptr<Waiter>& w) {
  if (w->retry) {  // a cluster member's: through the changelog again
    ctx.shared.blocked.Retry(w);
    return Outcome::kSkipped;
  }
  std::lock_guard lock(w->mu);
  if (w->done) return Outcome::kSkipped;
  Session session;
  session.info = w->info;
  session.db = w->db;
  session.proto = w->proto;
  session.authenticated = true;
  std::string reply;
  protocol::RespWriter out(&reply);
  out.SetVersion(w->proto);
  Context serving{ctx.ks, ctx.store, ctx.shared, session, out};
  serving.may_block = true;  // nothing found: it asks to wait again
  const std::vector<std::string_view> args(w->words.begin(), w->words.end());
  try {
    Run(serving, *w->cmd, args, /*gate=*/true);
  } catch (const std::bad_alloc&) {
    return Outcome::kSkipped;  // it waits on
  }
  if (serving.block) return Outcome::kEmpty;
  if (IsError(reply)) return Outcome::kSkipped;
  w->done = true;
  ctx.shared.blocked.Remove(*w);
  for (auto& key : session.ready)
    ctx.session.ready.push_back(std::move(key));
  w->deliver(std::move(reply), session.logged);
  return Outcome::kServed;
}

}  // namespace

Result<int64_t> ParseBlockTimeout(std::string_view text, int64_t now_ms) {
  long double seconds = 0;
  if (!ParseLongDouble(text, &seconds)) {
    return Status::InvalidArgument("timeout is not a float or out of range");
  }
  const long double ms = seconds * 1000;
  // Beyond int64 Redis's conversion gives INT64_MIN: "negative".
  if (ms <= -0x1p63L || ms >= 0x1p63L) return Status::InvalidArgument("timeout is negative");
  const auto timeout = static_cast<int64_t>(ms);  // toward zero: 0.0001 s is no timeout
  if (timeout < 0) return Status::InvalidArgument("timeout is negative");
  if (timeout == 0) return int64_t{0};
  if (timeout > INT64_MAX - now_ms) return Status::InvalidArgument("timeout is out of range");
  return now_ms + timeout;
}

bool ParseMPopCommand(Context& ctx, std::span<const std::string_view> args, bool block,
                      std::string_view first, std::string_view second, MPopArgs* m,
                      int64_t* deadline_ms) {
  if (block) {
    Result<int64_t> d = ParseBlockTimeout(args[1], ctx.now());
    if (!d.ok()) return ctx.Fail(d.status()), false;
    *deadline_ms = *d;
  }
  std::string_view e = ParseMPop(args, block ? 2 : 1, first, second, m);
  if (!e.empty()) ctx.out.Error(e);
  return e.empty();
}

bool Block(Context& ctx, BlockRequest request) {
  if (!ctx.may_block) return false;
  ctx.block = std::move(request);
  return true;
}

bool BlockedClients::WaitsOn(int db, std::string_view key) const {
  std::shared_lock lock(mu_);
  return by_key_.find(std::pair<int, std::string_view>(db, key)) != by_key_.end();
}

std::vector<std::string> BlockedClients::KeysOf(int db) const {
  std::shared_lock lock(mu_);
  std::vector<std::string> keys;
  for (auto it = by_key_.lower_bound(std::pair<int, std::string_view>(db, {}));
       it != by_key_.end() && it->first.first == db; ++it) {
    keys.push_back(it->first.second);
  }
  return keys;
}

void BlockedClients::Add(const std::shared_ptr<Waiter>& w) {
  std::lock_guard lock(mu_);
  for (const std::string& key : w->keys) {
    auto& waiters = by_key_[{w->db, key}];
    if (std::find(waiters.begin(), waiters.end(), w) == waiters.end()) waiters.push_back(w);
  }
  by_client_[w->client_id] = w;
  count_.fetch_add(1, std::memory_order_relaxed);
}

void BlockedClients::Remove(const Waiter& w) {
  std::lock_guard lock(mu_);
  for (const std::string& key : w.keys) {
    auto it = by_key_.find(std::pair<int, std::string_view>(w.db, key));
    if (it == by_key_.end()) continue;
    std::erase_if(it->second, [&](const std::shared_ptr<Waiter>& x) { return x.get() == &w; });
    if (it->second.empty()) by_key_.erase(it);
  }
  if (auto it = by_client_.find(w.client_id); it != by_client_.end() && it->second.get() == &w) {
    by_client_.erase(it);
    count_.fetch_sub(1, std::memory_order_relaxed);
  }
}

std::vector<std::shared_ptr<Waiter>> BlockedClients::WaitersOf(int db, std::string_view key) const {
  std::shared_lock lock(mu_);
  auto it = by_key_.find(std::pair<int, std::string_view>(db, key));
  if (it == by_key_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

bool BlockedClients::End(const std::shared_ptr<Waiter>& w, std::string reply) {
  std::lock_guard lock(w->mu);
  if (w->done) return false;
  w->done = true;
  Remove(*w);
  if (!reply.empty()) w->deliver(std::move(reply), false);
  return true;
}

void BlockedClients::Retry(const std::shared_ptr<Waiter>& w) {
  std::lock_guard lock(w->mu);
  if (w->done) return;
  w->done = true;
  Remove(*w);
  w->retry();
}

bool BlockedClients::Unblock(uint64_t client_id, bool error) {
  std::shared_ptr<Waiter> w;
  {
    std::lock_guard lock(mu_);
    auto it = by_client_.find(client_id);
    if (it == by_client_.end()) return false;
    w = it->second;
  }
  std::string reply = w->timeout_reply;
  if (error) {
    reply.clear();
    protocol::RespWriter(&reply).Error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
  }
  return End(w, std::move(reply));
}

void ServeReady(Context& ctx) {
  // Serving may make more keys ready (BLMOVE's destination): until none is.
  while (!ctx.session.ready.empty()) {
    std::vector<std::pair<int, std::string>> keys;
    keys.swap(ctx.session.ready);
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    for (const auto& [db, key] : keys) {
      for (const std::shared_ptr<Waiter>& w : ctx.shared.blocked.WaitersOf(db, key)) {
        if (Attempt(ctx, w) == Outcome::kEmpty) break;  // nothing left for the next
      }
    }
  }
}

void StartWaiting(Context& ctx, const std::shared_ptr<Waiter>& w) {
  ctx.shared.blocked.Add(w);
  Attempt(ctx, w);  // a write since its first try
  ServeReady(ctx);
}

}  // namespace quiver::resp
