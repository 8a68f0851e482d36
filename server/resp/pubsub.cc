#include "server/resp/pubsub.h"

#include <algorithm>
#include <string>

#include "server/resp/arguments.h"
#include "server/resp/command.h"
#include "server/resp/helpers.h"

namespace quiver::resp {

namespace {

void Drop(std::map<std::string, std::vector<std::shared_ptr<Subscriber>>, std::less<>>& by_name,
          const Subscriber* s, std::string_view name, bool* found) {
  auto it = by_name.find(name);
  if (it == by_name.end()) return;
  const size_t before = it->second.size();
  std::erase_if(it->second, [s](const std::shared_ptr<Subscriber>& x) { return x.get() == s; });
  *found = it->second.size() != before;
  if (it->second.empty()) by_name.erase(it);
}

// A message as a subscriber in `proto` receives it.
std::string Message(int proto, std::string_view pattern, std::string_view channel,
                    std::string_view message) {
  std::string out;
  protocol::RespWriter w(&out);
  w.SetVersion(proto);
  w.Push(pattern.empty() ? 3 : 4);
  w.Bulk(pattern.empty() ? "message" : "pmessage");
  if (!pattern.empty()) w.Bulk(pattern);
  w.Bulk(channel);
  w.Bulk(message);
  return out;
}

}  // namespace

bool PubSub::Subscribe(const std::shared_ptr<Subscriber>& s, std::string_view name, bool pattern) {
  std::lock_guard lock(mu_);
  auto& by_name = pattern ? patterns_ : channels_;
  auto it = by_name.find(name);
  if (it == by_name.end()) it = by_name.emplace(std::string(name), Subscribed{}).first;
  if (std::find(it->second.begin(), it->second.end(), s) != it->second.end()) return false;
  it->second.push_back(s);
  Count(name, pattern, +1);
  return true;
}

void PubSub::Count(std::string_view name, bool pattern, int delta) {
  subscriptions_.fetch_add(delta, std::memory_order_relaxed);
  if (pattern || name.starts_with(kFeatureChannelPrefix))
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
                         bool pattern) {
  std::lock_guard lock(mu_);
  bool found = false;
  Drop(pattern ? patterns_ : channels_, s.get(), name, &found);
  if (found) Count(name, pattern, -1);
  return found;
}

int64_t PubSub::Publish(std::string_view channel, std::string_view message) {
  // (subscriber, pattern): collected under the lock, sent after it.
  std::vector<std::pair<std::shared_ptr<Subscriber>, std::string>> to;
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
  std::string plain[2];  // a channel's message in RESP2 and RESP3, made once each
  for (auto& [s, pattern] : to) {
    if (!s->deliver) continue;
    const int proto = s->proto.load(std::memory_order_relaxed);
    if (!pattern.empty()) {  // names its pattern: made for each
      s->deliver(Message(proto, pattern, channel, message));
      continue;
    }
    std::string& bytes = plain[proto >= 3];
    if (bytes.empty()) bytes = Message(proto, {}, channel, message);
    s->deliver(bytes);
  }
  return static_cast<int64_t>(to.size());
}

std::vector<std::string> PubSub::Channels(std::string_view pattern) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, subscribers] : channels_) {
    if (pattern.empty() || GlobMatch(pattern, name)) out.push_back(name);
  }
  return out;
}

int64_t PubSub::Subscribers(std::string_view channel) const {
  std::lock_guard lock(mu_);
  auto it = channels_.find(channel);
  return it == channels_.end() ? 0 : static_cast<int64_t>(it->second.size());
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

void ReplySubscription(Context& ctx, std::string_view kind, const std::string* name) {
  ctx.out.Push(3);
  ctx.out.Bulk(kind);
  name != nullptr ? ctx.out.Bulk(*name) : ctx.out.Null();
  ctx.out.Integer(static_cast<int64_t>(ctx.session.subscriptions()));
}

// SUBSCRIBE and PSUBSCRIBE name [name ...]
template <bool pattern>
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
  auto& names = pattern ? s.patterns : s.channels;
  for (std::string_view name : args.subspan(1)) {
    auto [it, fresh] = names.emplace(name);
    if (fresh) {
      s.subscription_bytes += name.size();
      ctx.shared.pubsub.Subscribe(SubscriberOf(s), name, pattern);
    }
    ReplySubscription(ctx, pattern ? "psubscribe" : "subscribe", &*it);
  }
}

// UNSUBSCRIBE and PUNSUBSCRIBE [name ...]: without names, from all.
template <bool pattern>
void Unsubscribe(Context& ctx, Args args) {
  auto& names = pattern ? ctx.session.patterns : ctx.session.channels;
  const std::string_view kind = pattern ? "punsubscribe" : "unsubscribe";
  std::vector<std::string> which(args.begin() + 1, args.end());
  if (args.size() == 1) {
    which.assign(names.begin(), names.end());
    if (which.empty()) return ReplySubscription(ctx, kind, nullptr);
  }
  for (const std::string& name : which) {
    if (names.erase(name) > 0) {
      ctx.session.subscription_bytes -= name.size();
      ctx.shared.pubsub.Unsubscribe(ctx.session.subscriber, name, pattern);
    }
    ReplySubscription(ctx, kind, &name);
  }
}

void Publish(Context& ctx, Args args) {
  ctx.out.Integer(ctx.shared.pubsub.Publish(args[1], args[2]));
}

void PubSubCommand(Context& ctx, Args args) {
  const std::string_view sub = args[1];
  if (EqualsNoCase(sub, "channels")) {
    if (args.size() > 3) {
      return ctx.out.Error("ERR unknown subcommand or wrong number of arguments for '" +
                           std::string(sub.substr(0, 128)) + "'. Try PUBSUB HELP.");
    }
    const std::vector<std::string> channels =
        ctx.shared.pubsub.Channels(args.size() == 3 ? args[2] : std::string_view());
    ctx.out.Array(channels.size());
    for (const std::string& c : channels)
      ctx.out.Bulk(c);
    return;
  }
  if (EqualsNoCase(sub, "numsub")) {
    ctx.out.Array(2 * (args.size() - 2));
    for (std::string_view channel : args.subspan(2)) {
      ctx.out.Bulk(channel);
      ctx.out.Integer(ctx.shared.pubsub.Subscribers(channel));
    }
    return;
  }
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
        "HELP",
        "    Prints this help."};
    return ReplyHelp(ctx, kLines);
  }
  ReplyUnknownSubcommand(ctx, sub, "PUBSUB");
}

constexpr uint32_t kSub = kSubscribed | kStale | kNoScript;

const Command kCommands[] = {
    {"subscribe", -2, kSub, 0, 0, 0, "pubsub", "Listens for messages published to channels.",
     Subscribe<false>},
    {"psubscribe", -2, kSub, 0, 0, 0, "pubsub",
     "Listens for messages published to channels that match patterns.", Subscribe<true>},
    {"unsubscribe", -1, kSub, 0, 0, 0, "pubsub", "Stops listening to channels.",
     Unsubscribe<false>},
    {"punsubscribe", -1, kSub, 0, 0, 0, "pubsub", "Stops listening to channel patterns.",
     Unsubscribe<true>},
    {"publish", 3, kFast | kStale, 0, 0, 0, "pubsub", "Posts a message to a channel.", Publish},
    {"pubsub", -2, kStale, 0, 0, 0, "pubsub", "Channels, subscribers and patterns.", PubSubCommand},
};

}  // namespace

void UnsubscribeAll(Shared& shared, Session& session) {
  for (const std::string& c : session.channels)
    shared.pubsub.Unsubscribe(session.subscriber, c, false);
  for (const std::string& p : session.patterns)
    shared.pubsub.Unsubscribe(session.subscriber, p, true);
  session.channels.clear();
  session.patterns.clear();
  session.subscription_bytes = 0;
}

std::span<const Command> PubSubCommands() {
  return kCommands;
}

}  // namespace quiver::resp
