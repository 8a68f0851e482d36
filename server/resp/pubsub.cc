#include "server/resp/pubsub.h"

#include <algorithm>
#include <string>

#include "server/resp/arguments.h"
#include "server/resp/command.h"
#include "server/resp/helpers.h"

namespace quiver::resp {

namespace {

// (subscriber, the pattern it matched: empty for a channel's subscriber).
using Recipients = std::vector<std::pair<std::shared_ptr<Subscriber>, std::string>>;

void Drop(std::map<std::string, std::vector<std::shared_ptr<Subscriber>>, std::less<>>& by_name,
          const Subscriber* s, std::string_view name, bool* found) {
  auto it = by_name.find(name);
  if (it == by_name.end()) return;
  const size_t before = it->second.size();
  std::erase_if(it->second, [s](const std::shared_ptr<Subscriber>& x) { return x.get() == s; });
  *found = it->second.size() != before;
  if (it->second.empty()) by_name.erase(it);
}

// A message as a subscriber in `proto` receives it (kind: "message" or
// "smessage"; "pmessage" with a pattern).
std::string Message(int proto, std::string_view pattern, std::string_view channel,
                    std::string_view message, std::string_view kind = "message") {
  std::string out;
  protocol::RespWriter w(&out);
  w.SetVersion(proto);
  w.Push(pattern.empty() ? 3 : 4);
  w.Bulk(pattern.empty() ? kind : "pmessage");
  if (!pattern.empty()) w.Bulk(pattern);
  w.Bulk(channel);
  w.Bulk(message);
  return out;
}

// Hands the message to each recipient, after the registry's lock: a
// channel's bytes made once per protocol, a pattern's for each.
int64_t Deliver(const Recipients& to, std::string_view channel, std::string_view message,
                std::string_view kind) {
  std::string plain[2];  // in RESP2 and RESP3
  for (const auto& [s, pattern] : to) {
    if (!s->deliver) continue;
    const int proto = s->proto.load(std::memory_order_relaxed);
    if (!pattern.empty()) {
      s->deliver(Message(proto, pattern, channel, message));
      continue;
    }
    std::string& bytes = plain[proto >= 3];
    if (bytes.empty()) bytes = Message(proto, {}, channel, message, kind);
    s->deliver(bytes);
  }
  return static_cast<int64_t>(to.size());
}

}  // namespace

bool PubSub::Subscribe(const std::shared_ptr<Subscriber>& s, std::string_view name, SubKind kind) {
  std::lock_guard lock(mu_);
  auto& by_name = MapOf(kind);
  auto it = by_name.find(name);
  if (it == by_name.end()) it = by_name.emplace(std::string(name), Subscribed{}).first;
  if (std::find(it->second.begin(), it->second.end(), s) != it->second.end()) return false;
  it->second.push_back(s);
  Count(name, kind, +1);
  return true;
}

void PubSub::Count(std::string_view name, SubKind kind, int delta) {
  subscriptions_.fetch_add(delta, std::memory_order_relaxed);
  if (kind == SubKind::kPattern ||
      (kind == SubKind::kChannel && name.starts_with(kFeatureChannelPrefix)))
    for_features_.fetch_add(delta, std::memory_order_relaxed);
}

bool PubSub::Reaches(std::string_view channel) const {
  std::lock_guard lock(mu_);
  if (channels_.find(channel) != channels_.end()) return true;
  for (const auto& [pattern, subscribers] : patterns_) {
    if (GlobMatch(pattern, channel)) return true;
  }
  return false;
}

bool PubSub::Unsubscribe(const std::shared_ptr<Subscriber>& s, std::string_view name,
                         SubKind kind) {
  std::lock_guard lock(mu_);
  bool found = false;
  Drop(MapOf(kind), s.get(), name, &found);
  if (found) Count(name, kind, -1);
  return found;
}

int64_t PubSub::PublishShard(std::string_view channel, std::string_view message) {
  Recipients to;
  {
    std::lock_guard lock(mu_);
    if (auto it = shards_.find(channel); it != shards_.end()) {
      for (const auto& s : it->second)
        to.emplace_back(s, std::string());
    }
  }
  return Deliver(to, channel, message, "smessage");
}

int64_t PubSub::Publish(std::string_view channel, std::string_view message) {
  Recipients to;  // collected under the lock, sent after it
  {
    std::lock_guard lock(mu_);
    if (auto it = channels_.find(channel); it != channels_.end()) {
      for (const auto& s : it->second)
        to.emplace_back(s, std::string());
    }
    for (const auto& [pattern, subscribers] : patterns_) {
      if (!GlobMatch(pattern, channel)) continue;
      for (const auto& s : subscribers)
        to.emplace_back(s, pattern);
    }
  }
  return Deliver(to, channel, message, "message");
}

std::vector<std::string> PubSub::Channels(std::string_view pattern, bool shard) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, subscribers] : shard ? shards_ : channels_) {
    if (pattern.empty() || GlobMatch(pattern, name)) out.push_back(name);
  }
  return out;
}

int64_t PubSub::Subscribers(std::string_view channel, bool shard) const {
  std::lock_guard lock(mu_);
  const auto& by_name = shard ? shards_ : channels_;
  auto it = by_name.find(channel);
  return it == by_name.end() ? 0 : static_cast<int64_t>(it->second.size());
}

int64_t PubSub::Patterns() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(patterns_.size());
}

namespace {

const std::shared_ptr<Subscriber>& SubscriberOf(Session& s) {
  if (s.subscriber == nullptr) s.subscriber = std::make_shared<Subscriber>();  // no connection
  s.subscriber->proto.store(s.proto, std::memory_order_relaxed);
  return s.subscriber;
}

std::set<std::string, std::less<>>& NamesOf(Session& s, SubKind kind) {
  return kind == SubKind::kPattern ? s.patterns
         : kind == SubKind::kShard ? s.shard_channels
                                   : s.channels;
}

// CLIENT LIST's sub, psub and ssub.
std::atomic<int>& CounterOf(ClientInfo& info, SubKind kind) {
  return kind == SubKind::kPattern ? info.psub : kind == SubKind::kShard ? info.ssub : info.sub;
}

// A (un)subscription's confirmation: the count is of channels and
// patterns, or of shard channels, as Redis counts them.
void ReplySubscription(Context& ctx, SubKind kind, std::string_view what, const std::string* name) {
  const Session& s = ctx.session;
  ctx.out.Push(3);
  ctx.out.Bulk(what);
  name != nullptr ? ctx.out.Bulk(*name) : ctx.out.Null();
  ctx.out.Integer(static_cast<int64_t>(
      kind == SubKind::kShard ? s.shard_channels.size() : s.channels.size() + s.patterns.size()));
}

constexpr std::string_view kSubscribeNames[] = {"subscribe", "psubscribe", "ssubscribe"};
constexpr std::string_view kUnsubscribeNames[] = {"unsubscribe", "punsubscribe", "sunsubscribe"};

// SUBSCRIBE, PSUBSCRIBE and SSUBSCRIBE name [name ...]
template <SubKind kind>
void Subscribe(Context& ctx, Args args) {
  Session& s = ctx.session;
  size_t bytes = 0;
  for (std::string_view name : args.subspan(1))
    bytes += name.size();
  // As WATCH's: every PUBLISH walks the patterns, and the names stay.
  if (s.subscriptions() + args.size() - 1 > Session::kMaxSubscriptions ||
      s.subscription_bytes + bytes > Session::kMaxSubscriptionBytes) {
    return ctx.out.Error(
        "ERR too many subscriptions (at most " + std::to_string(Session::kMaxSubscriptions) +
        " channels and patterns and " + std::to_string(Session::kMaxSubscriptionBytes >> 20) +
        " MB of names per connection)");
  }
  auto& names = NamesOf(s, kind);
  for (std::string_view name : args.subspan(1)) {
    auto [it, fresh] = names.emplace(name);
    if (fresh) {
      s.subscription_bytes += name.size();
      ctx.shared.pubsub.Subscribe(SubscriberOf(s), name, kind);
      if (s.info != nullptr) ClientInfo::Add32(CounterOf(*s.info, kind), 1);
    }
    ReplySubscription(ctx, kind, kSubscribeNames[static_cast<int>(kind)], &*it);
  }
}

// UNSUBSCRIBE, PUNSUBSCRIBE and SUNSUBSCRIBE [name ...]: without names, from all.
template <SubKind kind>
void Unsubscribe(Context& ctx, Args args) {
  auto& names = NamesOf(ctx.session, kind);
  const std::string_view what = kUnsubscribeNames[static_cast<int>(kind)];
  std::vector<std::string> which(args.begin() + 1, args.end());
  if (args.size() == 1) {
    which.assign(names.begin(), names.end());
    if (which.empty()) return ReplySubscription(ctx, kind, what, nullptr);
  }
  for (const std::string& name : which) {
    if (names.erase(name) > 0) {
      ctx.session.subscription_bytes -= name.size();
      ctx.shared.pubsub.Unsubscribe(ctx.session.subscriber, name, kind);
      if (ctx.session.info != nullptr) ClientInfo::Add32(CounterOf(*ctx.session.info, kind), -1);
    }
    ReplySubscription(ctx, kind, what, &name);
  }
}

void Publish(Context& ctx, Args args) {
  ctx.out.Integer(ctx.shared.pubsub.Publish(args[1], args[2]));
}

void SPublish(Context& ctx, Args args) {
  ctx.out.Integer(ctx.shared.pubsub.PublishShard(args[1], args[2]));
}

// PUBSUB CHANNELS and SHARDCHANNELS [pattern]
void ReplyChannels(Context& ctx, Args args, bool shard) {
  if (args.size() > 3) {
    return ctx.out.Error("ERR unknown subcommand or wrong number of arguments for '" +
                         std::string(args[1].substr(0, 128)) + "'. Try PUBSUB HELP.");
  }
  const std::vector<std::string> channels =
      ctx.shared.pubsub.Channels(args.size() == 3 ? args[2] : std::string_view(), shard);
  ctx.out.Array(channels.size());
  for (const std::string& c : channels)
    ctx.out.Bulk(c);
}

// PUBSUB NUMSUB and SHARDNUMSUB [channel ...]
void ReplyNumSub(Context& ctx, Args args, bool shard) {
  ctx.out.Array(2 * (args.size() - 2));  // Redis 7.0: an array, in RESP3 too
  for (std::string_view channel : args.subspan(2)) {
    ctx.out.Bulk(channel);
    ctx.out.Integer(ctx.shared.pubsub.Subscribers(channel, shard));
  }
}

void PubSubCommand(Context& ctx, Args args) {
  const std::string_view sub = args[1];
  if (EqualsNoCase(sub, "channels")) return ReplyChannels(ctx, args, false);
  if (EqualsNoCase(sub, "shardchannels")) return ReplyChannels(ctx, args, true);
  if (EqualsNoCase(sub, "numsub")) return ReplyNumSub(ctx, args, false);
  if (EqualsNoCase(sub, "shardnumsub")) return ReplyNumSub(ctx, args, true);
  if (EqualsNoCase(sub, "numpat")) {
    if (args.size() != 2) return ReplyWrongArity(ctx, "pubsub|numpat");
    return ctx.out.Integer(ctx.shared.pubsub.Patterns());
  }
  if (EqualsNoCase(sub, "help")) {
    if (args.size() != 2) return ReplyWrongArity(ctx, "pubsub|help");
    static constexpr const char* kLines[] = {
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help."};
    return ReplyHelp(ctx, kLines);
  }
  ReplyUnknownSubcommand(ctx, sub, "PUBSUB");
}

constexpr uint32_t kSub = kSubscribed | kStale | kNoScript;

const Command kCommands[] = {
    {"subscribe", -2, kSub, 0, 0, 0, "pubsub", "Listens for messages published to channels.",
     Subscribe<SubKind::kChannel>},
    {"psubscribe", -2, kSub, 0, 0, 0, "pubsub",
     "Listens for messages published to channels that match patterns.",
     Subscribe<SubKind::kPattern>},
    {"ssubscribe", -2, kSub, 0, 0, 0, "pubsub", "Listens for messages published to shard channels.",
     Subscribe<SubKind::kShard>},
    {"unsubscribe", -1, kSub, 0, 0, 0, "pubsub", "Stops listening to channels.",
     Unsubscribe<SubKind::kChannel>},
    {"punsubscribe", -1, kSub, 0, 0, 0, "pubsub", "Stops listening to channel patterns.",
     Unsubscribe<SubKind::kPattern>},
    {"sunsubscribe", -1, kSub, 0, 0, 0, "pubsub", "Stops listening to shard channels.",
     Unsubscribe<SubKind::kShard>},
    {"publish", 3, kFast | kStale, 0, 0, 0, "pubsub", "Posts a message to a channel.", Publish},
    {"spublish", 3, kFast | kStale, 0, 0, 0, "pubsub", "Posts a message to a shard channel.",
     SPublish},
    {"pubsub", -2, kStale, 0, 0, 0, "pubsub", "Channels, subscribers and patterns.", PubSubCommand},
};

}  // namespace

void UnsubscribeAll(Shared& shared, Session& session) {
  for (const SubKind kind : {SubKind::kChannel, SubKind::kPattern, SubKind::kShard}) {
    for (const std::string& name : NamesOf(session, kind))
      shared.pubsub.Unsubscribe(session.subscriber, name, kind);
    NamesOf(session, kind).clear();
    if (session.info != nullptr) CounterOf(*session.info, kind).store(0, std::memory_order_relaxed);
  }
  session.subscription_bytes = 0;
}

std::span<const Command> PubSubCommands() {
  return kCommands;
}

}  // namespace quiver::resp
