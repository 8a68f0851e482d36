// Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
// BZPOPMAX, BZMPOP): a client whose command found nothing waits on its
// keys, first come, first served, until a write gives it something, its
// timeout passes, CLIENT UNBLOCK ends the wait, or it disconnects.
//
// How a wait ends with data: every write that names a key some client
// waits on records the key (Session::ready); once the write (or the EXEC
// around it) has run, the writer's thread serves the key's waiters in the
// order they came, each by running its command again on its behalf (now
// without blocking), and hands the reply to the waiter's connection, which
// goes on with its pipeline. A waiter is registered before its keys are
// looked at once more, so no write between its first try and its wait is
// missed.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quiver/status.h"
#include "server/resp/arguments.h"

namespace quiver::resp {

struct Command;
struct Context;
struct ClientInfo;

// What a blocking command asks for when it found nothing to take.
struct BlockRequest {
  std::vector<std::string_view> keys;  // those whose writes wake it
  int64_t deadline_ms = 0;             // 0: none
  bool null_array = true;              // its timeout reply: *-1 (else $-1)
};

// A blocking command's timeout argument (Redis's, in seconds with a
// fraction): the absolute deadline at now_ms, or 0 for none.
Result<int64_t> ParseBlockTimeout(std::string_view text, int64_t now_ms);

// The timeout (block: args[1]) and the rest of [B]LMPOP's and [B]ZMPOP's
// arguments (sides `first` and `second`); false once it replied an error.
bool ParseMPopCommand(Context& ctx, std::span<const std::string_view> args, bool block,
                      std::string_view first, std::string_view second, MPopArgs* m,
                      int64_t* deadline_ms);

// Asks to block (a blocking command that found nothing): true if ctx may
// block (the caller replies nothing), false where it may not (inside
// MULTI or a script, or applying a changelog record: the caller replies
// its timeout reply now).
bool Block(Context& ctx, BlockRequest request);

// One waiting client.
struct Waiter {
  uint64_t client_id = 0;
  int db = 0;
  int proto = 2;
  std::shared_ptr<ClientInfo> info;
  const Command* cmd = nullptr;
  std::vector<std::string> words;  // the command, run again to serve it
  std::vector<std::string> keys;
  std::string timeout_reply;  // in its protocol
  // Called once, from any thread, with the reply that ends the wait and
  // whether writes it made went to the log (its connection then holds the
  // reply until they are committed).
  std::function<void(std::string reply, bool logged)> deliver;
  // A cluster member's waiter: instead of being served here, its command
  // is proposed to the changelog again (called once, from any thread).
  std::function<void()> retry;

  std::mutex mu;      // held while the waiter is served or its wait ends
  bool done = false;  // guarded by mu
};

class BlockedClients {
 public:
  // Whether any client waits (one relaxed load: every write asks).
  bool any() const { return count_.load(std::memory_order_relaxed) > 0; }
  size_t size() const { return static_cast<size_t>(count_.load(std::memory_order_relaxed)); }
  bool WaitsOn(int db, std::string_view key) const;
  // Every key of database db that a client waits on (SWAPDB serves them).
  std::vector<std::string> KeysOf(int db) const;

  void Add(const std::shared_ptr<Waiter>& w);
  // Ends w's wait unless it already ended: delivers `reply` (none if
  // empty: a closed connection) and returns true.
  bool End(const std::shared_ptr<Waiter>& w, std::string reply);
  // CLIENT UNBLOCK: ends the wait of that client with its timeout reply,
  // or (error) an UNBLOCKED error; false if it does not wait.
  bool Unblock(uint64_t client_id, bool error);
  // Ends a cluster member's wait by proposing its command again, unless
  // the wait already ended.
  void Retry(const std::shared_ptr<Waiter>& w);
  // The waiters on a key, in the order they came.
  std::vector<std::shared_ptr<Waiter>> WaitersOf(int db, std::string_view key) const;
  // Drops a waiter served or ended. REQUIRES: w->mu held, w->done set.
  void Remove(const Waiter& w);

 private:
  // Orders (db, key) pairs whatever holds the key (string or view).
  struct KeyLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return a.first != b.first ? a.first < b.first
                                : std::string_view(a.second) < std::string_view(b.second);
    }
  };
  // Shared by the lookups every write makes while any client waits.
  mutable std::shared_mutex mu_;
  std::map<std::pair<int, std::string>, std::deque<std::shared_ptr<Waiter>>, KeyLess>
      by_key_;                                             // guarded by mu_
  std::map<uint64_t, std::shared_ptr<Waiter>> by_client_;  // guarded by mu_
  std::atomic<int64_t> count_{0};
};

// Serves the waiters on the keys writes of ctx's session touched
// (Session::ready), then forgets the keys. Runs outside any gate.
void ServeReady(Context& ctx);

// Registers a waiter, then serves it at once if its keys hold something
// meanwhile (ctx: the waiter's connection's).
void StartWaiting(Context& ctx, const std::shared_ptr<Waiter>& w);

}  // namespace quiver::resp
