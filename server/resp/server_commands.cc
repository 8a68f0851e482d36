// Server commands: CLIENT, CONFIG, COMMAND, TIME. (INFO: info.cc.)
#include <sys/time.h>

#include <algorithm>
#include <bit>
#include <string>
#include <vector>

#include "server/resp/acl_catalog.h"
#include "server/resp/arguments.h"
#include "server/resp/config.h"
#include "server/resp/helpers.h"
#include "server/resp/info.h"

namespace quiver::resp {

std::string ClientLine(const ClientInfo& c, int64_t now_ms) {
  std::string name, lib_name, lib_ver, user;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    name = c.name;
    lib_name = c.lib_name;
    lib_ver = c.lib_ver;
    user = c.user;
  }
  const Command* cmd = c.last_command.load(std::memory_order_relaxed);
  const int64_t last = c.last_command_ms.load(std::memory_order_relaxed);
  const bool multi = c.in_multi.load(std::memory_order_relaxed);
  return "id=" + std::to_string(c.id) + " addr=" + c.addr + " laddr=" + c.laddr +
         " fd=-1 name=" + name + " age=" + std::to_string((now_ms - c.created_ms) / 1000) +
         " idle=" + std::to_string(last > 0 ? (now_ms - last) / 1000 : 0) +
         " flags=" + (multi ? "x" : "N") +
         " db=" + std::to_string(c.db.load(std::memory_order_relaxed)) +
         " sub=" + std::to_string(c.sub.load(std::memory_order_relaxed)) +
         " psub=" + std::to_string(c.psub.load(std::memory_order_relaxed)) +
         " ssub=" + std::to_string(c.ssub.load(std::memory_order_relaxed)) +
         " multi=" + std::to_string(c.multi_count.load(std::memory_order_relaxed)) +
         " qbuf=" + std::to_string(c.qbuf.load(std::memory_order_relaxed)) +
         " qbuf-free=" + std::to_string(c.qbuf_free.load(std::memory_order_relaxed)) +
         " argv-mem=0 multi-mem=" + std::to_string(c.multi_mem.load(std::memory_order_relaxed)) +
         " rbs=0 rbp=0 obl=0 oll=0 omem=" + std::to_string(c.omem.load(std::memory_order_relaxed)) +
         " tot-mem=0 events=r cmd=" + std::string(cmd != nullptr ? cmd->name : "NULL") +
         " user=" + user +
         " redir=-1 resp=" + std::to_string(c.proto.load(std::memory_order_relaxed)) +
         " lib-name=" + lib_name + " lib-ver=" + lib_ver + "\n";
}

namespace {

// --- CLIENT -----------------------------------------------------------

void ClientList(Context& ctx, Args args) {
  std::vector<uint64_t> ids;
  for (size_t i = 2; i < args.size(); ++i) {
    if (EqualsNoCase(args[i], "TYPE") && i + 1 < args.size()) {
      ++i;  // every client is "normal"
      if (!EqualsNoCase(args[i], "normal")) return ctx.out.Verbatim("");
    } else if (EqualsNoCase(args[i], "ID")) {
      for (++i; i < args.size(); ++i) {
        int64_t id = 0;
        if (!ParseInt64(args[i], &id) || id <= 0) return ctx.out.Error("ERR Invalid client ID");
        ids.push_back(static_cast<uint64_t>(id));
      }
    } else {
      return ctx.out.Error(kSyntaxError);
    }
  }
  std::string text;
  const int64_t now = ctx.now();
  std::lock_guard<std::mutex> lock(ctx.shared.clients_mu);
  for (const auto& [id, info] : ctx.shared.clients) {
    if (!ids.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
    text += ClientLine(*info, now);
  }
  ctx.out.Verbatim(text);
}

void ClientSetInfo(Context& ctx, Args args) {
  if (args.size() != 4) return ReplyWrongArity(ctx, "client|setinfo");
  const bool name = EqualsNoCase(args[2], "LIB-NAME");
  if (!name && !EqualsNoCase(args[2], "LIB-VER")) {
    return ctx.out.Error("ERR Unrecognized option '" + std::string(args[2]) + "'");
  }
  if (!IsPrintableToken(args[3])) {
    return ctx.out.Error(std::string("ERR ") + (name ? "lib-name" : "lib-ver") +
                         " cannot contain spaces, newlines or special characters.");
  }
  std::lock_guard<std::mutex> lock(ctx.session.info->mu);
  (name ? ctx.session.info->lib_name : ctx.session.info->lib_ver) = args[3];
  ctx.out.Ok();
}

void ClientSetName(Context& ctx, Args args) {
  if (args.size() != 3) return ReplyWrongArity(ctx, "client|setname");
  if (!IsPrintableToken(args[2])) {
    return ctx.out.Error("ERR Client names cannot contain spaces, newlines or special characters.");
  }
  std::lock_guard<std::mutex> lock(ctx.session.info->mu);
  ctx.session.info->name = args[2];
  ctx.out.Ok();
}

void ClientGetName(Context& ctx, Args) {
  std::string name;
  {
    std::lock_guard<std::mutex> lock(ctx.session.info->mu);
    name = ctx.session.info->name;
  }
  if (name.empty()) return ctx.out.Null();
  ctx.out.Bulk(name);
}

// CLIENT NO-EVICT and NO-TOUCH: accepted (nothing is evicted or tracked).
void ClientOnOff(Context& ctx, Args args) {
  if (args.size() != 3) {
    return ReplyWrongArity(
        ctx, EqualsNoCase(args[1], "no-evict") ? "client|no-evict" : "client|no-touch");
  }
  if (!EqualsNoCase(args[2], "ON") && !EqualsNoCase(args[2], "OFF")) {
    return ctx.out.Error(kSyntaxError);
  }
  ctx.out.Ok();
}

// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends a blocking command's wait.
void ClientUnblock(Context& ctx, Args args) {
  if (args.size() != 3 && args.size() != 4) return ReplyWrongArity(ctx, "client|unblock");
  bool error = false;
  if (args.size() == 4) {
    error = EqualsNoCase(args[3], "ERROR");
    if (!error && !EqualsNoCase(args[3], "TIMEOUT")) {
      return ctx.out.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
    }
  }
  int64_t id = 0;
  if (!ParseInt64(args[2], &id)) return ctx.out.Error(kNotInteger);
  ctx.out.Integer(ctx.shared.blocked.Unblock(static_cast<uint64_t>(id), error) ? 1 : 0);
}

void Client(Context& ctx, Args args) {
  const std::string_view sub = args[1];
  if (EqualsNoCase(sub, "ID") && args.size() == 2) {
    return ctx.out.Integer(static_cast<int64_t>(ctx.session.info->id));
  }
  if (EqualsNoCase(sub, "SETNAME")) return ClientSetName(ctx, args);
  if (EqualsNoCase(sub, "GETNAME") && args.size() == 2) return ClientGetName(ctx, args);
  if (EqualsNoCase(sub, "LIST")) return ClientList(ctx, args);
  if (EqualsNoCase(sub, "INFO") && args.size() == 2) {
    return ctx.out.Verbatim(ClientLine(*ctx.session.info, ctx.now()));
  }
  if (EqualsNoCase(sub, "SETINFO")) return ClientSetInfo(ctx, args);
  if (EqualsNoCase(sub, "UNBLOCK")) return ClientUnblock(ctx, args);
  if (EqualsNoCase(sub, "NO-EVICT") || EqualsNoCase(sub, "NO-TOUCH")) {
    return ClientOnOff(ctx, args);
  }
  if (EqualsNoCase(sub, "HELP")) {
    const char* lines[] = {"CLIENT <subcommand> [<arg> ...]. Subcommands are:",
                           "ID",
                           "GETNAME",
                           "SETNAME <name>",
                           "LIST [TYPE normal] [ID <id> ...]",
                           "INFO",
                           "SETINFO <LIB-NAME|LIB-VER> <value>",
                           "NO-EVICT <ON|OFF>",
                           "NO-TOUCH <ON|OFF>",
                           "UNBLOCK <clientid> [TIMEOUT|ERROR]",
                           "HELP"};
    return ReplyHelp(ctx, lines);
  }
  ReplyUnknownSubcommand(ctx, sub, "CLIENT");
}

// --- CONFIG -----------------------------------------------------------

void Config(Context& ctx, Args args) {
  const std::string_view sub = args[1];
  if (EqualsNoCase(sub, "GET")) return ConfigGet(ctx, args);
  if (EqualsNoCase(sub, "SET")) return ConfigSet(ctx, args);
  if (EqualsNoCase(sub, "RESETSTAT") && args.size() == 2) {
    ResetStats(ctx);
    return ctx.out.Ok();
  }
  if (EqualsNoCase(sub, "REWRITE") && args.size() == 2) {
    return ctx.out.Error("ERR The server is running without a config file");
  }
  ReplyUnknownSubcommand(ctx, sub, "CONFIG");
}

// --- COMMAND ----------------------------------------------------------

void ReplyFlags(Context& ctx, const Command& c) {
  const uint32_t flags = c.flags;
  std::vector<std::string_view> names;
  if (flags & kWrite) names.push_back("write");
  if (flags & kReadOnly) names.push_back("readonly");
  if (flags & kDenyOom) names.push_back("denyoom");
  if (flags & kAdmin) names.push_back("admin");
  if (flags & kNoAuth) names.push_back("no_auth");
  if (flags & kNoScript) names.push_back("noscript");
  if (flags & kBlocking) names.push_back("blocking");
  if (flags & kStale) names.push_back("stale");
  if (flags & kFast) names.push_back("fast");
  if (c.first_key == 0 || c.numkeys_at > 0) names.push_back("movablekeys");
  ctx.out.Set(names.size());
  for (std::string_view n : names)
    ctx.out.Simple(n);
}

// Redis 7's ten-element command description.
void ReplyCommandInfo(Context& ctx, const Command& c) {
  ctx.out.Array(10);
  ctx.out.Bulk(c.name);
  ctx.out.Integer(c.arity);
  ReplyFlags(ctx, c);
  ctx.out.Integer(c.first_key);
  ctx.out.Integer(c.last_key);
  ctx.out.Integer(c.key_step);
  const acl::Categories categories = CategoriesOf(c);
  ctx.out.Set(static_cast<size_t>(std::popcount(categories)));
  for (int i = 0; i < acl::kCategoryCount; ++i) {
    if (categories & acl::Bit(static_cast<acl::Category>(i)))
      ctx.out.Simple("@" + std::string(acl::CategoryName(static_cast<acl::Category>(i))));
  }
  ctx.out.Set(0);    // tips
  ctx.out.Array(0);  // key specs
  ctx.out.Array(0);  // subcommands
}

void ReplyCommandDocs(Context& ctx, const Command& c) {
  ctx.out.Bulk(c.name);
  ctx.out.Map(3);
  ctx.out.Bulk("summary");
  ctx.out.Bulk(c.summary);
  ctx.out.Bulk("since");
  ctx.out.Bulk("1.0.0");
  ctx.out.Bulk("group");
  ctx.out.Bulk(c.group);
}

// The commands named from args[from] on (all of them if none is named).
std::vector<const Command*> NamedCommands(Args args, size_t from, bool keep_unknown) {
  std::vector<const Command*> out;
  if (args.size() <= from) {
    auto all = AllCommands();
    return {all.begin(), all.end()};
  }
  for (size_t i = from; i < args.size(); ++i) {
    const Command* c = FindCommand(args[i]);
    if (c != nullptr || keep_unknown) out.push_back(c);
  }
  return out;
}

// COMMAND GETKEYS command arg...: the keys the request would name, as
// Redis finds them (Redis's errors for a request it could not run).
void CommandGetKeys(Context& ctx, Args args) {
  if (args.size() < 4) return ReplyWrongArity(ctx, "command|getkeys");
  const Args request = args.subspan(2);
  const Command* c = FindCommand(request[0]);
  if (c == nullptr) return ctx.out.Error("ERR Invalid command specified");
  if (c->first_key <= 0 && c->numkeys_at == 0) {
    return ctx.out.Error("ERR The command has no key arguments");
  }
  if (!ArityOk(*c, request.size())) {
    return ctx.out.Error("ERR Invalid number of arguments specified for command");
  }
  // A key count that is no count, or more than the keys given, makes the
  // request invalid; scripts may name no key (Redis's NO_MANDATORY_KEYS).
  const bool counted = KeyCountValid(*c, request);
  if (!counted && (c->flags & kRunsScript)) return ctx.out.Array(0);
  std::vector<std::string_view> keys;
  ForEachKey(*c, request, [&](size_t i) { keys.push_back(request[i]); });
  if (!counted || keys.empty()) return ctx.out.Error("ERR Invalid arguments specified for command");
  ctx.out.Array(keys.size());
  for (std::string_view key : keys)
    ctx.out.Bulk(key);
}

void CommandCommand(Context& ctx, Args args) {
  const std::string_view sub = args.size() > 1 ? args[1] : std::string_view();
  if (args.size() == 1 || EqualsNoCase(sub, "INFO")) {
    std::vector<const Command*> cmds = NamedCommands(args, 2, /*keep_unknown=*/true);
    ctx.out.Array(cmds.size());
    for (const Command* c : cmds) {
      if (c == nullptr) {
        ctx.out.NullArray();
      } else {
        ReplyCommandInfo(ctx, *c);
      }
    }
    return;
  }
  if (EqualsNoCase(sub, "COUNT") && args.size() == 2) {
    return ctx.out.Integer(static_cast<int64_t>(AllCommands().size()));
  }
  if (EqualsNoCase(sub, "LIST") && args.size() == 2) {
    ctx.out.Array(AllCommands().size());
    for (const Command* c : AllCommands())
      ctx.out.Bulk(c->name);
    return;
  }
  if (EqualsNoCase(sub, "DOCS")) {
    std::vector<const Command*> cmds = NamedCommands(args, 2, /*keep_unknown=*/false);
    ctx.out.Map(cmds.size());
    for (const Command* c : cmds)
      ReplyCommandDocs(ctx, *c);
    return;
  }
  if (EqualsNoCase(sub, "GETKEYS")) return CommandGetKeys(ctx, args);
  ReplyUnknownSubcommand(ctx, sub, "COMMAND");
}

void Time(Context& ctx, Args) {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  ctx.out.Array(2);
  ctx.out.Bulk(std::to_string(tv.tv_sec));
  ctx.out.Bulk(std::to_string(tv.tv_usec));
}

const Command kCommands[] = {
    {"client", -2, kAdmin | kStale, 0, 0, 0, "connection",
     "Connection management: ID, SETNAME, GETNAME, LIST, INFO, SETINFO, NO-EVICT, UNBLOCK.",
     Client},
    {"config", -2, kAdmin | kStale, 0, 0, 0, "server", "Reads or changes configuration.", Config},
    {"command", -1, kStale, 0, 0, 0, "server", "Describes the commands.", CommandCommand},
    {"info", -1, kStale, 0, 0, 0, "server", "Returns information and statistics.", Info},
    {"time", 1, kFast | kStale, 0, 0, 0, "server", "Returns the server time.", Time},
};

}  // namespace

std::span<const Command> ServerCommands() {
  return kCommands;
}

}  // namespace quiver::resp
