// The RESP port's commands: the table (name, arity, flags, keys, as Redis
// describes its own for COMMAND), the per-connection session, the state
// shared by every connection, and the context a command runs in.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <optional>

#include "protocol/resp.h"
#include "security/acl/acl_log.h"
#include "security/acl/users.h"
#include "server/resp/blocking.h"
#include "server/resp/feature_channels.h"
#include "server/resp/notify.h"
#include "server/resp/pubsub.h"
#include "server/scripting/lua_vm.h"
#include "service/password.h"
#include "service/request_metrics.h"
#include "service/runtime_config.h"
#include "storage/features/feature_store.h"
#include "storage/keyspace/keyspace.h"
#include "util/function_ref.h"

namespace quiver {
class WorkPool;
namespace cluster {
class Changelog;
}
}  // namespace quiver

namespace quiver::resp {

using Args = std::span<const std::string_view>;
struct Context;
struct Shared;
using Handler = void (*)(Context& ctx, Args args);
// Calls fn with the position of each key a request names that only
// parsing it finds (SORT's STORE destination).
using KeyFinder = void (*)(Args args, FunctionRef<void(size_t)> fn);

enum Flag : uint32_t {
  kWrite = 1 << 0,     // changes data (runs under the shared gate)
  kReadOnly = 1 << 1,  // reads data
  // Several keys: must not interleave with other writers. Writes take the
  // exclusive gate, reads the shared one (when they name more than one key).
  kMultiKey = 1 << 2,
  kNoAuth = 1 << 3,   // allowed before AUTH
  kNoQueue = 1 << 4,  // runs at once inside MULTI instead of being queued
  kAdmin = 1 << 5,
  kFast = 1 << 6,
  kDenyOom = 1 << 7,      // may add memory: refused over the memory limit
  kStale = 1 << 8,        // connection commands Redis allows in any state
  kExclusive = 1 << 9,    // always under the exclusive gate (FLUSHDB, FLUSHALL)
  kHashField = 1 << 10,   // args[2] is a field of the hash at args[1] (prefetched)
  kLong = 1 << 11,        // may run long: on the pool of long requests (KEYS, FLUSHALL)
  kBlocking = 1 << 12,    // may wait for data (BLPOP, ...: server/resp/blocking.h)
  kSubscribed = 1 << 13,  // allowed on a RESP2 connection with subscriptions
  kNoScript = 1 << 14,    // not allowed from scripts (MULTI, SUBSCRIBE, EVAL, ...)
  kRunsScript = 1 << 15,  // runs a Lua script or function (EVAL, FCALL, ...)
};

struct Command {
  std::string_view name;  // lower case
  int arity;              // Redis's: N exactly N words (name included), -N at least N
  uint32_t flags;
  int first_key, last_key, key_step;  // positions of the keys, as COMMAND reports them
  std::string_view group;             // as COMMAND DOCS reports it ("string", "generic", ...)
  std::string_view summary;
  Handler handler;
  // Keys after a count (ZMPOP numkeys key ..., ZUNIONSTORE dst numkeys
  // key ...): the position of the count; 0 for none.
  int numkeys_at = 0;
  // Keys found by parsing (a command with one counts as naming several).
  KeyFinder more_keys = nullptr;
};

// The command named (any case), or nullptr.
const Command* FindCommand(std::string_view name);
// Whether a request of argc words (the name included) has the command's arity.
bool ArityOk(const Command& cmd, size_t argc);
// The position of the last key of a request of argc words (Command's
// last_key counts from the end when negative).
int64_t LastKey(const Command& cmd, size_t argc);
// The positions of every key a request names: first_key to last_key by
// key_step, then the keys after the count at numkeys_at (none if the count
// is not a number, or more than the request holds; the command refuses it),
// then those its more_keys finds.
// Calls fn with each position, in that order, allocating nothing (it runs
// for every write).
void ForEachKey(const Command& cmd, Args args, FunctionRef<void(size_t)> fn);
// Whether the count at numkeys_at is a number from 1 to the words after
// it (true for a command without one).
bool KeyCountValid(const Command& cmd, Args args);
// Every command, for COMMAND, COMMAND COUNT, COMMAND INFO, sorted by name.
std::span<const Command* const> AllCommands();
// The command's place in AllCommands() (its id in RequestMetrics);
// AllCommands().size() for a pointer that is not a command.
size_t CommandId(const Command* cmd);

// The index of the calling thread among the server's I/O threads, which
// Server::Run sets; -1 on any other thread.
int& IoThreadIndex();

// Stops the running script, and any that starts from now on, even one that
// has written (the server is stopping); see RunningScript.
void StopScripts(Shared& shared);

// The command tables of each group (strings.cc, keys.cc, hashes.cc, ...).
std::span<const Command> StringCommands();
std::span<const Command> KeyCommands();
std::span<const Command> HashCommands();
std::span<const Command> ListCommands();
std::span<const Command> SetCommands();
std::span<const Command> ZSetCommands();
std::span<const Command> ZRangeCommands();
std::span<const Command> ZCombineCommands();
std::span<const Command> ObjectCommands();
std::span<const Command> LcsCommands();
std::span<const Command> BitmapCommands();
std::span<const Command> BitFieldCommands();
std::span<const Command> HllCommands();
std::span<const Command> ScriptingCommands();
std::span<const Command> FunctionCommands();
std::span<const Command> CopyCommands();
std::span<const Command> DumpCommands();
std::span<const Command> MemoryCommands();
std::span<const Command> SortCommands();
std::span<const Command> ConnectionCommands();
std::span<const Command> ServerCommands();
std::span<const Command> TransactionCommands();
std::span<const Command> ClusterCommands();
std::span<const Command> SentinelCommands();
std::span<const Command> PubSubCommands();
std::span<const Command> AclCommands();

// What CLIENT LIST and INFO show of a connection; written by its own thread
// (counters with relaxed stores), read by any under the registry's lock.
struct ClientInfo {
  uint64_t id = 0;
  std::string addr, laddr;
  int64_t created_ms = 0;
  std::atomic<int64_t> last_command_ms{0};
  std::atomic<const Command*> last_command{nullptr};
  std::atomic<int64_t> commands{0};
  std::atomic<int64_t> net_in{0};
  std::atomic<int64_t> net_out{0};
  std::atomic<int64_t> qbuf{0};       // bytes of requests received, not yet run
  std::atomic<int64_t> qbuf_free{0};  // room left in the query buffer
  std::atomic<int64_t> omem{0};       // answers not yet read by the client
  std::atomic<int> db{0};
  std::atomic<int> proto{2};
  std::atomic<int> sub{0}, psub{0}, ssub{0};  // channels, patterns, shard channels subscribed to
  std::atomic<bool> in_multi{false};
  std::atomic<int64_t> multi_count{-1};  // commands queued by MULTI; -1: not in MULTI
  std::atomic<int64_t> multi_mem{0};     // bytes they hold
  mutable std::mutex mu;                 // guards the strings below
  std::string name, lib_name, lib_ver;
  std::string user{acl::kDefaultUser};  // the user the connection runs as

  // One writer thread: a plain load and store, no locked instruction.
  static void Add(std::atomic<int64_t>& counter, int64_t n) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  static void Add32(std::atomic<int>& counter, int n) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

// One line of CLIENT LIST and CLIENT INFO (and ACL LOG's client-info),
// with Redis's fields and its final newline.
std::string ClientLine(const ClientInfo& c, int64_t now_ms);

// Server-wide state of the RESP port.
struct Shared {
  // The default user's password starts as config's requirepass and
  // follows its changes.
  Shared(RuntimeConfig& config, std::string version);

  RuntimeConfig& config;  // quiverd's settings: CONFIG GET/SET, INFO
  std::string version;    // quiver's
  // The users (ACL SETUSER, ...) and their recent denials (ACL LOG).
  acl::Users users;
  acl::AclLog acl_log;
  // The default user's password, which the native and HTTP ports check
  // (CONFIG SET requirepass changes it).
  Password password{users};
  // Where ACL SAVE and LOAD keep the users: the aclfile if there is one
  // (server/resp/acl_commands.cc), else the data directory's store.
  std::string aclfile;
  std::optional<ColumnFamily> users_column;
  // tls-auth-clients-user CN: a TLS client's verified certificate names
  // the user its connection runs as.
  std::atomic<bool> tls_user_from_cn{false};
  int64_t start_ms = 0;
  const RequestMetrics* metrics = nullptr;  // for INFO commandstats and latencystats
  WorkPool* long_requests = nullptr;        // where RunsLong commands run; null: in place
  // A cluster member's changelog: writes are proposed to it and run when
  // it applies them (server/resp/replicated.h). null: a single server.
  cluster::Changelog* changelog = nullptr;
  std::atomic<uint64_t> next_client_id{1};
  std::atomic<int64_t> connections_received{0};
  std::atomic<int64_t> rejected_connections{0};
  // Totals of closed connections (live ones are summed from their infos).
  std::atomic<int64_t> closed_commands{0}, closed_net_in{0}, closed_net_out{0};
  std::atomic<int64_t> keyspace_hits{0}, keyspace_misses{0};  // added per batch of requests
  std::atomic<uint64_t> flushes{0};  // FLUSHDB/FLUSHALL so far: they abort every WATCH
  BlockedClients blocked;            // clients waiting in a blocking command
  PubSub pubsub;                     // channels and patterns subscribed to
  // Publishes keyspace notifications (follows notify-keyspace-events).
  KeyspaceNotifier notifier{pubsub};
  // Publishes the rows the feature store accepts to __quiver__:<view>.
  FeatureChannels feature_channels{pubsub};
  // The Lua VM of EVAL and SCRIPT (made at first use), one script at a time.
  // Timed: a command waiting for it past busy-reply-threshold is answered
  // BUSY (LockVm).
  std::timed_mutex lua_mu;
  std::unique_ptr<scripting::LuaVm> lua;  // guarded by lua_mu
  // FUNCTION STATS's counts, as the last change of the libraries left them
  // (read without lua_mu, which a running function holds).
  std::atomic<int64_t> library_count{0}, function_count{0};
  int64_t script_instruction_limit = 0;  // LuaVm::Options::max_instructions
  // Redis's hll-sparse-max-bytes, as CONFIG SET last gave it
  // (server/resp/config.cc).
  std::atomic<int64_t> hll_sparse_max_bytes{3000};
  // busy-reply-threshold (and its old name lua-time-limit), ms: a command
  // that would wait longer than this for a running script is answered BUSY.
  std::atomic<int64_t> busy_reply_threshold_ms{5000};
  // Where function libraries are kept (server/resp/functions.cc); none
  // without a data directory.
  std::optional<ColumnFamily> functions_column;
  // The running script, for SCRIPT KILL (which does not wait for lua_mu).
  // kScriptIdle, or the running script's kScriptClean, kScriptWrote or
  // kScriptKilled: a kill and a first write are one compare-and-swap, so a
  // script is either killed before it writes or never.
  static constexpr int kScriptIdle = 0, kScriptClean = 1, kScriptWrote = 2, kScriptKilled = 3;
  std::atomic<int> script_state{kScriptIdle};
  // Set before script_state leaves kScriptIdle: when the running script
  // started (MonotonicMs) and whether it is a function (FCALL).
  std::atomic<int64_t> script_started_ms{0};
  std::atomic<bool> script_is_function{false};
  // The I/O thread (IoThreadIndex) the running script holds; -1: none.
  // New connections go to the others (Server::NextContext).
  std::atomic<int> script_io_thread{-1};
  // The running function's name and command, for FUNCTION STATS: views of
  // FCALL's own words and the VM's name, valid while it runs (RunningScript
  // clears them before it returns).
  std::mutex running_mu;
  std::string_view running_name;         // guarded by running_mu
  Args running_command;                  // guarded by running_mu
  std::atomic<bool> script_kill{false};  // the VM's stop flag (kScriptKilled)
  // The server is stopping (StopScripts): a running script is stopped,
  // written or not, and nothing it wrote is kept.
  std::atomic<bool> stopping{false};

  std::mutex clients_mu;
  std::map<uint64_t, std::shared_ptr<ClientInfo>> clients;  // guarded by clients_mu

  std::mutex config_mu;
  // Redis's tuning parameters as CONFIG SET gave them (server/resp/config.cc).
  std::map<std::string, std::string> config_values;  // guarded by config_mu

  // What INFO's counters had reached at the last CONFIG RESETSTAT: INFO
  // shows what came since. (/metrics keeps counting from the start, as
  // Prometheus counters must.)
  struct StatCounters {
    int64_t connections_received = 0, rejected_connections = 0, commands = 0, net_in = 0,
            net_out = 0, keyspace_hits = 0, keyspace_misses = 0, expired_keys = 0;
  };
  // INFO's instantaneous_ops_per_sec, as Redis computes it: commands per
  // second over the last 16 samples, taken every 100 ms (SampleOps).
  static constexpr int kOpsSamples = 16;
  std::mutex ops_mu;
  std::array<std::pair<int64_t, int64_t>, kOpsSamples + 1> ops_samples{};  // (ms, commands)
  uint64_t ops_taken = 0;  // samples so far; guarded by ops_mu

  std::mutex stats_base_mu;
  StatCounters stats_base;  // guarded by stats_base_mu
  std::map<std::string, RequestMetrics::Totals, std::less<>> command_base;  // by command name
};

// One connection's state; touched only by its thread.
struct Session {
  std::shared_ptr<ClientInfo> info;
  int db = 0;
  int proto = 2;
  bool authenticated = false;
  // The user the connection runs as (the default user until AUTH), and
  // the users' generation when it was looked up: a change of any user
  // makes the connection look its own up again (RefreshUser).
  std::shared_ptr<const acl::User> user;
  uint64_t user_generation = 0;
  bool unrestricted = true;  // the user may run anything: no ACL check
  bool close = false;        // close once the replies so far are written
  // MULTI
  bool in_multi = false;
  bool multi_failed = false;  // a queued command was refused: EXEC aborts
  std::vector<std::vector<std::string>> queued;
  size_t queued_bytes = 0;     // of the queued commands' words
  bool queued_writes = false;  // a queued command writes (EXEC checks the disk)
  // A transaction queues at most this many commands and bytes; past
  // either, the command is refused and EXEC aborts, so that a client
  // queueing without end cannot take the server's memory.
  static constexpr size_t kMaxQueued = 100'000;
  static constexpr size_t kMaxQueuedBytes = 64u << 20;
  // WATCH keeps at most this many keys, and bytes of them, per connection.
  static constexpr size_t kMaxWatched = 100'000;
  static constexpr size_t kMaxWatchedBytes = 64u << 20;
  struct Watched {
    int db;
    std::string key;
    uint64_t stamp;
  };
  std::vector<Watched> watched;
  size_t watched_bytes = 0;    // of the watched keys
  uint64_t watch_flushes = 0;  // Shared::flushes when WATCH ran
  // Pub/Sub: the connection's end, and what it subscribed to.
  std::shared_ptr<Subscriber> subscriber;
  std::set<std::string, std::less<>> channels, patterns, shard_channels;
  // Any subscription puts a RESP2 connection in the subscribed state.
  size_t subscriptions() const { return channels.size() + patterns.size() + shard_channels.size(); }
  size_t subscription_bytes = 0;  // of their names
  // A connection subscribes to at most this many channels and patterns,
  // and bytes of their names (each PUBLISH matches every pattern).
  static constexpr size_t kMaxSubscriptions = 100'000;
  static constexpr size_t kMaxSubscriptionBytes = 64u << 20;
  // Keys that writes named while clients waited: their waiters are served
  // once the command (or EXEC) has run. (db, key)
  std::vector<std::pair<int, std::string>> ready;
  // Keyspace hits and misses not yet added to Shared.
  int64_t hits = 0, misses = 0;
  // Writes were submitted to the log since the connection last looked:
  // its replies wait for them under durability async and sync.
  bool logged = false;
};

// A write to propose to the changelog instead of running it here.
struct Proposal {
  int partition = -1;  // -1: none
  std::string body;    // a kCommands record body (server/cluster/record.h)
  // The record goes to every partition (FLUSHDB, FLUSHALL): the reply is
  // given once each has applied it.
  bool every_partition = false;
};

struct Context {
  KeySpace& ks;
  FeatureStore& store;
  Shared& shared;
  Session& session;
  protocol::RespWriter& out;

  // With a log: where the writes of a command that runs under the
  // exclusive gate (a transaction, a multi-key command) gather, to be
  // submitted as one atomic batch. nullptr: each is submitted at once.
  HistoryBatch* txn = nullptr;
  // A cluster member's connection: a write is not run but proposed here
  // (no reply written), for the connection to send to the changelog.
  Proposal* proposal = nullptr;
  // Applying a changelog record: the writer checked memory and disk before
  // proposing it, and every replica must apply it alike.
  bool applying = false;
  // The changelog partition of the record applied; -1: none.
  int32_t partition = -1;
  // A blocking command run at the top level (not in MULTI) may wait:
  // it then sets `block` and replies nothing (server/resp/blocking.h).
  bool may_block = false;
  std::optional<BlockRequest> block{};
  // The command's writes are not to be kept (a script the server's stop
  // ended): none reach the log, not even those already in txn.
  bool drop_writes = false;

  int db() const { return session.db; }
  int64_t now() const { return ks.NowMs(); }
  // Hands writes to the log: into txn, or submitted now.
  void Log(HistoryBatch&& ops);
  // Hands a box's journal to the log. REQUIRES: the box's lock held, taken
  // before it was changed (so that the log sees its changes in order).
  void LogBox(Box& box);
  // Hands the key's state (in the session's database) to the log, if
  // there is one; what a write command does for each key it names.
  // With unless_stamp: not if the key's stamp is still that one.
  void LogKey(std::string_view key, const uint64_t* unless_stamp = nullptr);
  // Replies the error of a status (server/resp/errors.h: its kind's Redis
  // error code, else ERR).
  void Fail(const Status& status);
  // A keyspace notification of the command's change to key (Redis's event
  // name; cls a NotifyClass), in the session's database.
  void Notify(uint32_t cls, std::string_view event, std::string_view key) {
    shared.notifier.Notify(cls, event, session.db, key);
  }
  // A read looked the key up: a hit, or a miss (counted, and notified as a
  // keymiss), as Redis's INFO keyspace_hits and keyspace_misses count.
  void Looked(bool found, std::string_view key) {
    if (found) {
      ++session.hits;
    } else {
      ++session.misses;
      Notify(kNotifyKeyMiss, "keymiss", key);
    }
  }
};

// Runs one request: looks the command up, checks authentication and
// arity, queues it inside MULTI, or runs it under the gate its flags ask.
// REQUIRES: the thread is registered with RCU.
void Execute(Context& ctx, Args args);
// Whether the command may run long, and so runs on Shared::long_requests:
// those flagged kLong, and an EXEC of kLongExec queued commands or more.
bool RunsLong(const Session& session, const Command* cmd);
inline constexpr size_t kLongExec = 1000;
// Execute with the command already looked up (FindCommand(args[0])).
void Execute(Context& ctx, Args args, const Command* cmd);

// Loads the function libraries kept in the store and keeps later ones
// there. Call once at start, before serving.
Status RecoverFunctions(Shared& shared, HistoryStore& store);

// Starts the session as the default user: a new connection, RESET
// (authenticated if the default user is on and needs no password).
void StartAsDefaultUser(Shared& shared, Session& session);
// AUTH and HELLO AUTH: runs the session as user `name` if it exists, is on
// and the password is its own; else false, and the failure is in ACL LOG
// (`command` as the client named it).
bool AuthenticateAs(Context& ctx, std::string_view command, std::string_view name,
                    std::string_view password);
// tls-auth-clients-user CN: runs the session as the user its TLS client's
// certificate names, if that user exists and is on (no password asked:
// the certificate is the proof); else changes nothing.
void AuthenticateByCertificate(Shared& shared, Session& session, std::string_view name);
// After a change of the users: looks the session's user up again. False
// if it was deleted, or may no longer listen to a channel the session is
// subscribed to: the connection is to be closed, as Redis closes it.
bool StillPermitted(Shared& shared, Session& session);

// Loads the users at start: from Shared::aclfile if there is one (an error
// in it is quiverd's to refuse to start), else from the store's users
// column if ACL SAVE kept them there (store null: no data directory).
Status RecoverUsers(Shared& shared, HistoryStore* store);

// Ends every subscription of a session (RESET, a closed connection).
void UnsubscribeAll(Shared& shared, Session& session);

// Runs a command already checked (EXEC's queued ones run this way under
// the exclusive gate, with gate = false).
void Run(Context& ctx, const Command& cmd, Args args, bool gate);

// The Redis version whose commands and replies quiver follows (INFO, HELLO).
extern const std::string_view kRedisCompatVersion;

// Common replies with Redis's texts.
inline constexpr std::string_view kSyntaxError = "ERR syntax error";
inline constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kNotFloat = "ERR value is not a valid float";
void ReplyWrongArity(Context& ctx, std::string_view name);
// A HELP subcommand's reply: the lines as simple strings.
void ReplyHelp(Context& ctx, std::span<const char* const> lines);
// "ERR unknown subcommand 'sub'. Try COMMAND HELP."
void ReplyUnknownSubcommand(Context& ctx, std::string_view sub, std::string_view command);

}  // namespace quiver::resp
