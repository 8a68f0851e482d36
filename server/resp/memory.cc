// MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP, in Redis 7's
// forms, with quiver's own accounting: a key's usage is exact (its record,
// and what its box's items cost), not sampled; STATS reports the memory
// budget that --max-memory bounds, part by part.
#include <string>

#include "server/resp/arguments.h"
#include "server/resp/helpers.h"
#include "server/resp/info.h"
#include "util/allocator.h"
#include "util/ascii.h"

namespace quiver::resp {

namespace {

// What a key takes: its record (header, key, value) and, for a boxed
// value, what the box's items cost.
int64_t Usage(const Record& r) {
  int64_t bytes = static_cast<int64_t>(r.allocation_size());
  if (r.boxed()) {
    Box& box = Box::Of(r);
    std::lock_guard lock(box.mu());
    bytes += box.charged();
  }
  return bytes;
}

// MEMORY USAGE key [SAMPLES count]: the count is checked and needless
// (usage is counted, not sampled).
void MemoryUsage(Context& ctx, Args args) {
  for (size_t i = 3; i < args.size(); ++i) {
    int64_t samples = 0;
    if (!EqualsNoCase(args[i], "samples") || i + 1 == args.size()) {
      return ctx.out.Error(kSyntaxError);
    }
    if (!ParseInt64(args[++i], &samples)) return ctx.out.Error(kNotInteger);
  }
  const Record* r = ctx.ks.Find(ctx.db(), args[2]);
  if (r == nullptr) return ctx.out.Null();
  ctx.out.Integer(Usage(*r));
}

struct Totals {
  int64_t used, dataset, clients, keys, rss;
};

Totals Measure(const Context& ctx) {
  const MemoryBudget& budget = ctx.ks.table().budget();
  Totals t{budget.total(), budget.bytes(MemoryPart::kRows), budget.bytes(MemoryPart::kClients), 0,
           RssBytes()};
  for (int db = 0; db < ctx.ks.databases(); ++db)
    t.keys += ctx.ks.Size(db);
  return t;
}

void Ratio(Context& ctx, std::string_view name, double value) {
  ctx.out.Bulk(name);
  ctx.out.Double(value);
}

void Field(Context& ctx, std::string_view name, int64_t value) {
  ctx.out.Bulk(name);
  ctx.out.Integer(value);
}

// MEMORY STATS: Redis's fields that quiver has a figure for, then each
// part of the memory budget as quiver.<part>.
void MemoryStats(Context& ctx) {
  const Totals t = Measure(ctx);
  const double used = t.used > 0 ? static_cast<double>(t.used) : 1.0;
  ctx.out.Map(11 + kMemoryParts);
  Field(ctx, "total.allocated", t.used);
  Field(ctx, "startup.allocated", 0);
  Field(ctx, "replication.backlog", 0);
  Field(ctx, "clients.slaves", 0);
  Field(ctx, "clients.normal", t.clients);
  Field(ctx, "overhead.total", t.used - t.dataset);
  Field(ctx, "keys.count", t.keys);
  Field(ctx, "keys.bytes-per-key", t.keys > 0 ? t.dataset / t.keys : 0);
  Field(ctx, "dataset.bytes", t.dataset);
  Ratio(ctx, "dataset.percentage", 100.0 * static_cast<double>(t.dataset) / used);
  Ratio(ctx, "fragmentation", static_cast<double>(t.rss) / used);
  const MemoryBudget& budget = ctx.ks.table().budget();
  for (size_t i = 0; i < kMemoryParts; ++i) {
    const auto part = static_cast<MemoryPart>(i);
    Field(ctx, "quiver." + std::string(MemoryPartName(part)), budget.bytes(part));
  }
}

// MEMORY DOCTOR: a short report in words, with what to do about what it finds.
void MemoryDoctor(Context& ctx) {
  const Totals t = Measure(ctx);
  const int64_t limit = ctx.ks.table().budget().limit();
  std::string report = "Memory used: " + Human(t.used) + " (" + std::to_string(t.keys) +
                       " keys, dataset " + Human(t.dataset) + "), resident " + Human(t.rss) +
                       ", limit " + (limit > 0 ? Human(limit) : std::string("none")) + ".\n";
  int problems = 0;
  if (limit > 0 && t.used * 10 >= limit * 9) {
    ++problems;
    report +=
        "- Memory is within 10% of --max-memory: writes that add memory will be refused "
        "(OOM). Raise --max-memory, delete keys or set TTLs.\n";
  }
  if (t.used > (64 << 20) && t.rss > t.used * 3 / 2) {
    ++problems;
    report +=
        "- The resident size is more than 1.5 times the memory counted: the allocator holds "
        "freed memory. MEMORY PURGE returns what it can to the system.\n";
  }
  if (t.used > 0 && t.clients * 4 > t.used) {
    ++problems;
    report +=
        "- Client buffers take more than a quarter of the memory: look for slow readers "
        "or huge pipelines with CLIENT LIST (omem, qbuf).\n";
  }
  if (problems == 0) report += "No memory problem found.\n";
  ctx.out.Verbatim(report);
}

void Help(Context& ctx) {
  static constexpr const char* kLines[] = {
      "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "DOCTOR",
      "    Return memory problems reports.",
      "MALLOC-STATS",
      "    Return internal statistics report from the memory allocator.",
      "PURGE",
      "    Attempt to purge dirty pages for reclamation by the allocator.",
      "STATS",
      "    Return information about the memory usage of the server.",
      "USAGE <key> [SAMPLES <count>]",
      "    Return memory in bytes used by <key> and its value. Nested values are",
      "    sampled up to <count> times (default: 5, 0 means sample all).",
      "HELP",
      "    Prints this help."};
  ReplyHelp(ctx, kLines);
}

void Memory(Context& ctx, Args args) {
  const std::string sub = AsciiLowerCopy(args[1]);
  const size_t n = args.size();
  const bool usage = sub == "usage";
  if (!usage && sub != "stats" && sub != "doctor" && sub != "malloc-stats" && sub != "purge" &&
      sub != "help") {
    return ReplyUnknownSubcommand(ctx, args[1], "MEMORY");
  }
  if (usage ? n < 3 : n != 2) return ReplyWrongArity(ctx, "memory|" + sub);
  if (usage) return MemoryUsage(ctx, args);
  if (sub == "stats") return MemoryStats(ctx);
  if (sub == "doctor") return MemoryDoctor(ctx);
  if (sub == "malloc-stats") return ctx.out.Verbatim(AllocatorStats());
  if (sub == "help") return Help(ctx);
  PurgeAllocator();
  ctx.out.Ok();
}

const Command kCommands[] = {
    {"memory", -2, kReadOnly, 2, 2, 1, "server", "Memory usage of keys and of the server.", Memory},
};

}  // namespace

std::span<const Command> MemoryCommands() {
  return kCommands;
}

}  // namespace quiver::resp
