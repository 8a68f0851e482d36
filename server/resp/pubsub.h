// Pub/Sub: SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE, PUNSUBSCRIBE, PUBLISH,
// their sharded forms SSUBSCRIBE, SUNSUBSCRIBE and SPUBLISH (shard
// channels: a namespace of their own, without patterns) and PUBSUB, with
// Redis 7.0's replies. Each connection has one Subscriber,
// which the registry holds for every channel and pattern it subscribed to;
// PUBLISH, on the publisher's thread, formats the message once per
// protocol and hands the bytes to each subscriber's connection, which
// appends them to what it sends (in RESP3 as a push, between replies).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace quiver::resp {

// The channels of feature views' rows (server/resp/feature_channels.h).
inline constexpr std::string_view kFeatureChannelPrefix = "__quiver__:";

// One connection's end of its subscriptions.
struct Subscriber {
  std::atomic<int> proto{2};  // its connection's protocol, for the messages' format
  // Hands bytes to the connection, from any thread (none: a session with
  // no connection, as a changelog applier's).
  std::function<void(std::string bytes)> deliver;
};

// What a subscription names.
enum class SubKind { kChannel, kPattern, kShard };

class PubSub {
 public:
  // Subscribes s to a channel, a pattern or a shard channel; false if it was.
  bool Subscribe(const std::shared_ptr<Subscriber>& s, std::string_view name, SubKind kind);
  // Ends s's subscription; false if there was none.
  bool Unsubscribe(const std::shared_ptr<Subscriber>& s, std::string_view name, SubKind kind);
  // Sends a message to every subscriber of the channel and of every
  // pattern it matches; returns how many it was sent to.
  int64_t Publish(std::string_view channel, std::string_view message);
  // SPUBLISH: to the subscribers of the shard channel ("smessage").
  int64_t PublishShard(std::string_view channel, std::string_view message);

  // PUBSUB's: the channels (shard channels) with subscribers, matching a
  // pattern if one is given; subscribers of one; patterns subscribed to.
  std::vector<std::string> Channels(std::string_view pattern, bool shard = false) const;
  int64_t Subscribers(std::string_view channel, bool shard = false) const;
  int64_t Patterns() const;

  // Whether any connection subscribes to anything; a relaxed load.
  bool Any() const { return subscriptions_.load(std::memory_order_relaxed) > 0; }
  // Whether any subscription may receive a feature channel (one under
  // kFeatureChannelPrefix, or any pattern); a relaxed load.
  bool AnyForFeatures() const { return for_features_.load(std::memory_order_relaxed) > 0; }
  // Whether a message to the channel would reach any subscriber.
  bool Reaches(std::string_view channel) const;

 private:
  using Subscribed = std::vector<std::shared_ptr<Subscriber>>;
  mutable std::mutex mu_;
  std::map<std::string, Subscribed, std::less<>> channels_;  // guarded by mu_
  std::map<std::string, Subscribed, std::less<>> patterns_;  // guarded by mu_
  std::map<std::string, Subscribed, std::less<>> shards_;    // guarded by mu_
  // Subscriptions in all, and those AnyForFeatures counts (written under mu_).
  std::atomic<int64_t> subscriptions_{0}, for_features_{0};
  void Count(std::string_view name, SubKind kind, int delta);
  std::map<std::string, Subscribed, std::less<>>& MapOf(SubKind kind) {
    return kind == SubKind::kPattern ? patterns_ : kind == SubKind::kShard ? shards_ : channels_;
  }
};

}  // namespace quiver::resp
