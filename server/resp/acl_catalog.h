// The RESP port's commands as ACL rules name them (security/acl): their
// Redis categories, their subcommands, the access each key they name
// needs and the channels they publish or subscribe to; and the check of a
// request against the connection's user.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "security/acl/catalog.h"
#include "security/acl/selector.h"
#include "server/resp/command.h"

namespace quiver::resp {

// Every command of the RESP port (ids in AllCommands() order, then the
// subcommands of the containers: CONFIG, CLIENT, ACL, ...). Built once.
const acl::Catalog& AclCatalog();
// The command's Redis categories (COMMAND INFO reports them).
acl::Categories CategoriesOf(const Command& cmd);
// The id in AclCatalog() a request runs as: its subcommand's if it names
// one the container has, else the command's.
int AclId(const Command& cmd, Args args);

// Whether the request names a subcommand its container does not have
// ("CLIENT NOSUCH"): no permission is asked, the command refuses it.
bool UnknownSubcommand(const Command& cmd, Args args);

// A request as the ACL check sees it.
class AclRequest : public acl::Request {
 public:
  AclRequest(const Command& cmd, Args args) : cmd_(cmd), args_(args), id_(AclId(cmd, args)) {}
  int command() const override { return id_; }
  std::string_view first_arg() const override;
  void ForEachKey(FunctionRef<bool(size_t, std::string_view, uint8_t)> fn) const override;
  void ForEachChannel(FunctionRef<bool(size_t, std::string_view, bool)> fn) const override;

 private:
  const Command& cmd_;
  Args args_;
  int id_;
};

// Where a request is checked: ACL LOG's context ("toplevel", "multi",
// "lua") and Redis's words for a denial depend on it.
enum class AclWhere {
  kTopLevel,
  kQueued,  // inside MULTI
  kExec,    // by EXEC, again: the user may have changed since
  kScript,  // redis.call
};

// Whether the session's user may run the request. If not, the denial is
// in ACL LOG, and *error is Redis's reply for `where`.
bool AclAllows(Context& ctx, const Command& cmd, Args args, AclWhere where, std::string* error);
// The text ACL DRYRUN gives for a denial.
std::string DryRunText(const acl::Verdict& verdict, const Command& cmd, Args args);

}  // namespace quiver::resp
