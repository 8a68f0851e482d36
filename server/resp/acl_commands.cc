// ACL: Redis 7's users and permissions over the RESP port (ACL SETUSER,
// GETUSER, DELUSER, LIST, USERS, WHOAMI, CAT, LOG, GENPASS, DRYRUN, SAVE,
// LOAD, HELP), the session's user (AUTH, HELLO AUTH, RESET), and where the
// users are kept: the aclfile if given, else the data directory's store.
// The model itself is security/acl; which command needs what is
// server/resp/acl_catalog.cc.
#include <string>
#include <vector>

#include "security/acl/password.h"
#include "security/acl/words.h"
#include "server/resp/acl_catalog.h"
#include "server/resp/arguments.h"
#include "server/resp/helpers.h"
#include "util/clock.h"
#include "util/file_io.h"

namespace quiver::resp {

namespace {

constexpr char kUsersColumn[] = "users";  // one entry: kUsersKey -> the file form
constexpr char kUsersKey[] = "users";

void UseUser(Shared& shared, Session& s, std::shared_ptr<const acl::User> user, uint64_t gen) {
  s.user = std::move(user);
  s.user_generation = gen;
  s.unrestricted = s.user->unrestricted();
  std::lock_guard lock(s.info->mu);
  s.info->user = s.user->name();
}

}  // namespace

void StartAsDefaultUser(Shared& shared, Session& s) {
  const uint64_t gen = shared.users.generation();
  std::shared_ptr<const acl::User> user = shared.users.Default();
  s.authenticated = user->enabled() && user->nopass();
  UseUser(shared, s, std::move(user), gen);
}

bool AuthenticateAs(Context& ctx, std::string_view command, std::string_view name,
                    std::string_view password) {
  Shared& shared = ctx.shared;
  const uint64_t gen = shared.users.generation();
  if (auto user = shared.users.Authenticate(name, password)) {
    ctx.session.authenticated = true;
    UseUser(shared, ctx.session, std::move(user), gen);
    return true;
  }
  std::string info = ClientLine(*ctx.session.info, SystemNowMs());
  info.pop_back();  // its newline
  shared.acl_log.Add({.reason = "auth",
                      .context = ctx.session.in_multi ? "multi" : "toplevel",
                      .object = std::string(command),
                      .username = std::string(name),
                      .client_info = std::move(info)},
                     SystemNowMs());
  return false;
}

void AuthenticateByCertificate(Shared& shared, Session& s, std::string_view name) {
  const uint64_t gen = shared.users.generation();
  std::shared_ptr<const acl::User> user = shared.users.Find(name);
  if (user == nullptr || !user->enabled()) return;
  s.authenticated = true;
  UseUser(shared, s, std::move(user), gen);
}

bool StillPermitted(Shared& shared, Session& s) {
  if (s.user == nullptr || s.user_generation == shared.users.generation()) return true;
  const std::string name = s.user->name();
  const uint64_t gen = shared.users.generation();
  std::shared_ptr<const acl::User> user = shared.users.Find(name);
  if (user == nullptr) return false;
  if (!s.authenticated && user->name() == acl::kDefaultUser)
    s.authenticated = user->enabled() && user->nopass();
  UseUser(shared, s, user, gen);
  for (const std::string& c : s.channels)
    if (!user->AllowsChannel(c, false)) return false;
  for (const std::string& c : s.shard_channels)
    if (!user->AllowsChannel(c, false)) return false;
  for (const std::string& p : s.patterns)
    if (!user->AllowsChannel(p, true)) return false;
  return true;
}

namespace {

// --- Where the users are kept ----------------------------------------

constexpr std::string_view kNoAclFile =
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
    "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
    "Redis configuration file set) in order to store users in the Redis configuration.";

void AclSave(Context& ctx, Args) {
  Shared& shared = ctx.shared;
  const std::string text = shared.users.Save();
  if (!shared.aclfile.empty()) {
    if (Status s = ReplaceFile(shared.aclfile, text); !s.ok()) {
      return ctx.out.Error(
          "ERR There was an error trying to save the ACLs. Please check the "
          "server logs for more information");
    }
    return ctx.out.Ok();
  }
  if (!shared.users_column || ctx.ks.log() == nullptr) return ctx.out.Error(kNoAclFile);
  HistoryBatch batch;
  batch.Put(*shared.users_column, kUsersKey, text);
  ctx.Log(std::move(batch));  // the reply waits until the durability mode is met
  ctx.out.Ok();
}

void AclLoad(Context& ctx, Args) {
  Shared& shared = ctx.shared;
  std::string text;
  std::string source = shared.aclfile;
  if (!shared.aclfile.empty()) {
    Result<std::string> read = ReadWholeFile(shared.aclfile);
    if (!read.ok()) return ctx.out.Error("ERR Error loading ACLs, " + read.status().message());
    text = std::move(*read);
  } else if (shared.users_column && ctx.ks.log() != nullptr) {
    source = "the data directory's users";
    Result<bool> found = ctx.ks.log()->store().Get(*shared.users_column, kUsersKey, &text);
    if (!found.ok()) return ctx.Fail(found.status());
  } else {
    return ctx.out.Error(kNoAclFile);
  }
  if (Status s = shared.users.Load(text, source); !s.ok())
    return ctx.out.Error("ERR " + s.message());
  ctx.out.Ok();
}

// --- Users ------------------------------------------------------------

void AclSetUser(Context& ctx, Args args) {
  const std::string_view name = args[2];
  if (acl::HasSpaces(name) || name.find('\0') != std::string_view::npos) {
    return ctx.out.Error("ERR Usernames can't contain spaces or null characters");
  }
  Status s = ctx.shared.users.SetUser(name, args.subspan(3));
  if (!s.ok()) return ctx.out.Error("ERR " + s.message());
  ctx.out.Ok();
}

void AclDelUser(Context& ctx, Args args) {
  for (size_t i = 2; i < args.size(); ++i) {
    if (args[i] == acl::kDefaultUser)
      return ctx.out.Error("ERR The 'default' user cannot be removed");
  }
  int64_t deleted = 0;
  for (size_t i = 2; i < args.size(); ++i)
    deleted += ctx.shared.users.DelUser(args[i]) ? 1 : 0;
  ctx.out.Integer(deleted);
}

// A selector's keys as GETUSER shows them ("~a %R~b", "~*").
std::string KeysText(const acl::Selector& s) {
  if (s.all_keys()) return "~*";
  std::string out;
  for (const acl::KeyPattern& k : s.keys()) {
    if (!out.empty()) out += ' ';
    out += k.access == acl::kReadAccess ? "%R~" : k.access == acl::kWriteAccess ? "%W~" : "~";
    out += k.pattern;
  }
  return out;
}

std::string ChannelsText(const acl::Selector& s) {
  if (s.all_channels()) return "&*";
  std::string out;
  for (const std::string& c : s.channels())
    out += (out.empty() ? "&" : " &") + c;
  return out;
}

void ReplySelector(Context& ctx, const acl::Selector& s) {
  ctx.out.Bulk("commands");
  ctx.out.Bulk(s.CommandRules());
  ctx.out.Bulk("keys");
  ctx.out.Bulk(KeysText(s));
  ctx.out.Bulk("channels");
  ctx.out.Bulk(ChannelsText(s));
}

void AclGetUser(Context& ctx, Args args) {
  std::shared_ptr<const acl::User> user = ctx.shared.users.Find(args[2]);
  if (user == nullptr) return ctx.out.Null();
  std::vector<std::string_view> flags = {user->enabled() ? "on" : "off"};
  if (user->nopass()) flags.push_back("nopass");
  const std::string described = user->Describe();
  if (described.find(" skip-sanitize-payload ") != std::string::npos) {
    flags.push_back("skip-sanitize-payload");
  } else if (described.find(" sanitize-payload ") != std::string::npos) {
    flags.push_back("sanitize-payload");
  }
  ctx.out.Map(6);
  ctx.out.Bulk("flags");
  ctx.out.Array(flags.size());
  for (std::string_view f : flags)
    ctx.out.Bulk(f);
  ctx.out.Bulk("passwords");
  ctx.out.Array(user->passwords().size());
  for (const std::string& p : user->passwords())
    ctx.out.Bulk(p);
  ReplySelector(ctx, user->root());
  ctx.out.Bulk("selectors");
  ctx.out.Array(user->selectors().size() - 1);
  for (size_t i = 1; i < user->selectors().size(); ++i) {
    ctx.out.Map(3);
    ReplySelector(ctx, user->selectors()[i]);
  }
}

void AclList(Context& ctx, Args) {
  const auto users = ctx.shared.users.All();
  ctx.out.Array(users.size());
  for (const auto& user : users)
    ctx.out.Bulk("user " + user->name() + " " + user->Describe());
}

void AclUsers(Context& ctx, Args) {
  const std::vector<std::string> names = ctx.shared.users.Names();
  ctx.out.Array(names.size());
  for (const std::string& name : names)
    ctx.out.Bulk(name);
}

void AclWhoAmI(Context& ctx, Args) {
  ctx.out.Bulk(ctx.session.user != nullptr ? ctx.session.user->name()
                                           : std::string(acl::kDefaultUser));
}

// --- Categories, passwords, dry runs -----------------------------------

void AclCat(Context& ctx, Args args) {
  if (args.size() == 2) {
    ctx.out.Array(acl::kCategoryCount);
    for (int c = 0; c < acl::kCategoryCount; ++c)
      ctx.out.Bulk(acl::CategoryName(static_cast<acl::Category>(c)));
    return;
  }
  const std::optional<acl::Category> category = acl::FindCategory(args[2]);
  if (!category) return ctx.out.Error("ERR Unknown category '" + std::string(args[2]) + "'");
  const acl::Catalog& catalog = AclCatalog();
  std::vector<std::string_view> names;
  for (size_t id = 0; id < catalog.size(); ++id) {
    const acl::Catalog::Entry& e = catalog.at(static_cast<int>(id));
    if (e.categories & acl::Bit(*category)) names.push_back(e.name);
  }
  ctx.out.Array(names.size());
  for (std::string_view n : names)
    ctx.out.Bulk(n);
}

void AclGenPass(Context& ctx, Args args) {
  int64_t bits = 256;
  if (args.size() == 3 && (!ParseInt64(args[2], &bits) || bits <= 0 || bits > 4096)) {
    return ctx.out.Error(
        "ERR ACL GENPASS argument must be the number of bits for the output password, a "
        "positive number up to 4096");
  }
  const std::string password = acl::GeneratePassword(static_cast<int>(bits));
  if (password.empty()) return ctx.out.Error("ERR no random bytes could be had for a password");
  ctx.out.Bulk(password);
}

void AclDryRun(Context& ctx, Args args) {
  std::shared_ptr<const acl::User> user = ctx.shared.users.Find(args[2]);
  if (user == nullptr) return ctx.out.Error("ERR User '" + std::string(args[2]) + "' not found");
  const Command* cmd = FindCommand(args[3]);
  const Args request = args.subspan(3);
  if (cmd == nullptr || UnknownSubcommand(*cmd, request))
    return ctx.out.Error("ERR Command '" + std::string(args[3]) + "' not found");
  if (!ArityOk(*cmd, request.size())) return ReplyWrongArity(ctx, cmd->name);
  const acl::Verdict v = user->Check(AclRequest(*cmd, request));
  if (v.denial == acl::Denial::kNone) return ctx.out.Ok();
  ctx.out.Bulk(DryRunText(v, *cmd, request));
}

// --- The log -----------------------------------------------------------

void ReplyLogEntry(Context& ctx, const acl::LogEntry& e, int64_t now_ms) {
  const auto text = [&](std::string_view name, std::string_view value) {
    ctx.out.Bulk(name);
    ctx.out.Bulk(value);
  };
  const auto number = [&](std::string_view name, uint64_t value) {
    ctx.out.Bulk(name);
    ctx.out.Integer(static_cast<int64_t>(value));
  };
  ctx.out.Map(10);
  number("count", e.count);
  text("reason", e.reason);
  text("context", e.context);
  text("object", e.object);
  text("username", e.username);
  ctx.out.Bulk("age-seconds");
  ctx.out.Double(static_cast<double>(now_ms - e.updated_ms) / 1000.0);
  text("client-info", e.client_info);
  number("entry-id", e.id);  // Redis 7.2's three
  number("timestamp-created", static_cast<uint64_t>(e.created_ms));
  number("timestamp-last-updated", static_cast<uint64_t>(e.updated_ms));
}

void AclLog(Context& ctx, Args args) {
  int64_t count = 10;
  if (args.size() == 3) {
    if (EqualsNoCase(args[2], "RESET")) {
      ctx.shared.acl_log.Reset();
      return ctx.out.Ok();
    }
    if (!ParseInt64(args[2], &count)) return ctx.out.Error(kNotInteger);
    count = std::max<int64_t>(count, 0);
  }
  const std::vector<acl::LogEntry> entries = ctx.shared.acl_log.Recent(static_cast<size_t>(count));
  const int64_t now = SystemNowMs();
  ctx.out.Array(entries.size());
  for (const acl::LogEntry& e : entries)
    ReplyLogEntry(ctx, e, now);
}

constexpr const char* kHelp[] = {
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file (or the data directory without one).",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file (or the data directory without one).",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Print this help.",
};

struct Subcommand {
  std::string_view name;
  int min_args, max_args;  // words, "ACL" and the subcommand included; -1: any
  Handler handler;
};

constexpr Subcommand kSubcommands[] = {
    {"cat", 2, 3, AclCat},          {"deluser", 3, -1, AclDelUser}, {"dryrun", 4, -1, AclDryRun},
    {"genpass", 2, 3, AclGenPass},  {"getuser", 3, 3, AclGetUser},  {"list", 2, 2, AclList},
    {"load", 2, 2, AclLoad},        {"log", 2, 3, AclLog},          {"save", 2, 2, AclSave},
    {"setuser", 3, -1, AclSetUser}, {"users", 2, 2, AclUsers},      {"whoami", 2, 2, AclWhoAmI},
};

void Acl(Context& ctx, Args args) {
  const std::string_view sub = args[1];
  if (EqualsNoCase(sub, "HELP") && args.size() == 2) return ReplyHelp(ctx, kHelp);
  for (const Subcommand& s : kSubcommands) {
    if (!EqualsNoCase(sub, s.name)) continue;
    const auto n = static_cast<int>(args.size());
    if (n < s.min_args || (s.max_args >= 0 && n > s.max_args)) {
      return ReplyWrongArity(ctx, "acl|" + std::string(s.name));
    }
    return s.handler(ctx, args);
  }
  ReplyUnknownSubcommand(ctx, sub, "ACL");
}

constexpr Command kCommands[] = {
    {"acl", -2, kNoScript | kStale, 0, 0, 0, "server",
     "A container for Access List Control commands.", Acl},
};

}  // namespace

Status RecoverUsers(Shared& shared, HistoryStore* store) {
  if (!shared.aclfile.empty()) {
    QUIVER_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(shared.aclfile));
    return shared.users.Load(text, shared.aclfile);
  }
  if (store == nullptr) return Status::Ok();
  QUIVER_ASSIGN_OR_RETURN(ColumnFamily column, store->OpenColumn(kUsersColumn));
  shared.users_column = column;
  std::string text;
  QUIVER_ASSIGN_OR_RETURN(bool found, store->Get(column, kUsersKey, &text));
  return found ? shared.users.Load(text, "the data directory's users") : Status::Ok();
}

std::span<const Command> AclCommands() {
  return kCommands;
}

}  // namespace quiver::resp
