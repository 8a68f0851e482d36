// FlatMap: a string-to-string hash table for large hashes (HashBox),
// laid out for few cache misses: an open-addressed array of 16-byte slots
// (the key's 64-bit hash and a pointer), probed linearly, and one
// allocation per entry holding the key and the value side by side. A
// lookup touches one slot line and, when the hash matches, one entry;
// std::unordered_map touches a bucket, a node and the key's own heap
// block. Deletion shifts the following slots back (no tombstones), and
// growth moves slots only, reusing the stored hashes.
//
// Not thread-safe: HashBox guards it with its lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace quiver {

class FlatMap {
 public:
  FlatMap() = default;
  ~FlatMap();
  FlatMap(const FlatMap&) = delete;
  FlatMap& operator=(const FlatMap&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  std::optional<std::string_view> Find(std::string_view key) const;
  // Sets key to value; true if the key is new, else false with *old_size
  // set to the size of the value replaced. Throws std::bad_alloc as the
  // standard containers do.
  bool Set(std::string_view key, std::string_view value, size_t* old_size);
  // Removes key; false if absent. *old gets the value's size.
  bool Erase(std::string_view key, size_t* old_size);
  // Starts fetching the slot a lookup of key will read first.
  void Prefetch(std::string_view key) const;

  // Calls fn(key, value) for every entry, in no particular order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t i = 0; i <= mask_ && slots_ != nullptr; ++i) {
      if (slots_[i].entry != nullptr) fn(slots_[i].entry->key(), slots_[i].entry->value());
    }
  }

  // Bytes an entry of this key and value costs (allocation and slot share).
  static size_t Cost(size_t key_size, size_t value_size);

 private:
  struct Entry {  // followed by the key, then the value
    uint32_t key_size;
    uint32_t value_size;
    uint32_t capacity;  // bytes for the value
    char* data() { return reinterpret_cast<char*>(this + 1); }
    const char* data() const { return reinterpret_cast<const char*>(this + 1); }
    std::string_view key() const { return {data(), key_size}; }
    std::string_view value() const { return {data() + key_size, value_size}; }
  };
  struct Slot {
    uint64_t hash;  // 0: empty
    Entry* entry;
  };

  static uint64_t Hash(std::string_view key);
  // The slot holding key, or the empty slot where it would go.
  size_t Locate(std::string_view key, uint64_t hash) const;
  static Entry* NewEntry(std::string_view key, std::string_view value);
  void Grow();

  Slot* slots_ = nullptr;
  size_t mask_ = 0;  // capacity - 1 (capacity a power of two), when slots_ != nullptr
  size_t size_ = 0;
};

}  // namespace quiver
