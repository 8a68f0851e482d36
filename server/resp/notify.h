// Keyspace notifications, as Redis's notify-keyspace-events publishes
// them: a command that changes a key publishes its event to
// __keyspace@<db>__:<key> (the message is the event's name) and the key to
// __keyevent@<db>__:<event>, for the classes the setting turns on
// (service/notify_flags.h). Commands call Context::Notify with Redis's
// event names; keys created and expired come from the KeySpace
// (KeyEvents). Off, a notification costs one relaxed load.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "server/resp/pubsub.h"
#include "service/notify_flags.h"
#include "storage/keyspace/keyspace.h"

namespace quiver::resp {

class KeyspaceNotifier final : public KeyEvents {
 public:
  explicit KeyspaceNotifier(PubSub& pubsub) : pubsub_(pubsub) {}

  void SetFlags(uint32_t flags) { flags_.store(flags, std::memory_order_relaxed); }
  // Whether events of this class are published: the class is on, and K or E.
  bool Wants(uint32_t cls) const {
    const uint32_t f = flags_.load(std::memory_order_relaxed);
    return (f & cls) != 0 && (f & (kNotifyKeyspace | kNotifyKeyevent)) != 0;
  }
  // Publishes the event if its class is on; from any thread.
  void Notify(uint32_t cls, std::string_view event, int db, std::string_view key) {
    if (Wants(cls)) Publish(event, db, key);
  }

  bool WantsCreated() const override { return Wants(kNotifyNew); }
  bool WantsExpired() const override { return Wants(kNotifyExpired); }
  void Created(int db, std::string_view key) override { Publish("new", db, key); }
  void Expired(int db, std::string_view key) override { Publish("expired", db, key); }

 private:
  void Publish(std::string_view event, int db, std::string_view key);

  PubSub& pubsub_;
  std::atomic<uint32_t> flags_{0};
};

}  // namespace quiver::resp
