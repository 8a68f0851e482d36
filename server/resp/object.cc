// OBJECT ENCODING, REFCOUNT, IDLETIME and FREQ: what tools probe about a
// key's value, in Redis 7's words. Encodings are Redis's names for quiver's
// forms: a string is "int", "embstr" or "raw" by its content alone (quiver
// keeps no separate representation, so an APPENDed short string still
// reads as "embstr"); a list is "quicklist"; a hash "listpack" while
// packed, else "hashtable"; a set "intset" or "listpack" while packed
// (server/resp/set_access.h), else "hashtable". IDLETIME is the time since
// the key was last written (quiver does not track reads).
#include <algorithm>
#include <string>

#include "server/resp/helpers.h"
#include "storage/keyspace/packed_set.h"
#include "util/ascii.h"

namespace quiver::resp {

namespace {

// Redis shares the integers 0..9999 between keys (OBJ_SHARED_INTEGERS).
constexpr int64_t kSharedIntegers = 10000;
constexpr int64_t kSharedRefcount = 2147483647;

std::string_view StringEncoding(std::string_view value, int64_t* integer) {
  if (SetInteger(value, integer)) return "int";
  return value.size() <= 44 ? "embstr" : "raw";
}

std::string_view Encoding(const Record& r) {
  int64_t unused = 0;
  switch (r.kind) {
    case RecordKind::kString:
      return StringEncoding(ValueOf(&r), &unused);
    case RecordKind::kList:
      return "quicklist";
    case RecordKind::kHash:
      return r.boxed() ? "hashtable" : "listpack";
    case RecordKind::kSet:
      if (r.boxed()) return "hashtable";
      return EncodingOf(r.value()) == SetEncoding::kIntSet ? "intset" : "listpack";
    case RecordKind::kZSet:
      return r.boxed() ? "skiplist" : "listpack";
    default:
      return "hashtable";
  }
}

int64_t RefCount(const Record& r) {
  int64_t v = 0;
  if (r.kind != RecordKind::kString || StringEncoding(ValueOf(&r), &v) != "int") return 1;
  return v >= 0 && v < kSharedIntegers ? kSharedRefcount : 1;
}

void Help(Context& ctx) {
  static constexpr const char* kLines[] = {
      "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned integer is",
      "    proportional to the logarithm of the recent access frequency of the key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the specified",
      "    <key>.",
      "HELP",
      "    Prints this help."};
  ReplyHelp(ctx, kLines);
}

void Object(Context& ctx, Args args) {
  const std::string_view sub = args[1];
  if (EqualsNoCase(sub, "help") && args.size() == 2) return Help(ctx);
  const char* name = nullptr;
  for (const char* known : {"encoding", "refcount", "idletime", "freq"})
    if (EqualsNoCase(sub, known)) name = known;
  if (name == nullptr) return ReplyUnknownSubcommand(ctx, sub, "OBJECT");
  if (args.size() != 3) return ReplyWrongArity(ctx, std::string("object|") + name);
  const Record* r = ctx.ks.Find(ctx.db(), args[2]);
  if (r == nullptr) return ctx.out.Null();
  if (EqualsNoCase(sub, "encoding")) return ctx.out.Bulk(Encoding(*r));
  if (EqualsNoCase(sub, "refcount")) return ctx.out.Integer(RefCount(*r));
  if (EqualsNoCase(sub, "idletime")) {
    return ctx.out.Integer(std::max<int64_t>(0, (ctx.now() - r->write_time_ms) / 1000));
  }
  ctx.out.Error(
      "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
      "that when switching between policies at runtime LRU and LFU data will take some time to "
      "adjust.");
}

const Command kCommands[] = {
    {"object", -2, kReadOnly, 2, 2, 1, "generic", "Inspects the internals of a key's value.",
     Object},
};

}  // namespace

std::span<const Command> ObjectCommands() {
  return kCommands;
}

}  // namespace quiver::resp
