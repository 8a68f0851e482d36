#include "server/resp/notify.h"

#include <string>

namespace quiver::resp {

void KeyspaceNotifier::Publish(std::string_view event, int db, std::string_view key) {
  if (!pubsub_.Any()) return;  // nobody to tell: no channel names to build
  const uint32_t f = flags_.load(std::memory_order_relaxed);
  const std::string at = std::to_string(db);
  std::string channel;
  if ((f & kNotifyKeyspace) != 0) {
    channel.append("__keyspace@").append(at).append("__:").append(key);
    pubsub_.Publish(channel, event);
  }
  if ((f & kNotifyKeyevent) != 0) {
    channel.assign("__keyevent@").append(at).append("__:").append(event);
    pubsub_.Publish(channel, key);
  }
}

}  // namespace quiver::resp
