#include "server/resp/acl_catalog.h"

#include <unordered_map>
#include <utility>
#include <vector>

#include "service/feature_acl.h"
#include "util/ascii.h"
#include "util/clock.h"

namespace quiver::resp {

namespace {

using acl::Bit;
using acl::Categories;

// Categories named in a text ("admin dangerous slow").
Categories Parse(std::string_view names) {
  Categories out = 0;
  size_t start = 0;
  while (start < names.size()) {
    size_t end = names.find(' ', start);
    if (end == std::string_view::npos) end = names.size();
    if (auto c = acl::FindCategory(names.substr(start, end - start))) out |= Bit(*c);
    start = end + 1;
  }
  return out;
}

// Commands whose categories are not those their flags and group give, as
// Redis 7.0 declares them (tests/resp/test_acl.py compares every command
// with redis-server's COMMAND INFO).
constexpr std::pair<std::string_view, std::string_view> kCategories[] = {
    {"client", "slow"},
    {"command", "connection slow"},
    {"config", "slow"},
    {"dbsize", "fast keyspace read"},
    {"eval", "scripting slow"},
    {"eval_ro", "scripting slow"},
    {"evalsha", "scripting slow"},
    {"evalsha_ro", "scripting slow"},
    {"fcall", "scripting slow"},
    {"fcall_ro", "scripting slow"},
    {"flushall", "dangerous keyspace slow write"},
    {"flushdb", "dangerous keyspace slow write"},
    {"function", "slow"},
    {"info", "dangerous slow"},
    {"keys", "dangerous keyspace read slow"},
    {"memory", "slow"},
    {"object", "slow"},
    {"pubsub", "slow"},
    {"restore", "dangerous keyspace slow write"},
    {"script", "slow"},
    {"sort", "dangerous list set slow sortedset write"},
    {"sort_ro", "dangerous list read set slow sortedset"},
    {"swapdb", "dangerous fast keyspace write"},
    {"acl", "slow"},
};

// The subcommands of the containers, with Redis 7.0's categories.
constexpr std::pair<std::string_view, std::string_view> kSubcommands[] = {
    {"acl|cat", "slow"},
    {"acl|deluser", "admin dangerous slow"},
    {"acl|dryrun", "admin dangerous slow"},
    {"acl|genpass", "slow"},
    {"acl|getuser", "admin dangerous slow"},
    {"acl|help", "slow"},
    {"acl|list", "admin dangerous slow"},
    {"acl|load", "admin dangerous slow"},
    {"acl|log", "admin dangerous slow"},
    {"acl|save", "admin dangerous slow"},
    {"acl|setuser", "admin dangerous slow"},
    {"acl|users", "admin dangerous slow"},
    {"acl|whoami", "slow"},
    {"client|caching", "connection slow"},
    {"client|getname", "connection slow"},
    {"client|getredir", "connection slow"},
    {"client|help", "connection slow"},
    {"client|id", "connection slow"},
    {"client|info", "connection slow"},
    {"client|kill", "admin connection dangerous slow"},
    {"client|list", "admin connection dangerous slow"},
    {"client|no-evict", "admin connection dangerous slow"},
    {"client|pause", "admin connection dangerous slow"},
    {"client|reply", "connection slow"},
    {"client|setname", "connection slow"},
    {"client|tracking", "connection slow"},
    {"client|trackinginfo", "connection slow"},
    {"client|unblock", "admin connection dangerous slow"},
    {"client|unpause", "admin connection dangerous slow"},
    {"command|count", "connection slow"},
    {"command|docs", "connection slow"},
    {"command|getkeys", "connection slow"},
    {"command|getkeysandflags", "connection slow"},
    {"command|help", "connection slow"},
    {"command|info", "connection slow"},
    {"command|list", "connection slow"},
    {"config|get", "admin dangerous slow"},
    {"config|help", "slow"},
    {"config|resetstat", "admin dangerous slow"},
    {"config|rewrite", "admin dangerous slow"},
    {"config|set", "admin dangerous slow"},
    {"function|delete", "scripting slow write"},
    {"function|dump", "scripting slow"},
    {"function|flush", "scripting slow write"},
    {"function|help", "scripting slow"},
    {"function|kill", "scripting slow"},
    {"function|list", "scripting slow"},
    {"function|load", "scripting slow write"},
    {"function|restore", "scripting slow write"},
    {"function|stats", "scripting slow"},
    {"memory|doctor", "slow"},
    {"memory|help", "slow"},
    {"memory|malloc-stats", "slow"},
    {"memory|purge", "slow"},
    {"memory|stats", "slow"},
    {"memory|usage", "read slow"},
    {"object|encoding", "keyspace read slow"},
    {"object|freq", "keyspace read slow"},
    {"object|help", "keyspace slow"},
    {"object|idletime", "keyspace read slow"},
    {"object|refcount", "keyspace read slow"},
    {"pubsub|channels", "pubsub slow"},
    {"pubsub|help", "slow"},
    {"pubsub|numpat", "pubsub slow"},
    {"pubsub|numsub", "pubsub slow"},
    {"pubsub|shardchannels", "pubsub slow"},
    {"pubsub|shardnumsub", "pubsub slow"},
    {"script|debug", "scripting slow"},
    {"script|exists", "scripting slow"},
    {"script|flush", "scripting slow"},
    {"script|help", "scripting slow"},
    {"script|kill", "scripting slow"},
    {"script|load", "scripting slow"},
};

// The category of a command group (COMMAND DOCS's "group").
Categories GroupCategory(std::string_view group) {
  static const std::unordered_map<std::string_view, Categories> kGroups = {
      {"string", Bit(acl::kString)},
      {"list", Bit(acl::kList)},
      {"hash", Bit(acl::kHash)},
      {"set", Bit(acl::kSet)},
      {"sorted_set", Bit(acl::kSortedSet)},
      {"generic", Bit(acl::kKeyspace)},
      {"bitmap", Bit(acl::kBitmap)},
      {"hyperloglog", Bit(acl::kHyperLogLog)},
      {"geo", Bit(acl::kGeo)},
      {"stream", Bit(acl::kStream)},
      {"pubsub", Bit(acl::kPubSub)},
      {"scripting", Bit(acl::kScripting)},
      {"connection", Bit(acl::kConnection)},
      {"transactions", Bit(acl::kTransaction)},
  };
  auto it = kGroups.find(group);
  return it == kGroups.end() ? 0 : it->second;
}

// Key access as Redis's key specs ask it: a read-only command's keys need
// read access, a write's need write access, except these (first key,
// other keys). 0: the key need only match some pattern.
constexpr uint8_t R = acl::kReadAccess, W = acl::kWriteAccess, RW = acl::kFullAccess;
struct KeyAccess {
  uint8_t first, rest;
};
constexpr std::pair<std::string_view, KeyAccess> kKeyAccess[] = {
    // Read-only, but returning nothing of the value.
    {"exists", {0, 0}},
    {"touch", {0, 0}},
    {"type", {0, 0}},
    {"scard", {0, 0}},
    {"zcard", {0, 0}},
    {"hlen", {0, 0}},
    {"llen", {0, 0}},
    {"strlen", {0, 0}},
    {"hstrlen", {0, 0}},
    {"hexists", {0, 0}},
    {"sismember", {0, 0}},
    {"watch", {0, 0}},
    // Writes that return what they changed.
    {"blpop", {RW, RW}},
    {"brpop", {RW, RW}},
    {"blmpop", {RW, RW}},
    {"lmpop", {RW, RW}},
    {"zmpop", {RW, RW}},
    {"bzmpop", {RW, RW}},
    {"bzpopmin", {RW, RW}},
    {"bzpopmax", {RW, RW}},
    {"zpopmin", {RW, RW}},
    {"zpopmax", {RW, RW}},
    {"lpop", {RW, RW}},
    {"rpop", {RW, RW}},
    {"spop", {RW, RW}},
    {"hincrby", {RW, RW}},
    {"hincrbyfloat", {RW, RW}},
    {"incr", {RW, RW}},
    {"incrby", {RW, RW}},
    {"incrbyfloat", {RW, RW}},
    {"decr", {RW, RW}},
    {"decrby", {RW, RW}},
    {"getdel", {RW, RW}},
    {"getex", {RW, RW}},
    {"getset", {RW, RW}},
    {"setbit", {RW, RW}},
    {"zincrby", {RW, RW}},
    {"bitfield", {RW, RW}},
    {"eval", {RW, RW}},
    {"evalsha", {RW, RW}},
    {"fcall", {RW, RW}},
    // A source read and changed, a destination written.
    {"blmove", {RW, W}},
    {"lmove", {RW, W}},
    {"smove", {RW, W}},
    {"rename", {RW, W}},
    {"renamenx", {RW, W}},
    {"rpoplpush", {RW, W}},
    {"brpoplpush", {RW, W}},
    {"copy", {R, W}},
    {"sort", {R, W}},
    {"pfmerge", {RW, R}},
    {"pfdebug", {R, R}},
    // A destination written from sources read.
    {"sunionstore", {W, R}},
    {"sinterstore", {W, R}},
    {"sdiffstore", {W, R}},
    {"zunionstore", {W, R}},
    {"zinterstore", {W, R}},
    {"zdiffstore", {W, R}},
    {"zrangestore", {W, R}},
    {"bitop", {W, R}},
};

struct Tables {
  acl::Catalog catalog;
  std::vector<KeyAccess> access;  // by command id (top level)

  Tables() {
    std::unordered_map<std::string_view, KeyAccess> exceptions(std::begin(kKeyAccess),
                                                               std::end(kKeyAccess));
    for (const Command* cmd : AllCommands()) {
      const bool no_auth = cmd->name == "auth" || cmd->name == "hello" || cmd->name == "quit" ||
                           cmd->name == "reset";
      catalog.Add(cmd->name, CategoriesOf(*cmd), no_auth);
      auto it = exceptions.find(cmd->name);
      const uint8_t need = (cmd->flags & kWrite) ? W : R;
      access.push_back(it != exceptions.end() ? it->second : KeyAccess{need, need});
    }
    for (auto [name, categories] : kSubcommands) {
      const size_t bar = name.find('|');
      const int parent = catalog.Find(name.substr(0, bar));
      if (parent >= 0) catalog.AddSubcommand(parent, name.substr(bar + 1), Parse(categories));
    }
    AddFeatureRequests(catalog);  // the native and HTTP ports' requests (quiver|get, ...)
  }
};

const Tables& TheTables() {
  static const Tables tables;
  return tables;
}

bool NamesGet(Args args) {
  for (size_t i = 3; i < args.size(); ++i) {
    if (EqualsNoCase(args[i], "GET")) return true;
  }
  return false;
}

}  // namespace

const acl::Catalog& AclCatalog() {
  return TheTables().catalog;
}

acl::Categories CategoriesOf(const Command& cmd) {
  for (auto [name, categories] : kCategories) {
    if (name == cmd.name) return Parse(categories);
  }
  Categories c = GroupCategory(cmd.group);
  if (cmd.flags & kWrite) c |= Bit(acl::kWrite);
  if (cmd.flags & kReadOnly) c |= Bit(acl::kRead);
  if (cmd.flags & kAdmin) c |= Bit(acl::kAdmin) | Bit(acl::kDangerous);
  c |= Bit((cmd.flags & kFast) ? acl::kFast : acl::kSlow);
  if (cmd.flags & kBlocking) c |= Bit(acl::kBlocking);
  return c;
}

int AclId(const Command& cmd, Args args) {
  const int id = static_cast<int>(CommandId(&cmd));
  const acl::Catalog& catalog = AclCatalog();
  if (args.size() < 2 || catalog.at(id).subcommands.empty()) return id;
  const int sub = catalog.FindSubcommand(id, args[1]);
  return sub >= 0 ? sub : id;
}

bool UnknownSubcommand(const Command& cmd, Args args) {
  const int id = static_cast<int>(CommandId(&cmd));
  return args.size() >= 2 && !AclCatalog().at(id).subcommands.empty() && AclId(cmd, args) == id;
}

std::string_view AclRequest::first_arg() const {
  const size_t at = AclCatalog().at(id_).parent >= 0 ? 2 : 1;
  return at < args_.size() ? args_[at] : std::string_view();
}

void AclRequest::ForEachKey(FunctionRef<bool(size_t, std::string_view, uint8_t)> fn) const {
  const int top = AclCatalog().at(id_).parent >= 0 ? AclCatalog().at(id_).parent : id_;
  KeyAccess access = TheTables().access[static_cast<size_t>(top)];
  if (cmd_.name == "set" && NamesGet(args_)) access = {RW, RW};  // SET ... GET reads it too
  bool first = true, going = true;
  resp::ForEachKey(cmd_, args_, [&](size_t i) {
    if (going) going = fn(i, args_[i], first ? access.first : access.rest);
    first = false;
  });
}

void AclRequest::ForEachChannel(FunctionRef<bool(size_t, std::string_view, bool)> fn) const {
  const std::string_view name = cmd_.name;
  if (name == "publish" || name == "spublish") {
    (void)fn(1, args_[1], false);
    return;
  }
  if (name != "subscribe" && name != "ssubscribe" && name != "psubscribe") return;
  for (size_t i = 1; i < args_.size(); ++i) {
    if (!fn(i, args_[i], name == "psubscribe")) return;
  }
}

namespace {

std::string_view Reason(acl::Denial d) {
  switch (d) {
    case acl::Denial::kCommand:
      return "command";
    case acl::Denial::kKey:
      return "key";
    case acl::Denial::kChannel:
      return "channel";
    case acl::Denial::kNone:
      break;
  }
  return "";
}

std::string_view LogContext(AclWhere where) {
  switch (where) {
    case AclWhere::kTopLevel:
      return "toplevel";
    case AclWhere::kScript:
      return "lua";
    default:
      return "multi";
  }
}

std::string ScriptDeniedText(acl::Denial d) {
  switch (d) {
    case acl::Denial::kCommand:
      return "ERR The user executing the script can't run this command or subcommand";
    case acl::Denial::kKey:
      return "ERR The user executing the script can't access at least one of the keys mentioned "
             "in the command arguments";
    default:
      return "ERR The user executing the script can't publish to the channel mentioned in the "
             "command";
  }
}

std::string ExecDeniedText(acl::Denial d) {
  std::string_view reason =
      d == acl::Denial::kCommand ? "no permission to execute the command or subcommand"
      : d == acl::Denial::kKey   ? "no permission to touch the specified keys"
                                 : "no permission to access one of the channels used as arguments";
  return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the "
         "EXEC call. This command is no longer allowed for the following reason: " +
         std::string(reason);
}

std::string DeniedText(const acl::Verdict& v, AclWhere where, int id) {
  if (where == AclWhere::kScript) return ScriptDeniedText(v.denial);
  if (where == AclWhere::kExec) return ExecDeniedText(v.denial);
  switch (v.denial) {
    case acl::Denial::kCommand:
      return "NOPERM this user has no permissions to run the '" + AclCatalog().at(id).name +
             "' command";
    case acl::Denial::kKey:
      return "NOPERM this user has no permissions to access one of the keys used as arguments";
    default:
      return "NOPERM this user has no permissions to access one of the channels used as "
             "arguments";
  }
}

}  // namespace

bool AclAllows(Context& ctx, const Command& cmd, Args args, AclWhere where, std::string* error) {
  if (UnknownSubcommand(cmd, args)) return true;
  const AclRequest request(cmd, args);
  const acl::User& user = *ctx.session.user;
  const acl::Verdict v = user.Check(request);
  if (v.denial == acl::Denial::kNone) return true;
  acl::LogEntry entry;
  entry.reason = Reason(v.denial);
  entry.context = LogContext(where);
  entry.object = v.denial == acl::Denial::kCommand ? AclCatalog().at(request.command()).name
                                                   : std::string(args[v.position]);
  entry.username = user.name();
  entry.client_info = ClientLine(*ctx.session.info, SystemNowMs());
  entry.client_info.pop_back();  // its newline
  ctx.shared.acl_log.Add(std::move(entry), SystemNowMs());
  *error = DeniedText(v, where, request.command());
  return false;
}

std::string DryRunText(const acl::Verdict& v, const Command& cmd, Args args) {
  switch (v.denial) {
    case acl::Denial::kCommand:
      return "This user has no permissions to run the '" + AclCatalog().at(AclId(cmd, args)).name +
             "' command";
    case acl::Denial::kKey:
      return "This user has no permissions to access the '" + std::string(args[v.position]) +
             "' key";
    case acl::Denial::kChannel:
      return "This user has no permissions to access the '" + std::string(args[v.position]) +
             "' channel";
    case acl::Denial::kNone:
      break;
  }
  return "OK";
}

}  // namespace quiver::resp
