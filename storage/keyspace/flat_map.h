// FlatMap: a string-to-string hash table for large hashes (HashBox),
// laid out for few cache misses: open-addressed slots (util/hash_slots.h)
// and one allocation per entry holding the key and the value side by side.
//
// Not thread-safe: HashBox guards it with its lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "util/hash_slots.h"

namespace quiver {

class FlatMap {
 public:
  FlatMap() = default;
  ~FlatMap();
  FlatMap(const FlatMap&) = delete;
  FlatMap& operator=(const FlatMap&) = delete;

  size_t size() const { return slots_.size(); }
  bool empty() const { return slots_.size() == 0; }

  std::optional<std::string_view> Find(std::string_view key) const;
  // Sets key to value; true if the key is new, else false with *old_size
  // set to the size of the value replaced. Throws std::bad_alloc as the
  // standard containers do.
  bool Set(std::string_view key, std::string_view value, size_t* old_size);
  // Removes key; false if absent. *old gets the value's size.
  bool Erase(std::string_view key, size_t* old_size);
  // Starts fetching the slot a lookup of key will read first.
  void Prefetch(std::string_view key) const;

  // A key chosen by r (see HashSlots::Near): random for a random r.
  // REQUIRES: !empty().
  std::string_view KeyNear(uint64_t r) const { return slots_.Near(r).key(); }

  // Calls fn(key, value) for every entry, in no particular order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    slots_.ForEach([&](const Entry& e) { fn(e.key(), e.value()); });
  }

  // Bytes an entry of this key and value costs (allocation and slot share).
  static size_t Cost(size_t key_size, size_t value_size);

 private:
  // 8 bytes before the key, so that a set's member (a key with no value)
  // of up to 8 bytes fits the allocator's 16-byte class, and of up to 16
  // its 24-byte one. The room for the value is what the allocator gave
  // (malloc_usable_size), not stored.
  struct Entry {  // followed by the key, then the value
    uint32_t key_size;
    uint32_t value_size;
    char* data() { return reinterpret_cast<char*>(this + 1); }
    const char* data() const { return reinterpret_cast<const char*>(this + 1); }
    std::string_view key() const { return {data(), key_size}; }
    std::string_view value() const { return {data() + key_size, value_size}; }
  };
  using Slots = HashSlots<Entry>;

  static uint64_t Hash(std::string_view key);
  // The slot holding key, or the empty slot where it would go; nullptr
  // while the map has no slots.
  Slots::Slot* Locate(std::string_view key, uint64_t hash) const;
  static Entry* NewEntry(std::string_view key, std::string_view value);

  Slots slots_;
};

}  // namespace quiver
